// Run folders and resume, as a hostile user tries them: `--run-dir` of a run that exists, `--resume`
// with changes (overrides, a config file, edited data), of a completed run, from a corrupt
// checkpoint, twice at the same moment; a trainer that crashes or is aborted; a stopped run's
// exit code. Each leaves what was on disk as it was, or ends the run with its true status.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type { TrainerEvent } from '../src/shared/protocol';
import { loadConfig } from '../src/shared/config/config';
import { etaSeconds } from '../src/trainer/commands';
import { train } from '../src/trainer/train/trainer';
import { tinyWorkspace } from './helpers/tinyrun';
import { readMetrics, readRunInfo, readRunLock } from '../src/shared/run';

const ROOT = path.resolve(path.dirname(__filename), '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const quiet = (_e: TrainerEvent) => {};
const cli = (args: string[]) => spawnSync(process.execPath, [TRAINER, ...args], { cwd: ROOT, encoding: 'utf8' });

/** Every file under a folder with its bytes (what "untouched" means). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out.set(f, fs.readFileSync(p).toString('base64'));
  }
  return out;
}

function assertUntouched(dir: string, before: Map<string, string>): void {
  const after = snapshot(dir);
  assert.deepEqual([...after.keys()], [...before.keys()], 'the same files');
  for (const [f, b] of before) assert.ok(after.get(f) === b, `${f} unchanged`);
}

/** A copy of a run folder (each test mutates its own). */
function copyRun(src: string, name: string): string {
  const dst = path.join(path.dirname(src), name);
  fs.cpSync(src, dst, { recursive: true });
  return dst;
}

let ws: { dir: string; config: string };
let completedDir: string;
let stoppedDir: string;

describe('run folders and resume', () => {
  before(async () => {
    assert.ok(fs.existsSync(TRAINER), 'run `npm run build` first');
    ws = tinyWorkspace();
    const cfg = loadConfig(ws.config);
    completedDir = (await train({ config: cfg, runDir: path.join(ws.dir, 'completed'), emit: quiet })).runDir;
    let step = 0;
    const stopped = await train({
      config: cfg,
      runDir: path.join(ws.dir, 'stopped'),
      shouldStop: () => step >= 14,
      emit: (e) => {
        if (e.type === 'train') step = e.step;
      },
    });
    assert.equal(stopped.status, 'stopped');
    stoppedDir = stopped.runDir;
  });

  it('--run-dir of a completed run is refused and the run is left as it was', () => {
    const before = snapshot(completedDir);
    const r = cli(['train', ws.config, '--run-dir', completedDir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /already holds a completed run \(step \d+ of \d+\); it is never overwritten: choose another --run-dir/);
    assertUntouched(completedDir, before);
  });

  it('--run-dir of a folder holding other files is refused; an empty one is used', () => {
    const other = path.join(ws.dir, 'notes');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'thesis.tex'), 'mine');
    const r = cli(['train', ws.config, '--run-dir', other, '--set', 'training.max_steps=1']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /already holds 1 file \(thesis\.tex\)/);
    assert.deepEqual(fs.readdirSync(other), ['thesis.tex']);
    const empty = path.join(ws.dir, 'empty');
    fs.mkdirSync(empty);
    const ok = cli(['train', ws.config, '--run-dir', empty, '--set', 'training.max_steps=2', '--set', 'training.epochs=1']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(readRunInfo(empty).status, 'completed');
  });

  it('an invalid config with --run-dir of a completed run: exit 2 and its run.json untouched', () => {
    const before = snapshot(completedDir);
    const r = cli(['train', ws.config, '--run-dir', completedDir, '--set', 'training.lr=0']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /training\.lr must be > 0, got 0/);
    assertUntouched(completedDir, before);
    assert.equal(readRunInfo(completedDir).status, 'completed');
  });

  it('config errors found before training write no run folder', () => {
    const runs = path.join(ws.dir, '.finetune');
    for (const set of ['training.lr=0', 'training.lerning_rate=1', 'training.batch_size=0']) {
      const r = cli(['train', ws.config, '--set', set]);
      assert.equal(r.status, 2, `${set}: ${r.stderr}`);
    }
    assert.equal(fs.existsSync(runs), false, 'no .finetune/runs folder');
  });

  it('--resume with --set or a config file is refused unless --allow-changes', () => {
    const dir = copyRun(stoppedDir, 'resume-set');
    const was = readRunInfo(dir);
    const before = snapshot(dir);
    const withSet = cli(['train', '--resume', dir, '--set', 'training.lr=1e-4']);
    assert.equal(withSet.status, 2, withSet.stderr);
    assert.match(withSet.stderr, /--resume continues .* with the config it was started with; --set training\.lr would change the run.*--allow-changes/);
    const withConfig = cli(['train', ws.config, '--resume', dir]);
    assert.equal(withConfig.status, 2, withConfig.stderr);
    assert.match(withConfig.stderr, /the config file .*tiny\.finetune\.yaml would change the run/);
    assertUntouched(dir, before);
    const allowed = cli(['train', '--resume', dir, '--set', 'training.epochs=3', '--allow-changes', '--json']);
    assert.equal(allowed.status, 0, allowed.stderr);
    const info = readRunInfo(dir);
    assert.equal(info.status, 'completed');
    assert.equal((info.config as { training: { epochs: number } }).training.epochs, 3, 'the changed config is the run’s now');
    assert.equal(info.step, info.totalSteps);
    assert.equal(info.totalSteps, (was.totalSteps! / 2) * 3, '3 epochs instead of 2');
  });

  it('--resume after the training data changed is refused, naming the file', () => {
    const dir = copyRun(stoppedDir, 'resume-data');
    const before = snapshot(dir);
    const train = path.join(ws.dir, 'data', 'train.txt');
    const original = fs.readFileSync(train);
    try {
      // Same size, other content: only the content hash tells.
      const swapped = Buffer.from(original);
      const i = swapped.indexOf('\n\n');
      swapped.copy(swapped, 0, i + 2, i + 12); // overwrite the first 10 bytes with other bytes of the file
      fs.writeFileSync(train, swapped);
      assert.equal(swapped.length, original.length);
      const r = cli(['train', '--resume', dir]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /cannot resume .*data\.train .*train\.txt changed since the run started \(same size, different content\).*--allow-changes/);
      assertUntouched(dir, before);
      fs.appendFileSync(train, 'Bonn\tB-LOC\n');
      assert.match(cli(['train', '--resume', dir]).stderr, /train\.txt changed since the run started \(\d+ → \d+ bytes\)/);
      // Touched but not edited: the same data, resumed.
      fs.writeFileSync(train, original);
      const ok = cli(['train', '--resume', dir, '--json']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(readRunInfo(dir).status, 'completed');
    } finally {
      fs.writeFileSync(train, original);
    }
  });

  it('--resume of a completed run is refused: no evaluation again, no duplicate records', () => {
    const before = snapshot(completedDir);
    const r = cli(['train', '--resume', completedDir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /is a completed run \(step \d+, ended .*\): there is nothing to resume/);
    assertUntouched(completedDir, before);
  });

  it('a corrupt checkpoint on --resume: a clear error, and run.json stays stopped at its step', () => {
    const dir = copyRun(stoppedDir, 'resume-corrupt');
    const was = readRunInfo(dir);
    assert.equal(was.status, 'stopped');
    assert.ok(was.step >= 14, `stopped at step ${was.step}`);
    const weights = path.join(dir, 'checkpoints', 'last', 'model.safetensors');
    fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 100));
    const r = cli(['train', '--resume', dir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /model\.safetensors/);
    const info = readRunInfo(dir);
    assert.deepEqual([info.status, info.step, info.epoch, info.endedAt], ['stopped', was.step, was.epoch, was.endedAt]);
    assert.equal(readRunLock(dir), undefined, 'the lock is released');
  });

  it('two --resumes of one run at the same moment: exactly one runs, each step recorded once', async () => {
    const dir = copyRun(stoppedDir, 'resume-twice');
    const go = () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const c = spawn(process.execPath, [TRAINER, 'train', '--resume', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        c.stdout.resume();
        c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        c.on('close', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([go(), go()]);
    const codes = results.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, 1], results.map((r) => r.stderr).join('\n---\n'));
    const refused = results.find((r) => r.code === 1)!;
    assert.match(refused.stderr, /is in use by another trainer \(process \d+|is a completed run/);
    const steps = readMetrics(dir)
      .filter((r) => r.type === 'train')
      .map((r) => r.step);
    assert.deepEqual(
      steps,
      Array.from({ length: readRunInfo(dir).totalSteps! }, (_, i) => i + 1),
    );
    assert.equal(readMetrics(dir).filter((r) => r.type === 'eval' && r.split === 'test').length, 1, 'one test evaluation');
    assert.equal(readRunLock(dir), undefined);
  });

  it('a stale lock (its process is dead) is taken over', () => {
    const dir = copyRun(stoppedDir, 'resume-stale');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    fs.writeFileSync(path.join(dir, 'trainer.lock'), JSON.stringify({ pid, host: require('node:os').hostname(), since: 'earlier' }));
    const r = cli(['train', '--resume', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readRunInfo(dir).status, 'completed');
    // A live one is not: this test process holds it.
    const held = copyRun(stoppedDir, 'resume-held');
    fs.writeFileSync(path.join(held, 'trainer.lock'), JSON.stringify({ pid: process.pid, host: require('node:os').hostname(), since: 'now' }));
    const refused = cli(['train', '--resume', held]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`in use by another trainer \\(process ${process.pid}`));
    assert.equal(readRunInfo(held).status, 'stopped');
  });

  it('a run left `running` by a dead trainer: --resume records it failed, even when it refuses, then resumes it', () => {
    const dir = copyRun(stoppedDir, 'resume-dead');
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const info = readRunInfo(dir);
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...info, status: 'running', pid: dead, endedAt: undefined }));
    const refused = cli(['train', '--resume', dir, '--set', 'training.lr=1e-4']);
    assert.equal(refused.status, 2, refused.stderr);
    const marked = readRunInfo(dir);
    assert.equal(marked.status, 'failed');
    assert.match(marked.error!.message, new RegExp(`the trainer process ${dead} ended without recording a result`));
    const ok = cli(['train', '--resume', dir, '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(readRunInfo(dir).status, 'completed');
    assert.match(fs.readFileSync(path.join(dir, 'train.log'), 'utf8'), /ended without recording a result .*; resuming from its last checkpoint/);
  });
});

describe('a trainer that dies never leaves its run `running`', () => {
  /** The CLI on a fresh run, with `inject` run in its process once run.json says running at step > 0. */
  function runWith(
    inject: string,
    args: string[] = [],
    when = 'info.step > 0',
  ): Promise<{ code: number | null; signal: string | null; stderr: string; dir: string }> {
    const w = tinyWorkspace('', { train: 400 });
    const dir = path.join(w.dir, 'run');
    // Loaded before the trainer (node -r), in its process: the fault comes from inside.
    const preload = path.join(w.dir, 'inject.js');
    fs.writeFileSync(
      preload,
      `const fs = require('node:fs');
      const path = require('node:path');
      const dir = ${JSON.stringify(dir)};
      const timer = setInterval(() => {
        let info; try { info = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')); } catch { return; }
        if (info.status === 'running' && ${when}) { clearInterval(timer); ${inject} }
      }, 20);
      timer.unref();`,
    );
    const argv = ['-r', preload, TRAINER, 'train', w.config, '--run-dir', dir, '--json', '--set', 'training.epochs=20', ...args];
    return new Promise((resolve) => {
      const c = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (code, signal) => resolve({ code, signal, stderr, dir }));
    });
  }

  it('an uncaught exception: run.json failed with the error, exit 1', async () => {
    const r = await runWith(`setTimeout(() => { throw new Error('injected fault in a callback'); }, 0);`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the trainer crashed: .*injected fault in a callback/);
    const info = readRunInfo(r.dir);
    assert.equal(info.status, 'failed');
    assert.match(info.error!.message, /the trainer crashed: injected fault in a callback/);
    assert.equal(readRunLock(r.dir), undefined);
  });

  it('an unhandled rejection: run.json failed', async () => {
    const r = await runWith(`Promise.reject(new Error('injected rejection'));`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(readRunInfo(r.dir).error!.message, /injected rejection/);
    assert.equal(readRunInfo(r.dir).status, 'failed');
  });

  it('SIGTERM: stopped at a checkpoint, exit code 3; a second SIGTERM aborts: stopped, exit 130', async () => {
    const once = await runWith(`process.kill(process.pid, 'SIGTERM');`);
    assert.equal(once.code, 3, once.stderr);
    const a = readRunInfo(once.dir);
    assert.equal(a.status, 'stopped');
    assert.ok(fs.existsSync(path.join(once.dir, 'checkpoints', 'last')));
    // The second signal once the first block after the stop request is under way.
    const twice = await runWith(
      `process.kill(process.pid, 'SIGTERM'); setImmediate(() => process.kill(process.pid, 'SIGTERM'));`,
      ['--set', 'evaluation.every=1'],
      `fs.existsSync(path.join(dir, 'checkpoints', 'last'))`,
    );
    assert.equal(twice.code, 130, twice.stderr);
    const b = readRunInfo(twice.dir);
    assert.equal(b.status, 'stopped', JSON.stringify(b.error));
    assert.match(fs.readFileSync(path.join(twice.dir, 'train.log'), 'utf8'), /stopped: aborted by SIGTERM/);
    assert.equal(readRunLock(twice.dir), undefined);
  });
});

describe('the progress bar’s ETA', () => {
  it('after a resume, counts only the steps this process took', () => {
    // Resumed at step 50 of 100: 10 steps in 10 s since → 40 s left (from step 0 it would be 6.7 s).
    assert.equal(etaSeconds({ step: 50, time: 0 }, { step: 60, time: 10_000 }, 100, 99), 40);
    // The first block alone: the trainer's own rate.
    assert.equal(etaSeconds({ step: 50, time: 0 }, { step: 50, time: 0 }, 100, 5), 10);
  });
});
