// Faults: the trainer killed with SIGKILL mid-run, two runs of one config at once, a full disk
// while writing checkpoints, a torn last line in metrics.jsonl. Nothing recorded is lost.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { TrainerEvent } from '../src/shared/protocol';
import { loadConfig } from '../src/shared/config/config';
import { train } from '../src/trainer/train/trainer';
import { tinyWorkspace } from './helpers/tinyrun';
import { readMetrics, readRunInfo } from '../src/shared/run';
import { readSafetensors } from '../src/trainer/io/safetensors';

const ROOT = path.resolve(path.dirname(__filename), '..');
const quiet = (_e: TrainerEvent) => {};
const trainLosses = (dir: string) =>
  readMetrics(dir)
    .filter((r) => r.type === 'train')
    .map((r) => [r.step, (r as { loss: number }).loss]);

describe('faults', () => {
  it('SIGKILL mid-run: evaluations so far stay in the history and --resume finishes it with the numbers and model.onnx of an uninterrupted run', async () => {
    const ws = tinyWorkspace();
    fs.writeFileSync(ws.config, fs.readFileSync(ws.config, 'utf8').replace('epochs: 2', 'epochs: 3'));
    const runDir = path.join(ws.dir, 'run');
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'trainer.js'), 'train', ws.config, '--json', '--run-dir', runDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let sawEval = false;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n').slice(0, -1)) {
          const e = JSON.parse(line) as TrainerEvent;
          if (e.type === 'eval') sawEval = true;
          else if (sawEval && e.type === 'train') {
            child.kill('SIGKILL');
            resolve();
            return;
          }
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      child.on('exit', () => (sawEval ? resolve() : reject(new Error('the trainer ended before its first evaluation'))));
    });
    await new Promise((r) => child.on('close', r));
    const killed = readRunInfo(runDir);
    assert.equal(killed.status, 'running'); // as the killed process left it; readers see its pid is gone
    const evalsBefore = readMetrics(runDir).filter((r) => r.type === 'eval');
    assert.ok(evalsBefore.length >= 1);
    const res = await train({ config: loadConfig(ws.config), resume: runDir, emit: quiet });
    assert.equal(res.status, 'completed');
    const records = readMetrics(runDir);
    const trainSteps = records.filter((r) => r.type === 'train').map((r) => r.step);
    assert.deepEqual(
      trainSteps,
      Array.from({ length: readRunInfo(runDir).totalSteps! }, (_, i) => i + 1),
      'each step recorded once',
    );
    for (const e of evalsBefore)
      assert.ok(
        records.some((r) => r.type === 'eval' && r.step === e.step && r.split === e.split),
        `eval at ${e.step} kept`,
      );
    assert.equal(readRunInfo(runDir).status, 'completed');
    // The same config never interrupted: the same final metrics, the same exported bytes.
    const whole = await train({ config: loadConfig(ws.config), runDir: path.join(ws.dir, 'whole'), emit: quiet });
    assert.equal(whole.status, 'completed');
    assert.deepEqual(readRunInfo(runDir).final, readRunInfo(whole.runDir).final);
    assert.ok(Object.keys(readRunInfo(whole.runDir).final ?? {}).includes('test_f1'));
    const onnx = (d: string) => fs.readFileSync(path.join(d, 'model.onnx'));
    assert.ok(onnx(runDir).equals(onnx(whole.runDir)), 'model.onnx byte-identical to the uninterrupted run’s');
    assert.deepEqual(trainLosses(runDir), trainLosses(whole.runDir), 'every step’s loss');
  });

  it('two runs of the same config at once get separate folders and separate records', async () => {
    const ws = tinyWorkspace('', { train: 40 });
    const cfg = loadConfig(ws.config, { 'training.epochs': 1 });
    const runsDir = path.join(ws.dir, 'runs');
    const [a, b] = await Promise.all([train({ config: cfg, runsDir, emit: quiet }), train({ config: cfg, runsDir, emit: quiet })]);
    assert.notEqual(a.runDir, b.runDir);
    assert.deepEqual(fs.readdirSync(runsDir).sort(), [path.basename(a.runDir), path.basename(b.runDir)].sort());
    const steps = (d: string) =>
      readMetrics(d)
        .filter((r) => r.type === 'train')
        .map((r) => r.step);
    assert.deepEqual(steps(a.runDir), steps(b.runDir));
    assert.equal(new Set(steps(a.runDir)).size, steps(a.runDir).length);
  });

  it('a full disk while writing a checkpoint: a clear error, the previous checkpoint and run.json intact', async (t) => {
    const ws = tinyWorkspace();
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a small tmpfs here (needs root)');
      return;
    }
    try {
      const runDir = path.join(mnt, 'run');
      const error = await train({ config: loadConfig(ws.config, { 'training.epochs': 6 }), runDir, emit: quiet }).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(error, 'the run fails');
      assert.match(error.message, /(disk is full|ENOSPC|no space)/i);
      const info = readRunInfo(runDir); // still parses: written atomically
      assert.equal(info.status, 'failed', 'a run that failed says so, never `running`');
      assert.match(info.error!.message, /(disk is full|ENOSPC|no space)/i);
      const names = fs.readdirSync(path.join(runDir, 'checkpoints'));
      assert.deepEqual(
        names.filter((n) => n.includes('.tmp-')),
        [],
        'no half-written checkpoint folders',
      );
      // The disk filled after the first evaluation: its checkpoints are there, whole.
      assert.deepEqual(names.sort(), ['best', 'last'], 'the earlier checkpoints are kept');
      for (const name of names) {
        const dir = path.join(runDir, 'checkpoints', name);
        const state = JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8'));
        assert.ok(state.step > 0 && state.step <= info.step, `${name} is a checkpoint of this run (step ${state.step})`);
        assert.ok(readSafetensors(path.join(dir, 'model.safetensors')).tensors.size > 0, `${name} weights read back`);
        assert.ok(readSafetensors(path.join(dir, 'optimizer.safetensors')).tensors.size > 0, `${name} optimizer state reads back`);
      }
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('a torn last line in metrics.jsonl is skipped; a torn line in the middle is an error with its line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-torn-'));
    const ok = JSON.stringify({ type: 'train', step: 1, epoch: 0, loss: 1, lr: 1, gradNorm: 1, stepsPerSec: 1, samplesPerSec: 1 });
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${ok}\n{"type":"train","st`);
    assert.equal(readMetrics(dir).length, 1);
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${ok}\n{"type":"tr\n${ok}\n`);
    assert.throws(() => readMetrics(dir), /metrics\.jsonl:2: not valid JSON/);
  });
});
