// The slurm executor's parts that need no cluster (test/slurm/*.slurm.test.ts runs a real one): the
// job script, run by bash, starts the trial fresh on its first attempt and resumes its own run
// folder when Slurm restarts it; scontrol's job lines parse; a requeued attempt takes over the run
// lock of an earlier attempt of its job (wherever that ran); sweep.slurm is checked at file:line:col;
// the CLI's --executor.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfigText, type ConfigError } from '../src/shared/config/config';
import { slurmSettings } from '../src/shared/config/sweep';
import { acquireRunLock, assertNewRunFolder, newRunInfo, readRunInfo, readRunLock, writeRunInfo } from '../src/shared/run';
import { readSweep } from '../src/shared/sweep/folder';
import { describeJob, parseScontrolJob } from '../src/trainer/slurm/jobs';
import { jobScript, sbatchArgs, type JobSpec } from '../src/trainer/slurm/script';
import { tinyWorkspace } from './helpers/tinyrun';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-slurm-unit-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
const tmp = () => fs.mkdtempSync(path.join(TMP, 'x-'));

function spec(runDir: string, o: Partial<JobSpec> = {}): JobSpec {
  return {
    runDir,
    workDir: path.dirname(runDir),
    // The "trainer" prints the arguments it was given, one per line.
    program: ['/usr/bin/printf', '%s\\n'],
    freshArgs: ['train', '/w/it s.finetune.yaml', '--sweep-trial', '--run-dir', runDir, '--set', `name="it's[lr=0.1]"`],
    trainerArgs: ['--device', 'cpu'],
    resume: false,
    threads: 1,
    name: "it's[lr=0.1]",
    settings: slurmSettings({ partition: 'gpu', time: '1:00:00', mem: '4G', gpus: 1, extra: ['--account=proj', '#SBATCH --qos=low'], setup: ['echo set up'] }),
    sweepDir: '/w/.finetune/sweeps/x',
    ...o,
  };
}

/** Runs a job script with bash as Slurm would (SLURM_RESTART_COUNT set on a restart); its output lines. */
function runScript(text: string, env: Record<string, string>): string[] {
  const dir = tmp();
  const file = path.join(dir, 'job.sh');
  fs.writeFileSync(file, text);
  const r = spawnSync('bash', [file], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

describe('slurm job script', () => {
  const runDir = path.join(tmp(), 'runs', "tiny[lr=0.1] it's");

  it('first attempt: the trainer starts the trial fresh in its run folder, with its overrides verbatim', () => {
    const out = runScript(jobScript(spec(runDir)), { SLURM_JOB_ID: '41' });
    assert.match(out[0], /^finetune: job 41 attempt 1 on /);
    assert.equal(out[1], 'set up');
    assert.deepEqual(out.slice(2), ['train', '/w/it s.finetune.yaml', '--sweep-trial', '--run-dir', runDir, '--set', `name="it's[lr=0.1]"`, '--device', 'cpu']);
  });

  it('a restart (SLURM_RESTART_COUNT >= 1): the trainer resumes its own run folder', () => {
    const out = runScript(jobScript(spec(runDir)), { SLURM_JOB_ID: '41', SLURM_RESTART_COUNT: '1' });
    assert.match(out[0], /^finetune: job 41 attempt 2 on /);
    assert.deepEqual(out.slice(2), ['train', '--resume', runDir, '--device', 'cpu']);
  });

  it('a trial the sweep resumes always resumes; threads 0 takes the job’s CPUs', () => {
    const out = runScript(jobScript(spec(runDir, { resume: true, threads: 0 })), { SLURM_CPUS_PER_TASK: '6' });
    assert.deepEqual(out.slice(2), ['train', '--resume', runDir, '--device', 'cpu', '--threads', '6']);
  });

  it('a failing setup line fails the job before the trainer starts', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'job.sh'), jobScript(spec(runDir, { settings: slurmSettings({ setup: ['false', 'echo not here'] }) })));
    const r = spawnSync('bash', [path.join(dir, 'job.sh')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stdout, /not here|train/);
  });

  it('sbatch options: requeueable, output appended to the run folder, the settings; extra lines as #SBATCH before any command', () => {
    const s = spec(runDir);
    assert.deepEqual(sbatchArgs(s), [
      '--job-name=finetune-it_s[lr=0.1]',
      `--output=${path.join(runDir, 'slurm.log')}`,
      '--open-mode=append',
      '--requeue',
      `--chdir=${path.dirname(runDir)}`,
      '--cpus-per-task=4',
      '--partition=gpu',
      '--time=1:00:00',
      '--mem=4G',
      '--gpus=1',
    ]);
    const lines = jobScript(s).split('\n');
    const firstCommand = lines.findIndex((l) => l && !l.startsWith('#'));
    assert.deepEqual(
      lines.filter((l) => l.startsWith('#SBATCH')),
      ['#SBATCH --account=proj', '#SBATCH --qos=low'],
    );
    assert.ok(lines.indexOf('#SBATCH --qos=low') < firstCommand, 'sbatch reads #SBATCH lines only before the first command');
  });
});

describe('scontrol show job', () => {
  // A real line from slurm-wlm 22.05 (shortened), for a job whose batch script exited 127.
  const line =
    'JobId=7 JobName=finetune-tiny[lr=0.0184] UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901754 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=127:0 RunTime=00:00:01 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-30T18:06:03 Partition=debug NodeList=vm Command=/tmp/a b/job.sh WorkDir=/tmp/a b StdOut=/tmp/a b/slurm.log';

  it('parses the state, reason, exit code and restarts', () => {
    const j = parseScontrolJob(line)!;
    assert.deepEqual(j, { id: '7', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '127:0', restarts: 1 });
    assert.equal(describeJob(j), 'Slurm job 7 FAILED (reason NonZeroExitCode, exit code 127:0)');
  });

  it('a running job has no reason and no exit code worth saying', () => {
    const j = parseScontrolJob(
      line.replace('JobState=FAILED Reason=NonZeroExitCode', 'JobState=RUNNING Reason=None').replace('ExitCode=127:0', 'ExitCode=0:0'),
    )!;
    assert.equal(j.reason, undefined);
    assert.equal(describeJob(j), 'Slurm job 7 RUNNING');
  });
});

describe('the run lock under Slurm', () => {
  const withEnv = <T>(env: Record<string, string | undefined>, f: () => T): T => {
    const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return f();
    } finally {
      for (const [k, v] of Object.entries(old))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  };
  /** A lock left by attempt `restart` of job `job` on another node (alive, as far as this host can tell). */
  const leftBy = (job: string, restart: number) => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'trainer.lock'), JSON.stringify({ pid: 4242, host: 'node-17', since: 'earlier', slurm: { job, restart } }));
    return dir;
  };

  it('a requeued attempt takes over the lock of an earlier attempt of its own job, and records its own', () => {
    const dir = leftBy('77', 0);
    const lock = withEnv({ SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '1' }, () => acquireRunLock(dir));
    assert.deepEqual(readRunLock(dir)?.slurm, { job: '77', restart: 1 });
    lock.release();
  });

  it('another job, or the same attempt, does not', () => {
    assert.throws(
      () => withEnv({ SLURM_JOB_ID: '78', SLURM_RESTART_COUNT: '1' }, () => acquireRunLock(leftBy('77', 0))),
      /in use by another trainer \(process 4242 on node-17/,
    );
    assert.throws(() => withEnv({ SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '0' }, () => acquireRunLock(leftBy('77', 0))), /in use by another trainer/);
    assert.throws(
      () => withEnv({ SLURM_JOB_ID: undefined, SLURM_RESTART_COUNT: undefined }, () => acquireRunLock(leftBy('77', 0))),
      /in use by another trainer/,
    );
  });
});

describe('a queued run folder of a Slurm trial', () => {
  it("takes its run although the job's script and log are there; anything else is refused", () => {
    const dir = tmp();
    writeRunInfo(dir, newRunInfo({ id: 'x', name: 'x', configPath: '/w/x.finetune.yaml', configHash: '', config: null, status: 'queued' }));
    for (const f of ['launch.json', 'job.sh', 'slurm.log']) fs.writeFileSync(path.join(dir, f), '');
    assertNewRunFolder(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), '');
    assert.throws(() => assertNewRunFolder(dir), /already holds a queued run/);
  });
});

describe('sweep.executor and sweep.slurm in a config', () => {
  const lines = (errors: ConfigError[]) => errors.map((e) => `${e.line}:${e.column} ${e.message}`);
  const base = `task: token-classification
model:
  from_scratch: {}
data: { format: conll, train: t.txt }
sweep:
  method: random
  budget: 4
  training.lr: {loguniform: [1.0e-5, 1.0e-3]}
`;

  it('resolve with their defaults, and only when written', () => {
    const c = validateConfigText(`${base}  executor: slurm\n  slurm: {partition: gpu, mem: 16G}\n`, '/w/a.finetune.yaml');
    assert.deepEqual(c.errors, []);
    assert.equal(c.config!.sweep!.executor, 'slurm');
    assert.deepEqual(c.config!.sweep!.slurm, { partition: 'gpu', mem: '16G', cpus: 4, gpus: 0, parallel: 4, pollSeconds: 5, extra: [], setup: [] });
    const plain = validateConfigText(base, '/w/a.finetune.yaml').config!.sweep!;
    assert.equal(plain.executor, undefined);
    assert.equal(plain.slurm, undefined);
  });

  it('bad values are errors at file:line:column', () => {
    const r = validateConfigText(
      `${base}  executor: kubernetes\n  slurm:\n    partiton: gpu\n    time: 2h\n    mem: 16 GB\n    cpus: 0\n    extra: ["account=x"]\n`,
      '/w/a.finetune.yaml',
    );
    assert.deepEqual(lines(r.errors), [
      "9:13 sweep.executor must be one of 'local', 'slurm', got 'kubernetes'",
      "11:5 unknown key 'partiton' — did you mean 'partition'?",
      `12:11 sweep.slurm.time must be a Slurm time: minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS (e.g. "2:00:00"), got '2h'`,
      `13:10 sweep.slurm.mem must be a size with an optional unit K, M, G or T (e.g. "16G"), got '16 GB'`,
      '14:11 sweep.slurm.cpus must be >= 1, got 0',
      `15:13 sweep.slurm.extra[0] must be one sbatch option on one line, starting with - or -- (e.g. "--account=myproject"), got 'account=x'`,
    ]);
  });
});

describe('finetune sweep --executor (dist/trainer.js; `npm run build` first)', () => {
  const TRAINER = path.resolve(path.dirname(__filename), '..', 'dist', 'trainer.js');
  const sweepYaml = `sweep:\n  method: random\n  budget: 2\n  training.lr: {loguniform: [1.0e-4, 3.0e-2]}\n`;

  it('refuses an unknown executor', () => {
    const w = tinyWorkspace(sweepYaml);
    const r = spawnSync(process.execPath, [TRAINER, 'sweep', w.config, '--executor', 'kubernetes'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--executor must be local or slurm, got 'kubernetes'/);
    assert.ok(!fs.existsSync(path.join(w.dir, '.finetune')), 'nothing was written');
  });

  it('without sbatch on PATH: the trial fails saying what the slurm executor needs, and nothing more is submitted', () => {
    const w = tinyWorkspace(sweepYaml);
    const r = spawnSync(process.execPath, [TRAINER, 'sweep', w.config, '--executor', 'slurm'], { encoding: 'utf8', env: { PATH: tmp() } });
    assert.equal(r.status, 0, r.stderr);
    const root = path.join(w.dir, '.finetune', 'sweeps');
    const s = readSweep(path.join(root, fs.readdirSync(root)[0]));
    assert.equal(s.executor, 'slurm');
    assert.equal(s.status, 'stopped');
    assert.deepEqual(
      s.trials.map((t) => t.status),
      ['failed'],
    );
    assert.match(readRunInfo(s.trials[0].runDir).error!.message, /sbatch not found: the slurm executor runs on a Slurm login node/);
    assert.match(r.stdout, /continue it with: finetune sweep --resume /);
  });
});
