// Config editor logic without VS Code: the key at a cursor position, snake_case keys in the
// resolved camelCase config, the hover table of past runs, the CodeLens line, diagnostics ranges
// and quick fixes, and the New Config template.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { validateConfigText } from '../src/shared/config/config';
import { displayValue, isLeafKey, keyAtOffset, offsetAt, resolvedPath, resolvedValue } from '../src/extension/core/configKeys';
import { quickFixes, textIn, toRange } from '../src/extension/core/diagnostics';
import { configLens, hoverTable } from '../src/extension/core/history';
import { newConfigText } from '../src/extension/core/templates';
import type { MetricName } from '../src/shared/metrics';
import { shortRunId, type RunInfo, type RunRecord } from '../src/shared/run';

const CONFIG = `# NER
name: ner-scratch
task: token-classification
model:
  from_scratch:
    layers: 2
    hidden: 128
  peft: none
data:
  format: conll
  train: data/train.txt
  max_length: 64
training:
  epochs: 8
  batch_size: 32
  lr: 1.0e-3       # learning rate
  early_stopping: {metric: f1, patience: 3}
  no_decay: [bias, LayerNorm.weight]
sweep:
  training.lr: [5.0e-4, 1.0e-3]
`;

/** Offset of the n-th occurrence of `needle` plus `delta`. */
function at(text: string, needle: string, delta = 0): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return i + delta;
}

describe('extension: config key at a position', () => {
  it('maps keys and values to dotted snake_case keys', () => {
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, 'batch_size', 3))?.key, 'training.batch_size');
    const v = keyAtOffset(CONFIG, at(CONFIG, '1.0e-3', 2))!;
    assert.equal(v.key, 'training.lr');
    assert.equal(v.on, 'value');
    assert.equal(CONFIG.slice(v.start, v.end), '1.0e-3');
    const k = keyAtOffset(CONFIG, at(CONFIG, 'lr: 1.0e-3'))!;
    assert.equal(k.on, 'key');
    assert.equal(CONFIG.slice(k.start, k.end), 'lr');
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, 'layers', 1))?.key, 'model.from_scratch.layers');
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, 'patience', 2))?.key, 'training.early_stopping.patience');
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, '3}', 0))?.key, 'training.early_stopping.patience');
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, 'LayerNorm', 2))?.key, 'training.no_decay');
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, 'conll'))?.key, 'data.format');
  });

  it('a key under sweep: is the swept key', () => {
    const s = keyAtOffset(CONFIG, at(CONFIG, 'training.lr: [', 4))!;
    assert.equal(s.key, 'training.lr');
    assert.equal(s.inSweep, true);
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, '5.0e-4'))?.key, 'training.lr');
  });

  it('comments and blank space have no key; broken YAML does not throw', () => {
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, '# NER', 2)), undefined);
    assert.equal(keyAtOffset(CONFIG, at(CONFIG, 'learning rate', 3)), undefined);
    assert.doesNotThrow(() => keyAtOffset('training:\n  lr: [1, 2\n', 14));
  });

  it('works the same on JSON configs', () => {
    const json = '{\n  "task": "token-classification",\n  "training": { "batch_size": 16, "lr": 3e-5 }\n}\n';
    assert.equal(keyAtOffset(json, at(json, '"batch_size"', 2))?.key, 'training.batch_size');
    assert.equal(keyAtOffset(json, at(json, '3e-5', 1))?.key, 'training.lr');
  });

  it('0-based line/character to offset', () => {
    assert.equal(offsetAt(CONFIG, 1, 0), CONFIG.indexOf('name:'));
    assert.equal(offsetAt(CONFIG, 1, 6), CONFIG.indexOf('ner-scratch'));
  });

  it('snake_case keys find their camelCase values in run.json configs', () => {
    assert.deepEqual(resolvedPath('training.batch_size'), ['training', 'batchSize']);
    assert.deepEqual(resolvedPath('model.from_scratch.max_positions'), ['model', 'fromScratch', 'maxPositions']);
    assert.deepEqual(resolvedPath('model.peft.lora.rank'), ['model', 'peft', 'rank']);
    const cfg = {
      training: { batchSize: 16, lr: 3e-5, earlyStopping: { patience: 2 } },
      model: { peft: { kind: 'lora', rank: 8, alpha: 16 } },
      data: { train: '/w/data/train.txt' },
    };
    assert.equal(resolvedValue(cfg, 'training.batch_size'), 16);
    assert.equal(resolvedValue(cfg, 'training.early_stopping.patience'), 2);
    assert.equal(resolvedValue(cfg, 'model.peft'), 'lora r=8 α=16');
    assert.equal(resolvedValue(cfg, 'model.peft.lora.rank'), 8);
    assert.equal(resolvedValue(cfg, 'training.warmup_steps'), undefined);
    assert.equal(displayValue(3e-5), '3e-05');
    assert.equal(displayValue(0.001), '0.001');
    assert.equal(displayValue('/w/data/train.txt', '/w'), path.join('data', 'train.txt'));
    assert.equal(isLeafKey('training.lr'), true);
    assert.equal(isLeafKey('training'), false);
    assert.equal(isLeafKey('model.peft'), true);
    assert.equal(isLeafKey('nonsense.key'), false);
  });
});

// ---------------------------------------------------------------------------------------------

const NOW = Date.parse('2026-11-29T12:00:00Z');
const CFG = '/w/ner/ner.finetune.yaml';
const OTHER = '/w/cls/cls.finetune.yaml';

function run(
  id: string,
  o: { config?: string; lr: number; batchSize?: number; best?: number; test?: number; hoursAgo: number; status?: RunInfo['status']; metric?: MetricName },
): RunRecord {
  const configPath = o.config ?? CFG;
  const metric = o.metric ?? 'f1';
  const created = new Date(NOW - o.hoursAgo * 3600_000).toISOString();
  return {
    dir: `/w/.finetune/runs/${id}`,
    info: {
      id,
      name: id,
      configPath,
      configHash: '',
      status: o.status ?? 'completed',
      createdAt: created,
      startedAt: created,
      endedAt: o.status === 'running' ? undefined : new Date(Date.parse(created) + 600_000).toISOString(),
      host: 'h',
      versions: {},
      step: 100,
      totalSteps: 100,
      epoch: 3,
      config: { configPath, baseDir: path.dirname(configPath), training: { lr: o.lr, batchSize: o.batchSize ?? 32 }, evaluation: { metric } },
      best: o.best !== undefined ? { metric, value: o.best, step: 90, checkpoint: '' } : undefined,
      final: o.test !== undefined ? { [`test_${metric}`]: o.test, [`best_${metric}`]: o.best ?? o.test } : undefined,
    },
  };
}

const RUNS: RunRecord[] = [
  run('ner-a', { lr: 1e-3, best: 0.9903, test: 0.9851, hoursAgo: 2 }),
  run('ner-b', { lr: 5e-4, best: 0.9712, test: 0.9655, hoursAgo: 5 }),
  run('ner-c', { lr: 1e-3, batchSize: 16, best: 0.9811, test: 0.979, hoursAgo: 26 }),
  run('ner-d', { lr: 3e-5, status: 'failed', hoursAgo: 30 }),
  run('cls-a', { config: OTHER, lr: 2e-5, best: 0.91, test: 0.9, hoursAgo: 1, metric: 'accuracy' }),
];

describe('extension: hover table and CodeLens from past runs', () => {
  it('lists the values tried for a key, best first, with metrics, runs and ages', () => {
    const md = hoverTable({ key: 'training.lr', configPath: CFG, runs: RUNS, current: 1e-3, now: NOW })!;
    const lines = md.split('\n');
    assert.equal(lines[0], '**training.lr** in past runs (selection metric: f1)');
    assert.equal(lines[2], '| value | best f1 | test f1 | runs | last |');
    // runs are named by their labels: what differs among the runs of the config
    assert.equal(lines[4], '| `0.001` ◀ | 0.9903 | 0.9851 | lr=1e-3 · bs=32, lr=1e-3 · bs=16 | 2 h ago |');
    assert.equal(lines[5], '| `5e-04` | 0.9712 | 0.9655 | lr=5e-4 · bs=32 | 5 h ago |');
    assert.equal(lines[6], '| `3e-05` | – | – | lr=3e-5 · bs=32 | 1 d ago |');
    assert.match(md, /Other configs \(1 run\):/);
    assert.match(md, /\| `2e-05` \| 0\.9100 \(accuracy\) \| 0\.9000 \(accuracy\) \| cls-a \| 50 min ago \| cls\.finetune\.yaml \|/);
  });

  it('groups by the value of the key asked about', () => {
    const md = hoverTable({ key: 'training.batch_size', configPath: CFG, runs: RUNS, now: NOW })!;
    assert.match(md, /\| `32` \| 0\.9903 \| 0\.9851 \| lr=1e-3 · bs=32, lr=5e-4 · bs=32 \+1 \| 2 h ago \|/);
    assert.match(md, /\| `16` \| 0\.9811 \| 0\.9790 \| lr=1e-3 · bs=16 \| 1 d ago \|/);
  });

  it('says so when this config has no runs; nothing at all without runs', () => {
    const md = hoverTable({ key: 'training.lr', configPath: '/w/new.finetune.yaml', runs: RUNS, now: NOW })!;
    assert.match(md, /_No runs of this config yet\._/);
    assert.equal(hoverTable({ key: 'training.lr', configPath: CFG, runs: [], now: NOW }), undefined);
  });

  it('lower is better for loss', () => {
    const runs = [run('l1', { lr: 1, best: 0.5, hoursAgo: 1, metric: 'loss' }), run('l2', { lr: 2, best: 0.2, hoursAgo: 1, metric: 'loss' })];
    const md = hoverTable({ key: 'training.lr', configPath: CFG, runs, now: NOW })!;
    assert.ok(md.indexOf('`2`') < md.indexOf('`1`'), md);
  });

  it('CodeLens: start, last result, compare; stop for a running run', () => {
    const lens = configLens({ configPath: CFG, runs: RUNS, now: NOW });
    assert.deepEqual(
      lens.map((l) => l.title),
      ['▶ Start', 'last: test f1 0.9851 · 2 h ago', 'Compare (4)'],
    );
    assert.deepEqual(lens[0].arguments, [CFG]);
    assert.equal(lens[1].command, 'finetune.openDashboard');
    assert.deepEqual(lens[1].arguments, ['/w/.finetune/runs/ner-a']);
    const live = [
      ...RUNS,
      {
        ...run('ner-live', { lr: 1e-3, hoursAgo: 0 }),
        info: { ...run('ner-live', { lr: 1e-3, hoursAgo: 0 }).info, status: 'running' as const, step: 420, totalSteps: 1000 },
      },
    ];
    const l2 = configLens({ configPath: CFG, runs: live, sweepSize: 4, now: NOW });
    // the live run has the values of ner-a: its label ends with its short id
    assert.deepEqual(l2.map((l) => l.title).slice(0, 3), [
      `$(sync~spin) lr=1e-3 · bs=32 #${shortRunId('ner-live')} 42%`,
      '$(debug-stop) Stop',
      '▶ Start sweep (4 runs)',
    ]);
    assert.deepEqual(
      configLens({ configPath: '/w/none.finetune.yaml', runs: RUNS, now: NOW }).map((l) => l.title),
      ['▶ Start'],
    );
  });
});

// ---------------------------------------------------------------------------------------------

const TYPOS = `task: token-classification
model:
  from_scratch: {layers: 2}
data:
  format: conll
  train: data/train.txt
training:
  learning_rate: 1e-3
  batchsize: 16
  schedule: cosin
  optimizer: "adamw2"
sweep:
  traning.lr: [1e-3]
`;

describe('extension: diagnostics ranges and quick fixes', () => {
  const { errors } = validateConfigText(TYPOS, 'x.finetune.yaml');
  const byText = (s: string) => errors.find((e) => e.message.includes(s))!;

  it('converts 1-based error spans to 0-based ranges over the exact text', () => {
    const e = byText("unknown key 'batchsize'");
    const r = toRange(e, TYPOS);
    assert.deepEqual(r, { startLine: 8, startCharacter: 2, endLine: 8, endCharacter: 11 });
    assert.equal(textIn(TYPOS, r), 'batchsize');
    assert.equal(textIn(TYPOS, toRange(byText('cosin'), TYPOS)), 'cosin');
    assert.equal(textIn(TYPOS, toRange(byText('adamw2'), TYPOS)), '"adamw2"');
  });

  it('widens an empty span to the word there, or the line', () => {
    assert.equal(textIn(TYPOS, toRange({ line: 10, column: 3, endLine: 10, endColumn: 3 }, TYPOS)), 'schedule');
    const r = toRange({ line: 99, column: 1, endLine: 99, endColumn: 1 }, 'a: 1\n');
    assert.ok(r.startLine >= 0 && r.endCharacter >= r.startCharacter);
    const blank = toRange({ line: 2, column: 1, endLine: 2, endColumn: 1 }, 'a: 1\n   \nb: 2');
    assert.ok(blank.endCharacter > blank.startCharacter);
  });

  it('offers the suggested key for an unknown key in the same section', () => {
    const fixes = quickFixes(byText("unknown key 'batchsize'"), TYPOS);
    assert.deepEqual(
      fixes.map((f) => [f.title, f.newText, textIn(TYPOS, f.range)]),
      [["Change to 'batch_size'", 'batch_size', 'batchsize']],
    );
    assert.deepEqual(
      quickFixes(byText("unknown key 'learning_rate'"), TYPOS).map((f) => f.newText),
      ['lr'],
    );
  });

  it('offers the suggested value for an enum typo, keeping quotes', () => {
    assert.deepEqual(
      quickFixes(byText("got 'cosin'"), TYPOS).map((f) => f.newText),
      ['cosine'],
    );
    assert.deepEqual(
      quickFixes(byText("got 'adamw2'"), TYPOS).map((f) => f.newText),
      ['"adamw"'],
    );
  });

  it('fixes a sweep key; nothing for messages without an obvious fix or a key in another section', () => {
    assert.deepEqual(
      quickFixes(byText("sweep key 'traning.lr'"), TYPOS).map((f) => f.newText),
      ['training.lr'],
    );
    assert.deepEqual(
      quickFixes({ file: 'x', line: 1, column: 1, endLine: 1, endColumn: 5, message: "missing required key 'model'", severity: 'error' }, TYPOS),
      [],
    );
    const elsewhere = 'task: token-classification\ntraining:\n  max_length: 64\n';
    const e = validateConfigText(elsewhere, 'x.finetune.yaml').errors.find((x) => x.message.includes("'max_length'"));
    assert.ok(e, 'expected an unknown key error');
    assert.match(e.message, /did you mean 'data\.max_length'\?/);
    assert.deepEqual(quickFixes(e, elsewhere), []);
  });

  it('the New Config template validates for both tasks', () => {
    for (const task of ['token-classification', 'sequence-classification'] as const) {
      const { config, errors } = validateConfigText(newConfigText(task), `/w/${task}.finetune.yaml`);
      assert.deepEqual(
        errors.filter((e) => e.severity === 'error'),
        [],
      );
      assert.equal(config?.task, task);
    }
  });
});
