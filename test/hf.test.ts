// safetensors reading/writing and Hugging Face BERT-family folders (bert, distilbert, roberta).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseSafetensors, readSafetensors, toFloat32, writeSafetensors, type StTensor } from '../src/trainer/io/safetensors';
import { bertParamShapes, type BertConfig } from '../src/trainer/models/bert';
import { loadHfModel } from '../src/trainer/models/hf';
import { canonicalName, hfName, type Architecture } from '../src/trainer/models/hfConfig';
import { saveHfModel } from '../src/trainer/models/hfSave';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-hf-test-'));
after(() => fs.rmSync(ROOT, { recursive: true, force: true }));
let counter = 0;
const tmpDir = () => {
  const d = path.join(ROOT, `case${counter++}`);
  fs.mkdirSync(d);
  return d;
};

/** A safetensors file from a hand-written header and a data buffer of `dataLen` bytes. */
function rawFile(header: unknown, dataLen: number, opts: { headerText?: string; lengthField?: bigint } = {}): Uint8Array {
  const json = Buffer.from(opts.headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.lengthField ?? BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataLen)]);
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TINY: BertConfig = {
  vocabSize: 11,
  hidden: 8,
  layers: 2,
  heads: 2,
  intermediate: 16,
  maxPositions: 12,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  numLabels: 3,
};

/** Random canonical parameters for bertParamShapes(config, head). */
function randomParams(config: BertConfig, head: 'token' | 'sequence', seed = 1): Map<string, Float32Array> {
  const r = rng(seed);
  const m = new Map<string, Float32Array>();
  for (const s of bertParamShapes(config, head))
    m.set(
      s.name,
      Float32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => r() - 0.5),
    );
  return m;
}

const shapeOf = (config: BertConfig, head: 'token' | 'sequence') => new Map(bertParamShapes(config, head).map((s) => [s.name, s.shape]));

function writeFolder(dir: string, config: Record<string, unknown>, tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  writeSafetensors(path.join(dir, 'model.safetensors'), Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, { dtype: 'F32' as const, ...t }])));
}

const bertJson = (c: BertConfig, extra: Record<string, unknown> = {}) => ({
  model_type: 'bert',
  hidden_size: c.hidden,
  num_hidden_layers: c.layers,
  num_attention_heads: c.heads,
  intermediate_size: c.intermediate,
  max_position_embeddings: c.maxPositions,
  type_vocab_size: c.typeVocabSize,
  vocab_size: c.vocabSize,
  ...extra,
});

describe('safetensors', () => {
  it('round-trips F32 and I64 tensors and metadata', () => {
    const file = path.join(tmpDir(), 'a.safetensors');
    const f = Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7]);
    const i = BigInt64Array.from([1n, -2n, 9007199254740993n]);
    const scalar = Float32Array.from([42]);
    writeSafetensors(
      file,
      { 'w.f': { dtype: 'F32', shape: [2, 3], data: f }, ids: { dtype: 'I64', shape: [3], data: i }, s: { dtype: 'F32', shape: [], data: scalar } },
      { format: 'pt', note: 'hé' },
    );
    const bytes = fs.readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0, 'header padded to 8 bytes');
    assert.equal(bytes[8], 0x7b);
    const { tensors, metadata } = readSafetensors(file);
    assert.deepEqual(metadata, { format: 'pt', note: 'hé' });
    assert.deepEqual([...tensors.keys()].sort(), ['ids', 's', 'w.f']);
    const wf = tensors.get('w.f')!;
    assert.equal(wf.dtype, 'F32');
    assert.deepEqual(wf.shape, [2, 3]);
    assert.deepEqual(toFloat32(wf), f);
    assert.deepEqual(toFloat32(tensors.get('s')!), scalar);
    const ids = tensors.get('ids')!;
    assert.equal(ids.dtype, 'I64');
    assert.deepEqual(new BigInt64Array(ids.data.slice().buffer), i);
    assert.equal(ids.data.constructor, Uint8Array);
    assert.throws(() => toFloat32(ids, 'ids'), /ids: dtype I64 cannot be read as float32/);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['a.safetensors'], 'no temporary file left');
  });

  it('overwrites atomically and leaves no temporary file on failure', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'm.safetensors');
    writeSafetensors(file, { a: { dtype: 'F32', shape: [1], data: Float32Array.from([1]) } });
    writeSafetensors(file, { b: { dtype: 'F32', shape: [2], data: Float32Array.from([2, 3]) } });
    assert.deepEqual([...readSafetensors(file).tensors.keys()], ['b']);
    assert.throws(
      () => writeSafetensors(file, { c: { dtype: 'F32', shape: [3], data: Float32Array.from([1]) } }),
      /m\.safetensors: tensor "c": 1 values for shape \[3\]/,
    );
    assert.throws(
      () => writeSafetensors(path.join(dir, 'no', 'such', 'x.safetensors'), { a: { dtype: 'F32', shape: [1], data: Float32Array.from([1]) } }),
      /x\.safetensors: cannot write/,
    );
    assert.deepEqual(fs.readdirSync(dir), ['m.safetensors']);
    assert.deepEqual([...readSafetensors(file).tensors.keys()], ['b']);
  });

  it('converts F16, BF16 and F64 to float32', () => {
    const u16 = (xs: number[]) => new Uint8Array(Uint16Array.from(xs).buffer);
    const half: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504],
      [0x0400, 2 ** -14],
      [0x0001, 2 ** -24],
      [0x8000, -0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const t: StTensor = { dtype: 'F16', shape: [half.length + 1], data: u16([...half.map((h) => h[0]), 0x7e00]) };
    const f = toFloat32(t);
    half.forEach(([, v], i) => assert.ok(Object.is(f[i], v), `F16 ${half[i][0].toString(16)} -> ${f[i]}, expected ${v}`));
    assert.ok(Number.isNaN(f[half.length]));

    const bf: [number, number][] = [
      [0x3f80, 1],
      [0xc040, -3],
      [0x4049, 3.140625],
      [0x3e80, 0.25],
      [0x0001, 2 ** -133],
      [0x7f80, Infinity],
      [0x8000, -0],
    ];
    const b = toFloat32({ dtype: 'BF16', shape: [bf.length], data: u16(bf.map((x) => x[0])) });
    bf.forEach(([, v], i) => assert.ok(Object.is(b[i], Math.fround(v)), `BF16 ${bf[i][0].toString(16)} -> ${b[i]}, expected ${v}`));

    // From an odd byte offset (views into a file are not aligned).
    const unaligned = new Uint8Array(5);
    unaligned.set(u16([0x3c00, 0xc000]), 1);
    assert.deepEqual(toFloat32({ dtype: 'F16', shape: [2], data: unaligned.subarray(1) }), Float32Array.from([1, -2]));
    assert.deepEqual(
      toFloat32({ dtype: 'F64', shape: [2], data: new Uint8Array(Float64Array.from([0.5, -1e300]).buffer) }),
      Float32Array.from([0.5, -Infinity]),
    );
    assert.throws(() => toFloat32({ dtype: 'F16', shape: [3], data: u16([1, 2]) }, 'x'), /x: 4 bytes for shape \[3\] of F16 \(expected 6\)/);
  });

  it('parses a file written by the reference layout (hand-built F16 file with metadata)', () => {
    const buf = rawFile({ __metadata__: { a: 'b' }, h: { dtype: 'F16', shape: [1, 2], data_offsets: [0, 4] } }, 0);
    const data = Buffer.concat([buf, Buffer.from([0x00, 0x3c, 0x00, 0xc0])]);
    const { tensors, metadata } = parseSafetensors(data, 'mem');
    assert.deepEqual(metadata, { a: 'b' });
    assert.deepEqual(toFloat32(tensors.get('h')!), Float32Array.from([1, -2]));
  });

  describe('corruption errors name the file and the tensor', () => {
    const cases: [string, () => Uint8Array, RegExp][] = [
      ['truncated before the length field', () => new Uint8Array(5), /bad\.safetensors: truncated file: 5 bytes/],
      ['header length beyond the file', () => rawFile({}, 0, { lengthField: 1000n }), /bad\.safetensors: header length 1000 goes beyond the end of the file/],
      ['huge header length', () => rawFile({}, 0, { lengthField: 2n ** 63n }), /header length \d+ goes beyond the end of the file/],
      ['invalid JSON', () => rawFile(null, 0, { headerText: '{"a": {"dtype": "F32",' }), /bad\.safetensors: invalid JSON header/],
      ['header not an object', () => rawFile([1, 2], 0), /bad\.safetensors: header is not a JSON object/],
      ['unknown dtype', () => rawFile({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1), /bad\.safetensors: tensor "w": unsupported dtype "Q4"/],
      [
        'bad shape',
        () => rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4),
        /tensor "w": shape \[-1\] is not a list of non-negative integers/,
      ],
      ['bad offsets', () => rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /tensor "w": data_offsets \[0\] is not a pair/],
      [
        'offsets reversed',
        () => rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4),
        /tensor "w": data_offsets \[4, 0\] end before they begin/,
      ],
      [
        'offsets out of range (truncated data)',
        () => rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 12),
        /bad\.safetensors: tensor "w": data_offsets \[0, 16\] are out of range: the data buffer has 12 bytes/,
      ],
      [
        'byte count != numel * itemsize',
        () => rawFile({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, 12),
        /tensor "w": byte count 12 does not match shape \[2, 2\] of F32 \(4 elements x 4 bytes = 16\)/,
      ],
      [
        'overlapping tensors',
        () => rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
        /tensor "b": data_offsets \[4, 12\] overlap tensor "a"/,
      ],
      [
        'a hole in the buffer',
        () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12),
        /tensor "b": bytes 4\.\.8 of the data buffer before it belong to no tensor/,
      ],
      [
        'trailing bytes',
        () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8),
        /bytes 4\.\.8 at the end of the data buffer belong to no tensor \(last tensor "a"\)/,
      ],
      ['metadata not strings', () => rawFile({ __metadata__: { a: 1 } }, 0), /__metadata__\.a is not a string/],
    ];
    for (const [what, make, re] of cases) {
      it(what, () => {
        const file = path.join(tmpDir(), 'bad.safetensors');
        fs.writeFileSync(file, make());
        assert.throws(
          () => readSafetensors(file),
          (e: Error) => {
            assert.match(e.message, re);
            assert.ok(e.message.startsWith(file), e.message);
            return true;
          },
        );
      });
    }
    it('a missing file', () => assert.throws(() => readSafetensors(path.join(ROOT, 'nope.safetensors')), /nope\.safetensors: cannot read safetensors file/));
  });
});

describe('name mapping', () => {
  for (const arch of ['bert', 'distilbert', 'roberta'] as Architecture[]) {
    for (const head of ['token', 'sequence'] as const) {
      it(`${arch} ${head}: canonicalName inverts hfName`, () => {
        for (const s of bertParamShapes(TINY, head)) {
          if (arch === 'distilbert' && (s.name.includes('token_type') || s.name.includes('pooler'))) {
            assert.throws(() => hfName(arch, s.name, head), /distilbert has no checkpoint name/);
            continue;
          }
          const h = hfName(arch, s.name, head);
          assert.equal(canonicalName(arch, h), s.name, `${s.name} -> ${h}`);
        }
      });
    }
  }

  it('maps the known names of each architecture', () => {
    assert.equal(canonicalName('bert', 'embeddings.LayerNorm.gamma'), 'bert.embeddings.LayerNorm.weight');
    assert.equal(canonicalName('bert', 'bert.encoder.layer.3.output.LayerNorm.beta'), 'bert.encoder.layer.3.output.LayerNorm.bias');
    assert.equal(canonicalName('bert', 'cls.predictions.bias'), undefined);
    assert.equal(canonicalName('bert', 'bert.embeddings.position_ids'), undefined);
    assert.equal(canonicalName('distilbert', 'distilbert.transformer.layer.5.ffn.lin2.weight'), 'bert.encoder.layer.5.output.dense.weight');
    assert.equal(canonicalName('distilbert', 'transformer.layer.0.sa_layer_norm.bias'), 'bert.encoder.layer.0.attention.output.LayerNorm.bias');
    assert.equal(canonicalName('distilbert', 'vocab_projector.bias'), undefined);
    assert.equal(canonicalName('distilbert', 'pre_classifier.weight'), undefined);
    assert.equal(canonicalName('roberta', 'roberta.encoder.layer.0.attention.self.key.bias'), 'bert.encoder.layer.0.attention.self.key.bias');
    assert.equal(canonicalName('roberta', 'lm_head.dense.weight'), undefined);
    assert.equal(canonicalName('roberta', 'classifier.out_proj.weight'), 'classifier.weight');
    assert.equal(canonicalName('roberta', 'classifier.dense.bias'), 'bert.pooler.dense.bias');
    assert.equal(hfName('roberta', 'classifier.weight', 'token'), 'classifier.weight');
    assert.equal(hfName('distilbert', 'bert.encoder.layer.1.attention.output.dense.weight'), 'distilbert.transformer.layer.1.attention.out_lin.weight');
  });
});

describe('Hugging Face folders', () => {
  for (const head of ['token', 'sequence'] as const) {
    it(`a tiny BERT saved by saveHfModel loads back identically (${head} head)`, () => {
      const dir = path.join(tmpDir(), 'model');
      const params = randomParams(TINY, head, 7);
      saveHfModel(dir, 'bert', TINY, params, ['O', 'B-PER', 'I-PER'], head);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'model.safetensors']);
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      assert.deepEqual(cfg.architectures, [head === 'token' ? 'BertForTokenClassification' : 'BertForSequenceClassification']);
      assert.equal(cfg.model_type, 'bert');
      assert.equal(cfg.hidden_act, 'gelu');
      assert.deepEqual(cfg.id2label, { 0: 'O', 1: 'B-PER', 2: 'I-PER' });
      assert.deepEqual(cfg.label2id, { O: 0, 'B-PER': 1, 'I-PER': 2 });
      for (const k of [
        'hidden_size',
        'num_hidden_layers',
        'num_attention_heads',
        'intermediate_size',
        'max_position_embeddings',
        'type_vocab_size',
        'layer_norm_eps',
        'hidden_dropout_prob',
        'attention_probs_dropout_prob',
        'vocab_size',
      ]) {
        assert.ok(k in cfg, k);
      }
      const m = loadHfModel(dir, { numLabels: 3, head });
      assert.equal(m.architecture, 'bert');
      assert.deepEqual(m.config, TINY);
      assert.deepEqual(m.labels, ['O', 'B-PER', 'I-PER']);
      assert.deepEqual(m.params, params);
      assert.deepEqual([m.missing, m.unexpected, m.mismatched, m.initializedHead, m.filled], [[], [], [], [], []]);
    });
  }

  it('loads a BertModel checkpoint (no prefix, TF LayerNorm names, MLM head, buffers) and reports the head to initialize', () => {
    const dir = tmpDir();
    const params = randomParams(TINY, 'sequence', 3);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    const shapes = shapeOf(TINY, 'sequence');
    for (const [name, data] of params) {
      if (name.startsWith('classifier.')) continue;
      tensors[
        name
          .slice('bert.'.length)
          .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
          .replace(/LayerNorm\.bias$/, 'LayerNorm.beta')
      ] = { shape: shapes.get(name)!, data };
    }
    tensors['cls.predictions.bias'] = { shape: [TINY.vocabSize], data: new Float32Array(TINY.vocabSize) };
    tensors['embeddings.position_ids'] = { shape: [1, TINY.maxPositions], data: new Float32Array(TINY.maxPositions) };
    writeFolder(dir, bertJson(TINY, { architectures: ['BertModel'] }), tensors);

    const seq = loadHfModel(dir, { numLabels: 3, head: 'sequence' });
    assert.deepEqual(seq.initializedHead, ['classifier.weight', 'classifier.bias']);
    assert.deepEqual(seq.missing, ['classifier.weight', 'classifier.bias']);
    assert.deepEqual(seq.unexpected.sort(), ['cls.predictions.bias', 'embeddings.position_ids']);
    assert.equal(seq.params.size, params.size - 2);
    for (const [n, d] of seq.params) assert.deepEqual(d, params.get(n), n);
    assert.deepEqual(seq.params.get('bert.pooler.dense.weight'), params.get('bert.pooler.dense.weight'));

    const tok = loadHfModel(dir, { numLabels: 3, head: 'token' });
    assert.ok(!tok.params.has('bert.pooler.dense.weight'));
    assert.ok(tok.unexpected.includes('pooler.dense.weight'), 'the pooler is ignored for a token head');
    assert.deepEqual(tok.initializedHead, ['classifier.weight', 'classifier.bias']);
  });

  it('loads F16 and BF16 checkpoints', () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'src'));
    saveHfModel(path.join(dir, 'src'), 'bert', TINY, randomParams(TINY, 'token', 5), ['a', 'b', 'c'], 'token');
    const { tensors } = readSafetensors(path.join(dir, 'src', 'model.safetensors'));
    // Re-encode every tensor as BF16 (truncation) in a hand-built file.
    const header: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let off = 0;
    const expected = new Map<string, Float32Array>();
    for (const [name, t] of tensors) {
      const f = toFloat32(t);
      const bits = new Uint32Array(f.buffer);
      const bf = Uint16Array.from(bits, (b) => b >>> 16);
      expected.set(name, new Float32Array(Uint32Array.from(bf, (h) => h << 16).buffer));
      header[name] = { dtype: 'BF16', shape: t.shape, data_offsets: [off, off + bf.byteLength] };
      chunks.push(Buffer.from(bf.buffer));
      off += bf.byteLength;
    }
    fs.copyFileSync(path.join(dir, 'src', 'config.json'), path.join(dir, 'config.json'));
    fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([rawFile(header, 0), ...chunks]));
    const m = loadHfModel(dir, { numLabels: 3, head: 'token' });
    for (const [n, d] of m.params) assert.deepEqual(d, expected.get(n), n);
  });

  it('loads a DistilBERT checkpoint to canonical names and fills a zero token type table', () => {
    const dir = tmpDir();
    const c = { ...TINY, maxPositions: 10 };
    const params = randomParams(c, 'token', 11);
    const shapes = shapeOf(c, 'token');
    const distil: Record<string, string> = {
      'attention.self.query': 'attention.q_lin',
      'attention.self.key': 'attention.k_lin',
      'attention.self.value': 'attention.v_lin',
      'attention.output.dense': 'attention.out_lin',
      'attention.output.LayerNorm': 'sa_layer_norm',
      'intermediate.dense': 'ffn.lin1',
      'output.dense': 'ffn.lin2',
      'output.LayerNorm': 'output_layer_norm',
    };
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, data] of params) {
      if (name.includes('token_type')) continue;
      let h = name.replace(/^bert\.embeddings\./, 'distilbert.embeddings.');
      const layer = /^bert\.encoder\.layer\.(\d+)\.(.*)\.(weight|bias)$/.exec(name);
      if (layer) h = `distilbert.transformer.layer.${layer[1]}.${distil[layer[2]]}.${layer[3]}`;
      tensors[h] = { shape: shapes.get(name)!, data };
    }
    tensors['vocab_projector.bias'] = { shape: [c.vocabSize], data: new Float32Array(c.vocabSize) };
    tensors['vocab_transform.weight'] = { shape: [c.hidden, c.hidden], data: new Float32Array(c.hidden * c.hidden) };
    writeFolder(
      dir,
      {
        model_type: 'distilbert',
        architectures: ['DistilBertForTokenClassification'],
        dim: c.hidden,
        n_layers: c.layers,
        n_heads: c.heads,
        hidden_dim: c.intermediate,
        max_position_embeddings: c.maxPositions,
        dropout: 0.2,
        attention_dropout: 0.3,
        vocab_size: c.vocabSize,
        id2label: { 0: 'X', 1: 'Y', 2: 'Z' },
      },
      tensors,
    );
    const m = loadHfModel(dir, { numLabels: 3, head: 'token' });
    assert.equal(m.architecture, 'distilbert');
    assert.deepEqual(m.config, { ...c, hiddenDropout: 0.2, attentionDropout: 0.3 });
    assert.deepEqual(m.filled, ['bert.embeddings.token_type_embeddings.weight']);
    assert.deepEqual(m.params.get('bert.embeddings.token_type_embeddings.weight'), new Float32Array(2 * c.hidden));
    assert.deepEqual(m.unexpected.sort(), ['vocab_projector.bias', 'vocab_transform.weight']);
    assert.deepEqual(m.labels, ['X', 'Y', 'Z']);
    for (const [n, d] of params) if (!n.includes('token_type')) assert.deepEqual(m.params.get(n), d, n);
    assert.equal(m.params.size, params.size);

    // Saved back as DistilBERT, the token type row 0 is folded into the positions.
    const out = path.join(tmpDir(), 'distil');
    const trained = new Map(m.params);
    const type = Float32Array.from({ length: 2 * c.hidden }, (_, i) => (i < c.hidden ? 0.5 : 0));
    trained.set('bert.embeddings.token_type_embeddings.weight', type);
    saveHfModel(out, 'distilbert', m.config, trained, ['X', 'Y', 'Z'], 'token');
    const saved = readSafetensors(path.join(out, 'model.safetensors')).tensors;
    assert.ok(saved.has('distilbert.transformer.layer.1.ffn.lin1.weight'));
    assert.ok(![...saved.keys()].some((k) => k.includes('token_type')));
    const back = loadHfModel(out, { numLabels: 3, head: 'token' });
    assert.equal(back.architecture, 'distilbert');
    const pos = back.params.get('bert.embeddings.position_embeddings.weight')!;
    const orig = params.get('bert.embeddings.position_embeddings.weight')!;
    pos.forEach((v, i) => assert.ok(Math.abs(v - (orig[i] + 0.5)) < 1e-6));
    assert.deepEqual(back.params.get('classifier.weight'), params.get('classifier.weight'));
  });

  it('saves a DistilBERT sequence classifier as an equivalent BERT folder', () => {
    const dir = tmpDir();
    const params = randomParams(TINY, 'sequence', 12);
    saveHfModel(dir, 'distilbert', TINY, params, ['n', 'p', 'x'], 'sequence');
    const m = loadHfModel(dir, { numLabels: 3, head: 'sequence' });
    assert.equal(m.architecture, 'bert');
    assert.deepEqual((m.raw as { architectures: string[] }).architectures, ['BertForSequenceClassification']);
    assert.deepEqual(m.params, params);
  });

  it('loads a RoBERTa checkpoint: positions offset by 2, lm_head ignored, classification head mapped', () => {
    const dir = tmpDir();
    const c: BertConfig = { ...TINY, typeVocabSize: 1, layerNormEps: 1e-5 };
    const params = randomParams(c, 'sequence', 13);
    const shapes = shapeOf(c, 'sequence');
    const H = c.hidden;
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    const fullPos = Float32Array.from({ length: (c.maxPositions + 2) * H }, (_, i) => (i < 2 * H ? 100 + i : 0));
    fullPos.set(params.get('bert.embeddings.position_embeddings.weight')!, 2 * H);
    for (const [name, data] of params) {
      let h = `roberta.${name.slice(5)}`;
      if (name.startsWith('bert.pooler.dense.')) h = name.replace('bert.pooler.dense.', 'classifier.dense.');
      if (name.startsWith('classifier.')) h = name.replace('classifier.', 'classifier.out_proj.');
      tensors[h] = name.includes('position_embeddings') ? { shape: [c.maxPositions + 2, H], data: fullPos } : { shape: shapes.get(name)!, data };
    }
    tensors['lm_head.dense.weight'] = { shape: [H, H], data: new Float32Array(H * H) };
    tensors['lm_head.bias'] = { shape: [c.vocabSize], data: new Float32Array(c.vocabSize) };
    writeFolder(
      dir,
      {
        model_type: 'roberta',
        architectures: ['RobertaForSequenceClassification'],
        hidden_size: H,
        num_hidden_layers: c.layers,
        num_attention_heads: c.heads,
        intermediate_size: c.intermediate,
        max_position_embeddings: c.maxPositions + 2,
        type_vocab_size: 1,
        layer_norm_eps: 1e-5,
        vocab_size: c.vocabSize,
        pad_token_id: 1,
      },
      tensors,
    );
    const m = loadHfModel(dir, { numLabels: 3, head: 'sequence' });
    assert.equal(m.architecture, 'roberta');
    assert.deepEqual(m.config, c);
    assert.equal(m.config.maxPositions, c.maxPositions, 'max_position_embeddings - 2');
    assert.deepEqual(m.unexpected.sort(), ['lm_head.bias', 'lm_head.dense.weight']);
    assert.deepEqual(m.params, params);
    assert.equal(m.labels, undefined);

    // And back: two leading rows restored (zeros), names as RobertaForSequenceClassification.
    const out = path.join(tmpDir(), 'roberta');
    saveHfModel(out, 'roberta', m.config, m.params, ['a', 'b', 'c'], 'sequence');
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.equal(cfg.max_position_embeddings, c.maxPositions + 2);
    assert.deepEqual(cfg.architectures, ['RobertaForSequenceClassification']);
    const saved = readSafetensors(path.join(out, 'model.safetensors')).tensors;
    assert.deepEqual(saved.get('roberta.embeddings.position_embeddings.weight')!.shape, [c.maxPositions + 2, H]);
    assert.ok(saved.has('classifier.out_proj.weight') && saved.has('classifier.dense.bias'));
    assert.deepEqual(loadHfModel(out, { numLabels: 3, head: 'sequence' }).params, params);
  });

  it('a checkpoint with a missing, an extra and a mis-shaped tensor gives one error listing all three', () => {
    const dir = tmpDir();
    const params = randomParams(TINY, 'token', 17);
    const shapes = shapeOf(TINY, 'token');
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, data] of params) tensors[name] = { shape: shapes.get(name)!, data };
    delete tensors['bert.encoder.layer.1.attention.self.key.bias'];
    tensors['bert.encoder.layer.2.attention.self.key.bias'] = { shape: [TINY.hidden], data: new Float32Array(TINY.hidden) };
    tensors['bert.encoder.layer.0.intermediate.dense.weight'] = {
      shape: [TINY.hidden, TINY.intermediate],
      data: params.get('bert.encoder.layer.0.intermediate.dense.weight')!,
    };
    writeFolder(dir, bertJson(TINY), tensors);
    assert.throws(
      () => loadHfModel(dir, { numLabels: 3, head: 'token' }),
      (e: Error) => {
        assert.ok(e.message.startsWith(`${path.join(dir, 'model.safetensors')} does not fit a bert encoder`), e.message);
        assert.match(e.message, /missing: \[bert\.encoder\.layer\.1\.attention\.self\.key\.bias\]/);
        assert.match(e.message, /unexpected: \[bert\.encoder\.layer\.2\.attention\.self\.key\.bias\]/);
        assert.match(e.message, /mis-shaped: \[bert\.encoder\.layer\.0\.intermediate\.dense\.weight expected \[16, 8\] found \[8, 16\]\]/);
        return true;
      },
    );
  });

  it('a classifier for another label count is replaced (as ignore_mismatched_sizes); a partial head is initialized', () => {
    const dir = tmpDir();
    saveHfModel(dir, 'bert', TINY, randomParams(TINY, 'token'), ['a', 'b', 'c'], 'token');
    const other = loadHfModel(dir, { numLabels: 5, head: 'token' });
    assert.deepEqual(other.initializedHead, ['classifier.weight', 'classifier.bias']);
    assert.ok(!other.params.has('classifier.weight'));

    const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
    const rest = Object.fromEntries(
      [...tensors].filter(([n]) => n !== 'classifier.bias').map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: toFloat32(t) }]),
    );
    writeSafetensors(path.join(dir, 'model.safetensors'), rest);
    const m = loadHfModel(dir, { numLabels: 3, head: 'token' });
    assert.deepEqual(m.initializedHead, ['classifier.weight', 'classifier.bias']);
    assert.ok(!m.params.has('classifier.weight'));
    assert.ok(m.unexpected.includes('classifier.weight'));
  });

  it('explains folders it cannot read', () => {
    const dir = tmpDir();
    assert.throws(() => loadHfModel(dir, { numLabels: 2, head: 'token' }), /config\.json: cannot read/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(bertJson(TINY)));
    assert.throws(() => loadHfModel(dir, { numLabels: 2, head: 'token' }), /no model\.safetensors/);
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
    assert.throws(() => loadHfModel(dir, { numLabels: 2, head: 'token' }), /pytorch_model\.bin: only safetensors checkpoints are supported/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    assert.throws(() => loadHfModel(dir, { numLabels: 2, head: 'token' }), /config\.json: model_type "gpt2" is not supported/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(bertJson(TINY, { hidden_act: 'relu' })));
    assert.throws(() => loadHfModel(dir, { numLabels: 2, head: 'token' }), /hidden_act "relu" is not supported/);
  });

  it('reads a sharded checkpoint through model.safetensors.index.json', () => {
    const dir = tmpDir();
    const params = randomParams(TINY, 'token', 19);
    const shapes = shapeOf(TINY, 'token');
    const names = [...params.keys()];
    const shard = (part: string[], file: string) =>
      writeSafetensors(path.join(dir, file), Object.fromEntries(part.map((n) => [n, { dtype: 'F32' as const, shape: shapes.get(n)!, data: params.get(n)! }])));
    shard(names.slice(0, 10), 'model-00001-of-00002.safetensors');
    shard(names.slice(10), 'model-00002-of-00002.safetensors');
    const weightMap = Object.fromEntries(names.map((n, i) => [n, i < 10 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(bertJson(TINY)));
    assert.deepEqual(loadHfModel(dir, { numLabels: 3, head: 'token' }).params, params);
  });

  it('saveHfModel refuses parameters that do not fit the config', () => {
    const params = randomParams(TINY, 'token');
    params.delete('bert.encoder.layer.0.output.dense.bias');
    assert.throws(() => saveHfModel(tmpDir(), 'bert', TINY, params, ['a', 'b', 'c'], 'token'), /missing: \[bert\.encoder\.layer\.0\.output\.dense\.bias\]/);
    assert.throws(() => saveHfModel(tmpDir(), 'bert', TINY, randomParams(TINY, 'token'), ['a', 'b'], 'token'), /2 labels for a classifier with 3 outputs/);
  });
});
