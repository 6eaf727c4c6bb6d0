// What a finished run reports about itself: an early stop in run.json (when and why), the test
// evaluation labelled with the checkpoint it measured, and train.log carrying every line the
// Output channel shows (evaluations, the stop, the result) — not only the setup lines.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { EvalRecord, TrainerEvent } from '../src/shared/protocol';
import { configAsWritten, loadConfig } from '../src/shared/config/config';
import { describeEvent } from '../src/shared/events';
import { formatMetric } from '../src/shared/metrics';
import { readMetrics, readRunInfo, runPaths } from '../src/shared/run';
import { train } from '../src/trainer/train/trainer';
import { tinyWorkspace } from './helpers/tinyrun';

describe('run report: early stop, test checkpoint, train.log', () => {
  it('an early-stopped run says when and why; the test record names the best checkpoint; train.log has it all', async () => {
    const ws = tinyWorkspace('', { train: 48 });
    const cfg = loadConfig(ws.config, {
      'evaluation.every': 3,
      'evaluation.metric': 'loss',
      // Only the first evaluation counts as better: the run stops at the second, step 6; best is step 3.
      'training.early_stopping': { metric: 'loss', patience: 1, min_delta: 1000 },
    });
    const events: TrainerEvent[] = [];
    const res = await train({ config: cfg, runDir: path.join(ws.dir, 'early'), emit: (e) => events.push(e) });
    assert.equal(res.status, 'completed');
    const info = readRunInfo(res.runDir);
    assert.equal(info.step, 6);
    assert.ok(info.totalSteps! > 6, `stopped before the end (${info.totalSteps} steps planned)`);
    assert.equal(info.earlyStop?.step, 6);
    assert.match(info.earlyStop?.reason ?? '', /^loss has not improved by more than 1000 for 1 evaluation \(best \d\.\d{4} at step 3\)$/);

    const evals = readMetrics(res.runDir).filter((r): r is EvalRecord => r.type === 'eval');
    const test = evals.find((e) => e.split === 'test')!;
    assert.equal(test.step, 6, 'recorded when it ran');
    // measured on the best checkpoint: named when it is not the last step's
    assert.equal(test.checkpointStep, info.best!.step === 6 ? undefined : info.best!.step);

    // train.log: every event line the Output channel shows, in order
    const log = fs
      .readFileSync(runPaths(res.runDir).log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\S+ /, ''));
    const shown = events.map(describeEvent).filter((l): l is string => l !== undefined && !l.startsWith('warn') && !l.startsWith('error'));
    const missing = shown.filter((l) => !log.some((x) => x.endsWith(l)));
    assert.deepEqual(missing, [], 'Output channel lines missing from train.log');
    assert.ok(log.some((l) => /^validation at step 3: .*loss \d\.\d{4}/.test(l)));
    assert.ok(log.some((l) => l === `info: early stopping: ${info.earlyStop!.reason}`));
    assert.ok(log.some((l) => /^completed in [\d.]+ s: test_loss /.test(l)));
  });
});

describe('test metrics name the checkpoint they came from', () => {
  it('a run whose best validation is before its last step: the test record and log say best checkpoint, step N', async () => {
    const ws = tinyWorkspace('', { train: 48 });
    // A learning rate far too high: validation loss is best early and worse after (seeded, so always so).
    const cfg = loadConfig(ws.config, { 'evaluation.every': 3, 'evaluation.metric': 'loss', 'training.lr': 0.5, 'training.warmup_ratio': 0 });
    const res = await train({ config: cfg, runDir: path.join(ws.dir, 'run'), emit: () => {} });
    const info = readRunInfo(res.runDir);
    assert.ok(info.best && info.best.step < info.step, `precondition: best step ${info.best?.step} before the last, ${info.step}`);
    const evals = readMetrics(res.runDir).filter((r): r is EvalRecord => r.type === 'eval');
    const test = evals.find((e) => e.split === 'test')!;
    assert.equal(test.step, info.step);
    assert.equal(test.checkpointStep, info.best.step);
    assert.ok(evals.filter((e) => e.split === 'validation').every((e) => e.checkpointStep === undefined));
    const log = fs.readFileSync(runPaths(res.runDir).log, 'utf8');
    assert.match(log, new RegExp(`test at step ${info.best.step} \\(best checkpoint\\): `));
  });
});

describe('one number format and the config in its own keys', () => {
  it('formatMetric: four decimals, exponent form only for very small or large values', () => {
    assert.deepEqual([1, 0.61, 0.98628, 0, 12.5, 3e-5, 25000, NaN].map(formatMetric), [
      '1.0000',
      '0.6100',
      '0.9863',
      '0.0000',
      '12.5000',
      '3.00e-5',
      '2.50e+4',
      'NaN',
    ]);
    assert.equal(formatMetric(undefined), '—');
  });

  it('configAsWritten: snake_case keys as in the file, LoRA under model.peft.lora, no resolver fields', () => {
    const ws = tinyWorkspace('');
    const c = loadConfig(ws.config, { 'model.peft': { lora: { rank: 4 } }, 'training.early_stopping': { patience: 2 } });
    const w = configAsWritten(c) as Record<string, Record<string, unknown>>;
    assert.equal(w.training.batch_size, 8);
    assert.equal(w.training.steps_per_run, 4);
    assert.deepEqual(Object.keys(w.training.early_stopping as object).sort(), ['metric', 'min_delta', 'mode', 'patience']);
    assert.equal((w.model.peft as { lora: { rank: number } }).lora.rank, 4);
    assert.equal(w.data.max_length, 48);
    assert.ok(!('configPath' in w) && !('config_path' in w) && !('base_dir' in w));
    // Every key is one the config schema has: the shown config could be pasted back into a config file.
    assert.doesNotMatch(JSON.stringify(w), /"[a-z]+[A-Z]\w*":/);
  });
});
