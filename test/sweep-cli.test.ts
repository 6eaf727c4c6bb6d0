// `finetune sweep` from the built CLI (dist/trainer.js; `npm run build` first) on the tiny NER
// setup: a random sweep with ASHA; the same sweep killed (SIGKILL) during a trial and resumed with
// --resume ends with the very trials, statuses and values of the uninterrupted one; with
// --concurrency 2, two trials train at once, and a kill with both in flight resumes both;
// `finetune train` refuses a sweep config; a bad sweep is an error at file:line.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { hasResumeCheckpoint, readMetrics, readRunInfo, runPaths } from '../src/shared/run';
import { bestTrial, readSweep, sweepFile, type SweepInfo, type SweepTrial } from '../src/shared/sweep/folder';
import { curveOf } from '../src/shared/sweep/prune';
import { tinyWorkspace } from './helpers/tinyrun';

const ROOT = path.resolve(path.dirname(__filename), '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const cli = (args: string[]) => spawnSync(process.execPath, [TRAINER, ...args], { cwd: ROOT, encoding: 'utf8' });
/** As cli, without blocking the test's event loop. */
const cliAsync = (args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, [TRAINER, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });

const SWEEP = `sweep:
  method: random
  budget: 3
  seed: 3
  training.lr: {loguniform: [1.0e-4, 3.0e-2]}
  early_termination: {type: asha, min_steps: 20, reduction_factor: 2}
`;

function workspace(): { dir: string; config: string } {
  const w = tinyWorkspace(SWEEP);
  fs.writeFileSync(w.config, fs.readFileSync(w.config, 'utf8').replace('epochs: 2', 'epochs: 3'));
  return w;
}

const sweepDirOf = (ws: string) => {
  const root = path.join(ws, '.finetune', 'sweeps');
  const ids = fs.readdirSync(root);
  assert.equal(ids.length, 1);
  return path.join(root, ids[0]);
};

/** What must not depend on how the sweep was run: every trial's parameters, status and value. */
const outcome = (s: SweepInfo) => s.trials.map((t) => ({ number: t.number, params: t.params, status: t.status, value: t.value, pruned: t.pruned }));

let uninterrupted: SweepInfo | undefined;

describe('finetune sweep (dist/trainer.js)', () => {
  it('runs a random sweep with ASHA: trials are run folders, bad ones pruned with a checkpoint', () => {
    const w = workspace();
    const r = cli(['sweep', w.config, '--threads', '1']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const s = readSweep(sweepDirOf(w.dir));
    uninterrupted = s;
    assert.equal(s.status, 'completed');
    assert.equal(s.trials.length, 3);
    assert.deepEqual(
      s.trials.map((t) => t.status),
      ['completed', 'pruned', 'pruned'],
    );
    for (const t of s.trials) {
      const info = readRunInfo(t.runDir);
      assert.equal(info.status, t.status);
      assert.equal((info.config as { training: { lr: number } }).training.lr, t.params['training.lr']);
      const f1s = readMetrics(t.runDir).flatMap((m) => (m.type === 'eval' && m.split === 'validation' ? [m.metrics.f1!] : []));
      assert.equal(t.value, Math.max(...f1s));
    }
    for (const t of s.trials.filter((x) => x.status === 'pruned')) {
      // Stopped at the first rung (step >= 20), by SIGTERM: it checkpointed and can be resumed by hand.
      assert.equal(t.pruned!.rung, 0);
      assert.ok(hasResumeCheckpoint(t.runDir), `${t.runDir} keeps its checkpoint`);
      assert.ok(readRunInfo(t.runDir).step < readRunInfo(s.trials[0].runDir).step);
    }
    assert.match(r.stdout, /sweep completed: 3\/3 trials/);
  });

  it('resumes after the sweep process is killed, ending as the uninterrupted sweep did', async () => {
    assert.ok(uninterrupted, 'the first test ran');
    const w = workspace();
    // In its own process group, so that a crash can take the sweep and its trainer down together.
    const child = spawn(process.execPath, [TRAINER, 'sweep', w.config, '--threads', '1'], { cwd: ROOT, stdio: 'ignore', detached: true });
    // Kill both (no chance to clean up) once the first trial has a checkpoint to resume from.
    const root = path.join(w.dir, '.finetune', 'sweeps');
    for (let i = 0; ; i++) {
      assert.ok(i < 1200, 'the first trial checkpointed within 2 minutes');
      await new Promise((res) => setTimeout(res, 100));
      if (!fs.existsSync(root) || !fs.readdirSync(root).length || !fs.existsSync(sweepFile(sweepDirOf(w.dir)))) continue;
      const s = readSweep(sweepDirOf(w.dir));
      if (s.trials.length && fs.existsSync(runPaths(s.trials[0].runDir).checkpoint('last'))) break;
    }
    const exited = new Promise((res) => child.on('exit', res));
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    const killed = readSweep(sweepDirOf(w.dir));
    assert.equal(killed.status, 'running');
    assert.equal(killed.trials.length, 1);
    assert.equal(killed.trials[0].status, 'running');

    const r = cli(['sweep', '--resume', sweepDirOf(w.dir), '--threads', '1']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /trial 0: resuming /);
    const s = readSweep(sweepDirOf(w.dir));
    assert.equal(s.status, 'completed');
    assert.deepEqual(outcome(s), outcome(uninterrupted));
    // The resumed trial's records hold each step once.
    const steps = readMetrics(s.trials[0].runDir).flatMap((m) => (m.type === 'train' ? [m.step] : []));
    assert.deepEqual(
      steps,
      [...new Set(steps)].sort((a, b) => a - b),
    );
  });

  it('--concurrency 2 runs two trials at once, with the same draws and the same training as one at a time', async () => {
    assert.ok(uninterrupted, 'the first test ran');
    const w = workspace();
    const r = await cliAsync(['sweep', w.config, '--threads', '1', '--concurrency', '2']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const s = readSweep(sweepDirOf(w.dir));
    assert.equal(s.status, 'completed');
    assert.equal(s.concurrency, 2);
    assert.equal(s.trials.length, 3);
    // Two trials trained at the same time (their run.json times overlap); their lines are told apart.
    const span = (t: SweepTrial) => {
      const i = readRunInfo(t.runDir);
      return [Date.parse(i.startedAt!), Date.parse(i.endedAt!)];
    };
    const [a0, a1] = span(s.trials[0]);
    const [b0, b1] = span(s.trials[1]);
    assert.ok(
      a0 < b1 && b0 < a1,
      `trials 0 and 1 overlap: ${s.trials[0].startedAt}..${s.trials[0].endedAt} and ${s.trials[1].startedAt}..${s.trials[1].endedAt}`,
    );
    assert.match(r.stdout, /^\[0\] /m);
    assert.match(r.stdout, /^\[1\] /m);
    // Random draws depend on the seed and the trial's number only: the same parameters.
    assert.deepEqual(
      s.trials.map((t) => t.params),
      uninterrupted.trials.map((t) => t.params),
    );
    // Training is the same: each trial's validation values equal the sequential run's at every step both reached.
    for (const t of s.trials) {
      const seq = curveOf(readMetrics(uninterrupted.trials[t.number].runDir), 'f1');
      const here = curveOf(readMetrics(t.runDir), 'f1');
      const common = Math.min(seq.length, here.length);
      assert.ok(common > 0);
      assert.deepEqual(here.slice(0, common), seq.slice(0, common), `trial ${t.number}`);
      assert.ok(t.status === 'completed' || t.status === 'pruned', `trial ${t.number}: ${t.status}`);
      if (t.status === 'pruned') assert.ok(hasResumeCheckpoint(t.runDir));
    }
    // Which trials are pruned depends on which reached a rung first (as with Optuna's n_jobs), but
    // trial 0, the best at every rung, goes on whatever the order: the same outcome and best trial.
    assert.deepEqual(outcome(s)[0], outcome(uninterrupted)[0]);
    assert.equal(bestTrial(s)?.number, bestTrial(uninterrupted)?.number);
    assert.equal(bestTrial(s)?.value, bestTrial(uninterrupted)?.value);
  });

  it('resumes after a kill with two trials in flight: both continue, and the sweep ends complete', async () => {
    assert.ok(uninterrupted, 'the first test ran');
    const w = workspace();
    const child = spawn(process.execPath, [TRAINER, 'sweep', w.config, '--threads', '1', '--concurrency', '2'], { cwd: ROOT, stdio: 'ignore', detached: true });
    const root = path.join(w.dir, '.finetune', 'sweeps');
    for (let i = 0; ; i++) {
      assert.ok(i < 1200, 'two trials ran, one with a checkpoint, within 2 minutes');
      await new Promise((res) => setTimeout(res, 100));
      if (!fs.existsSync(root) || !fs.readdirSync(root).length || !fs.existsSync(sweepFile(sweepDirOf(w.dir)))) continue;
      const s = readSweep(sweepDirOf(w.dir));
      const running = s.trials.filter((t) => t.status === 'running');
      if (running.length === 2 && running.some((t) => fs.existsSync(runPaths(t.runDir).checkpoint('last')))) break;
    }
    const exited = new Promise((res) => child.on('exit', res));
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    const killed = readSweep(sweepDirOf(w.dir));
    const inFlight = killed.trials.filter((t) => t.status === 'running').map((t) => t.number);
    assert.equal(inFlight.length, 2);

    // Without --concurrency: the sweep's own (2).
    const r = await cliAsync(['sweep', '--resume', sweepDirOf(w.dir), '--threads', '1']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    // Each in-flight trial continues, unless its pruning was already decided (recorded) before the kill: then it is just marked pruned.
    for (const n of inFlight) if (!killed.trials[n].pruned) assert.match(r.stdout, new RegExp(`trial ${n}: (resuming|restarting in) `));
    assert.match(r.stdout, /, 2 at a time,/);
    const s = readSweep(sweepDirOf(w.dir));
    assert.equal(s.status, 'completed');
    assert.equal(s.trials.length, 3);
    assert.deepEqual(
      s.trials.map((t) => t.params),
      uninterrupted.trials.map((t) => t.params),
    );
    for (const t of s.trials) {
      assert.ok(t.status === 'completed' || t.status === 'pruned', `trial ${t.number}: ${t.status}`);
      assert.equal(readRunInfo(t.runDir).status, t.status);
      // A resumed trial's records hold each step once.
      const steps = readMetrics(t.runDir).flatMap((m) => (m.type === 'train' ? [m.step] : []));
      assert.deepEqual(
        steps,
        [...new Set(steps)].sort((a, b) => a - b),
      );
    }
    // Exact resume: the completed best trial ends with the uninterrupted sweep's numbers.
    assert.deepEqual(outcome(s)[0], outcome(uninterrupted)[0]);
  });

  it('SIGTERM to the sweep (Stop Sweep in VS Code) stops every running trial with a checkpoint, and the sweep as stopped', async () => {
    const w = workspace();
    const child = spawn(process.execPath, [TRAINER, 'sweep', w.config, '--threads', '1', '--concurrency', '2'], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const root = path.join(w.dir, '.finetune', 'sweeps');
    for (let i = 0; ; i++) {
      assert.ok(i < 1200, 'two trials trained within 2 minutes');
      await new Promise((res) => setTimeout(res, 100));
      if (!fs.existsSync(root) || !fs.readdirSync(root).length || !fs.existsSync(sweepFile(sweepDirOf(w.dir)))) continue;
      const s = readSweep(sweepDirOf(w.dir));
      const running = s.trials.filter((t) => t.status === 'running');
      if (running.length === 2 && running.every((t) => readMetrics(t.runDir).some((m) => m.type === 'train'))) break;
    }
    child.kill('SIGTERM'); // the driver only, as the extension does
    assert.equal(await exited, 0);
    const s = readSweep(sweepDirOf(w.dir));
    assert.equal(s.status, 'stopped');
    assert.equal(s.pid, undefined);
    assert.equal(s.trials.length, 2, 'no trial started after the stop');
    for (const t of s.trials) {
      // Stopped (or pruned just before the stop came): either way it ended with a checkpoint, not run to the end.
      assert.ok(t.status === 'stopped' || t.status === 'pruned', `trial ${t.number}: ${t.status}`);
      assert.equal(readRunInfo(t.runDir).status, t.status);
      assert.ok(hasResumeCheckpoint(t.runDir), `${t.runDir} checkpointed`);
    }
  });

  it('goes on when whoever reads its output goes away (a VS Code window that reloads)', async () => {
    const w = workspace();
    const child = spawn(process.execPath, [TRAINER, 'sweep', w.config, '--threads', '1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    // The reader closes its ends of the pipes: every later write of the sweep and its trials fails (EPIPE).
    child.stdout.destroy();
    child.stderr.destroy();
    assert.equal(await exited, 0);
    const s = readSweep(sweepDirOf(w.dir));
    assert.equal(s.status, 'completed');
    assert.equal(s.trials.length, 3);
  });

  it('finetune train refuses a sweep config and says what to run', () => {
    const w = workspace();
    const r = cli(['train', w.config]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is a sweep .*finetune sweep /);
    assert.ok(!fs.existsSync(path.join(w.dir, '.finetune', 'runs')), 'no run was started');
  });

  it('a bad sweep is an error at file:line, before any trial', () => {
    const w = tinyWorkspace(`sweep:\n  method: tpe\n  training.lr: {uniform: [1.0e-3]}\n`);
    const r = cli(['sweep', w.config]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${w.config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: a tpe sweep needs a budget`));
    assert.match(r.stderr, /:\d+:\d+: uniform takes \[low, high\], two numbers/);
    assert.ok(!fs.existsSync(path.join(w.dir, '.finetune')), 'nothing was written');
  });
});
