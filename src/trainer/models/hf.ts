// Hugging Face model folders (config.json + model.safetensors) for BERT-family encoders, mapped to
// and from the canonical BERT parameter names of models/bert.ts.
//
// Supported checkpoints:
//   bert        BertModel (no prefix), BertFor{Token,Sequence}Classification, BertForMaskedLM/PreTraining
//               (the MLM/NSP heads `cls.*` are ignored); old TF-converted `LayerNorm.gamma/beta`.
//   distilbert  DistilBertModel / DistilBertFor*; no token type embeddings (a zero table is filled in).
//   roberta     RobertaModel / RobertaFor* (also model_type xlm-roberta and camembert, which share the
//               layout); `lm_head.*` is ignored; positions are offset by padding_idx + 1 (see below).

//
// This module loads a folder (safetensors weights mapped and checked against the encoder's
// parameters); hfConfig.ts reads config.json and maps tensor names, hfSave.ts writes a folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, readSafetensorsShapes, toFloat32, type StTensor } from '../io/safetensors';
import { bertParamShapes, type BertConfig } from './bert';
import {
  architectureOf,
  bertConfigFromHf,
  canonicalName,
  labelsOf,
  matchLabels,
  robertaOffset,
  type Architecture,
  type Head,
  type LabelMatch,
} from './hfConfig';

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
  /** With `labels`, when the checkpoint has a classifier: how its rows were matched to the labels (`none`: it was dropped). */
  labelMatch?: LabelMatch & { checkpoint?: string[]; rows: number };
}

/** The weights file of a single-file checkpoint (and of a folder this project writes). */
export const WEIGHTS_FILE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

// ---------------------------------------------------------------------------------------------
// Checking a state against the expected parameters.

const headNames = (head: Head) =>
  head === 'sequence'
    ? ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias']
    : ['classifier.weight', 'classifier.bias'];

/** A list for an error message: the first `max` items and how many more. */
export function listed(xs: string[], max = 20): string {
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
  const mismatched = expected
    .filter((s) => found.has(s.name) && !sameShape(s.shape, found.get(s.name)!))
    .map((s) => ({ name: s.name, expected: s.shape, found: found.get(s.name)! }));
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
      `${opts.source ?? WEIGHTS_FILE} does not fit a ${opts.arch ?? 'bert'} encoder (layers ${c.layers}, hidden ${c.hidden}, intermediate ${c.intermediate}, vocab ${c.vocabSize}, positions ${c.maxPositions}, ${head} head with ${c.numLabels} labels): ` +
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
  const single = path.join(dir, WEIGHTS_FILE);
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
  throw new Error(`${dir}: no ${WEIGHTS_FILE} (or ${INDEX}) found`);
}

/**
 * The labels of a folder's classifier, from config.json and the weight files' headers (no tensor
 * data is read): its id2label (when it numbers labels 0..n-1) and how many rows its classifier
 * has (absent when it has none the run would load). Undefined when the folder cannot be read;
 * loadHfModel then reports why.
 */
export function checkpointHead(dir: string, head: Head): { labels?: string[]; rows?: number } | undefined {
  try {
    const raw = readJson(path.join(dir, 'config.json'));
    const arch = architectureOf(raw, 'config.json');
    const shapes = new Map<string, number[]>();
    const single = path.join(dir, WEIGHTS_FILE);
    const index = path.join(dir, INDEX);
    const files = fs.existsSync(single)
      ? [single]
      : [...new Set(Object.values((readJson(index).weight_map ?? {}) as Record<string, string>))].map((f) => path.join(dir, f));
    for (const f of files) for (const [n, shape] of readSafetensorsShapes(f)) shapes.set(n, shape);
    // As loadHfModel: DistilBERT's sequence classifier (behind pre_classifier) is not loaded.
    const distilSeqHead = arch === 'distilbert' && head === 'sequence' && shapes.has('pre_classifier.weight');
    let w: number[] | undefined;
    let b: number[] | undefined;
    for (const [n, shape] of shapes) {
      const canon = canonicalName(arch, n);
      if (canon === 'classifier.weight') w = shape;
      if (canon === 'classifier.bias') b = shape;
    }
    const rows = !distilSeqHead && w && b && w.length === 2 && b.length === 1 && w[0] === b[0] ? w[0] : undefined;
    return { labels: labelsOf(raw), rows };
  } catch {
    return undefined;
  }
}

/**
 * Reads <dir>/config.json and <dir>/model.safetensors (or a sharded model.safetensors.index.json),
 * maps the tensors to canonical names and checks them against bertParamShapes(config, head).
 * numLabels is the data's label count. With `labels` (the run's, numLabels of them) the checkpoint's
 * classifier rows are matched to them (matchLabels): by name through its id2label, by index when it
 * names none, or dropped. Only safetensors is read: a pytorch_model.bin-only folder gets an error
 * saying so.
 */
export function loadHfModel(dir: string, opts: { numLabels: number; head: Head; labels?: string[] }): HfModel & HfLoadReport {
  if (opts.labels && opts.labels.length !== opts.numLabels) throw new Error(`${opts.labels.length} labels for ${opts.numLabels} outputs`);
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
      if (prev.startsWith('classifier.') === name.startsWith('classifier.'))
        throw new Error(`${source}: tensors "${prev}" and "${name}" both map to "${canon}"`);
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
  // The classifier's rows, matched to the run's labels.
  let labelMatch: HfLoadReport['labelMatch'];
  const w = chosen.get('classifier.weight');
  const b = chosen.get('classifier.bias');
  if (opts.labels && w !== undefined && b !== undefined) {
    const [ws, bs] = [tensors.get(w)!.t.shape, tensors.get(b)!.t.shape];
    if (ws.length === 2 && bs.length === 1 && ws[0] === bs[0]) {
      const checkpoint = labelsOf(raw);
      labelMatch = { ...matchLabels(checkpoint, ws[0], opts.labels), checkpoint, rows: ws[0] };
      if (labelMatch.kind === 'name') {
        found.set('classifier.weight', [opts.labels.length, ws[1]]);
        found.set('classifier.bias', [opts.labels.length]);
      } else if (labelMatch.kind === 'none') {
        found.delete('classifier.weight');
        found.delete('classifier.bias');
      }
    }
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
    if (labelMatch?.kind === 'name' && (canon === 'classifier.weight' || canon === 'classifier.bias')) {
      // Row i of the run's classifier is the checkpoint's row for the run's label i.
      const width = canon === 'classifier.weight' ? config.hidden : 1;
      const src = data;
      data = new Float32Array(labelMatch.order.length * width);
      labelMatch.order.forEach((r, i) => data.set(src.subarray(r * width, (r + 1) * width), i * width));
    }
    params.set(canon, data);
  }
  const labels = labelsOf(raw);
  return {
    architecture: arch,
    config,
    params,
    labels,
    raw,
    missing: report.missing,
    unexpected,
    mismatched: [],
    initializedHead: report.initializedHead,
    filled,
    labelMatch,
  };
}
