// Labels done right: a pretrained classifier's rows are matched to the run's labels by name
// (config.json id2label), `labels:` fixes the label set and order, labels outside the set are
// errors at the data's file:line, and checkpoints carry id2label/label2id.
//
// The checkpoint is test/fixtures/hf-tiny-bert (a tiny token classifier written with PyTorch by
// scripts/hf_reference.py) with its id2label rewritten: its row j is then named LABELS[j], and
// hf_reference.json holds PyTorch's logits for a fixed batch, so "the checkpoint's logit for label
// L" is a number from PyTorch, not from the code under test.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/shared/config/config';
import { readRunInfo, runPaths } from '../src/shared/run';
import type { TrainerEvent } from '../src/shared/protocol';
import { serializeModel } from '../src/trainer/engine/onnx';
import { Session } from '../src/trainer/engine/session';
import { loadHfModel } from '../src/trainer/models/hf';
import { saveHfModel } from '../src/trainer/models/hfSave';
import { loadRunData } from '../src/trainer/train/dataset';
import { inferenceGraph, setupModel } from '../src/trainer/train/model';
import { train } from '../src/trainer/train/trainer';

const FIX = path.join(path.dirname(__filename), 'fixtures');
const FOLDER = path.join(FIX, 'hf-tiny-bert');
const ref = JSON.parse(fs.readFileSync(path.join(FIX, 'hf_reference.json'), 'utf8')) as {
  inputIds: number[][];
  attentionMask: number[][];
  logits: number[];
};
const B = ref.inputIds.length;
const T = ref.inputIds[0].length;
const int64 = (rows: number[][]) => BigInt64Array.from(rows.flat().map(BigInt));

/** The checkpoint's label order in these tests: neither the fixture's nor the data's sorted order. */
const SCRAMBLED = ['I-LOC', 'B-ORG', 'O', 'B-PER', 'I-ORG', 'I-PER', 'B-LOC'];
/** What the training data alone gives (discoverLabels). */
const DATA_ORDER = ['O', 'B-LOC', 'I-LOC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER'];

const TRAIN = `maria B-PER
rossi I-PER
met O
the O
bank B-ORG
of I-ORG
lisbon B-LOC
today O

new B-LOC
york I-LOC
people O
said O
northwind B-ORG
. O
`;

const DEV = `mario B-PER
said O
in O
new B-LOC
york I-LOC
. O
`;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-labels-'));
}

/** A copy of the fixture checkpoint naming its rows `id2label` (null: no id2label at all). */
function checkpoint(dir: string, id2label: string[] | null): string {
  const out = path.join(dir, 'ckpt');
  fs.cpSync(FOLDER, out, { recursive: true });
  const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  delete cfg.id2label;
  delete cfg.label2id;
  if (id2label) {
    cfg.id2label = Object.fromEntries(id2label.map((l, i) => [String(i), l]));
    cfg.label2id = Object.fromEntries(id2label.map((l, i) => [l, i]));
  }
  fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(cfg, null, 2));
  return out;
}

/** A token-classification workspace over `pretrained` (CoNLL train/dev), with extra YAML. */
function workspace(dir: string, pretrained: string, extra = '', data: { train?: string; dev?: string } = {}): string {
  fs.writeFileSync(path.join(dir, 'train.txt'), data.train ?? TRAIN);
  fs.writeFileSync(path.join(dir, 'dev.txt'), data.dev ?? DEV);
  const config = path.join(dir, 'labels.finetune.yaml');
  fs.writeFileSync(
    config,
    `task: token-classification
model:
  pretrained: ${pretrained}
  dropout: 0
  attention_dropout: 0
data:
  format: conll
  train: train.txt
  validation: dev.txt
  max_length: 16
training:
  max_steps: 1
  batch_size: 2
  lr: 1.0e-30
  weight_decay: 0
threads: 1
${extra}`,
  );
  return config;
}

/** Logits [B, T, C] of a forward-only ONNX model for the reference batch. */
async function logitsOf(bytes: Uint8Array): Promise<Float32Array> {
  const s = await Session.create(
    bytes,
    [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'sequence'] },
    ],
    { threads: 1 },
  );
  try {
    const out = await s.run({
      input_ids: { dtype: 'int64', shape: [B, T], data: int64(ref.inputIds) },
      attention_mask: { dtype: 'int64', shape: [B, T], data: int64(ref.attentionMask) },
    });
    return out.logits.data as Float32Array;
  } finally {
    await s.release();
  }
}

/** The run's model before any training step: its labels, notes, warnings and logits for the reference batch. */
async function initial(config: string) {
  const cfg = loadConfig(config);
  const data = await loadRunData(cfg);
  const m = setupModel(cfg, data.tokenizer.info.vocabSize, data.labels);
  return { labels: data.labels, m, logits: await logitsOf(serializeModel(inferenceGraph(m, false))) };
}

/**
 * Every real position's logit for the run's label i equals PyTorch's logit of the checkpoint row
 * that `checkpointLabels` names the same (the fixture's logits, columns renamed).
 */
function assertCheckpointLogitsByName(ours: Float32Array, runLabels: string[], checkpointLabels: string[]): void {
  const C = runLabels.length;
  let worst = 0;
  let scale = 0;
  ref.attentionMask.forEach((row, b) =>
    row.forEach((mask, t) => {
      if (!mask) return;
      runLabels.forEach((label, i) => {
        const j = checkpointLabels.indexOf(label);
        assert.ok(j >= 0, `${label} is not a checkpoint label`);
        const theirs = ref.logits[(b * T + t) * 7 + j];
        worst = Math.max(worst, Math.abs(ours[(b * T + t) * C + i] - theirs));
        scale = Math.max(scale, Math.abs(theirs));
      });
    }),
  );
  assert.ok(scale > 0.01, 'the reference logits are not all zero');
  assert.ok(worst <= 1e-5 * Math.max(1, scale), `logits differ from the checkpoint's by name: max error ${worst} (scale ${scale})`);
}

describe('labels: a pretrained classifier is matched to the labels by name', () => {
  it('id2label in another order than the data: the run takes the checkpoint order, its logits are the checkpoint rows by name, checkpoints carry id2label', async () => {
    const dir = tmpDir();
    const config = workspace(dir, checkpoint(dir, SCRAMBLED));
    const events: TrainerEvent[] = [];
    const res = await train({ config: loadConfig(config), runDir: path.join(dir, 'run'), emit: (e) => events.push(e) });
    assert.equal(res.status, 'completed');
    const p = runPaths(res.runDir);
    const exported = JSON.parse(fs.readFileSync(p.labels, 'utf8')) as { labels: string[] };
    assert.deepEqual(exported.labels, SCRAMBLED);
    // lr 1e-30 for one step: the exported weights are the initial ones.
    assertCheckpointLogitsByName(await logitsOf(fs.readFileSync(p.model)), exported.labels, SCRAMBLED);
    const logs = events.flatMap((e) => (e.type === 'log' ? [`${e.level}: ${e.message}`] : []));
    assert.equal(logs.filter((l) => l.startsWith('info: labels: ') && l.includes('by name')).length, 1, logs.join('\n'));
    assert.deepEqual(
      logs.filter((l) => l.startsWith('warn: ')),
      [],
    );
    for (const which of ['best', 'last'] as const) {
      const json = JSON.parse(fs.readFileSync(path.join(p.checkpoint(which), 'config.json'), 'utf8')) as Record<string, Record<string, unknown>>;
      assert.deepEqual(json.id2label, Object.fromEntries(SCRAMBLED.map((l, i) => [String(i), l])), which);
      assert.deepEqual(json.label2id, Object.fromEntries(SCRAMBLED.map((l, i) => [l, i])), which);
    }
    assert.equal(readRunInfo(res.runDir).status, 'completed');
  });

  it('`labels:` fixes the order: the logits are the checkpoint rows picked by name', async () => {
    const dir = tmpDir();
    const order = ['B-LOC', 'I-LOC', 'O', 'I-PER', 'B-PER', 'I-ORG', 'B-ORG'];
    const run = await initial(workspace(dir, checkpoint(dir, SCRAMBLED), `labels: [${order.join(', ')}]\n`));
    assert.deepEqual(run.labels, order);
    assert.deepEqual(run.m.labels, order);
    assertCheckpointLogitsByName(run.logits, order, SCRAMBLED);
  });

  it('a checkpoint label the training split lacks keeps the head (and may appear in validation)', async () => {
    const dir = tmpDir();
    const train = TRAIN.replace('york I-LOC', 'york B-LOC');
    assert.ok(!train.includes('I-LOC'));
    const run = await initial(workspace(dir, checkpoint(dir, SCRAMBLED), '', { train }));
    assert.deepEqual(run.labels, SCRAMBLED);
    assert.deepEqual(run.m.warnings, []);
    assertCheckpointLogitsByName(run.logits, SCRAMBLED, SCRAMBLED);
  });

  it('checkpoint labels that do not cover the data: a new head, and a warning naming both lists', async () => {
    const dir = tmpDir();
    const other = SCRAMBLED.map((l) => (l === 'I-LOC' ? 'B-MISC' : l));
    const run = await initial(workspace(dir, checkpoint(dir, other)));
    assert.deepEqual(run.labels, DATA_ORDER);
    assert.equal(run.m.warnings.length, 1);
    assert.match(run.m.warnings[0], /do not cover/);
    assert.ok(run.m.warnings[0].includes(other.join(' ')) && run.m.warnings[0].includes(DATA_ORDER.join(' ')), run.m.warnings[0]);
    const original = loadHfModel(FOLDER, { numLabels: 7, head: 'token' }).params.get('classifier.weight')!;
    assert.notDeepEqual(run.m.params.get('classifier.weight'), original);
  });

  it('unnamed checkpoint labels (LABEL_0…, or no id2label): rows kept by index when as many, a new head otherwise', async () => {
    for (const id2label of [DATA_ORDER.map((_, i) => `LABEL_${i}`), null]) {
      const dir = tmpDir();
      const run = await initial(workspace(dir, checkpoint(dir, id2label)));
      assert.deepEqual(run.labels, DATA_ORDER);
      assert.equal(run.m.warnings.length, 1);
      assert.match(run.m.warnings[0], /unnamed labels.*kept in index order/);
      // Row i is the checkpoint's row i: PyTorch's column i, whatever the run calls it.
      assertCheckpointLogitsByName(run.logits, DATA_ORDER, DATA_ORDER);
    }
    const dir = tmpDir();
    const run = await initial(
      workspace(
        dir,
        checkpoint(
          dir,
          DATA_ORDER.map((_, i) => `LABEL_${i}`),
        ),
        '',
        {
          train: TRAIN.replace('york I-LOC', 'york B-LOC'),
          dev: DEV.replace('york I-LOC', 'york B-LOC'),
        },
      ),
    );
    assert.equal(run.labels.length, 6);
    assert.match(
      run.m.warnings.join('\n'),
      /7 unnamed labels \(LABEL_0 .* LABEL_6\), the run 6 \(O B-LOC B-ORG I-ORG B-PER I-PER\); the classification head starts anew/,
    );
  });
});

describe('labels: the label set and errors at file:line', () => {
  it('a training label outside `labels:` is an error at its file:line', async () => {
    const dir = tmpDir();
    const config = workspace(dir, checkpoint(dir, SCRAMBLED), 'labels: [O, B-PER, I-PER, B-ORG, I-ORG, I-LOC]\n');
    await assert.rejects(loadRunData(loadConfig(config)), (e: Error) => {
      assert.equal(e.message.split(' (known')[0], `${path.join(dir, 'train.txt')}:7: label 'B-LOC' is not in the labels of the config`);
      return true;
    });
  });

  it('a validation label neither in training nor in the checkpoint fails the run before any step, naming it and its file:line', async () => {
    const dir = tmpDir();
    const config = workspace(dir, checkpoint(dir, SCRAMBLED), '', { dev: `${DEV}\nolympics B-EVENT\n` });
    await assert.rejects(train({ config: loadConfig(config), runDir: path.join(dir, 'run'), emit: () => {} }), (e: Error) => {
      assert.match(e.message, /dev\.txt:8: label 'B-EVENT' is neither in the training data nor in the checkpoint's labels/);
      return true;
    });
    const info = readRunInfo(path.join(dir, 'run'));
    assert.equal(info.status, 'failed');
    assert.equal(info.step ?? 0, 0);
    // Listed in `labels:`, the same label is fine (the rest of the checkpoint's labels are matched by name).
    const listed = workspace(dir, checkpoint(dir, SCRAMBLED), `labels: [${[...SCRAMBLED, 'B-EVENT'].join(', ')}]\n`, { dev: `${DEV}\nolympics B-EVENT\n` });
    const run = await initial(listed);
    assert.deepEqual(run.labels, [...SCRAMBLED, 'B-EVENT']);
    assert.match(run.m.warnings.join('\n'), /do not cover/);
  });

  it('without a checkpoint: `labels:` gives the order, and an unseen validation label is still an error', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'train.txt'), TRAIN);
    fs.writeFileSync(path.join(dir, 'dev.txt'), DEV);
    const config = path.join(dir, 'scratch.finetune.yaml');
    const text = (extra: string) =>
      `task: token-classification\nmodel:\n  from_scratch: { layers: 1, hidden: 8, heads: 2, intermediate: 16, max_positions: 32, min_frequency: 1 }\ndata:\n  format: conll\n  train: train.txt\n  validation: dev.txt\n  max_length: 16\n${extra}`;
    fs.writeFileSync(config, text('labels: [I-PER, B-PER, I-ORG, B-ORG, I-LOC, B-LOC, O, B-MISC]\n'));
    const data = await loadRunData(loadConfig(config));
    assert.deepEqual(data.labels, ['I-PER', 'B-PER', 'I-ORG', 'B-ORG', 'I-LOC', 'B-LOC', 'O', 'B-MISC']);
    // Features carry the index in that order.
    assert.equal(data.task === 'token-classification' && data.train.features[0].labels.find((l) => l >= 0), 1);
    fs.writeFileSync(config, text(''));
    fs.appendFileSync(path.join(dir, 'dev.txt'), '\nolympics B-EVENT\n');
    await assert.rejects(loadRunData(loadConfig(config)), /dev\.txt:8: label 'B-EVENT' never appears in the training data/);
  });

  it('sequence classification: the checkpoint classifier by name, `labels:` order, an unknown label at its JSONL line', async () => {
    const dir = tmpDir();
    const base = loadHfModel(FOLDER, { numLabels: 7, head: 'token' });
    const params = new Map(base.params);
    let seed = 3;
    const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.4);
    const H = base.config.hidden;
    params.set('bert.pooler.dense.weight', rand(H * H));
    params.set('bert.pooler.dense.bias', rand(H));
    params.set('classifier.weight', rand(3 * H));
    params.set('classifier.bias', rand(3));
    const ckpt = path.join(dir, 'seq');
    const ckLabels = ['positive', 'negative', 'neutral'];
    saveHfModel(ckpt, 'bert', { ...base.config, numLabels: 3 }, params, ckLabels, 'sequence');
    for (const f of ['vocab.txt', 'tokenizer_config.json']) fs.copyFileSync(path.join(FOLDER, f), path.join(ckpt, f));
    const lines = ['maria met the bank', 'people said today', 'new york city'].map((text, i) => JSON.stringify({ text, label: ckLabels[(i + 1) % 3] }));
    fs.writeFileSync(path.join(dir, 'train.jsonl'), lines.join('\n') + '\n');
    const config = path.join(dir, 'seq.finetune.yaml');
    const write = (extra: string) =>
      fs.writeFileSync(
        config,
        `task: sequence-classification\nmodel:\n  pretrained: ${ckpt}\n  dropout: 0\n  attention_dropout: 0\ndata:\n  format: jsonl\n  train: train.jsonl\n  max_length: 16\n${extra}`,
      );
    // The checkpoint's logits: the same encoder with its classifier rows in its own order.
    write('');
    const own = setupModel(loadConfig(config), 40, ['a', 'b', 'c']);
    own.params.set('classifier.weight', params.get('classifier.weight')!);
    own.params.set('classifier.bias', params.get('classifier.bias')!);
    for (const n of ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']) own.params.set(n, params.get(n)!);
    const theirs = await logitsOf(serializeModel(inferenceGraph(own, false)));
    for (const [extra, expected] of [
      ['', ckLabels],
      ['labels: [neutral, positive, negative]\n', ['neutral', 'positive', 'negative']],
    ] as const) {
      write(extra);
      const run = await initial(config);
      assert.deepEqual(run.labels, expected);
      assert.deepEqual(run.m.warnings, []);
      for (let b = 0; b < B; b++)
        expected.forEach((l, i) => assert.ok(Math.abs(run.logits[b * 3 + i] - theirs[b * 3 + ckLabels.indexOf(l)]) < 1e-5, `${extra} ${l}`));
    }
    write('labels: [neutral, positive]\n');
    await assert.rejects(loadRunData(loadConfig(config)), new RegExp(`train\\.jsonl:1: label 'negative' is not in the labels of the config`));
  });
});
