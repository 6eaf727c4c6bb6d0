// Reproducible batching (training.shuffle) and every optimizer step's loss in metrics.jsonl
// (training.logging_steps) at any number of steps per ONNX Runtime call.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { TrainRecord, TrainerEvent } from '../src/shared/protocol';
import { loadConfig } from '../src/shared/config/config';
import { readMetrics, readRunInfo } from '../src/shared/run';
import { planEpoch } from '../src/trainer/train/plan';
import { train } from '../src/trainer/train/trainer';
import { tinyWorkspace } from './helpers/tinyrun';

const quiet = (_e: TrainerEvent) => {};
const trainRecords = (dir: string) => readMetrics(dir).filter((r): r is TrainRecord => r.type === 'train');
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe('batching: training.shuffle', () => {
  const lengths = Array.from({ length: 203 }, (_, i) => 3 + ((i * 37) % 61));

  it('shuffle on (the default) plans exactly the steps it planned before the key existed', () => {
    // Hashes of the plans that plan.ts produced before training.shuffle (commit c78a0c5).
    const pinned: [number, number, number, number, string][] = [
      [0, 42, 8, 1, '24fdc8b683ec8ca6'],
      [1, 7, 4, 2, '7343de9db4f49803'],
      [2, 3, 16, 1, '42bb68a6d995f423'],
    ];
    for (const [epoch, seed, B, A, hash] of pinned) {
      const plan = planEpoch(lengths, epoch, seed, B, A, 64);
      assert.equal(createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16), hash, `epoch ${epoch} seed ${seed}`);
      assert.deepEqual(planEpoch(lengths, epoch, seed, B, A, 64, true), plan);
    }
  });

  it('shuffle off: file order, batch after batch, no length grouping, the last batch short, the same every epoch', () => {
    const plan = planEpoch(lengths.slice(0, 21), 0, 42, 4, 2, 64, false);
    assert.deepEqual(
      plan.map((s) => s.micro),
      [
        [
          [0, 1, 2, 3],
          [4, 5, 6, 7],
        ],
        [
          [8, 9, 10, 11],
          [12, 13, 14, 15],
        ],
        [[16, 17, 18, 19], [20]],
      ],
    );
    // Each step pads to the bucket of its own longest example.
    assert.deepEqual(
      plan.map((s) => s.length),
      [64, 64, 64],
    );
    const single = planEpoch(lengths, 3, 9, 8, 1, 64, false);
    assert.deepEqual(
      single.flatMap((s) => s.micro.flat()),
      range(0, 202),
    );
    assert.deepEqual(
      single.map((s) => s.length),
      single.map((s) => [16, 32, 64].find((b) => b >= Math.max(...s.micro[0].map((i) => lengths[i])))),
    );
    assert.deepEqual(planEpoch(lengths, 0, 1, 8, 1, 64, false), single, 'independent of seed and epoch');
  });
});

describe('every step logged: training.logging_steps', () => {
  it('every optimizer step has its train record at any K, and K does not change the losses', async () => {
    const ws = tinyWorkspace('', { train: 48 });
    const run = async (K: number | 'auto', name: string) => {
      const events: TrainRecord[] = [];
      const res = await train({
        config: loadConfig(ws.config, { 'training.steps_per_run': K, 'training.epochs': 2 }),
        runDir: path.join(ws.dir, name),
        emit: (e) => void (e.type === 'train' && events.push(e)),
      });
      return { res, events, records: trainRecords(res.runDir) };
    };
    const one = await run(1, 'k1');
    const four = await run(4, 'k4');
    const total = readRunInfo(four.res.runDir).totalSteps!;
    assert.ok(total >= 12, `${total} steps`);
    for (const r of [one, four]) {
      assert.deepEqual(
        r.records.map((x) => x.step),
        range(1, total),
      );
      assert.deepEqual(r.events, r.records, 'the train events are the records');
    }
    for (let i = 0; i < total; i++) {
      assert.ok(rel(four.records[i].loss, one.records[i].loss) < 1e-5, `loss at step ${i + 1}: ${four.records[i].loss} vs ${one.records[i].loss}`);
      assert.equal(four.records[i].lr, one.records[i].lr);
    }
    // The epoch goes up step by step; the throughput is the call's.
    assert.ok(four.records.every((r, i) => i === 0 || r.epoch > four.records[i - 1].epoch));
    assert.equal(four.records[total - 1].epoch, 2);
    assert.ok(four.records.every((r) => r.stepsPerSec > 0 && r.samplesPerSec > 0));
  });

  it('logging_steps N: a record every N steps and at the last one, its loss the mean since the previous record', async () => {
    const ws = tinyWorkspace('', { train: 48 });
    const cfg = (n: number) => loadConfig(ws.config, { 'training.logging_steps': n, 'training.epochs': 2 });
    const every = trainRecords((await train({ config: cfg(1), runDir: path.join(ws.dir, 'every'), emit: quiet })).runDir);
    const five = trainRecords((await train({ config: cfg(5), runDir: path.join(ws.dir, 'five'), emit: quiet })).runDir);
    const total = every.length;
    assert.ok(total % 5 !== 0, `${total} steps: the last record is a short interval`);
    assert.deepEqual(
      five.map((r) => r.step),
      [...range(1, Math.floor(total / 5)).map((i) => i * 5), total],
    );
    for (const r of five) {
      const from = r.step % 5 === 0 ? r.step - 5 : r.step - (r.step % 5);
      const window = every.slice(from, r.step);
      const mean = window.reduce((a, x) => a + x.loss, 0) / window.length;
      assert.ok(rel(r.loss, mean) < 1e-12, `mean loss at step ${r.step}: ${r.loss} vs ${mean}`);
      assert.equal(r.lr, every[r.step - 1].lr, 'the lr of the last step');
      assert.equal(r.gradNorm, every[r.step - 1].gradNorm, 'the grad norm of the last step');
    }
  });

  it('an early stop between two records: the steps since the last record get one', async () => {
    const ws = tinyWorkspace('', { train: 48 });
    const cfg = loadConfig(ws.config, {
      'training.logging_steps': 4,
      'evaluation.every': 3,
      // No evaluation after the first counts as better: the run stops at the second, step 6.
      'training.early_stopping': { metric: 'loss', patience: 1, min_delta: 1000 },
    });
    const res = await train({ config: cfg, runDir: path.join(ws.dir, 'early'), emit: quiet });
    assert.equal(res.status, 'completed');
    assert.equal(readRunInfo(res.runDir).step, 6);
    assert.deepEqual(
      trainRecords(res.runDir).map((r) => r.step),
      [4, 6],
    );
  });

  it('stopped between two records and resumed: the same records as a run never stopped (shuffle off)', async () => {
    const ws = tinyWorkspace('', { train: 48 });
    const cfg = loadConfig(ws.config, { 'training.logging_steps': 5, 'training.shuffle': false, 'training.epochs': 2 });
    const whole = await train({ config: cfg, runDir: path.join(ws.dir, 'whole'), emit: quiet });
    let polls = 0;
    const stopped = await train({ config: cfg, runDir: path.join(ws.dir, 'split'), shouldStop: () => ++polls > 2, emit: quiet });
    assert.equal(stopped.status, 'stopped');
    const state = JSON.parse(fs.readFileSync(path.join(stopped.runDir, 'checkpoints/last/trainer_state.json'), 'utf8')) as {
      step: number;
      pendingLoss?: { steps: number };
    };
    assert.ok(state.step % 5 !== 0 && (state.pendingLoss?.steps ?? 0) > 0, `stopped at step ${state.step} between records`);
    const resumed = await train({ config: cfg, resume: stopped.runDir, emit: quiet });
    assert.equal(resumed.status, 'completed');
    const strip = (rs: TrainRecord[]) => rs.map(({ step, loss, lr, gradNorm, epoch }) => ({ step, loss, lr, gradNorm, epoch }));
    assert.deepEqual(strip(trainRecords(resumed.runDir)), strip(trainRecords(whole.runDir)));
  });
});
