// Run configurations: schema, defaults, positioned errors, semantic checks, overrides, hashing,
// sweeps and the bundled example configs.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import {
  checkFiles,
  configHash,
  ConfigValidationError,
  expandSweep,
  loadConfig,
  loadConfigWithWarnings,
  locate,
  validateConfigText,
  type ConfigError,
  type ResolvedConfig,
} from '../src/shared/config/config';
import { CONFIG_SCHEMA, type JsonSchema } from '../src/shared/config/schema';

const ROOT = path.resolve(path.dirname(__filename), '..');
const FILE = '/runs/conll-bert.finetune.yaml';

/** Errors as `line:col message` (warnings marked), for exact comparisons. */
const lines = (errors: ConfigError[]) => errors.map((e) => `${e.line}:${e.column} ${e.severity === 'warning' ? 'warning: ' : ''}${e.message}`);
const check = (text: string, file = FILE) => lines(validateConfigText(text, file).errors);

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-config-'));
}

const MINIMAL = `task: token-classification
model:
  from_scratch: {}
data:
  format: conll
  train: data/train.txt
`;

describe('config: valid configs resolve with defaults', () => {
  it('fills every default into a camelCase config', () => {
    const r = validateConfigText(MINIMAL, FILE);
    assert.deepEqual(r.errors, []);
    const expected: ResolvedConfig = {
      name: 'conll-bert',
      task: 'token-classification',
      configPath: '/runs/conll-bert.finetune.yaml',
      baseDir: '/runs',
      model: {
        fromScratch: { layers: 4, hidden: 256, heads: 4, intermediate: 1024, maxPositions: 512, minFrequency: 1, lowercase: false },
        dropout: 0.1,
        attentionDropout: 0.1,
        peft: { kind: 'none' },
      },
      data: {
        format: 'conll',
        train: '/runs/data/train.txt',
        tagColumn: -1,
        scheme: 'auto',
        textField: 'text',
        labelField: 'label',
        tokensField: 'tokens',
        tagsField: 'ner_tags',
        hubConfig: 'default',
        hubRevision: 'refs/convert/parquet',
        delimiter: ',',
        maxLength: 128,
        overflow: 'window',
        stride: 32,
      },
      training: {
        epochs: 3,
        batchSize: 16,
        gradientAccumulation: 1,
        gradientCheckpointing: false,
        optimizer: 'adamw',
        lr: 5e-5,
        weightDecay: 0.01,
        adamBeta1: 0.9,
        adamBeta2: 0.999,
        adamEps: 1e-8,
        momentum: 0.9,
        noDecay: ['bias', 'LayerNorm.weight'],
        warmupRatio: 0,
        schedule: 'linear',
        shuffle: true,
        loggingSteps: 1,
        gradClip: 1,
        stepsPerRun: 'auto',
      },
      evaluation: { every: 'epoch', metric: 'f1', mode: 'default', maxMisclassified: 200 },
      device: 'auto',
      threads: 0,
      seed: 42,
    };
    assert.deepEqual(r.config, expected);
  });

  it('resolves a JSON config like the same YAML one (positions work in JSON too)', () => {
    const json = JSON.stringify(
      {
        name: 'cls',
        task: 'sequence-classification',
        model: { pretrained: '../models/bert', peft: { lora: { rank: 4 } } },
        data: { format: 'jsonl', train: 'train.jsonl', validation_split: 0.1 },
        training: { lr: 3e-5, grad_clip: null, steps_per_run: 8, warmup_steps: 10, early_stopping: { metric: 'loss', mode: 'min' } },
        evaluation: { every: 100, metric: 'accuracy' },
        sweep: { 'training.lr': [1e-5, 3e-5] },
      },
      null,
      2,
    );
    const yaml = `name: cls
task: sequence-classification
model:
  pretrained: ../models/bert
  peft:
    lora:
      rank: 4
data: { format: jsonl, train: train.jsonl, validation_split: 0.1 }
training:
  lr: 3.0e-5
  grad_clip: null
  steps_per_run: 8
  warmup_steps: 10
  early_stopping: { metric: loss, mode: min }
evaluation: { every: 100, metric: accuracy }
sweep:
  training.lr: [1.0e-5, 3.0e-5]
`;
    const a = validateConfigText(json, '/w/cls.finetune.json');
    const b = validateConfigText(yaml, '/w/cls.finetune.yaml');
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    assert.deepEqual({ ...a.config, configPath: '' }, { ...b.config, configPath: '' });
    const c = a.config!;
    assert.equal(c.model.pretrained, '/models/bert');
    assert.deepEqual(c.model.peft, { kind: 'lora', rank: 4, alpha: 16, dropout: 0, targets: ['query', 'value'] });
    assert.equal(c.training.gradClip, null);
    assert.equal(c.training.stepsPerRun, 8);
    assert.equal(c.training.warmupSteps, 10);
    assert.deepEqual(c.training.earlyStopping, { metric: 'loss', mode: 'min', patience: 2, minDelta: 0 });
    assert.equal(c.evaluation.every, 100);
    assert.equal(c.data.validationSplit, 0.1);
    assert.deepEqual(c.sweep, {
      method: 'grid',
      parameters: { 'training.lr': { kind: 'choice', values: [1e-5, 3e-5] } },
      metric: 'accuracy',
      mode: 'max',
      seed: 42,
    });
    assert.equal(configHash(a.config!), configHash(b.config!));

    // A JSON error points into the JSON text.
    const bad =
      '{\n  "task": "sequence-classification",\n  "model": { "pretrained": "m" },\n  "data": { "format": "jsonl", "train": "t", "max_length": "long" }\n}\n';
    assert.deepEqual(check(bad, 'x.finetune.json'), ["4:60 data.max_length must be an integer, got string 'long'"]);
  });

  it('derives the name from the file name and defaults intermediate to 4 × hidden', () => {
    const r = validateConfigText(MINIMAL.replace('from_scratch: {}', 'from_scratch: { hidden: 64, heads: 2 }'), 'a/b/my-run.finetune.yml');
    assert.equal(r.config?.name, 'my-run');
    assert.equal(r.config?.model.fromScratch?.intermediate, 256);
    assert.equal(r.config?.configPath, path.resolve('a/b/my-run.finetune.yml'));
  });

  it('sgd with momentum and a cosine schedule resolve', () => {
    const r = validateConfigText(`${MINIMAL}training:\n  optimizer: sgd\n  lr: 0.1\n  schedule: cosine\n  momentum: 0.8\n`, FILE);
    assert.deepEqual(r.errors, []); // lr 0.1 is no warning for sgd
    assert.equal(r.config?.training.optimizer, 'sgd');
    assert.equal(r.config?.training.momentum, 0.8);
  });
});

describe('config: schema errors', () => {
  it('an unknown key suggests the closest known key', () => {
    const text = `${MINIMAL}training:\n  lerning_rate: 3.0e-5\n  epochs: 2\n`;
    assert.deepEqual(check(text), ["8:3 unknown key 'lerning_rate' — did you mean 'lr'?"]);
    const r = validateConfigText(text, FILE).errors[0];
    assert.deepEqual([r.line, r.column, r.endLine, r.endColumn], [8, 3, 8, 15]);
    // Names from other trainers, typos and keys in the wrong section.
    assert.deepEqual(check(`${MINIMAL}training:\n  learning_rate: 3.0e-5\n  bach_size: 8\n`), [
      "8:3 unknown key 'learning_rate' — did you mean 'lr'?",
      "9:3 unknown key 'bach_size' — did you mean 'batch_size'?",
    ]);
    assert.deepEqual(check(`${MINIMAL}epochs: 3\n`), ["7:1 unknown key 'epochs' — did you mean 'training.epochs'?"]);
    assert.match(check(`${MINIMAL}zzzzzz: 1\n`)[0], /^7:1 unknown key 'zzzzzz' \(known keys: name, task, model, /);
  });

  it('type errors: a string where a number belongs', () => {
    assert.deepEqual(check(`${MINIMAL}training:\n  lr: fast\n  batch_size: "16"\n  epochs: 2.5\n`), [
      "8:7 training.lr must be a number, got string 'fast'",
      "9:15 training.batch_size must be an integer, got string '16'",
      '10:11 training.epochs must be an integer, got 2.5',
    ]);
    assert.deepEqual(check(`${MINIMAL}training: 3\n`), ['7:11 training must be a mapping, got 3']);
    assert.deepEqual(check(`${MINIMAL}training:\n  grad_clip: off\n`), ["8:14 training.grad_clip must be a number or null, got string 'off'"]);
    assert.deepEqual(check(MINIMAL.replace('from_scratch: {}', 'from_scratch:')), [
      '3:3 model.from_scratch must be a mapping, got an empty value (write {} to use the defaults)',
    ]);
  });

  it('wrong enum values list the choices (and the likely one)', () => {
    assert.deepEqual(check(MINIMAL.replace('task: token-classification', 'task: ner')), [
      "1:7 task must be one of 'token-classification', 'sequence-classification', got 'ner' — did you mean 'token-classification'?",
    ]);
    assert.deepEqual(check(`${MINIMAL}  scheme: iob2\n`), [
      "7:11 data.scheme must be one of 'auto', 'IOB1', 'IOB2', 'BIOES', got 'iob2' — did you mean 'IOB2'?",
    ]);
    assert.deepEqual(check(`${MINIMAL}device: gpu\n`), ["7:9 device must be one of 'auto', 'cpu', 'cuda', got 'gpu' — did you mean 'cuda'?"]);
  });

  it('missing required keys point at the enclosing key (or the top of the file)', () => {
    assert.deepEqual(check(MINIMAL.replace('task: token-classification\n', '')), [
      "1:1 missing required key 'task' (one of 'token-classification', 'sequence-classification')",
    ]);
    const r = validateConfigText(MINIMAL.replace('  train: data/train.txt\n', ''), FILE).errors;
    assert.deepEqual(lines(r), ["4:1 missing required key 'train' in 'data'"]);
    assert.deepEqual([r[0].endLine, r[0].endColumn], [4, 5]);
  });

  it('range errors read like humans write them', () => {
    assert.deepEqual(check(`${MINIMAL}training:\n  lr: 0\n  batch_size: 0\n  warmup_ratio: 1\n  grad_clip: 0\n  steps_per_run: 0\n`), [
      '8:7 training.lr must be > 0, got 0',
      '9:15 training.batch_size must be >= 1, got 0',
      '10:17 training.warmup_ratio must be < 1, got 1',
      '11:14 training.grad_clip must be > 0, got 0',
      "12:18 training.steps_per_run must be 'auto' or an integer >= 1, got 0",
    ]);
    assert.deepEqual(check(`${MINIMAL}  max_length: 8192\n  validation_split: 0\n`), [
      '7:15 data.max_length must be <= 4096, got 8192',
      '8:21 data.validation_split must be > 0, got 0',
    ]);
    assert.deepEqual(check(`${MINIMAL}evaluation:\n  every: often\n`), ["8:10 evaluation.every must be 'epoch' or an integer >= 1, got string 'often'"]);
  });

  it('peft: a string that is not a mode, and errors inside lora', () => {
    assert.deepEqual(check(MINIMAL.replace('from_scratch: {}', 'pretrained: m\n  peft: lora')), [
      "4:9 model.peft must be 'none', 'head-only' or a mapping with 'lora', got string 'lora'",
    ]);
    assert.deepEqual(check(MINIMAL.replace('from_scratch: {}', 'pretrained: m\n  peft:\n    lora:\n      rank: 0\n      targets: []\n      rnak: 2')), [
      '6:13 model.peft.lora.rank must be >= 1, got 0',
      '7:16 model.peft.lora.targets must not be an empty list',
      "8:7 unknown key 'rnak' — did you mean 'rank'?",
    ]);
  });

  it('YAML syntax errors and duplicate keys are positioned', () => {
    assert.deepEqual(check(`${MINIMAL}training:\n  lr: 1\n  lr: 2\n`), ['9:3 Map keys must be unique']);
    assert.deepEqual(check('task: [token-classification\n'), ['2:1 Flow sequence in block collection must be sufficiently indented and end with a ]']);
    assert.deepEqual(check(''), ["1:1 config is empty (it needs at least 'task', 'model' and 'data')"]);
    assert.deepEqual(check('- task\n'), ['1:1 config must be a mapping of keys to values, got a list']);
  });

  it('indentation slips and a missing space after a colon are said in plain words, at the line to fix', () => {
    // a key indented further than the one above (the parser: "Nested mappings are not allowed in compact mappings", at line 6)
    assert.deepEqual(check(`${MINIMAL}    max_length: 64\n`), [
      "7:5 line 7 is indented further (column 5) than 'train' above it, which already has a value; keys of one section start at the same column (here 3)",
    ]);
    // a key indented less than its section (the parser: "All mapping items must start at the same column")
    assert.deepEqual(check(`${MINIMAL} max_length: 64\n`), [
      '7:2 line 7 starts at column 2, line 6 at column 3: keys of one section start at the same column, and a key indented less than its section belongs to the section above',
    ]);
    // `key:value` (the parser: "Implicit keys need to be on a single line")
    assert.deepEqual(check(MINIMAL.replace('train: data/train.txt', 'train:data/train.txt')), [
      "6:3 'train:data/train.txt' has no space after the colon, so YAML reads it as text, not a key: write 'train: data/train.txt'",
    ]);
  });
});

describe('config: semantic checks', () => {
  it('format must fit the task', () => {
    assert.deepEqual(check(MINIMAL.replace('format: conll', 'format: jsonl')), [
      "5:11 data.format 'jsonl' does not fit task 'token-classification' (token classification reads 'conll' or 'parquet')",
    ]);
    assert.deepEqual(check(MINIMAL.replace('task: token-classification', 'task: sequence-classification')), [
      "5:11 data.format 'conll' does not fit task 'sequence-classification' (use 'jsonl', 'csv' or 'parquet')",
    ]);
  });

  it('exactly one of pretrained and from_scratch', () => {
    assert.deepEqual(check(MINIMAL.replace('  from_scratch: {}\n', '  pretrained: m\n  from_scratch: {}\n')), [
      '4:3 model.pretrained and model.from_scratch are mutually exclusive — use one',
    ]);
    assert.deepEqual(check(MINIMAL.replace('  from_scratch: {}\n', '  dropout: 0.2\n')), [
      "2:1 model needs one of 'pretrained' (a local Hugging Face folder or a Hub id) or 'from_scratch'",
    ]);
  });

  it('hidden must be divisible by heads', () => {
    assert.deepEqual(check(MINIMAL.replace('from_scratch: {}', 'from_scratch:\n    hidden: 256\n    heads: 3')), [
      '5:12 model.from_scratch.hidden (256) must be divisible by model.from_scratch.heads (3)',
    ]);
  });

  it('max_length must fit max_positions', () => {
    assert.deepEqual(check(`${MINIMAL.replace('from_scratch: {}', 'from_scratch: { max_positions: 256 }')}  max_length: 512\n`), [
      '7:15 data.max_length (512) exceeds model.from_scratch.max_positions (256)',
    ]);
    // max_length left at its default: the error points at max_positions.
    assert.deepEqual(check(MINIMAL.replace('from_scratch: {}', 'from_scratch:\n    max_positions: 64')), [
      '4:20 data.max_length (128) exceeds model.from_scratch.max_positions (64)',
    ]);
  });

  it('early stopping needs validation data', () => {
    const text = `${MINIMAL}training:\n  early_stopping:\n    patience: 3\n`;
    assert.deepEqual(check(text), ['8:3 training.early_stopping needs validation data: set data.validation or data.validation_split']);
    assert.deepEqual(check(text.replace('  train: data/train.txt\n', '  train: data/train.txt\n  validation_split: 0.1\n')), []);
    assert.deepEqual(check(text.replace('  train: data/train.txt\n', '  train: data/train.txt\n  validation: data/dev.txt\n')), []);
  });

  it('warmup_ratio and warmup_steps are exclusive', () => {
    assert.deepEqual(check(`${MINIMAL}training:\n  warmup_ratio: 0.1\n  warmup_steps: 100\n`), [
      '9:17 training.warmup_ratio and training.warmup_steps are mutually exclusive — set one',
    ]);
  });

  it('labels: each label once, the duplicate pointed at; the list resolves in its order', () => {
    assert.deepEqual(check(`${MINIMAL}labels: [O, B-PER, I-PER, B-PER]\n`), ["7:27 label 'B-PER' is listed twice in labels (first as item 2)"]);
    assert.deepEqual(check(`${MINIMAL}labels:\n  - O\n  - B-LOC\n  - O\n`), ["10:5 label 'O' is listed twice in labels (first as item 1)"]);
    assert.deepEqual(validateConfigText(`${MINIMAL}labels: [O, B-PER, I-PER]\n`, FILE).config?.labels, ['O', 'B-PER', 'I-PER']);
    assert.equal(validateConfigText(MINIMAL, FILE).config?.labels, undefined);
    assert.deepEqual(check(`${MINIMAL}labels: []\n`).length, 1);
  });

  it('metrics must be ones the task produces', () => {
    const seq = MINIMAL.replace('task: token-classification', 'task: sequence-classification').replace('format: conll', 'format: jsonl');
    assert.deepEqual(check(`${seq}  validation: dev.jsonl\nevaluation:\n  metric: token_f1\ntraining:\n  early_stopping:\n    metric: token_f1\n`), [
      "9:11 evaluation.metric 'token_f1' is not produced by sequence-classification (one of: accuracy, f1, precision, recall, loss)",
      "12:13 training.early_stopping.metric 'token_f1' is not produced by sequence-classification (one of: accuracy, f1, precision, recall, loss)",
    ]);
    assert.deepEqual(check(`${MINIMAL}evaluation:\n  metric: token_f1\n`), []);
    assert.deepEqual(check(`${MINIMAL}evaluation:\n  metric: bleu\n`), [
      "8:11 evaluation.metric must be one of 'f1', 'precision', 'recall', 'accuracy', 'loss', 'token_f1', got 'bleu'",
    ]);
  });

  it('sweep keys must name config keys, and sweep values must be valid', () => {
    assert.deepEqual(
      check(`${MINIMAL}sweep:\n  training.lerning_rate: [1.0e-5]\n  training.batch_size: [16, 0]\n  model.peft.lora.rank: [4, 8]\n  training.lr: []\n`),
      [
        "8:3 sweep key 'training.lerning_rate' is not a config key — did you mean 'training.lr'?",
        "9:29 sweep['training.batch_size'][1] must be >= 1, got 0",
        "11:16 sweep['training.lr'] must not be an empty list",
      ],
    );
  });

  it('stride must leave windows room to advance', () => {
    assert.deepEqual(check(`${MINIMAL}  max_length: 64\n  stride: 62\n`), [
      "8:11 data.stride (62) must be less than data.max_length - 2 (62, the room left after [CLS] and [SEP]) when overflow is 'window'",
    ]);
    // The default stride shrinks for short sequences instead.
    assert.equal(validateConfigText(`${MINIMAL}  max_length: 32\n`, FILE).config?.data.stride, 15);
  });

  it('warnings do not block: a large adamw learning rate', () => {
    const r = validateConfigText(`${MINIMAL}training:\n  lr: 0.1\n`, FILE);
    assert.deepEqual(lines(r.errors), ['8:7 warning: training.lr 0.1 is unusually large for adamw (typical: 1e-5 to 1e-3)']);
    assert.equal(r.errors[0].severity, 'warning');
    assert.equal(r.config?.training.lr, 0.1);
  });
});

describe('config: loadConfig, checkFiles and overrides', () => {
  function project(config: string, files: string[] = ['data/train.txt']): string {
    const dir = tmpDir();
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), 'EU\tB-ORG\n');
    }
    const file = path.join(dir, 'run.finetune.yaml');
    fs.writeFileSync(file, config);
    return file;
  }

  it('loads a config whose files exist, with absolute paths', () => {
    const file = project(`${MINIMAL}  validation: data/dev.txt\n`, ['data/train.txt', 'data/dev.txt']);
    const c = loadConfig(file);
    assert.equal(c.name, 'run');
    assert.equal(c.configPath, file);
    assert.equal(c.baseDir, path.dirname(file));
    assert.equal(c.data.train, path.join(path.dirname(file), 'data/train.txt'));
    assert.equal(c.data.validation, path.join(path.dirname(file), 'data/dev.txt'));
  });

  it('a missing data file is an error at the train: value', () => {
    const file = project(MINIMAL, []);
    assert.throws(
      () => loadConfig(file),
      (e: unknown) => {
        assert.ok(e instanceof ConfigValidationError);
        assert.equal(e.errors.length, 1);
        const [err] = e.errors;
        assert.deepEqual([err.file, err.line, err.column, err.endLine, err.endColumn, err.severity], [file, 6, 10, 6, 24, 'error']);
        assert.equal(err.message, `data.train: file not found: ${path.join(path.dirname(file), 'data/train.txt')}`);
        assert.equal(e.message, `${file}:6:10: data.train: file not found: ${path.join(path.dirname(file), 'data/train.txt')}`);
        return true;
      },
    );
  });

  it('schema errors throw ConfigValidationError listing file:line:col', () => {
    const file = project(`${MINIMAL}training:\n  lr: 0\n`);
    assert.throws(
      () => loadConfig(file),
      (e: unknown) => e instanceof ConfigValidationError && e.message === `${file}:8:7: training.lr must be > 0, got 0`,
    );
    assert.throws(
      () => loadConfig(path.join(tmpDir(), 'absent.finetune.yaml')),
      (e: unknown) => e instanceof ConfigValidationError && /cannot read config/.test(e.message),
    );
  });

  it('checkFiles: the pretrained folder needs config.json, weights and a tokenizer', () => {
    const text = MINIMAL.replace('from_scratch: {}', 'pretrained: bert');
    const file = project(text, ['data/train.txt', 'bert/pytorch_model.bin', 'bert/vocab.txt']);
    const c = validateConfigText(text, file).config!;
    assert.deepEqual(lines(checkFiles(c, text, file)), [
      `3:15 model.pretrained: ${path.join(path.dirname(file), 'bert')} has no config.json, no model.safetensors (it has only pytorch_model.bin; save the model with safe_serialization=True)`,
    ]);
    const dir = path.dirname(file);
    fs.writeFileSync(path.join(dir, 'bert/config.json'), JSON.stringify({ max_position_embeddings: 64 }));
    fs.writeFileSync(path.join(dir, 'bert/model.safetensors'), '');
    assert.deepEqual(lines(checkFiles(c, text, file)), [
      `3:15 data.max_length (128) exceeds the model's max_position_embeddings (64) in ${path.join(dir, 'bert/config.json')}; set data.max_length to 64 or less`,
    ]);
    // RoBERTa's positions start after the padding index: 130 rows read 128 positions, 129 do not.
    fs.writeFileSync(path.join(dir, 'bert/config.json'), JSON.stringify({ model_type: 'roberta', max_position_embeddings: 129, pad_token_id: 1 }));
    assert.deepEqual(lines(checkFiles(c, text, file)), [
      `3:15 data.max_length (128) exceeds the model's 127 positions (max_position_embeddings 129 less RoBERTa's padding offset) in ${path.join(dir, 'bert/config.json')}; set data.max_length to 127 or less`,
    ]);
    fs.writeFileSync(path.join(dir, 'bert/config.json'), JSON.stringify({ model_type: 'roberta', max_position_embeddings: 130, pad_token_id: 1 }));
    assert.deepEqual(checkFiles(c, text, file), []);
    fs.writeFileSync(path.join(dir, 'bert/config.json'), JSON.stringify({ max_position_embeddings: 512 }));
    assert.deepEqual(checkFiles(c, text, file), []);
    // a RoBERTa folder's legacy tokenizer files: vocab.json with merges.txt, not alone
    fs.rmSync(path.join(dir, 'bert/vocab.txt'));
    fs.writeFileSync(path.join(dir, 'bert/vocab.json'), '{}');
    assert.deepEqual(lines(checkFiles(c, text, file)), [
      `3:15 model.pretrained: ${path.join(dir, 'bert')} has no tokenizer.json, vocab.txt or vocab.json + merges.txt`,
    ]);
    fs.writeFileSync(path.join(dir, 'bert/merges.txt'), '#version: 0.2\n');
    assert.deepEqual(checkFiles(c, text, file), []);
    const missing = validateConfigText(text.replace('pretrained: bert', 'pretrained: ./nope'), file).config!;
    assert.deepEqual(lines(checkFiles(missing, text.replace('pretrained: bert', 'pretrained: ./nope'), file)), [
      `3:15 model.pretrained: folder not found: ${path.join(dir, 'nope')}`,
    ]);
    // A bare name with no such folder is a Hub id: the trainer resolves it, the file checks pass it.
    const hub = validateConfigText(text.replace('pretrained: bert', 'pretrained: nope'), file).config!;
    assert.equal(hub.model.pretrained, 'nope');
    assert.deepEqual(checkFiles(hub, text.replace('pretrained: bert', 'pretrained: nope'), file), []);
  });

  it('overrides replace values before validation', () => {
    const file = project(`${MINIMAL}training:\n  lr: 5.0e-5\n`);
    const c = loadConfig(file, { 'training.lr': 3e-5, 'training.batch_size': 32, 'model.peft.lora.rank': 4 });
    assert.equal(c.training.lr, 3e-5);
    assert.equal(c.training.batchSize, 32);
    assert.deepEqual(c.model.peft, { kind: 'lora', rank: 4, alpha: 16, dropout: 0, targets: ['query', 'value'] });
    // An invalid override points at the value it replaces and says where it came from.
    assert.throws(
      () => loadConfig(file, { 'training.lr': 0 }),
      (e: unknown) => e instanceof ConfigValidationError && e.message === `${file}:8:7: training.lr must be > 0, got 0 (override training.lr=0)`,
    );
    assert.throws(
      () => loadConfig(file, { 'training.lerning_rate': 1 }),
      /override 'training.lerning_rate' is not a config key — did you mean 'training.lr'\?/,
    );
    // Warnings come back separately.
    const w = loadConfigWithWarnings(file, { 'training.lr': 0.5 });
    assert.deepEqual(lines(w.warnings), ['8:7 warning: training.lr 0.5 is unusually large for adamw (typical: 1e-5 to 1e-3) (override training.lr=0.5)']);
  });
});

describe('config: hash, locate, sweeps', () => {
  it('configHash ignores key order and formatting but not values', () => {
    const a = validateConfigText(`${MINIMAL}training:\n  lr: 3.0e-5\n  epochs: 2\n`, FILE).config!;
    const b = validateConfigText(
      `data:\n  train: data/train.txt\n  format: conll\ntraining: { epochs: 2, lr: 0.00003 }\nmodel:\n  from_scratch: {}\ntask: token-classification\n`,
      FILE,
    ).config!;
    const c = validateConfigText(`${MINIMAL}training:\n  lr: 4.0e-5\n  epochs: 2\n`, FILE).config!;
    assert.match(configHash(a), /^[0-9a-f]{64}$/);
    assert.equal(configHash(a), configHash(b));
    assert.notEqual(configHash(a), configHash(c));
    assert.equal(configHash(a), configHash(JSON.parse(JSON.stringify(a)) as ResolvedConfig));
  });

  it('locate maps dotted keys to value positions', () => {
    const text = `task: token-classification\ntraining:\n  lr: 3.0e-5\n  no_decay: [bias, LayerNorm.weight]\nsweep:\n  training.lr: [1.0e-5, 3.0e-5]\n`;
    assert.deepEqual(locate(text, 'task'), { line: 1, column: 7, endLine: 1, endColumn: 27 });
    assert.deepEqual(locate(text, 'training.lr'), { line: 3, column: 7, endLine: 3, endColumn: 13 });
    assert.deepEqual(locate(text, 'training.no_decay.1'), { line: 4, column: 20, endLine: 4, endColumn: 36 });
    assert.deepEqual(locate(text, 'sweep.training.lr'), { line: 6, column: 16, endLine: 6, endColumn: 32 });
    assert.deepEqual(locate(text, 'training'), { line: 2, column: 1, endLine: 2, endColumn: 9 });
    assert.equal(locate(text, 'training.epochs'), undefined);
    assert.equal(locate(text, 'nope'), undefined);
  });

  it('expandSweep builds the grid with readable names', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'conll-bert.finetune.yaml');
    const text = `${MINIMAL}sweep:\n  training.lr: [3.0e-5, 5.0e-5, 0.0001]\n  training.batch_size: [16, 32]\n`;
    fs.writeFileSync(file, text);
    const c = validateConfigText(text, file).config!;
    const runs = expandSweep(c, file);
    assert.equal(runs.length, 6);
    assert.deepEqual(
      runs.map((r) => r.name),
      [
        'conll-bert[lr=3e-05,batch_size=16]',
        'conll-bert[lr=3e-05,batch_size=32]',
        'conll-bert[lr=5e-05,batch_size=16]',
        'conll-bert[lr=5e-05,batch_size=32]',
        'conll-bert[lr=0.0001,batch_size=16]',
        'conll-bert[lr=0.0001,batch_size=32]',
      ],
    );
    assert.deepEqual(runs[3].overrides, { 'training.lr': 5e-5, 'training.batch_size': 32 });
    const single = validateConfigText(`${MINIMAL}sweep:\n  training.lr: [3.0e-5]\n`, file).config!;
    fs.writeFileSync(file, `${MINIMAL}sweep:\n  training.lr: [3.0e-5]\n`);
    assert.deepEqual(expandSweep(single, file), [{ overrides: { 'training.lr': 3e-5 }, name: 'conll-bert[lr=3e-05]' }]);
    // No sweep: one run, no overrides.
    assert.deepEqual(expandSweep(validateConfigText(MINIMAL, file).config!, file), [{ overrides: {}, name: 'conll-bert' }]);
    // Same last segment in two keys: the full key names them.
    const dup = validateConfigText(
      `${MINIMAL}sweep:\n  model.dropout: [0.1]\n  model.attention_dropout: [0.2]\n  data.max_length: [64]\n`,
      '/nowhere/x.finetune.yaml',
    ).config!;
    assert.deepEqual(
      expandSweep(dup, '/nowhere/x.finetune.yaml').map((r) => r.name),
      ['x[dropout=0.1,attention_dropout=0.2,max_length=64]'],
    );
  });

  it('expandSweep rejects combinations that break cross-field rules, pointing at the sweep value', () => {
    const dir = tmpDir();
    const file = path.join(dir, 's.finetune.yaml');
    const text = `${MINIMAL.replace('from_scratch: {}', 'from_scratch: { hidden: 256 }')}sweep:\n  model.from_scratch.heads: [4, 3]\n`;
    fs.writeFileSync(file, text);
    const c = validateConfigText(text, file).config!;
    assert.throws(
      () => expandSweep(c, file),
      (e: unknown) =>
        e instanceof ConfigValidationError &&
        e.message ===
          `${file}:8:33: sweep run 's[heads=3]': model.from_scratch.hidden (256) must be divisible by model.from_scratch.heads (3) (sweep model.from_scratch.heads=3)`,
    );
  });
});

describe('config: schema and examples', () => {
  it('the schema compiles as draft-07 and every property has a description', () => {
    const ajv = new Ajv({ strict: false });
    assert.ok(ajv.validateSchema(CONFIG_SCHEMA), JSON.stringify(ajv.errors));
    const missing: string[] = [];
    const walk = (s: JsonSchema, at: string) => {
      if (!s.description) missing.push(at);
      for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, at ? `${at}.${k}` : k);
      (s.anyOf ?? []).forEach((b, i) => walk(b, `${at}<${i}>`));
      if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${at}.*`);
    };
    walk(CONFIG_SCHEMA, '');
    assert.deepEqual(missing, []);
    const closed: string[] = [];
    const walkClosed = (s: JsonSchema, at: string) => {
      // The sweep block is open by design: besides its settings, every key is a swept config key (checked by sweepIssues).
      if (s.type === 'object' && s.properties && s.additionalProperties !== false && at !== '.sweep') closed.push(at);
      for (const [k, sub] of Object.entries(s.properties ?? {})) walkClosed(sub, `${at}.${k}`);
      (s.anyOf ?? []).forEach((b) => walkClosed(b, at));
    };
    walkClosed(CONFIG_SCHEMA, '');
    assert.deepEqual(closed, []);
    const t = CONFIG_SCHEMA.properties!.training.properties!;
    assert.equal(t.lr.default, 5e-5);
    assert.equal(t.batch_size.default, 16);
    assert.deepEqual(t.no_decay.default, ['bias', 'LayerNorm.weight']);
  });

  for (const rel of ['examples/ner/ner.finetune.yaml', 'examples/textcls/textcls.finetune.yaml']) {
    it(`${rel} parses without errors or warnings`, () => {
      const file = path.join(ROOT, rel);
      const r = validateConfigText(fs.readFileSync(file, 'utf8'), file);
      assert.deepEqual(r.errors, []);
      assert.ok(r.config);
      assert.equal(r.config.data.train, path.join(path.dirname(file), r.config.data.format === 'conll' ? 'data/train.txt' : 'data/train.jsonl'));
      assert.ok(r.config.data.validation && r.config.data.test);
    });
  }

  it('the NER example trains from scratch on CoNLL data', () => {
    const file = path.join(ROOT, 'examples/ner/ner.finetune.yaml');
    const c = validateConfigText(fs.readFileSync(file, 'utf8'), file).config!;
    assert.equal(c.task, 'token-classification');
    assert.equal(c.data.format, 'conll');
    assert.ok(c.model.fromScratch);
    assert.equal(c.model.pretrained, undefined);
  });
});

describe('config: sweep search spaces', () => {
  it('resolves distributions and the settings, with metric and mode from evaluation.metric', () => {
    const text = `${MINIMAL}evaluation: { metric: loss }
sweep:
  method: tpe
  budget: 12
  seed: 5
  early_termination: { type: asha, min_steps: 50 }
  training.lr: { loguniform: [1.0e-5, 1.0e-3] }
  training.warmup_ratio: { uniform: [0.0, 0.2] }
  training.epochs: { int: [2, 5] }
  model.dropout: { choice: [0.1, 0.2] }
  training.batch_size: [16, 32]
`;
    const c = validateConfigText(text, FILE);
    assert.deepEqual(c.errors, []);
    assert.deepEqual(c.config!.sweep, {
      method: 'tpe',
      budget: 12,
      seed: 5,
      metric: 'loss',
      mode: 'min',
      earlyTermination: { type: 'asha', minSteps: 50, reductionFactor: 4, minEarlyStoppingRate: 0, bootstrapCount: 0 },
      parameters: {
        'training.lr': { kind: 'loguniform', low: 1e-5, high: 1e-3 },
        'training.warmup_ratio': { kind: 'uniform', low: 0, high: 0.2 },
        'training.epochs': { kind: 'int', low: 2, high: 5, log: false },
        'model.dropout': { kind: 'choice', values: [0.1, 0.2] },
        'training.batch_size': { kind: 'choice', values: [16, 32] },
      },
    });
    // An integer seed is the sampler's; a list sweeps the config's seed (the grid shape of before).
    const seeds = validateConfigText(`${MINIMAL}seed: 9\nsweep:\n  seed: [1, 2]\n`, FILE).config!.sweep!;
    assert.deepEqual(seeds.parameters, { seed: { kind: 'choice', values: [1, 2] } });
    assert.equal(seeds.seed, 9);
  });

  it('bad distributions and settings are errors at file:line', () => {
    assert.deepEqual(
      check(`${MINIMAL}sweep:
  method: random
  training.lr: { uniform: [1.0e-3, 1.0e-5] }
  training.warmup_ratio: { uniform: [0.0, 2.0] }
  training.batch_size: { uniform: [8, 64] }
  model.dropout: { uniform: [0.1, 0.2], choice: [0.1] }
  training.gradient_accumulation: { int: [0, 3], log: true }
  metod: tpe
`),
      [
        '8:11 a random sweep needs a budget: the number of trials (e.g. budget: 20)',
        '9:27 uniform needs low < high, got [0.001, 0.00001]',
        "10:43 sweep['training.warmup_ratio'].uniform[1] must be < 1, got 2",
        "11:35 'training.batch_size' takes integers: use {int: [8, 64]} instead of uniform",
        "12:18 sweep key 'model.dropout' needs exactly one of choice, uniform, loguniform, int, got choice and uniform",
        '13:42 int with log needs low >= 1, got 0',
        "13:43 sweep['training.gradient_accumulation'].int[0] must be >= 1, got 0",
        "14:3 sweep key 'metod' is not a config key — did you mean 'sweep.method'? (the sweep's own settings: method, budget, metric, mode, early_termination, concurrency, executor, slurm, seed)",
        "14:10 sweep.metod must be a list or a mapping, got string 'tpe'",
      ],
    );
  });

  it('a grid takes lists and int ranges, at most budget of them; random and TPE sweeps are not queued as a grid', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'g.finetune.yaml');
    const grid = `${MINIMAL}sweep:\n  budget: 5\n  training.epochs: { int: [1, 3] }\n  training.batch_size: { choice: [16, 32] }\n`;
    fs.writeFileSync(file, grid);
    const runs = expandSweep(validateConfigText(grid, file).config!, file);
    assert.deepEqual(
      runs.map((r) => r.name),
      ['g[epochs=1,batch_size=16]', 'g[epochs=1,batch_size=32]', 'g[epochs=2,batch_size=16]', 'g[epochs=2,batch_size=32]', 'g[epochs=3,batch_size=16]'],
    );
    assert.match(
      check(`${MINIMAL}sweep:\n  training.lr: { loguniform: [1.0e-5, 1.0e-3] }\n`).join('\n'),
      /^8:\d+ a grid sweep needs lists of values; loguniform ranges are for method: random or tpe$/,
    );
    const tpe = `${MINIMAL}sweep:\n  method: tpe\n  budget: 4\n  training.lr: { loguniform: [1.0e-5, 1.0e-3] }\n`;
    fs.writeFileSync(file, tpe);
    assert.throws(
      () => expandSweep(validateConfigText(tpe, file).config!, file),
      /g\.finetune\.yaml:8:11: a tpe sweep draws its trials one after another: run it with `finetune sweep g\.finetune\.yaml`/,
    );
  });
});
