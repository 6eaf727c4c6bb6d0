// What a Hugging Face model folder's metadata means for this encoder: the architecture and
// BertConfig of its config.json, its id2label (and how its classifier rows match a run's labels),
// and the mapping between the checkpoint's tensor
// names and the canonical BERT names of models/bert.ts (both ways). Loading the weights is in
// hf.ts, writing a folder in hfSave.ts.

import type { BertConfig } from './bert';

export type Architecture = 'bert' | 'distilbert' | 'roberta';
export type Head = 'token' | 'sequence';

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
  return v;
}

/** padding_idx + 1: where RoBERTa's position ids start (2 with the usual pad_token_id 1). */
export function robertaOffset(raw: Record<string, unknown>): number {
  const pad = raw.pad_token_id ?? 1;
  if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0)
    throw new Error(`config.json: "pad_token_id" must be a non-negative integer, found ${JSON.stringify(pad)}`);
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
    if (typeof act !== 'string' || !act.startsWith('gelu'))
      throw new Error(`${where}: activation ${JSON.stringify(act)} is not supported (the encoder uses GELU)`);
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
    if (typeof act !== 'string' || !act.startsWith('gelu'))
      throw new Error(`${where}: hidden_act ${JSON.stringify(act)} is not supported (the encoder uses GELU)`);
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

export function architectureOf(raw: Record<string, unknown>, where: string): Architecture {
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

export function labelsOf(raw: Record<string, unknown>): string[] | undefined {
  const m = raw.id2label;
  if (!m || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const entries = Object.entries(m as Record<string, unknown>);
  const out = new Array<string>(entries.length);
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== 'string' || out[i] !== undefined) return undefined;
    out[i] = v;
  }
  return out;
}

/** Transformers' placeholder names (LABEL_0, LABEL_1, …): a config saved without label names. */
export function isGenericLabels(names: string[]): boolean {
  return names.every((n, i) => n === `LABEL_${i}`);
}

/**
 * How a checkpoint's classifier (`rows` outputs, named by `checkpoint`, its id2label) fits a run's
 * labels: `name` when the checkpoint's names cover the run's (run label i reads checkpoint row
 * order[i]); `index` when the checkpoint's labels are unnamed (no id2label, or LABEL_0…) and as many
 * as the run's, so row i is kept as run label i, as Transformers does; otherwise `none` (a new head).
 */
export type LabelMatch = { kind: 'name'; order: number[] } | { kind: 'index' } | { kind: 'none' };

export function matchLabels(checkpoint: string[] | undefined, rows: number, run: string[]): LabelMatch {
  const named = checkpoint !== undefined && checkpoint.length === rows ? checkpoint : undefined;
  if (named) {
    const at = new Map(named.map((l, i) => [l, i]));
    if (run.every((l) => at.has(l))) return { kind: 'name', order: run.map((l) => at.get(l)!) };
  }
  if ((!named || isGenericLabels(named)) && rows === run.length) return { kind: 'index' };
  return { kind: 'none' };
}
