// A fuzz test of the readers: thousands of mutated inputs (seeded, so every run sees the same ones)
// for CoNLL, JSON Lines, CSV, Parquet, the YAML config and a safetensors header. Each input is
// either read or refused with an error that names the file (and line, row or offset) — never a
// crash, a hang, a raw stack trace or an internal error type (TypeError, RangeError, …).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { validateConfigText } from '../src/shared/config/config';
import { readConll } from '../src/trainer/data/conll';
import { readParquetTexts, readParquetTokens } from '../src/trainer/data/parquet';
import { readCsv, readJsonl } from '../src/trainer/data/textcls';
import { parseSafetensors } from '../src/trainer/io/safetensors';
import { rng } from '../src/shared/rng'; // seeded (mulberry32): a failure replays from its index

const ROOT = path.resolve(path.dirname(__filename), '..');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-fuzz-'));
/** Inputs per reader; the whole file stays well under a minute on 2 cores. */
const N = 500;

const SPECIAL = [
  '\uFEFF',
  '\0',
  '\u00a0',
  '\u200b',
  '\r',
  '\n',
  '\t',
  '"',
  ',',
  '{',
  '}',
  '[',
  ':',
  '-',
  '1e999',
  '-0',
  '99999999999999999999',
  'NaN',
  '\\u0000',
  '\uD800',
  '__proto__',
  '---\n',
  '&a',
  '*a',
  '!!js/function',
];

/** One mutation of `base`: byte flips, a truncation, an inserted special string or random bytes, a duplicated slice. */
function mutate(base: Uint8Array, r: () => number): Uint8Array {
  let b = Buffer.from(base);
  const pos = () => Math.floor(r() * (b.length + 1));
  const rounds = 1 + Math.floor(r() * 3);
  for (let k = 0; k < rounds; k++) {
    switch (Math.floor(r() * 5)) {
      case 0: {
        b = Buffer.from(b);
        for (let i = 0; i < 1 + r() * 4; i++) if (b.length) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
        break;
      }
      case 1:
        b = b.subarray(0, pos());
        break;
      case 2: {
        const at = pos();
        b = Buffer.concat([b.subarray(0, at), Buffer.from(SPECIAL[Math.floor(r() * SPECIAL.length)]), b.subarray(at)]);
        break;
      }
      case 3: {
        const at = pos();
        const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
        b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
        break;
      }
      default: {
        const s = pos();
        const e = Math.min(b.length, s + Math.floor(r() * 64));
        b = Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]);
      }
    }
  }
  return b;
}

/** An error a user may see: names `where` first, and is no internal error type or stack trace. */
function assertClear(e: unknown, where: string, input: Uint8Array, i: number): void {
  const replay = `input ${i}: ${JSON.stringify(Buffer.from(input).toString('latin1').slice(0, 300))}`;
  assert.ok(e instanceof Error, `${replay}: threw a non-Error ${String(e)}`);
  assert.ok(['Error', 'DataError', 'ConfigValidationError'].includes(e.name), `${replay}: ${e.name}: ${e.message}`);
  assert.ok(e.message.startsWith(where), `${replay}: the message does not start with ${where}: ${e.message}`);
  assert.ok(!/\n\s+at |Cannot read propert|is not a function|undefined|\[object /.test(e.message), `${replay}: internal detail in: ${e.message}`);
}

async function fuzzFile(name: string, base: Uint8Array, read: (file: string) => Promise<unknown>, seed: number): Promise<{ read: number; refused: number }> {
  const file = path.join(DIR, name);
  const r = rng(seed);
  let ok = 0;
  let refused = 0;
  for (let i = 0; i < N; i++) {
    const input = mutate(base, r);
    fs.writeFileSync(file, input);
    try {
      await read(file);
      ok++;
    } catch (e) {
      assertClear(e, file, input, i);
      refused++;
    }
  }
  return { read: ok, refused };
}

const CONLL = '-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\nGerman JJ B-MISC\ncall NN O\n\nPeter NNP B-PER\nBlackburn NNP I-PER\n';
const JSONL =
  '{"text": "the match ended 2-1", "label": "sports"}\n{"text": "shares fell", "label": "business"}\n\n{"text": "a \\"quoted\\" word", "label": 3}\n';
const CSV = 'id,text,label\n1,the match ended,sports\n2,"shares fell, again",business\n3,"a ""quoted""\nline",sports\n';
const CONFIG = `# a config
name: fuzz
task: token-classification
model:
  from_scratch: {layers: 1, hidden: 32, heads: 2}
data:
  format: conll
  train: train.txt
  max_length: 64
training:
  epochs: 2
  lr: 1.0e-3
  batch_size: 8
evaluation:
  metric: f1
sweep:
  training.lr: [1.0e-3, 3.0e-4]
`;

describe('fuzz: mutated inputs are read or refused with file and line, never a crash', () => {
  it('CoNLL', async () => {
    const n = await fuzzFile('train.txt', Buffer.from(CONLL), (f) => readConll(f), 1);
    assert.ok(n.read > 0 && n.refused > 0, `both outcomes occur: ${JSON.stringify(n)}`);
  });
  it('JSON Lines', async () => {
    const n = await fuzzFile('train.jsonl', Buffer.from(JSONL), (f) => readJsonl(f), 2);
    assert.ok(n.read > 0 && n.refused > 0, JSON.stringify(n));
  });
  it('CSV', async () => {
    const n = await fuzzFile('train.csv', Buffer.from(CSV), (f) => readCsv(f), 3);
    assert.ok(n.read > 0 && n.refused > 0, JSON.stringify(n));
  });
  it('Parquet (text and token files)', async () => {
    const cls = fs.readFileSync(path.join(ROOT, 'test/fixtures/parquet/cls-train.parquet'));
    const ner = fs.readFileSync(path.join(ROOT, 'test/fixtures/parquet/ner-bioes.parquet'));
    const a = await fuzzFile('cls.parquet', cls, (f) => readParquetTexts(f), 4);
    const b = await fuzzFile('ner.parquet', ner, (f) => readParquetTokens(f), 5);
    assert.ok(a.refused > 0 && b.refused > 0, JSON.stringify({ a, b }));
  });
  it('YAML config (validation never throws; every error is positioned in the file)', () => {
    const r = rng(6);
    const file = path.join(DIR, 'fuzz.finetune.yaml');
    let valid = 0;
    for (let i = 0; i < N * 2; i++) {
      const input = mutate(Buffer.from(CONFIG), r);
      const text = Buffer.from(input).toString('utf8');
      let res: ReturnType<typeof validateConfigText>;
      try {
        res = validateConfigText(text, file);
      } catch (e) {
        assert.fail(`input ${i} ${JSON.stringify(text)}: threw ${(e as Error).stack}`);
      }
      if (res.config) valid++;
      const lines = text.split('\n').length;
      for (const e of res.errors) {
        assert.equal(e.file, file);
        assert.ok(e.line >= 1 && e.line <= lines + 1 && e.column >= 1, `input ${i}: error outside the text: ${JSON.stringify(e)}`);
        assert.ok(!/\n\s+at |Cannot read propert|is not a function|\[object /.test(e.message), `input ${i}: ${e.message}`);
      }
    }
    assert.ok(valid > 0, 'some mutations stay valid');
  });
  it('safetensors header (errors name the source and never allocate what the header claims)', () => {
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      'a.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
      'a.bias': { dtype: 'F32', shape: [3], data_offsets: [24, 36] },
      ids: { dtype: 'I64', shape: [1], data_offsets: [36, 44] },
    });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
    const base = Buffer.concat([len, Buffer.from(header), Buffer.alloc(44, 1)]);
    const r = rng(7);
    let ok = 0;
    for (let i = 0; i < N * 2; i++) {
      // Mutate the header (and the length field) far more often than the data, where any bytes are valid.
      const cut = 8 + Buffer.byteLength(header);
      const input = Buffer.concat([mutate(base.subarray(0, cut), r), base.subarray(cut)]);
      try {
        parseSafetensors(input, 'fuzz.safetensors');
        ok++;
      } catch (e) {
        assertClear(e, 'fuzz.safetensors: ', input, i);
      }
    }
    assert.ok(ok > 0, 'some mutations stay readable');
  });
});
