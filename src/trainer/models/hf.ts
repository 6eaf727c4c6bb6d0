// Hugging Face model folders (config.json + model.safetensors) for BERT-family encoders, mapped to
// and from the canonical BERT parameter names of models/bert.ts.
//
// Supported checkpoints:
//   bert        BertModel (no prefix), BertFor{Token,Sequence}Classification, BertForMaskedLM/PreTraining
//               (the MLM/NSP heads `cls.*` are ignored); old TF-converted `LayerNorm.gamma/beta`.
//   distilbert  DistilBertModel / DistilBertFor*; no token type embeddings (a zero table is filled in).
//   roberta     RobertaModel / RobertaFor* (also model_type xlm-roberta and camembert, which share the
//               layout); `lm_head.*` is ignored; positions are offset by padding_idx + 1 (see below).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, toFloat32, writeSafetensors, type StTensor } from '../io/safetensors';
import { bertParamShapes, type BertConfig } from './bert';

export type Architecture = 'bert' | 'distilbert' | 'roberta';
export type Head = 'token' | 'sequence';

export interface HfModel {
  architecture: Architecture;
  config: BertConfig;
  /** Canonical names; the model body, plus the head tensors the checkpoint had. */
  params: Map<string, Float32Array>;
  /** From config.json id2label, when it numbers labels 0..n-1. */
  labels?: string[];
  /** config.json as read. */
  raw: Record<string, unknown>;
}

export interface HfLoadReport {
  /** Every expected canonical tensor the checkpoint lacked (always within initializedHead and filled on success). */
  missing: string[];
  /** Checkpoint tensors that were ignored as not part of this encoder and head (MLM heads, buffers, a pooler under a token head, ...). */
  unexpected: string[];
  /** Always empty on success: mis-shaped tensors throw. Kept so callers can report uniformly. */
  mismatched: { name: string; expected: number[]; found: number[] }[];
  /** Head tensors (classifier, and the pooler for a sequence head) the caller must initialize. */
  initializedHead: string[];
  /** Body tensors the loader filled in itself (DistilBERT's zero token type table), present in params. */
  filled: string[];
}

const FILE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

// ---------------------------------------------------------------------------------------------
// Name mapping.

/** Embedding buffers some transformers versions save alongside the weights; they are not parameters. */
const BUFFER = /(^|\.)embeddings\.(position_ids|token_type_ids)$/;

/** DistilBERT layer parameter prefixes and their canonical BERT equivalents. */
const DISTIL_LAYER: [string, string][] = [
  ['attention.q_lin.', 'attention.self.query.'],
  ['attention.k_lin.', 'attention.self.key.'],
  ['attention.v_lin.', 'attention.self.value.'],
  ['attention.out_lin.', 'attention.output.dense.'],
  ['sa_layer_norm.', 'attention.output.LayerNorm.'],
  ['ffn.lin1.', 'intermediate.dense.'],
  ['ffn.lin2.', 'output.dense.'],
  ['output_layer_norm.', 'output.LayerNorm.'],
];

/** Strips the base-model prefix, or accepts a bare base-model name (a checkpoint saved from XxxModel). */
function bodyName(prefix: string, bare: string[], name: string): string | undefined {
  if (name.startsWith(`${prefix}.`)) return name.slice(prefix.length + 1);
  return bare.some((b) => name.startsWith(`${b}.`)) ? name : undefined;
}

/**
 * Maps a checkpoint tensor name to its canonical BERT name; undefined when the tensor is not part of
 * the encoder or its classification head (MLM/NSP/QA heads, DistilBERT's pre_classifier, buffers).
 * Names under the base-model prefix that this mapping does not know are passed through with the
 * `bert.` prefix, so that they show up as unexpected rather than being silently dropped.
 */
export function canonicalName(arch: Architecture, hfName: string): string | undefined {
  if (BUFFER.test(hfName)) return undefined;
  if (arch === 'bert') {
    if (hfName === 'classifier.weight' || hfName === 'classifier.bias') return hfName;
    const body = bodyName('bert', ['embeddings', 'encoder', 'pooler'], hfName);
    if (body === undefined) return undefined; // cls.predictions.*, cls.seq_relationship.*, qa_outputs.*, ...
    return `bert.${body.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias')}`;
  }
  if (arch === 'roberta') {
    if (hfName === 'classifier.weight' || hfName === 'classifier.bias') return hfName; // RobertaForTokenClassification
    // RobertaClassificationHead: dense + tanh on the first token, then out_proj, i.e. BERT's pooler + classifier.
    if (hfName.startsWith('classifier.dense.')) return `bert.pooler.dense.${hfName.slice('classifier.dense.'.length)}`;
    if (hfName.startsWith('classifier.out_proj.')) return `classifier.${hfName.slice('classifier.out_proj.'.length)}`;
    const body = bodyName('roberta', ['embeddings', 'encoder', 'pooler'], hfName);
    return body === undefined ? undefined : `bert.${body}`; // lm_head.* -> undefined
  }
  // distilbert
  if (hfName === 'classifier.weight' || hfName === 'classifier.bias') return hfName;
  const body = bodyName('distilbert', ['embeddings', 'transformer'], hfName);
  if (body === undefined) return undefined; // vocab_transform, vocab_layer_norm, vocab_projector, pre_classifier, qa_outputs
  const layer = /^transformer\.layer\.(\d+)\.(.*)$/.exec(body);
  if (layer) {
    const [, i, rest] = layer;
    for (const [from, to] of DISTIL_LAYER) if (rest.startsWith(from)) return `bert.encoder.layer.${i}.${to}${rest.slice(from.length)}`;
    return `bert.encoder.layer.${i}.${rest}`;
  }
  return `bert.${body}`; // embeddings.word_embeddings / position_embeddings / LayerNorm keep their names
}

/**
 * The checkpoint name of a canonical tensor, for saving. `head` matters for RoBERTa only, whose
 * sequence head is named classifier.dense / classifier.out_proj. DistilBERT has no token type
 * embeddings and no pooler: asking for those throws.
 */
export function hfName(arch: Architecture, canonical: string, head: Head = 'token'): string {
  const bad = (why: string): never => {
    throw new Error(`${arch} has no checkpoint name for "${canonical}": ${why}`);
  };
  const isHead = canonical === 'classifier.weight' || canonical === 'classifier.bias';
  if (!isHead && !canonical.startsWith('bert.')) bad('not a canonical BERT parameter name');
  if (arch === 'bert') return canonical;
  if (arch === 'roberta') {
    if (head === 'sequence') {
      if (isHead) return `classifier.out_proj.${canonical.slice('classifier.'.length)}`;
      if (canonical.startsWith('bert.pooler.dense.')) return `classifier.dense.${canonical.slice('bert.pooler.dense.'.length)}`;
    }
    return isHead ? canonical : `roberta.${canonical.slice(5)}`;
  }
  if (isHead) return canonical;
  const body = canonical.slice(5);
  if (body.startsWith('embeddings.token_type_embeddings.')) bad('DistilBERT has no token type embeddings');
  if (body.startsWith('pooler.')) bad('DistilBERT has no pooler');
  const layer = /^encoder\.layer\.(\d+)\.(.*)$/.exec(body);
  if (layer) {
    const [, i, rest] = layer;
    for (const [from, to] of DISTIL_LAYER) if (rest.startsWith(to)) return `distilbert.transformer.layer.${i}.${from}${rest.slice(to.length)}`;
    bad('not a DistilBERT layer parameter');
  }
  return `distilbert.${body}`;
}

// ---------------------------------------------------------------------------------------------
// Config.

function num(raw: Record<string, unknown>, key: string, fallback: number, kind: 'int' | 'float', where: string): number {
  const v = raw[key] ?? fallback;
  const ok = typeof v === 'number' && Number.isFinite(v) && (kind === 'float' ? v >= 0 : Number.isInteger(v) && v > 0);
  if (!ok) throw new Error(`${where}: "${key}" must be ${kind === 'int' ? 'a positive integer' : 'a non-negative number'}, found ${JSON.stringify(v)}`);
  return v as number;
}

/** padding_idx + 1: where RoBERTa's position ids start (2 with the usual pad_token_id 1). */
function robertaOffset(raw: Record<string, unknown>): number {
  const pad = raw.pad_token_id ?? 1;
  if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0) throw new Error(`config.json: "pad_token_id" must be a non-negative integer, found ${JSON.stringify(pad)}`);
  return pad + 1;
}

/**
 * The BertConfig of a config.json. Keys the file lacks take the transformers class defaults.
 * RoBERTa: maxPositions is max_position_embeddings - (pad_token_id + 1), the rows real positions use.
 * DistilBERT: typeVocabSize is 2 (the loader fills a zero table), layerNormEps is 1e-12 (fixed in DistilBERT).
 */
export function bertConfigFromHf(raw: Record<string, unknown>, arch: Architecture, numLabels: number): BertConfig {
  const where = 'config.json';
  if (!Number.isInteger(numLabels) || numLabels < 1) throw new Error(`numLabels must be a positive integer, found ${numLabels}`);
  let c: BertConfig;
  if (arch === 'distilbert') {
    const act = raw.activation ?? 'gelu';
    if (typeof act !== 'string' || !act.startsWith('gelu')) throw new Error(`${where}: activation ${JSON.stringify(act)} is not supported (the encoder uses GELU)`);
    c = {
      vocabSize: num(raw, 'vocab_size', 30522, 'int', where),
      hidden: num(raw, 'dim', 768, 'int', where),
      layers: num(raw, 'n_layers', 6, 'int', where),
      heads: num(raw, 'n_heads', 12, 'int', where),
      intermediate: num(raw, 'hidden_dim', 3072, 'int', where),
      maxPositions: num(raw, 'max_position_embeddings', 512, 'int', where),
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      hiddenDropout: num(raw, 'dropout', 0.1, 'float', where),
      attentionDropout: num(raw, 'attention_dropout', 0.1, 'float', where),
      numLabels,
    };
  } else {
    const act = raw.hidden_act ?? 'gelu';
    if (typeof act !== 'string' || !act.startsWith('gelu')) throw new Error(`${where}: hidden_act ${JSON.stringify(act)} is not supported (the encoder uses GELU)`);
    const pos = raw.position_embedding_type ?? 'absolute';
    if (pos !== 'absolute') throw new Error(`${where}: position_embedding_type ${JSON.stringify(pos)} is not supported (absolute only)`);
    const roberta = arch === 'roberta';
    const maxPos = num(raw, 'max_position_embeddings', 512, 'int', where);
    const offset = roberta ? robertaOffset(raw) : 0;
    if (maxPos <= offset) throw new Error(`${where}: max_position_embeddings ${maxPos} leaves no positions after RoBERTa's offset of ${offset}`);
    c = {
      vocabSize: num(raw, 'vocab_size', roberta ? 50265 : 30522, 'int', where),
      hidden: num(raw, 'hidden_size', 768, 'int', where),
      layers: num(raw, 'num_hidden_layers', 12, 'int', where),
      heads: num(raw, 'num_attention_heads', 12, 'int', where),
      intermediate: num(raw, 'intermediate_size', 3072, 'int', where),
      maxPositions: maxPos - offset,
      typeVocabSize: num(raw, 'type_vocab_size', 2, 'int', where),
      layerNormEps: num(raw, 'layer_norm_eps', 1e-12, 'float', where),
      hiddenDropout: num(raw, 'hidden_dropout_prob', 0.1, 'float', where),
      attentionDropout: num(raw, 'attention_probs_dropout_prob', 0.1, 'float', where),
      numLabels,
    };
  }
  if (c.hidden % c.heads !== 0) throw new Error(`${where}: hidden size ${c.hidden} is not divisible by ${c.heads} attention heads`);
  return c;
}

function architectureOf(raw: Record<string, unknown>, where: string): Architecture {
  const byType: Record<string, Architecture> = { bert: 'bert', distilbert: 'distilbert', roberta: 'roberta', 'xlm-roberta': 'roberta', camembert: 'roberta' };
  const mt = raw.model_type;
  if (typeof mt === 'string') {
    const a = byType[mt];
    if (!a) throw new Error(`${where}: model_type "${mt}" is not supported (bert, distilbert, roberta, xlm-roberta, camembert)`);
    return a;
  }
  const archs = Array.isArray(raw.architectures) ? raw.architectures.filter((a): a is string => typeof a === 'string') : [];
  for (const a of archs) {
    if (a.startsWith('DistilBert')) return 'distilbert';
    if (/^(XLM)?Roberta|^Camembert/.test(a)) return 'roberta';
    if (a.startsWith('Bert')) return 'bert';
  }
  throw new Error(`${where}: neither model_type nor architectures names a supported model (bert, distilbert, roberta)`);
}

function labelsOf(raw: Record<string, unknown>): string[] | undefined {
  const m = raw.id2label;
  if (!m || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const entries = Object.entries(m as Record<string, unknown>);
  const out: string[] = new Array(entries.length);
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== 'string' || out[i] !== undefined) return undefined;
    out[i] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checking a state against the expected parameters.

const headNames = (head: Head) => (head === 'sequence' ? ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias'] : ['classifier.weight', 'classifier.bias']);

function listed(xs: string[], max = 20): string {
  return `[${xs.slice(0, max).join(', ')}${xs.length > max ? `, ... ${xs.length - max} more` : ''}]`;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Checks canonical tensor shapes against bertParamShapes(config, head). Missing head tensors (the
 * classifier; the pooler too for a sequence head) are returned in initializedHead — a head linear
 * with only one of weight/bias counts as missing both, and the present one is dropped from
 * `found`. Any other missing, unexpected or mis-shaped tensor throws one Error listing all three.
 * `hfNames` (canonical -> checkpoint name) adds the checkpoint's own names to the message.
 */
export function checkBertState(
  found: Map<string, number[]>,
  config: BertConfig,
  head: Head,
  opts: { source?: string; arch?: Architecture; hfNames?: Map<string, string> } = {},
): { missing: string[]; unexpected: string[]; mismatched: { name: string; expected: number[]; found: number[] }[]; initializedHead: string[] } {
  const expected = bertParamShapes(config, head);
  const expectedNames = new Set(expected.map((s) => s.name));
  const heads = new Set(headNames(head));
  const initializedHead: string[] = [];
  for (const prefix of head === 'sequence' ? ['bert.pooler.dense', 'classifier'] : ['classifier']) {
    const w = `${prefix}.weight`;
    const b = `${prefix}.bias`;
    // A classifier for another label set (a checkpoint fine-tuned on other data) is replaced, as
    // Transformers does with ignore_mismatched_sizes; the caller reports it.
    const otherLabels = prefix === 'classifier' && found.has(w) && found.get(w)![0] !== config.numLabels && found.get(w)![1] === config.hidden;
    if (!found.has(w) || !found.has(b) || otherLabels) {
      found.delete(w);
      found.delete(b);
      initializedHead.push(w, b);
    }
  }
  const missing = expected.map((s) => s.name).filter((n) => !found.has(n));
  const missingBody = missing.filter((n) => !heads.has(n));
  const unexpected = [...found.keys()].filter((n) => !expectedNames.has(n));
  const mismatched = expected.filter((s) => found.has(s.name) && !sameShape(s.shape, found.get(s.name)!)).map((s) => ({ name: s.name, expected: s.shape, found: found.get(s.name)! }));
  if (missingBody.length || unexpected.length || mismatched.length) {
    const alias = (n: string) => {
      const h = opts.hfNames?.get(n);
      return h && h !== n ? `${n} (${h} in the checkpoint)` : n;
    };
    const mis = mismatched.map((m) => {
      let hint = '';
      if (m.name === 'classifier.weight' && m.found.length === 2 && m.expected.length === 2 && m.found[1] === m.expected[1]) {
        hint = ` (the checkpoint's classifier has ${m.found[0]} labels, the data ${m.expected[0]}; start from a model without a classifier)`;
      }
      return `${alias(m.name)} expected [${m.expected.join(', ')}] found [${m.found.join(', ')}]${hint}`;
    });
    const c = config;
    throw new Error(
      `${opts.source ?? FILE} does not fit a ${opts.arch ?? 'bert'} encoder (layers ${c.layers}, hidden ${c.hidden}, intermediate ${c.intermediate}, vocab ${c.vocabSize}, positions ${c.maxPositions}, ${head} head with ${c.numLabels} labels): ` +
        `missing: ${listed(missingBody)}; unexpected: ${listed(unexpected.map(alias))}; mis-shaped: ${listed(mis)}`,
    );
  }
  return { missing, unexpected, mismatched, initializedHead };
}

// ---------------------------------------------------------------------------------------------
// Loading.

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** All tensors of the folder's checkpoint, with the file each came from. */
function readCheckpoint(dir: string): { tensors: Map<string, { t: StTensor; file: string }>; source: string } {
  const single = path.join(dir, FILE);
  const tensors = new Map<string, { t: StTensor; file: string }>();
  if (fs.existsSync(single)) {
    for (const [n, t] of readSafetensors(single).tensors) tensors.set(n, { t, file: single });
    return { tensors, source: single };
  }
  const index = path.join(dir, INDEX);
  if (fs.existsSync(index)) {
    const map = readJson(index).weight_map;
    if (!map || typeof map !== 'object' || Array.isArray(map)) throw new Error(`${index}: no "weight_map" object`);
    const files = new Set(Object.values(map as Record<string, unknown>));
    for (const f of files) {
      if (typeof f !== 'string' || path.basename(f) !== f) throw new Error(`${index}: weight_map names an invalid shard ${JSON.stringify(f)}`);
      const shard = path.join(dir, f);
      for (const [n, t] of readSafetensors(shard).tensors) tensors.set(n, { t, file: shard });
    }
    return { tensors, source: index };
  }
  const other = ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5', 'flax_model.msgpack'].find((f) => fs.existsSync(path.join(dir, f)));
  if (other) {
    throw new Error(
      `${path.join(dir, other)}: only safetensors checkpoints are supported; convert the model once, e.g. in Python: ` +
        `AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)`,
    );
  }
  throw new Error(`${dir}: no ${FILE} (or ${INDEX}) found`);
}

/**
 * Reads <dir>/config.json and <dir>/model.safetensors (or a sharded model.safetensors.index.json),
 * maps the tensors to canonical names and checks them against bertParamShapes(config, head).
 * numLabels is the data's label count. Only safetensors is read: a pytorch_model.bin-only folder
 * gets an error saying so.
 */
export function loadHfModel(dir: string, opts: { numLabels: number; head: Head }): HfModel & HfLoadReport {
  const configFile = path.join(dir, 'config.json');
  const raw = readJson(configFile);
  const arch = architectureOf(raw, configFile);
  const config = bertConfigFromHf(raw, arch, opts.numLabels);
  const { tensors, source } = readCheckpoint(dir);
  const posOffset = arch === 'roberta' ? robertaOffset(raw) : 0;

  const unexpected: string[] = [];
  const chosen = new Map<string, string>(); // canonical -> checkpoint name
  // DistilBertForSequenceClassification's classifier reads ReLU(pre_classifier(x)), which this
  // encoder's tanh pooler does not reproduce: such a classifier is dropped and the head initialized.
  const distilSeqHead = arch === 'distilbert' && opts.head === 'sequence' && tensors.has('pre_classifier.weight');
  for (const name of tensors.keys()) {
    const canon = canonicalName(arch, name);
    if (canon === undefined || (opts.head === 'token' && canon.startsWith('bert.pooler.')) || (distilSeqHead && canon.startsWith('classifier.'))) {
      unexpected.push(name);
      continue;
    }
    const prev = chosen.get(canon);
    if (prev !== undefined) {
      // RoBERTa: a classification head's classifier.dense wins over a base-model pooler.
      if (prev.startsWith('classifier.') === name.startsWith('classifier.')) throw new Error(`${source}: tensors "${prev}" and "${name}" both map to "${canon}"`);
      const [keep, drop] = name.startsWith('classifier.') ? [name, prev] : [prev, name];
      chosen.set(canon, keep);
      unexpected.push(drop);
      continue;
    }
    chosen.set(canon, name);
  }

  const posName = 'bert.embeddings.position_embeddings.weight';
  const found = new Map<string, number[]>();
  for (const [canon, name] of chosen) {
    const shape = tensors.get(name)!.t.shape;
    // RoBERTa's canonical position table starts at row padding_idx + 1 (see convert below).
    found.set(canon, canon === posName && posOffset ? [shape[0] - posOffset, ...shape.slice(1)] : shape);
  }
  const filled: string[] = [];
  const typeName = 'bert.embeddings.token_type_embeddings.weight';
  if (arch === 'distilbert' && !found.has(typeName)) {
    found.set(typeName, [config.typeVocabSize, config.hidden]);
    filled.push(typeName);
  }

  const report = checkBertState(found, config, opts.head, { source, arch, hfNames: chosen });
  for (const n of chosen.keys()) if (!found.has(n)) unexpected.push(chosen.get(n)!); // a half head that was dropped

  const params = new Map<string, Float32Array>();
  for (const canon of found.keys()) {
    if (filled.includes(canon)) {
      params.set(canon, new Float32Array(config.typeVocabSize * config.hidden));
      continue;
    }
    const name = chosen.get(canon)!;
    const { t, file } = tensors.get(name)!;
    let data = toFloat32(t, `${file}: tensor "${name}"`);
    if (canon === posName && posOffset) {
      // RoBERTa numbers positions from padding_idx + 1 (= 2): a token at position p (0-based, in
      // an unpadded or right-padded sequence) reads row p + 2. The canonical table, gathered with
      // 0-based positions, is therefore rows [2, 2 + maxPositions) and maxPositions is
      // max_position_embeddings - 2. Rows 0 and 1 (unused, and the padding row) are dropped.
      data = data.slice(posOffset * config.hidden);
    }
    params.set(canon, data);
  }
  const labels = labelsOf(raw);
  return { architecture: arch, config, params, labels, raw, missing: report.missing, unexpected, mismatched: [], initializedHead: report.initializedHead, filled };
}

// ---------------------------------------------------------------------------------------------
// Saving.

const ARCH_CLASS: Record<Architecture, string> = { bert: 'Bert', distilbert: 'DistilBert', roberta: 'Roberta' };

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${file}: cannot write: ${(e as Error).message}`);
  }
}

/**
 * Writes a Hugging Face folder: config.json and model.safetensors with the architecture's own
 * tensor names, loadable by transformers' AutoModelFor{Token,Sequence}Classification.
 *
 * - roberta: the position table gets padding_idx + 1 = 2 leading zero rows back
 *   (max_position_embeddings = maxPositions + 2, pad_token_id 1); a sequence head is written as
 *   RobertaClassificationHead (classifier.dense + classifier.out_proj).
 * - distilbert, token head: DistilBERT has no token type table; row 0 of ours (the only one a
 *   DistilBERT input uses) is added to every position row, which leaves the embeddings unchanged.
 * - distilbert, sequence head: DistilBertForSequenceClassification puts ReLU(pre_classifier) where
 *   this encoder has BERT's tanh pooler, so the model is written as an equivalent
 *   BertForSequenceClassification instead (model_type "bert"), keeping its outputs exact.
 */
export function saveHfModel(dir: string, arch: Architecture, config: BertConfig, params: Map<string, Float32Array>, labels: string[], head: Head): void {
  const expected = bertParamShapes(config, head);
  const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const missing = expected.filter((s) => !params.has(s.name)).map((s) => s.name);
  const names = new Set(expected.map((s) => s.name));
  const extra = [...params.keys()].filter((n) => !names.has(n));
  const wrong = expected.filter((s) => params.has(s.name) && params.get(s.name)!.length !== numel(s.shape)).map((s) => `${s.name} expected ${numel(s.shape)} values [${s.shape.join(', ')}] found ${params.get(s.name)!.length}`);
  if (missing.length || extra.length || wrong.length) {
    throw new Error(`cannot save to ${dir}: the parameters do not fit the config: missing: ${listed(missing)}; unexpected: ${listed(extra)}; mis-shaped: ${listed(wrong)}`);
  }
  if (labels.length !== config.numLabels) throw new Error(`cannot save to ${dir}: ${labels.length} labels for a classifier with ${config.numLabels} outputs`);
  if (new Set(labels).size !== labels.length) throw new Error(`cannot save to ${dir}: labels are not unique`);

  const out: Architecture = arch === 'distilbert' && head === 'sequence' ? 'bert' : arch;
  const H = config.hidden;
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  const offset = out === 'roberta' ? 2 : 0;
  for (const s of expected) {
    let data = params.get(s.name)!;
    let shape = s.shape;
    if (out === 'distilbert' && s.name === 'bert.embeddings.token_type_embeddings.weight') continue;
    if (s.name === 'bert.embeddings.position_embeddings.weight') {
      if (out === 'distilbert') {
        const type0 = params.get('bert.embeddings.token_type_embeddings.weight')!.subarray(0, H);
        data = data.slice();
        for (let r = 0; r < config.maxPositions; r++) for (let j = 0; j < H; j++) data[r * H + j] += type0[j];
      } else if (offset) {
        const full = new Float32Array((config.maxPositions + offset) * H);
        full.set(data, offset * H);
        data = full;
        shape = [config.maxPositions + offset, H];
      }
    }
    tensors[hfName(out, s.name, head)] = { dtype: 'F32', shape, data };
  }

  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  const cls = `${ARCH_CLASS[out]}For${head === 'token' ? 'Token' : 'Sequence'}Classification`;
  const json: Record<string, unknown> =
    out === 'distilbert'
      ? {
          architectures: [cls],
          model_type: 'distilbert',
          dim: H,
          n_layers: config.layers,
          n_heads: config.heads,
          hidden_dim: config.intermediate,
          max_position_embeddings: config.maxPositions,
          dropout: config.hiddenDropout,
          attention_dropout: config.attentionDropout,
          vocab_size: config.vocabSize,
          activation: 'gelu',
          sinusoidal_pos_embds: false,
          pad_token_id: 0,
        }
      : {
          architectures: [cls],
          model_type: out,
          hidden_size: H,
          num_hidden_layers: config.layers,
          num_attention_heads: config.heads,
          intermediate_size: config.intermediate,
          max_position_embeddings: config.maxPositions + offset,
          type_vocab_size: config.typeVocabSize,
          layer_norm_eps: config.layerNormEps,
          hidden_dropout_prob: config.hiddenDropout,
          attention_probs_dropout_prob: config.attentionDropout,
          vocab_size: config.vocabSize,
          hidden_act: 'gelu',
          position_embedding_type: 'absolute',
          ...(out === 'roberta' ? { pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 } : { pad_token_id: 0 }),
        };
  Object.assign(json, { id2label, label2id, torch_dtype: 'float32' });

  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, FILE), tensors, { format: 'pt' });
  writeJsonAtomic(path.join(dir, 'config.json'), json);
}
