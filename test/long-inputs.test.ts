// Long inputs at inference: `finetune predict` and `finetune eval` read a text longer than the run's
// max_length as the run's data was read (windows with the run's stride; NER merged per word,
// classification pooled by the mean of the windows' logits, or truncated and said so), and a
// 7,000-word input is answered for both tasks. Two tiny runs are trained once for the file.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadConfig, type ResolvedConfig } from '../src/shared/config/config';
import type { TrainerEvent } from '../src/shared/protocol';
import { readRunInfo, runPaths, writeRunInfo } from '../src/shared/run';
import { Session } from '../src/trainer/engine/session';
import { lengthSettings, predictText } from '../src/trainer/predict';
import { loadRunData } from '../src/trainer/train/dataset';
import { Evaluator } from '../src/trainer/train/evaluate';
import { train } from '../src/trainer/train/trainer';
import { tinyWorkspace } from './helpers/tinyrun';

const ROOT = path.resolve(path.dirname(__filename), '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const quiet = (_e: TrainerEvent) => {};
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [TRAINER, ...args], { cwd: ROOT, encoding: 'utf8', input, maxBuffer: 1 << 28 });

/** The words of the bundled NER test split, in order. */
function nerWords(): string[] {
  return fs
    .readFileSync(path.join(ROOT, 'examples/ner/data/test.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((w) => w && w !== '-DOCSTART-');
}

/** The texts of the bundled classification test split, in order. */
function clsTexts(): string[] {
  return fs
    .readFileSync(path.join(ROOT, 'examples/textcls/data/test.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

/** n words cycled from `words`. */
const cycle = (words: string[], n: number) => Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ');

/** A copy of a run folder whose run.json config is changed by `edit` (e.g. another test file). */
function runWith(runDir: string, edit: (c: ResolvedConfig) => ResolvedConfig): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-long-'));
  fs.cpSync(runDir, dir, { recursive: true });
  const info = readRunInfo(dir);
  writeRunInfo(dir, { ...info, config: edit(info.config as ResolvedConfig) });
  return dir;
}

let ner: { runDir: string; maxLength: number; stride: number };
let cls: { runDir: string; maxLength: number; stride: number };

before(async () => {
  const ws = tinyWorkspace('', { train: 400 });
  fs.writeFileSync(ws.config, fs.readFileSync(ws.config, 'utf8').replace('epochs: 2', 'epochs: 4'));
  const nerCfg = loadConfig(ws.config);
  const a = await train({ config: nerCfg, runDir: path.join(ws.dir, 'run'), emit: quiet });
  assert.equal(a.status, 'completed');
  ner = { runDir: a.runDir, maxLength: nerCfg.data.maxLength, stride: nerCfg.data.stride };

  const clsCfg = loadConfig(path.join(ROOT, 'examples/textcls/textcls.finetune.yaml'), {
    'training.max_steps': 60,
    threads: 1,
    'data.max_length': 16,
    'data.overflow': 'window',
    'data.stride': 4,
  });
  const b = await train({ config: clsCfg, runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-long-cls-')), emit: quiet });
  assert.equal(b.status, 'completed');
  cls = { runDir: b.runDir, maxLength: clsCfg.data.maxLength, stride: clsCfg.data.stride };
});

describe('long inputs: token classification', () => {
  it('predict tags a paragraph longer than max_length word by word exactly as evaluation does', async () => {
    const text = nerWords().slice(0, 400).join(' ');
    const r = cli(['predict', '--json', ner.runDir, text]);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { words: string[]; tags: string[]; windows: number };
    assert.ok(p.windows >= 10, `${p.windows} windows`);
    assert.ok(p.tags.some((t) => t !== 'O') && p.tags.some((t) => t === 'O'), 'the model tags some entities');

    // Evaluation of the same words as one sentence of a test split, with the run's config and model:
    // its per-word predictions must be predict's tags, so gold = predict's tags scores accuracy 1.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-long-')), 'para.txt');
    fs.writeFileSync(file, p.words.map((w) => `${w}\tO`).join('\n') + '\n');
    const config = readRunInfo(ner.runDir).config as ResolvedConfig;
    const paths = runPaths(ner.runDir);
    const data = await loadRunData({ ...config, data: { ...config.data, test: file } }, paths.tokenizer);
    assert.equal(data.task, 'token-classification');
    if (data.task !== 'token-classification') return;
    assert.equal(data.test!.examples.length, 1);
    assert.equal(data.test!.features.length, p.windows);
    data.test!.examples[0].tags = p.tags;
    const session = await Session.create(
      fs.readFileSync(paths.model),
      [
        { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
        { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'sequence'] },
      ],
      { threads: 1 },
      paths.model,
    );
    const ev = new Evaluator(session, { head: 'token', numLabels: data.labels.length });
    const { record } = await ev.evaluate(data, 'test', undefined, { step: 0, epoch: 0, mode: 'default', maxMisclassified: 0 });
    await ev.release();
    assert.equal(record.metrics.accuracy, 1);
  });

  it('eval reads a long test sentence in the windows predict uses and says so', () => {
    const text = nerWords().slice(0, 400).join(' ');
    const p = JSON.parse(cli(['predict', '--json', ner.runDir, text]).stdout) as { words: string[]; windows: number };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-long-')), 'para.txt');
    fs.writeFileSync(file, p.words.map((w) => `${w}\tO`).join('\n') + '\n');
    const r = cli(['eval', '--json', runWith(ner.runDir, (c) => ({ ...c, data: { ...c.data, test: file } }))]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`test: 1 sentences longer than ${ner.maxLength} sub-tokens were split into ${p.windows} windows`));
    const record = JSON.parse(r.stdout) as { metrics: { accuracy: number } };
    assert.ok(record.metrics.accuracy > 0);
  });
});

describe('long inputs: sequence classification', () => {
  it('training windows over-long texts and logs it', () => {
    const log = fs.readFileSync(runPaths(cls.runDir).log, 'utf8');
    const m = /training: (\d+) texts longer than 16 sub-tokens were split into (\d+) windows \(4 sub-tokens of overlap\)/.exec(log);
    assert.ok(m, log);
    assert.ok(Number(m[2]) > Number(m[1]), m[0]);
  });

  it('predict pools the windows of a long text as eval does: eval scores predict’s labels as gold with accuracy 1', async () => {
    // Texts of mixed topics (four consecutive test texts each), so that windows disagree.
    const texts = clsTexts();
    const long = Array.from({ length: 12 }, (_, i) => texts.slice(4 * i, 4 * i + 4).join(' '));
    const labels: string[] = [];
    for (const text of long) {
      const p = await predictText(cls.runDir, text, { threads: 1 });
      assert.ok(p.task === 'sequence-classification' && p.windows > 2, `${p.windows} windows`);
      labels.push(p.label);
    }
    assert.ok(new Set(labels).size > 1, 'the model tells topics apart');
    const one = cli(['predict', '--json', cls.runDir, long[0]]);
    assert.equal(one.status, 0, one.stderr);
    assert.equal((JSON.parse(one.stdout) as { label: string }).label, labels[0]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-long-'));
    const file = path.join(dir, 'long.jsonl');
    fs.writeFileSync(file, long.map((text, i) => JSON.stringify({ text, label: labels[i] })).join('\n') + '\n');
    const run = runWith(cls.runDir, (c) => ({ ...c, data: { ...c.data, test: file } }));
    const r = cli(['eval', '--json', run]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /test: 12 texts longer than 16 sub-tokens were split into \d+ windows/);
    const record = JSON.parse(r.stdout) as { metrics: { accuracy: number } };
    assert.equal(record.metrics.accuracy, 1, JSON.stringify(labels));
  });

  it("overflow 'truncate' reads the first max_length sub-tokens and says so", async () => {
    const run = runWith(cls.runDir, (c) => ({ ...c, data: { ...c.data, overflow: 'truncate' } }));
    const text = clsTexts().slice(0, 4).join(' ');
    const p = await predictText(run, text, { threads: 1 });
    assert.equal(p.windows, 1);
    assert.match(p.truncated ?? '', /only the first 14 of \d+ sub-tokens were read/);
    const r = cli(['predict', run, text]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /overflow 'truncate': only the first 14/);
  });
});

describe('long inputs: limits', () => {
  it("max_length is the run's, capped at the model's positions, and the stride stays below it", () => {
    const c = (maxLength: number, stride: number) => ({ data: { maxLength, stride, overflow: 'window' } }) as unknown as ResolvedConfig;
    assert.deepEqual(lengthSettings(c(48, 23), 64), { maxLength: 48, overflow: 'window', stride: 23, note: undefined });
    const capped = lengthSettings(c(512, 32), 40);
    assert.equal(capped.maxLength, 40);
    assert.equal(capped.stride, 19);
    assert.match(capped.note!, /data.max_length 512 exceeds the model's 40 positions; using 40/);
    assert.deepEqual(lengthSettings(null, 128), { maxLength: 128, overflow: 'window', stride: 32, note: undefined });
    assert.equal(lengthSettings(c(64, 40), 64).stride, 40, "a valid stride is the run's, even above half of max_length");
  });

  for (const task of ['token-classification', 'sequence-classification'] as const) {
    it(`a 7,000-word input is answered (${task}), given as an argument or on stdin`, () => {
      const run = task === 'token-classification' ? ner : cls;
      const text = task === 'token-classification' ? cycle(nerWords(), 7000) : cycle(clsTexts().join(' ').split(' '), 7000);
      const t0 = Date.now();
      const r = cli(['predict', '--json', run.runDir, text]);
      const seconds = (Date.now() - t0) / 1000;
      assert.equal(r.status, 0, `status ${r.status} signal ${r.signal}: ${r.stderr}`);
      const p = JSON.parse(r.stdout) as { words?: string[]; tags?: string[]; label?: string; windows: number };
      assert.ok(p.windows > 100, `${p.windows} windows`);
      if (task === 'token-classification') {
        assert.ok(p.words!.length >= 7000, `${p.words!.length} words`);
        assert.equal(p.tags!.length, p.words!.length);
      } else assert.ok(p.label);
      assert.ok(seconds < 20, `${seconds} s`);
      const s = cli(['predict', '--json', run.runDir, '-'], text);
      assert.equal(s.status, 0, s.stderr);
      assert.deepEqual(JSON.parse(s.stdout), p);
    });
  }
});
