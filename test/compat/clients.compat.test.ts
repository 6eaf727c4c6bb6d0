// The compatibility layer: what we write and read, judged by the real Python clients (Transformers,
// tokenizers, onnx, onnxruntime, TensorBoard, huggingface_hub, datasets) in the pinned venv of
// test/compat/requirements.txt. Run with `npm run test:compat` (CI: after `npm test`). Without the
// environment (no python3, no reachable package index) the whole layer is one skipped test saying why.
//
// Tolerances: logits and losses within 1e-5 of their scale (float32 on both sides, different
// summation orders; observed ~1e-7..1e-6).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResolvedConfig } from '../../src/shared/config/config';
import { readMetrics, readRunInfo } from '../../src/shared/run';
import { loadConfig } from '../../src/shared/config/config';
import { resolveHubDatasetSplit } from '../../src/trainer/hub/dataset';
import { hubEnv } from '../../src/trainer/hub/env';
import { resolveHubModel } from '../../src/trainer/hub/resolve';
import { readExported } from '../../src/trainer/predict';
import { loadRunData } from '../../src/trainer/train/dataset';
import { commitOf, HubServer } from '../helpers/hubserver';
import { sentencesOf } from '../helpers/tinyrun';
import { compatPython, finetune, finetuneAsync, inParallel, py, ROOT } from './pyenv';

const ARCHS = ['bert', 'distilbert', 'roberta'] as const;
const TASKS = ['token-classification', 'sequence-classification'] as const;
const PEFTS = ['full', 'lora'] as const;
const MAX_LENGTH = 128;

const env = compatPython();
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-compat-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** The data of the runs: the first sentences / records of the bundled examples. */
function writeData(): void {
  fs.mkdirSync(path.join(TMP, 'data'));
  const sizes = { train: 32, dev: 12, test: 12 };
  for (const [split, n] of Object.entries(sizes)) {
    fs.writeFileSync(path.join(TMP, 'data', `${split}.txt`), sentencesOf(`examples/ner/data/${split}.txt`, n));
    const lines = fs
      .readFileSync(path.join(ROOT, 'examples', 'textcls', 'data', `${split}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean);
    fs.writeFileSync(path.join(TMP, 'data', `${split}.jsonl`), lines.slice(0, n).join('\n') + '\n');
  }
}

interface RunCase {
  name: string;
  arch: (typeof ARCHS)[number];
  task: (typeof TASKS)[number];
  peft: (typeof PEFTS)[number];
  runDir: string;
}

function trainRun(c: RunCase, pretrained: string): Promise<string> {
  const token = c.task === 'token-classification';
  const ext = token ? 'txt' : 'jsonl';
  const config = path.join(TMP, `${c.name}.finetune.yaml`);
  fs.writeFileSync(
    config,
    `name: ${c.name}
task: ${c.task}
model:
  pretrained: ${JSON.stringify(path.join(pretrained, c.arch))}
  dropout: 0.1
  peft: ${c.peft === 'lora' ? '{ lora: { rank: 4, alpha: 8, dropout: 0, targets: [query, value] } }' : 'none'}
data:
  format: ${token ? 'conll' : 'jsonl'}
  train: data/train.${ext}
  validation: data/dev.${ext}
  test: data/test.${ext}
  max_length: ${MAX_LENGTH}
  overflow: truncate
training:
  epochs: 2
  batch_size: 8
  lr: ${c.peft === 'lora' ? '2.0e-2' : '5.0e-3'}
evaluation: { every: epoch, metric: accuracy }
threads: 1
seed: 3
`,
  );
  return finetuneAsync(['train', config, '--run-dir', c.runDir, '--threads', '1', '--no-progress']);
}

type Checks = Record<string, string[]>;

/** What check_runs.py needs of a run: the test split as `finetune eval` encodes it, its record, predictions. */
async function specOf(c: RunCase): Promise<Record<string, unknown>> {
  const x = readExported(c.runDir);
  const data = await loadRunData(readRunInfo(c.runDir).config as ResolvedConfig, x.tokenizerDir, x.labels.labels);
  const test = data.test!;
  assert.equal(test.features.length, test.examples.length, `${c.name}: every test example fits in one window`);
  const evalRecord = JSON.parse((await finetuneAsync(['eval', c.runDir, '--json', '--threads', '1'])).trim().split('\n').pop()!) as unknown;
  const examples =
    data.task === 'token-classification'
      ? data.test!.examples.map((e) => ({ words: e.words, tags: e.tags }))
      : data.test!.examples.map((e) => ({ text: e.text, label: e.label }));
  // Two test sentences as one text: `finetune predict` and the pipeline each split it into words.
  const predict = [];
  if (data.task === 'token-classification') {
    const text = data
      .test!.examples.slice(0, 2)
      .flatMap((e) => e.words)
      .join(' ');
    const p = JSON.parse((await finetuneAsync(['predict', c.runDir, text, '--json', '--threads', '1'])).trim()) as { entities: unknown[] };
    predict.push({ text, entities: p.entities });
  }
  return {
    name: c.name,
    runDir: c.runDir,
    task: c.task,
    labels: x.labels.labels,
    examples,
    ourIds: test.features.map((f) => f.inputIds),
    eval: evalRecord,
    predict,
  };
}

if ('skip' in env) {
  // The one line: TAP's `ok 1 - compatibility layer … # SKIP <why>`, counted in `# skipped`.
  it('compatibility layer (Transformers, tokenizers, TensorBoard, huggingface_hub, datasets)', { skip: env.skip }, () => {});
} else {
  const pretrained = path.join(TMP, 'pretrained');
  const runs: RunCase[] = [];
  for (const arch of ARCHS)
    for (const task of TASKS)
      for (const peft of PEFTS) {
        const name = `${arch}-${task === 'token-classification' ? 'token' : 'sequence'}-${peft}`;
        runs.push({ name, arch, task, peft, runDir: path.join(TMP, 'runs', name) });
      }
  let results: Record<string, Checks> = {};

  describe('Transformers loads what we write (runs fine-tuned from checkpoints Transformers saved)', () => {
    before(async () => {
      writeData();
      await py('pretrained.py', [pretrained]);
      // Two at a time (one thread each): the cores of a CI machine.
      await inParallel(
        runs.map((c) => () => trainRun(c, pretrained)),
        2,
      );
      const specs = await inParallel(
        runs.map((c) => () => specOf(c)),
        2,
      );
      const specFile = path.join(TMP, 'runs.json');
      fs.writeFileSync(specFile, JSON.stringify(specs));
      results = await py<Record<string, Checks>>('check_runs.py', [specFile]);
    });

    for (const c of runs)
      describe(c.name, () => {
        const checks: [string, string][] = [
          ['from_pretrained', 'from_pretrained loads checkpoints/best and last: no missing, unexpected or mismatched keys; id2label = our labels'],
          ['tokenizer', "AutoTokenizer (fast) loads the run's tokenizer/ and gives our input ids"],
          ['onnx_logits', 'model.onnx in onnxruntime gives Transformers’ logits (best checkpoint) within 1e-5'],
          ['eval', '`finetune eval` loss and accuracy equal those of Transformers’ logits within 1e-5'],
          ['onnx_checker', 'model.onnx passes onnx.checker.check_model(full_check=True)'],
        ];
        if (c.task === 'token-classification')
          checks.push(['pipeline', 'pipeline("token-classification", aggregation_strategy="first") finds the entities `finetune predict` finds']);
        for (const [key, what] of checks)
          it(what, () => {
            const problems = results[c.name]?.[key];
            assert.ok(problems, `check_runs.py reported no '${key}' for ${c.name}`);
            assert.deepEqual(problems, []);
          });
      });
  });

  describe('TensorBoard reads our event files', () => {
    it('EventAccumulator finds every scalar of metrics.jsonl (train, validation and test records) at its step and value, and no other', async () => {
      const { dir } = writeTinyNer('from_scratch: { layers: 1, hidden: 16, heads: 2, intermediate: 32, max_positions: 64 }', {
        data: 'format: conll\n  train: train.txt\n  validation: train.txt\n  test: train.txt',
        training: '{ epochs: 2, batch_size: 4, logging_steps: 1 }',
      });
      const runDir = path.join(dir, 'run');
      await finetuneAsync(['train', path.join(dir, 'tiny.finetune.yaml'), '--run-dir', runDir, '--threads', '1']);
      const records = readMetrics(runDir);
      assert.deepEqual([...new Set(records.map((r) => (r.type === 'eval' ? r.split : r.type)))], ['train', 'validation', 'test']);
      const metrics = path.join(dir, 'metrics.json');
      fs.writeFileSync(metrics, JSON.stringify(records));
      assert.deepEqual(await py<string[]>('tensorboard_check.py', [path.join(runDir, 'tensorboard'), metrics]), []);
    });
  });

  describe('One Hugging Face cache for both languages (the Hub-compatible server of test/helpers/hubserver.ts)', () => {
    const MODEL = 'org/tiny-bert';
    const DATASET = 'org/tiny-ner';
    const fixture = path.join(ROOT, 'test', 'fixtures', 'hf-tiny-bert');
    const server = new HubServer({
      [MODEL]: {
        commit: commitOf('compat-tiny-bert'),
        files: Object.fromEntries(fs.readdirSync(fixture).map((f) => [f, fs.readFileSync(path.join(fixture, f))])),
      },
      [`datasets/${DATASET}`]: {
        commit: commitOf('compat-tiny-ner'),
        refs: ['refs/convert/parquet'],
        files: {
          'default/train/0000.parquet': fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'parquet', 'ner-train.parquet')),
          'README.md': Buffer.from('# tiny\n'),
        },
      },
    });
    before(() => server.start());
    after(() => server.stop());
    const pyEnv = (cache: string) => ({
      HF_ENDPOINT: server.url,
      HF_HUB_CACHE: cache,
      HF_HOME: path.join(TMP, 'py-hf-home'),
      HF_HUB_OFFLINE: undefined,
      HF_TOKEN: undefined,
    });

    it('what huggingface_hub downloads (snapshot_download), our trainer trains from with HF_HUB_OFFLINE=1', async () => {
      const cache = path.join(TMP, 'cache-python');
      const got = await py<{ snapshot: string; files: string[] }>('hub_check.py', ['download', MODEL, cache], pyEnv(cache));
      assert.deepEqual(got.files, fs.readdirSync(fixture).sort());
      const seen = server.seen.length;
      // the checkpoint has 32 positions (a longer max_length is a config error)
      const { dir } = writeTinyNer(`pretrained: ${MODEL}`, { maxLength: 32 });
      const runDir = path.join(dir, 'run');
      finetune(['train', path.join(dir, 'tiny.finetune.yaml'), '--run-dir', runDir, '--threads', '1'], {
        HF_HUB_CACHE: cache,
        HF_HOME: path.join(dir, 'home'),
        HF_HUB_OFFLINE: '1',
        HF_ENDPOINT: server.url,
      });
      assert.equal(server.seen.length, seen, 'offline: no request to the Hub');
      assert.equal(readRunInfo(runDir).status, 'completed');
      assert.match(fs.readFileSync(path.join(runDir, 'train.log'), 'utf8'), new RegExp(got.snapshot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    });

    it('what our trainer downloads, scan_cache_dir reports complete and snapshot_download(local_files_only=True) returns', async () => {
      const home = path.join(TMP, 'home-node');
      const snapshot = await resolveHubModel(MODEL, { env: hubEnv({ HF_HOME: home, HF_ENDPOINT: server.url }) });
      const files = Object.fromEntries(fs.readdirSync(snapshot).map((f) => [f, path.join(snapshot, f)]));
      const spec = path.join(TMP, 'hub-model-files.json');
      fs.writeFileSync(spec, JSON.stringify({ snapshot, files }));
      const cache = path.join(home, 'hub');
      assert.deepEqual(await py<string[]>('hub_check.py', ['verify', 'model', MODEL, 'main', cache, spec], { ...pyEnv(cache), HF_HUB_OFFLINE: '1' }), []);
    });

    it('a data.hub dataset split our trainer downloads is where huggingface_hub looks for it', async () => {
      const home = path.join(TMP, 'home-node-datasets');
      const paths = await resolveHubDatasetSplit(DATASET, 'train', { env: hubEnv({ HF_HOME: home, HF_ENDPOINT: server.url }) });
      assert.equal(paths.length, 1);
      const snapshot = path.resolve(paths[0], '..', '..', '..');
      const spec = path.join(TMP, 'hub-dataset-files.json');
      fs.writeFileSync(spec, JSON.stringify({ snapshot, files: { 'default/train/0000.parquet': paths[0] } }));
      const cache = path.join(home, 'hub');
      assert.deepEqual(
        await py<string[]>('hub_check.py', ['verify', 'dataset', DATASET, 'refs/convert/parquet', cache, spec], { ...pyEnv(cache), HF_HUB_OFFLINE: '1' }),
        [],
      );
    });
  });

  describe('Parquet written by Hugging Face datasets', () => {
    const out = path.join(TMP, 'parquet');
    let ref: { names: Record<'ner' | 'cls', string[]>; rows: Record<string, Record<string, unknown>[]> };
    before(async () => {
      ref = await py('parquet_check.py', [out]);
    });

    for (const kind of ['ner', 'cls'] as const)
      it(`${kind === 'ner' ? 'token' : 'sequence'} classification: our trainer reads the ClassLabel names in their order, and the rows load_dataset("parquet") gives`, async () => {
        const { dir } = writeTinyNer('from_scratch: { layers: 1, hidden: 16, heads: 2, intermediate: 32, max_positions: 64 }', {
          task: kind === 'ner' ? 'token-classification' : 'sequence-classification',
          data: `format: parquet\n  train: ${JSON.stringify(path.join(out, `${kind}-train.parquet`))}\n  test: ${JSON.stringify(path.join(out, `${kind}-test.parquet`))}`,
        });
        const data = await loadRunData(loadConfig(path.join(dir, 'tiny.finetune.yaml')));
        assert.deepEqual(data.labels, ref.names[kind]);
        for (const split of ['train', 'test'] as const) {
          const rows =
            data.task === 'token-classification'
              ? data[split]!.examples.map((e) => ({ words: e.words, tags: e.tags }))
              : data[split]!.examples.map((e) => ({ text: e.text, label: e.label }));
          assert.deepEqual(rows, ref.rows[`${kind}-${split}.parquet`]);
        }
      });
  });
}

/** A tiny NER config (CoNLL data of the examples unless `o.data` says otherwise) with this `model:` body. */
function writeTinyNer(model: string, o: { task?: string; data?: string; training?: string; maxLength?: number } = {}): { dir: string } {
  const dir = fs.mkdtempSync(path.join(TMP, 'tiny-'));
  fs.writeFileSync(path.join(dir, 'train.txt'), sentencesOf('examples/ner/data/train.txt', 8));
  fs.writeFileSync(
    path.join(dir, 'tiny.finetune.yaml'),
    `name: tiny
task: ${o.task ?? 'token-classification'}
model:
  ${model}
data:
  ${o.data ?? 'format: conll\n  train: train.txt'}
  max_length: ${o.maxLength ?? 48}
training: ${o.training ?? '{ epochs: 1, batch_size: 8 }'}
threads: 1
seed: 1
`,
  );
  return { dir };
}
