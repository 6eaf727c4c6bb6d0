// data.format: parquet. The fixtures (test/fixtures/parquet/) were written by the Hugging Face
// `datasets` library (scripts/parquet_reference.py) from the first sentences / records of the
// bundled examples: read here, they must give the same examples as the CoNLL / JSON Lines they came
// from, with the label names of their ClassLabel metadata; and tiny runs train from them.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { TrainerEvent } from '../src/shared/protocol';
import { loadConfig } from '../src/shared/config/config';
import { parquetRowText } from '../src/shared/parquetRow';
import { readConll } from '../src/trainer/data/conll';
import { readParquetTexts, readParquetTokens } from '../src/trainer/data/parquet';
import { readJsonl } from '../src/trainer/data/textcls';
import { train } from '../src/trainer/train/trainer';
import { sentencesOf } from './helpers/tinyrun';

const ROOT = path.resolve(__dirname, '..');
const FIX = path.join(ROOT, 'test/fixtures/parquet');
const fx = (name: string) => path.join(FIX, `${name}.parquet`);
const TAG_NAMES = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
const CLASS_NAMES = ['weather', 'sports', 'politics', 'business'];

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-parquet-'));
}

async function conllOf(file: string, n: number) {
  const f = path.join(tmpDir(), 'data.txt');
  fs.writeFileSync(f, sentencesOf(file, n));
  return (await readConll(f)).sentences.map((s) => ({ words: s.words, tags: s.tags }));
}

async function jsonlOf(file: string, n: number) {
  const f = path.join(tmpDir(), 'data.jsonl');
  fs.writeFileSync(f, fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n').slice(0, n).join('\n') + '\n');
  return (await readJsonl(f)).map((e) => ({ text: e.text, label: e.label }));
}

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
}

describe('parquet: reading', () => {
  it('token classification: the same sentences as the CoNLL they came from, tag names from the ClassLabel metadata, rows as lines', async () => {
    const r = await readParquetTokens(fx('ner-train'));
    assert.deepEqual(r.names, TAG_NAMES);
    assert.equal(r.scheme, 'IOB2');
    assert.deepEqual(
      r.sentences.map((s) => ({ words: s.words, tags: s.tags })),
      await conllOf('examples/ner/data/train.txt', 60),
    );
    assert.deepEqual(
      r.sentences.slice(0, 3).map((s) => [s.line, s.tokenLines[0]]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    );
    const dev = await conllOf('examples/ner/data/dev.txt', 20);
    assert.deepEqual(
      (await readParquetTokens(fx('ner-dev'))).sentences.map((s) => ({ words: s.words, tags: s.tags })),
      dev,
    );
    // tags written as strings (no ClassLabel): the same, and no names
    const strings = await readParquetTokens(fx('ner-dev-strings'));
    assert.equal(strings.names, undefined);
    assert.deepEqual(
      strings.sentences.map((s) => ({ words: s.words, tags: s.tags })),
      dev,
    );
  });

  it('tags in another scheme are read as IOB2, as from CoNLL; a tag that is no tag names its row', async () => {
    const r = await readParquetTokens(fx('ner-bioes'));
    assert.equal(r.scheme, 'BIOES');
    assert.deepEqual(r.sentences[0].tags, ['B-PER', 'I-PER', 'O', 'O', 'B-LOC']);
    await rejects(readParquetTokens(fx('ner-bad-tag')), /ner-bad-tag\.parquet: row 2: 'ner_tags' token 1: invalid tag 'LOC'/);
    await rejects(readParquetTokens(fx('ner-bioes'), { scheme: 'IOB2' }), /row 1: 'ner_tags' token 2: tag 'E-PER' is not allowed in the IOB2 scheme/);
  });

  it('sequence classification: the same records as the JSON Lines, snappy and zstd, label names from the ClassLabel', async () => {
    const r = await readParquetTexts(fx('cls-train')); // snappy
    assert.deepEqual(r.names, CLASS_NAMES);
    assert.deepEqual(
      r.examples.map((e) => ({ text: e.text, label: e.label })),
      await jsonlOf('examples/textcls/data/train.jsonl', 60),
    );
    assert.deepEqual(
      r.examples.slice(0, 2).map((e) => e.line),
      [1, 2],
    );
    const dev = await readParquetTexts(fx('cls-dev')); // zstd
    assert.deepEqual(
      dev.examples.map((e) => ({ text: e.text, label: e.label })),
      await jsonlOf('examples/textcls/data/dev.jsonl', 20),
    );
  });

  it('integer labels without names are an error naming file, row and the labels: key; with names they read', async () => {
    const f = fx('cls-int-no-names');
    await rejects(readParquetTexts(f), /cls-int-no-names\.parquet: row 1: column 'label' is the integer 1 .*'labels:'/);
    const named = await readParquetTexts(f, { names: CLASS_NAMES });
    assert.deepEqual(
      named.examples.map((e) => e.label),
      (await readParquetTexts(fx('cls-dev'))).examples.map((e) => e.label),
    );
    await rejects(readParquetTexts(f, { names: ['a'] }), /row 1: column 'label' 1 is out of range: there are 1 label names/);
  });

  it('one row as text (what the editor shows for a Parquet example): its fields, ClassLabel names beside integer labels; a row past the end is an error', async () => {
    const ner = path.join(FIX, 'ner-train.parquet');
    const { sentences } = await readParquetTokens(ner);
    const s = sentences[1];
    const text = await parquetRowText(ner, s.line);
    assert.match(text, new RegExp(`^# .*ner-train\\.parquet\\n# row ${s.line} of 60 `));
    assert.ok(text.includes(`\ntokens: ${JSON.stringify(s.words)}\n`), text);
    assert.match(text, new RegExp(`\\nner_tags: \\[[\\d,]+\\]  # ${s.tags.join(' ')}\\n`));
    const cls = path.join(FIX, 'cls-train.parquet');
    const first = (await readParquetTexts(cls)).examples[0];
    assert.ok((await parquetRowText(cls, 1)).includes(`\ntext: ${JSON.stringify(first.text)}\nlabel: `), 'the row the example came from');
    assert.match(await parquetRowText(cls, 1), new RegExp(`\\nlabel: \\d+  # ${first.label}\\n`));
    await assert.rejects(parquetRowText(cls, 61), /cls-train\.parquet has 60 rows; there is no row 61/);
  });

  it('a missing column, wrong types, mismatched lengths, a file that is not Parquet: errors naming file and row', async () => {
    await rejects(readParquetTexts(fx('cls-no-text')), /cls-no-text\.parquet: missing column 'text' \(columns found: 'sentence', 'label'\)/);
    await rejects(readParquetTexts(fx('cls-no-text'), { textColumn: 'sentence', labelColumn: 'nope' }), /missing column 'nope'/);
    await rejects(readParquetTokens(fx('ner-tokens-string')), /ner-tokens-string\.parquet: row 1: column 'tokens' must be a list of strings, found a string/);
    await rejects(readParquetTokens(fx('ner-length-mismatch')), /ner-length-mismatch\.parquet: row 1: 14 tokens in 'tokens' but 13 tags in 'ner_tags'/);
    await rejects(readParquetTokens(fx('cls-dev')), /missing column 'tokens'/);
    await rejects(readParquetTexts(fx('ner-dev')), /missing column 'text'/);
    await rejects(
      readParquetTexts(fx('ner-dev'), { textColumn: 'tokens', labelColumn: 'id' }),
      /ner-dev\.parquet: row 1: column 'tokens' must be a string, found a list/,
    );
    const notParquet = path.join(tmpDir(), 'x.parquet');
    fs.writeFileSync(notParquet, 'text,label\na,b\n');
    await rejects(readParquetTexts(notParquet), /x\.parquet: not a readable Parquet file/);
    await rejects(readParquetTexts(path.join(tmpDir(), 'none.parquet')), /none\.parquet: file not found/);
  });
});

const quiet = (_e: TrainerEvent) => {};

function workspace(yaml: string): string {
  const dir = tmpDir();
  const config = path.join(dir, 'pq.finetune.yaml');
  fs.writeFileSync(config, yaml.replaceAll('FIX', FIX));
  return config;
}

const TINY = `model:
  from_scratch: { layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 64, min_frequency: 2 }
training: { epochs: 1, batch_size: 8, lr: 2.0e-3 }
threads: 1
seed: 7
`;

describe('parquet: training', () => {
  it('token classification trains from Parquet; the labels are the ClassLabel names in their order', async () => {
    const config = workspace(
      `task: token-classification\ndata:\n  format: parquet\n  train: FIX/ner-train.parquet\n  validation: FIX/ner-dev.parquet\n  test: FIX/ner-dev-strings.parquet\n  max_length: 48\n${TINY}`,
    );
    const runDir = path.join(path.dirname(config), 'run');
    const r = await train({ config: loadConfig(config), runDir, emit: quiet });
    assert.equal(r.status, 'completed');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runDir, 'labels.json'), 'utf8')).labels, TAG_NAMES);
    const log = fs.readFileSync(path.join(runDir, 'train.log'), 'utf8');
    assert.match(log, /60 training sentences .*ClassLabel names/);
  });

  it('sequence classification trains from Parquet; integer labels without names need labels:', async () => {
    const config = workspace(
      `task: sequence-classification\ndata:\n  format: parquet\n  train: FIX/cls-train.parquet\n  validation: FIX/cls-dev.parquet\n  max_length: 32\n${TINY}`,
    );
    const runDir = path.join(path.dirname(config), 'run');
    const r = await train({ config: loadConfig(config), runDir, emit: quiet });
    assert.equal(r.status, 'completed');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runDir, 'labels.json'), 'utf8')).labels, CLASS_NAMES);

    const bad = workspace(`task: sequence-classification\ndata:\n  format: parquet\n  train: FIX/cls-int-no-names.parquet\n  max_length: 32\n${TINY}`);
    await rejects(
      train({ config: loadConfig(bad), runDir: path.join(path.dirname(bad), 'run'), emit: quiet }),
      /cls-int-no-names\.parquet: row 1: .*'labels:'/,
    );
    const named = workspace(
      `task: sequence-classification\nlabels: [${CLASS_NAMES.join(', ')}]\ndata:\n  format: parquet\n  train: FIX/cls-int-no-names.parquet\n  max_length: 32\n${TINY}`,
    );
    const ok = await train({ config: loadConfig(named), runDir: path.join(path.dirname(named), 'run'), emit: quiet });
    assert.equal(ok.status, 'completed');
  });
});
