// The headless trainer end to end on tiny data: reproducibility, exact resume, the run folder,
// the exported model, and bad input that fails clearly and leaves a run folder saying why.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { TrainerEvent } from '../src/shared/protocol';
import { loadConfig } from '../src/shared/config/config';
import { readSafetensors } from '../src/trainer/io/safetensors';
import { runTrain } from '../src/trainer/commands';
import { train } from '../src/trainer/train/trainer';
import { setupModel } from '../src/trainer/train/model';
import { tinyWorkspace } from './helpers/tinyrun';
import { readMetrics, readRunInfo } from '../src/shared/run';

const quiet = (_e: TrainerEvent) => {};
const ROOT = path.resolve(path.dirname(__filename), '..');
const floats = (d: Uint8Array) => new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));

const trainLosses = (dir: string) =>
  readMetrics(dir)
    .filter((r) => r.type === 'train')
    .map((r) => [r.step, (r as { loss: number }).loss]);

async function failedRun(extraYaml: string, mutate?: (dir: string) => void): Promise<{ error: Error; runDir: string }> {
  const ws = tinyWorkspace(extraYaml);
  mutate?.(ws.dir);
  const runDir = path.join(ws.dir, 'run');
  const error = await train({ config: loadConfig(ws.config), runDir, emit: quiet }).then(
    () => new Error('no error'),
    (e: Error) => e,
  );
  return { error, runDir };
}

describe('trainer', () => {
  it('same seed, same numbers; the run folder holds run.json, metrics, checkpoints, TensorBoard and model.onnx', async () => {
    const ws = tinyWorkspace();
    const cfg = loadConfig(ws.config);
    const a = await train({ config: cfg, runDir: path.join(ws.dir, 'a'), emit: quiet });
    const b = await train({ config: cfg, runDir: path.join(ws.dir, 'b'), emit: quiet });
    assert.equal(a.status, 'completed');
    assert.deepEqual(trainLosses(a.runDir), trainLosses(b.runDir));
    const info = readRunInfo(a.runDir);
    assert.equal(info.status, 'completed');
    assert.equal(info.device?.used, 'cpu');
    assert.ok(info.final && 'test_f1' in info.final);
    for (const f of [
      'model.onnx',
      'labels.json',
      'tokenizer/tokenizer.json',
      'checkpoints/best/model.safetensors',
      'checkpoints/best/config.json',
      'checkpoints/last/optimizer.safetensors',
      'checkpoints/last/trainer_state.json',
      'misclassified-validation.json',
    ]) {
      assert.ok(fs.existsSync(path.join(a.runDir, f)), `${f} exists`);
    }
    assert.ok(fs.readdirSync(path.join(a.runDir, 'tensorboard')).some((f) => f.startsWith('events.out.tfevents.')));
    const evals = readMetrics(a.runDir).filter((r) => r.type === 'eval');
    assert.ok(evals.some((e) => e.type === 'eval' && e.split === 'validation' && e.confusion && e.perClass && e.tokenReport));
    const hfConfig = JSON.parse(fs.readFileSync(path.join(a.runDir, 'checkpoints/best/config.json'), 'utf8'));
    assert.deepEqual(hfConfig.architectures, ['BertForTokenClassification']);
    assert.ok(readSafetensors(path.join(a.runDir, 'checkpoints/best/model.safetensors')).tensors.has('bert.encoder.layer.0.attention.self.query.weight'));
  });

  it('a run stopped midway and resumed produces the same later losses as one never stopped', async () => {
    const ws = tinyWorkspace();
    const cfg = loadConfig(ws.config);
    const whole = await train({ config: cfg, runDir: path.join(ws.dir, 'whole'), emit: quiet });
    let step = 0;
    const events: TrainerEvent[] = [];
    const stopped = await train({
      config: cfg,
      runDir: path.join(ws.dir, 'split'),
      shouldStop: () => step >= 12,
      emit: (e) => {
        events.push(e);
        if (e.type === 'train') step = e.step;
      },
    });
    assert.equal(stopped.status, 'stopped');
    assert.equal(readRunInfo(stopped.runDir).status, 'stopped');
    assert.ok(events.some((e) => e.type === 'stopped'));
    const resumed = await train({ config: cfg, resume: stopped.runDir, emit: quiet });
    assert.equal(resumed.status, 'completed');
    // Every step has its record (however the blocks are grouped after the resume): the resumed
    // run's losses are the uninterrupted run's, step by step, from the first step to the last.
    const full = trainLosses(whole.runDir);
    assert.deepEqual(
      full.map(([s]) => s),
      Array.from({ length: readRunInfo(whole.runDir).totalSteps! }, (_, i) => i + 1),
    );
    assert.deepEqual(trainLosses(resumed.runDir), full);
    const pa = readSafetensors(path.join(whole.runDir, 'checkpoints/last/model.safetensors')).tensors;
    const pb = readSafetensors(path.join(resumed.runDir, 'checkpoints/last/model.safetensors')).tensors;
    for (const [name, t] of pa) assert.deepEqual(pb.get(name)!.data, t.data, `${name} after resume`);
    assert.deepEqual(readRunInfo(whole.runDir).final, readRunInfo(resumed.runDir).final);
  });

  it('sequence classification trains on the bundled JSONL example config', async () => {
    const cfg = loadConfig(path.resolve(path.dirname(__filename), '../examples/textcls/textcls.finetune.yaml'), {
      'training.epochs': 2,
      'training.max_steps': 60,
      threads: 1,
    });
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'finetune-cls-'));
    const res = await train({ config: cfg, runDir: dir, emit: quiet });
    assert.equal(res.status, 'completed');
    assert.ok(res.final && (res.final.test_accuracy ?? 0) > 0.5, JSON.stringify(res.final));
  });
});

describe('bad input fails clearly and the run folder records it', () => {
  const expectFailure = (title: string, extraYaml: string, mutate: ((dir: string) => void) | undefined, pattern: RegExp): void => {
    it(title, async () => {
      const { error, runDir } = await failedRun(extraYaml, mutate);
      assert.match(error.message, pattern);
      const info = readRunInfo(runDir);
      assert.equal(info.status, 'failed');
      assert.match(info.error!.message, pattern);
    });
  };

  it('a missing data file is a config error pointing at its line', async () => {
    const ws = tinyWorkspace();
    fs.rmSync(path.join(ws.dir, 'data', 'test.txt'));
    assert.throws(() => loadConfig(ws.config), /tiny\.finetune\.yaml:\d+:\d+: .*test\.txt/);
  });
  expectFailure('an empty training file', '', (d) => fs.writeFileSync(path.join(d, 'data', 'train.txt'), ''), /train\.txt.*(empty|no sentences)/);
  expectFailure('an unknown tag scheme', '', (d) => fs.appendFileSync(path.join(d, 'data', 'train.txt'), '\nBerlin\tX-LOC\n'), /train\.txt:\d+.*X-LOC/);
  expectFailure(
    'inconsistent column counts',
    '',
    (d) => fs.appendFileSync(path.join(d, 'data', 'train.txt'), '\nBerlin B-LOC extra\n'),
    /train\.txt:\d+.*column/,
  );
  expectFailure(
    'non-UTF-8 text',
    '',
    (d) => fs.appendFileSync(path.join(d, 'data', 'train.txt'), Buffer.from([0x0a, 0x42, 0xff, 0x09, 0x4f, 0x0a])),
    /train\.txt:\d+.*UTF-8/,
  );
  expectFailure(
    'a validation label training never saw',
    '',
    (d) => fs.appendFileSync(path.join(d, 'data', 'dev.txt'), '\nOlympics\tB-EVENT\n'),
    /dev\.txt:\d+: label 'B-EVENT' never appears in the training data/,
  );
  expectFailure(
    'a pretrained checkpoint with wrong names and shapes',
    '',
    (d) => {
      const cfgPath = path.join(d, 'tiny.finetune.yaml');
      const pre = path.join(d, 'bert');
      fs.mkdirSync(pre);
      fs.writeFileSync(
        path.join(pre, 'config.json'),
        JSON.stringify({
          model_type: 'bert',
          hidden_size: 32,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          intermediate_size: 64,
          vocab_size: 50,
          max_position_embeddings: 64,
        }),
      );
      fs.writeFileSync(path.join(pre, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the'].join('\n'));
      const { writeSafetensors } = require('../src/trainer/io/safetensors');
      writeSafetensors(path.join(pre, 'model.safetensors'), {
        'bert.embeddings.word_embeddings.weight': { dtype: 'F32', shape: [50, 16], data: new Float32Array(800) },
        'bert.unknown.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) },
      });
      fs.writeFileSync(cfgPath, fs.readFileSync(cfgPath, 'utf8').replace(/from_scratch: .*/, 'pretrained: bert'));
    },
    /missing: .*unexpected: .*bert\.unknown\.weight.*mis-shaped: .*word_embeddings.*\[50, ?32\].*\[50, ?16\]/s,
  );

  it('NaN or infinite loss stops the run, names the node and keeps the last good checkpoint', async () => {
    const { error, runDir } = await failedRun('', (d) => {
      const cfgPath = path.join(d, 'tiny.finetune.yaml');
      fs.writeFileSync(cfgPath, fs.readFileSync(cfgPath, 'utf8').replace('lr: 2.0e-3', 'lr: 1.0e+36').replace('warmup_ratio: 0.1', 'warmup_ratio: 0'));
    });
    assert.match(error.message, /non-finite value .* at step \d+/);
    const info = readRunInfo(runDir);
    assert.equal(info.status, 'failed');
    assert.ok(info.error?.node && info.error.op, JSON.stringify(info.error));
    const last = readSafetensors(path.join(runDir, 'checkpoints/last/model.safetensors')).tensors;
    for (const [name, t] of last) {
      const f = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
      assert.ok(f.every(Number.isFinite), `${name} is finite in the last checkpoint`);
    }
  });

  for (const [title, key, value, pattern] of [
    ['lr <= 0', 'training.lr', 0, /training\.lr must be > 0, got 0/],
    ['batch size 0', 'training.batch_size', 0, /training\.batch_size must be >= 1, got 0/],
  ] as const) {
    it(`a config value out of range: ${title} (exit 2, no run folder)`, async () => {
      const ws = tinyWorkspace();
      const runDir = path.join(ws.dir, 'run');
      const errors: string[] = [];
      const origError = console.error;
      console.error = (s: string) => errors.push(s);
      try {
        const code = await runTrain({ configPath: ws.config, runDir, overrides: { [key]: value }, json: true, emit: quiet });
        assert.equal(code, 2);
      } finally {
        console.error = origError;
      }
      assert.match(errors.join('\n'), pattern);
      assert.match(errors.join('\n'), /tiny\.finetune\.yaml:\d+:\d+/);
      // Found before training: nothing is written (no failed run folder per typo).
      assert.equal(fs.existsSync(runDir), false, 'no run folder');
      assert.equal(fs.existsSync(path.join(ws.dir, '.finetune')), false, 'no runs folder');
    });
  }
});

describe('parameter-efficient fine-tuning from a Hugging Face folder', () => {
  const FOLDER = path.resolve(path.dirname(__filename), 'fixtures/hf-tiny-bert');
  for (const [title, peft] of [
    ['head-only', 'head-only'],
    ['LoRA on query and value', '{ lora: { rank: 4, alpha: 8, targets: [query, value] } }'],
  ] as const) {
    it(`${title}: frozen weights stay, trained ones move, the export loads`, async () => {
      const ws = tinyWorkspace();
      const text = fs
        .readFileSync(ws.config, 'utf8')
        .replace(/from_scratch: .*/, `pretrained: ${FOLDER}\n  peft: ${peft}`)
        .replace('epochs: 2', 'epochs: 1')
        .replace('max_length: 48', 'max_length: 32');
      fs.writeFileSync(ws.config, text);
      const events: TrainerEvent[] = [];
      const res = await train({ config: loadConfig(ws.config), runDir: path.join(ws.dir, 'run'), emit: (e) => events.push(e) });
      assert.equal(res.status, 'completed');
      const started = events.find((e) => e.type === 'started');
      assert.ok(started && started.type === 'started' && started.trainable! < started.params / 2, 'only a small part trains');
      const before = readSafetensors(path.join(FOLDER, 'model.safetensors')).tensors;
      const after = readSafetensors(path.join(res.runDir, 'checkpoints/last/model.safetensors')).tensors;
      assert.deepEqual(after.get('bert.embeddings.word_embeddings.weight')!.data, before.get('bert.embeddings.word_embeddings.weight')!.data);
      const changed = (n: string) => !Buffer.from(after.get(n)!.data).equals(Buffer.from(before.get(n)!.data));
      // The head trains with either kind (LoRA: the adapters plus the head): its saved weights differ from
      // the run's initial head (this folder's classifier has other labels, so the run starts a new one, from the seed).
      const { labels } = JSON.parse(fs.readFileSync(path.join(res.runDir, 'labels.json'), 'utf8')) as { labels: string[] };
      const { vocab_size } = JSON.parse(fs.readFileSync(path.join(FOLDER, 'config.json'), 'utf8')) as { vocab_size: number };
      const initial = setupModel(loadConfig(ws.config), vocab_size, labels).params.get('classifier.weight')!;
      const saved = floats(after.get('classifier.weight')!.data);
      assert.equal(saved.length, initial.length);
      assert.ok(
        saved.some((v, i) => v !== initial[i]),
        'the classifier trained',
      );
      // LoRA is merged into the saved weights: query changes, key (not a target) does not.
      if (peft.includes('lora')) {
        assert.ok(changed('bert.encoder.layer.0.attention.self.query.weight'));
        assert.ok(!changed('bert.encoder.layer.0.attention.self.key.weight'));
        assert.ok(fs.existsSync(path.join(res.runDir, 'checkpoints/last/adapter.safetensors')));
      } else assert.ok(!changed('bert.encoder.layer.0.attention.self.query.weight'));
      assert.ok(fs.existsSync(path.join(res.runDir, 'model.onnx')));
    });
  }
});

describe('early stopping', () => {
  it('watches training.early_stopping.metric, not evaluation.metric (which still picks the best checkpoint)', async () => {
    const ws = tinyWorkspace('', { train: 80 });
    const cfg = loadConfig(ws.config, {
      'training.epochs': 40,
      'evaluation.every': 5,
      'training.early_stopping': { metric: 'loss', mode: 'min', patience: 2 },
    });
    assert.equal(cfg.evaluation.metric, 'f1');
    const res = await train({ config: cfg, runDir: path.join(ws.dir, 'run'), emit: quiet });
    assert.equal(res.status, 'completed');
    const info = readRunInfo(res.runDir);
    assert.equal(info.best?.metric, 'f1', 'the best checkpoint is chosen by evaluation.metric');
    // Replay the rule on the validation losses as recorded: where it says stop, the run stopped.
    const evals = readMetrics(res.runDir).flatMap((r) => (r.type === 'eval' && r.split === 'validation' ? [r] : []));
    let best = Infinity;
    let bad = 0;
    let stopAt: number | undefined;
    for (const e of evals) {
      if (e.metrics.loss! < best) [best, bad] = [e.metrics.loss!, 0];
      else if (++bad >= 2) {
        stopAt = e.step;
        break;
      }
    }
    assert.ok(
      stopAt !== undefined && stopAt < info.totalSteps!,
      `the validation loss stopped improving (${evals.map((e) => e.metrics.loss!.toFixed(3)).join(' ')})`,
    );
    assert.equal(evals[evals.length - 1].step, stopAt, 'no evaluation after the stop');
    assert.equal(info.step, stopAt);
    assert.match(fs.readFileSync(path.join(res.runDir, 'train.log'), 'utf8'), /early stopping: loss has not improved for 2 evaluations/);
  });
});

describe('gradient accumulation', () => {
  it('two micro-batches of 4 train like batches of 8 (losses and weights, averaged not summed) and stay reproducible', async () => {
    // One label per text and no dropout: the mean loss of 8 examples is exactly the mean of the two
    // micro-batch means, so the two runs must agree step by step. SGD, without clipping, moves the
    // weights in proportion to the gradient: accumulation that summed would double every update.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-accum-'));
    const lines = (f: string, n: number) =>
      fs
        .readFileSync(path.join(ROOT, 'examples/textcls/data', f), 'utf8')
        .split('\n')
        .slice(0, n)
        .join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'train.jsonl'), lines('train.jsonl', 64));
    fs.writeFileSync(path.join(dir, 'dev.jsonl'), lines('dev.jsonl', 16));
    const config = path.join(dir, 'cls.finetune.yaml');
    fs.writeFileSync(
      config,
      `name: cls
task: sequence-classification
model:
  from_scratch: { layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 64, min_frequency: 1 }
  dropout: 0
  attention_dropout: 0
data: { format: jsonl, train: train.jsonl, validation: dev.jsonl, max_length: 32 }
training: { epochs: 1, batch_size: 8, optimizer: sgd, lr: 0.5, warmup_ratio: 0, grad_clip: null, logging_steps: 1 }
threads: 1
seed: 7
`,
    );
    const accumulated = { 'training.gradient_accumulation': 2, 'training.batch_size': 4 };
    const a = await train({ config: loadConfig(config, accumulated), runDir: path.join(dir, 'a'), emit: quiet });
    const b = await train({ config: loadConfig(config, accumulated), runDir: path.join(dir, 'b'), emit: quiet });
    const whole = await train({ config: loadConfig(config), runDir: path.join(dir, 'c'), emit: quiet });
    assert.equal(a.status, 'completed');
    assert.equal(readRunInfo(a.runDir).totalSteps, readRunInfo(whole.runDir).totalSteps);
    assert.deepEqual(trainLosses(a.runDir), trainLosses(b.runDir));
    const la = trainLosses(a.runDir);
    const lw = trainLosses(whole.runDir);
    assert.equal(la.length, 8, 'a loss per step');
    assert.deepEqual(
      la.map(([s]) => s),
      lw.map(([s]) => s),
    );
    la.forEach(([step, l], i) =>
      assert.ok(Math.abs(l - lw[i][1]) <= 1e-4 * Math.max(1, Math.abs(lw[i][1])), `step ${step}: loss ${l} accumulated, ${lw[i][1]} whole`),
    );
    const wa = readSafetensors(path.join(a.runDir, 'checkpoints/last/model.safetensors')).tensors;
    const ww = readSafetensors(path.join(whole.runDir, 'checkpoints/last/model.safetensors')).tensors;
    assert.deepEqual([...wa.keys()].sort(), [...ww.keys()].sort());
    for (const [name, t] of wa) {
      const x = floats(t.data);
      const y = floats(ww.get(name)!.data);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
      assert.ok(worst <= 1e-4, `${name}: differs by ${worst}`);
    }
  });
});
