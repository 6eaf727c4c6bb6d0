// The slurm executor on a real one-node Slurm cluster (test/slurm/cluster.sh: munged, slurmctld and
// slurmd of Debian's slurm-wlm, as root, state in a temp folder), with the built CLI (dist/trainer.js;
// `npm run test:slurm` builds it). A small sweep runs as batch jobs and prunes by SIGTERM; a trial
// requeued after its first checkpoint (what a preemption does) resumes its own run folder and ends
// with exactly the records of the uninterrupted trial; Stop cancels the jobs and leaves resumable
// runs, which `--resume` of the sweep finishes, exactly again; a job Slurm refuses or that fails shows
// Slurm's reason in its run's error. Without root or the packages (and no apt-get to install them),
// the layer is one skipped test that says why.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasResumeCheckpoint, readMetrics, readRunInfo, type RunInfo } from '../../src/shared/run';
import { jobFiles } from '../../src/trainer/slurm/script';
import { readSweep, sweepFile } from '../../src/shared/sweep/folder';
import type { MetricsRecord } from '../../src/shared/protocol';
import { tinyWorkspace } from '../helpers/tinyrun';

const ROOT = path.resolve(path.dirname(__filename), '..', '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const CLUSTER = path.join(ROOT, 'test', 'slurm', 'cluster.sh');

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const SLURM_BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'scontrol', 'scancel', 'squeue'];

/** Why the layer cannot run here, after installing the packages where that is possible (root, apt-get). */
function unavailable(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0)
    return 'needs root on Linux to run munged, slurmctld and slurmd (run it as root, as .ci/run does)';
  if (SLURM_BINARIES.every(has)) return undefined;
  if (!has('apt-get')) return 'slurm-wlm and munge are not installed and there is no apt-get to install them';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'slurm-wlm', 'munge'], { encoding: 'utf8', env });
  if (!SLURM_BINARIES.every(has))
    return `slurm-wlm and munge could not be installed (apt-get: ${(r.stderr || '').trim().split('\n').pop() || `exit ${r.status}`})`;
  return undefined;
}

const skip = unavailable();
let clusterDir = '';
const env: NodeJS.ProcessEnv = { ...process.env };

const SWEEP = (extra = '') => `sweep:
  method: random
  budget: 2
  seed: 3
  training.lr: {loguniform: [1.0e-4, 3.0e-2]}
  executor: slurm
  slurm: {cpus: 1, parallel: 1, poll_seconds: 1${extra}}
`;

/**
 * The tiny NER setup with a 2-layer model and 20 epochs of 22 steps, validation (and the last
 * checkpoint) after each. A trial has to outlast the sweep's and the test's reactions (a poll,
 * `scancel` or `scontrol requeue`, the trainer's block) by a wide margin after its first
 * evaluation: the 1-layer model's 3 epochs took 0.3 s after it on a fast CPU and finished first.
 */
function workspace(sweep: string): { dir: string; config: string } {
  const w = tinyWorkspace(sweep);
  const config = fs
    .readFileSync(w.config, 'utf8')
    .replace('epochs: 2', 'epochs: 20')
    .replace('layers: 1, hidden: 32, heads: 2, intermediate: 64', 'layers: 2, hidden: 64, heads: 2, intermediate: 256');
  assert.match(config, /epochs: 20[^]*layers: 2|layers: 2[^]*epochs: 20/, 'the tiny config changed shape; update this test');
  fs.writeFileSync(w.config, config);
  return w;
}

const cli = (args: string[]) => spawnSync(process.execPath, [TRAINER, ...args], { cwd: ROOT, encoding: 'utf8', env });
const slurm = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', env });

function sweepDirOf(ws: string): string | undefined {
  const root = path.join(ws, '.finetune', 'sweeps');
  const ids = fs.existsSync(root) ? fs.readdirSync(root) : [];
  return ids.length === 1 && fs.existsSync(sweepFile(path.join(root, ids[0]))) ? path.join(root, ids[0]) : undefined;
}

/** Polls until `f` returns something, or fails saying what it waited for. */
async function until<T>(what: string, f: () => T | undefined, seconds = 120): Promise<T> {
  for (const end = Date.now() + seconds * 1000; Date.now() < end;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

/** A sweep started in the background; resolves with its exit code and output. */
function startSweep(config: string): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [TRAINER, 'sweep', config], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return { child, done: new Promise((res) => child.on('exit', (code) => res({ code, out }))) };
}

/** The first trial's job id once its run folder has a checkpoint to resume from. */
async function firstCheckpoint(ws: string): Promise<{ sweep: string; job: string; runDir: string }> {
  return until('the first trial to checkpoint', () => {
    const dir = sweepDirOf(ws);
    const t = dir ? readSweep(dir).trials[0] : undefined;
    return t?.job && hasResumeCheckpoint(t.runDir) ? { sweep: dir!, job: t.job.id, runDir: t.runDir } : undefined;
  });
}

/** A run's records without what depends on the clock (speeds, times). */
const recordsOf = (runDir: string) =>
  readMetrics(runDir).map((r: MetricsRecord) => {
    const { time: _t, ...rest } = r;
    if (rest.type !== 'train') return rest;
    const { stepsPerSec: _s, samplesPerSec: _p, tokensPerSec: _k, ...train } = rest;
    return train;
  });

const trainSteps = (runDir: string) => readMetrics(runDir).flatMap((m) => (m.type === 'train' ? [m.step] : []));

let reference: { runDir: string; info: RunInfo } | undefined;

if (skip) {
  // The one line: TAP's `ok 1 - … # SKIP <why>`.
  it('Slurm executor on a one-node Slurm cluster', { skip }, () => {});
} else
  describe('finetune sweep --executor slurm on a one-node Slurm cluster', () => {
    before(() => {
      clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-slurm-'));
      const r = spawnSync(CLUSTER, ['start', clusterDir], { encoding: 'utf8' });
      assert.equal(r.status, 0, `cluster.sh start: ${r.stderr}${r.stdout}`);
      env.SLURM_CONF = path.join(clusterDir, 'slurm.conf');
    });
    after(() => {
      spawnSync(CLUSTER, ['stop', clusterDir], { stdio: 'ignore' });
      fs.rmSync(clusterDir, { recursive: true, force: true });
    });

    it('runs a random sweep as batch jobs: run folders with metrics and logs, a bad trial pruned by SIGTERM', () => {
      const w = workspace(SWEEP().replace('  executor:', '  early_termination: {type: asha, min_steps: 20, reduction_factor: 2}\n  executor:'));
      const r = cli(['sweep', w.config]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const s = readSweep(sweepDirOf(w.dir)!);
      assert.equal(s.executor, 'slurm');
      assert.equal(s.status, 'completed');
      // Trial 0 is first at the rung and goes on; trial 1 (lr 0.0011) is worse there and is stopped.
      assert.deepEqual(
        s.trials.map((t) => t.status),
        ['completed', 'pruned'],
      );
      for (const t of s.trials) {
        assert.match(t.job?.id ?? '', /^\d+$/, 'its job id is recorded');
        const info = readRunInfo(t.runDir);
        assert.equal(info.status, t.status);
        const f1s = readMetrics(t.runDir).flatMap((m) => (m.type === 'eval' && m.split === 'validation' ? [m.metrics.f1!] : []));
        assert.ok(f1s.length > 0, 'validation records');
        assert.equal(t.value, Math.max(...f1s));
        const log = fs.readFileSync(jobFiles(t.runDir).log, 'utf8');
        assert.match(log, new RegExp(`finetune: job ${t.job!.id} attempt 1 on `), 'the job wrote its log into the run folder');
        assert.equal(slurm('squeue', ['-h', '-j', t.job!.id]).stdout.trim(), '', 'the job has left the queue');
      }
      const [done, pruned] = s.trials;
      assert.ok(readRunInfo(done.runDir).final?.test_f1 !== undefined, 'the completed trial has its test metrics');
      assert.ok(hasResumeCheckpoint(pruned.runDir), 'the pruned trial keeps its checkpoint');
      assert.ok(readRunInfo(pruned.runDir).step < readRunInfo(done.runDir).step, 'the pruned trial stopped early');
      reference = { runDir: done.runDir, info: readRunInfo(done.runDir) };
    });

    it('a trial requeued after its first checkpoint (a preemption) resumes its run folder and ends exactly as the uninterrupted one', async () => {
      assert.ok(reference, 'the first test ran');
      const w = workspace(SWEEP().replace('budget: 2', 'budget: 1'));
      const sweep = startSweep(w.config);
      const first = await firstCheckpoint(w.dir);
      const rq = slurm('scontrol', ['requeue', first.job]);
      assert.equal(rq.status, 0, rq.stderr);
      const r = await sweep.done;
      assert.equal(r.code, 0, r.out);
      const s = readSweep(first.sweep);
      assert.equal(s.status, 'completed');
      assert.equal(s.trials[0].status, 'completed');
      const log = fs.readFileSync(jobFiles(first.runDir).log, 'utf8');
      assert.match(log, new RegExp(`finetune: job ${first.job} attempt 2 on `), 'Slurm ran the job again');
      const info = readRunInfo(first.runDir);
      assert.ok(info.resumedFrom, 'the second attempt resumed from the checkpoint');
      assert.deepEqual(recordsOf(first.runDir), recordsOf(reference.runDir));
      assert.deepEqual(info.final, reference.info.final);
      assert.deepEqual(trainSteps(first.runDir), [...new Set(trainSteps(first.runDir))], 'no step recorded twice');
    });

    it('Stop cancels the jobs: the job leaves the queue, the run is stopped with a checkpoint; --resume finishes it exactly', async () => {
      assert.ok(reference, 'the first test ran');
      const w = workspace(SWEEP().replace('budget: 2', 'budget: 1'));
      const sweep = startSweep(w.config);
      const first = await firstCheckpoint(w.dir);
      sweep.child.kill('SIGINT');
      const r = await sweep.done;
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /continue it with: finetune sweep --resume /);
      assert.equal(slurm('squeue', ['-h', '-j', first.job]).stdout.trim(), '', 'the job has left the queue');
      const stopped = readRunInfo(first.runDir);
      assert.equal(stopped.status, 'stopped');
      assert.ok(hasResumeCheckpoint(first.runDir));
      assert.ok(stopped.step < reference.info.step, 'it stopped before the end');
      assert.equal(readSweep(first.sweep).status, 'stopped');

      const resumed = cli(['sweep', '--resume', first.sweep]);
      assert.equal(resumed.status, 0, resumed.stderr + resumed.stdout);
      const s = readSweep(first.sweep);
      assert.equal(s.status, 'completed');
      assert.notEqual(s.trials[0].job!.id, first.job, 'a new job resumed it');
      assert.deepEqual(recordsOf(first.runDir), recordsOf(reference.runDir));
      assert.deepEqual(readRunInfo(first.runDir).final, reference.info.final);
    });

    it("a job Slurm refuses, and a job that fails, show Slurm's reason in the run's error", () => {
      const bad = workspace(SWEEP(', partition: nosuchpartition').replace('budget: 2', 'budget: 1'));
      const r1 = cli(['sweep', bad.config]);
      const s1 = readSweep(sweepDirOf(bad.dir)!);
      assert.equal(s1.trials[0].status, 'failed', r1.stdout + r1.stderr);
      assert.match(readRunInfo(s1.trials[0].runDir).error!.message, /sbatch refused the job: .*invalid partition/i);

      const failing = workspace(SWEEP(', setup: ["module load nodejs/99"]').replace('budget: 2', 'budget: 1'));
      const r2 = cli(['sweep', failing.config]);
      assert.equal(r2.status, 1, r2.stdout + r2.stderr);
      const s2 = readSweep(sweepDirOf(failing.dir)!);
      assert.equal(s2.status, 'failed');
      const run = readRunInfo(s2.trials[0].runDir);
      assert.equal(run.status, 'failed');
      assert.match(run.error!.message, new RegExp(`Slurm job ${s2.trials[0].job!.id} FAILED \\(reason NonZeroExitCode, exit code 127:0\\)`));
      assert.match(run.error!.message, /module: command not found/);
    });
  });
