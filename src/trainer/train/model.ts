// The model of a run: BERT config and parameters (from scratch or a Hugging Face folder), which
// parameters train (full, head-only, LoRA), the training loss, and the inference graph used for
// evaluation and export.

import { Builder } from '../engine/builder';
import { Graph, type Tensor } from '../engine/ir';
import type { FeedDef, LossFn, ParamDef } from '../engine/program';
import {
  bertParamShapes,
  initParams,
  sequenceClassificationLogits,
  tokenClassificationLogits,
  tokenClassificationLoss,
  type BertConfig,
  type EmitOptions,
  type ParamShape,
} from '../models/bert';
import { loadHfModel } from '../models/hf';
import { isGenericLabels } from '../models/hfConfig';
import type { ResolvedConfig } from '../../shared/config/config';
import { rng } from '../../shared/rng';

export { rng };

export type Head = 'token' | 'sequence';

export interface ModelSetup {
  config: BertConfig;
  head: Head;
  /** Every parameter, canonical names (LoRA adapters included). */
  params: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  trained: string[];
  frozen: string[];
  decay: Map<string, boolean>;
  loraScale?: number;
  /** The classifier's outputs, in order. */
  labels: string[];
  /** What loading a pretrained folder reported (initialized head, filled tables, ignored tensors, how the classifier's labels were matched). */
  notes: string[];
  /** The same, for what the user should look at (a classifier replaced or kept without label names). */
  warnings: string[];
}

const shown = (labels: string[]) => (labels.length > 40 ? `${labels.slice(0, 40).join(' ')} … (${labels.length})` : labels.join(' '));

/** The log line for how a checkpoint's classifier rows were matched to the run's labels. */
function labelMatchNote(m: NonNullable<ReturnType<typeof loadHfModel>['labelMatch']>, labels: string[]): { warn: boolean; text: string } {
  const unnamed = !m.checkpoint || m.checkpoint.length !== m.rows || isGenericLabels(m.checkpoint);
  const theirs = m.checkpoint ? shown(m.checkpoint) : 'config.json has no id2label';
  switch (m.kind) {
    case 'name':
      return {
        warn: false,
        text: `labels: the checkpoint's classifier rows are mapped to the run's labels by name (checkpoint: ${theirs}; run: ${shown(labels)})`,
      };
    case 'index':
      return {
        warn: true,
        text: `labels: the checkpoint's classifier has ${m.rows} unnamed labels (${theirs}); its rows are kept in index order as the run's labels ${shown(labels)} — name them in its config.json id2label to map them by name`,
      };
    case 'none':
      return {
        warn: true,
        text: unnamed
          ? `labels: the checkpoint's classifier has ${m.rows} unnamed labels (${theirs}), the run ${labels.length} (${shown(labels)}); the classification head starts anew`
          : `labels: the checkpoint's classifier labels (${theirs}) do not cover the run's (${shown(labels)}); the classification head starts anew`,
      };
  }
}

const LORA_TARGETS: Record<string, string> = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  'attention.output': 'attention.output.dense',
  dense: 'attention.output.dense',
  intermediate: 'intermediate.dense',
  output: 'output.dense',
};

export function setupModel(cfg: ResolvedConfig, vocabSize: number, labels: string[]): ModelSetup {
  const head: Head = cfg.task === 'token-classification' ? 'token' : 'sequence';
  const numLabels = labels.length;
  const r = rng(cfg.seed);
  const notes: string[] = [];
  const warnings: string[] = [];
  let config: BertConfig;
  const params = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  let all: ParamShape[];
  if (cfg.model.pretrained) {
    const hf = loadHfModel(cfg.model.pretrained, { numLabels, head, labels });
    if (hf.labelMatch) {
      const { warn, text } = labelMatchNote(hf.labelMatch, labels);
      (warn ? warnings : notes).push(text);
    }
    config = { ...hf.config, hiddenDropout: cfg.model.dropout, attentionDropout: cfg.model.attentionDropout };
    // A token id past the embedding rows would fail inside ONNX Runtime's Gather with a raw dump.
    if (vocabSize > config.vocabSize)
      throw new Error(
        `the tokenizer of ${cfg.model.pretrained} has ${vocabSize} tokens but the model's embeddings have ${config.vocabSize} rows (vocab_size in config.json): ids from ${config.vocabSize} on have no embedding; use the tokenizer saved with this model`,
      );
    all = bertParamShapes(config, head);
    for (const [k, v] of hf.params) params.set(k, v);
    const fresh = initParams(
      all.filter((p) => !params.has(p.name)),
      r,
    );
    for (const p of fresh) params.set(p.name, p.data);
    if (hf.initializedHead.length) notes.push(`initialized the classification head: ${hf.initializedHead.join(', ')}`);
    if (hf.filled.length) notes.push(`filled with zeros (not in the checkpoint): ${hf.filled.join(', ')}`);
    if (hf.unexpected.length)
      notes.push(`ignored checkpoint tensors: ${hf.unexpected.length} (${hf.unexpected.slice(0, 4).join(', ')}${hf.unexpected.length > 4 ? ', …' : ''})`);
  } else {
    const s = cfg.model.fromScratch!;
    config = {
      vocabSize,
      hidden: s.hidden,
      layers: s.layers,
      heads: s.heads,
      intermediate: s.intermediate,
      maxPositions: s.maxPositions,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      hiddenDropout: cfg.model.dropout,
      attentionDropout: cfg.model.attentionDropout,
      numLabels,
    };
    all = bertParamShapes(config, head);
    for (const p of initParams(all, r)) params.set(p.name, p.data);
  }
  for (const p of all) shapes.set(p.name, p.shape);
  const decay = new Map<string, boolean>();
  const decays = (name: string) => !cfg.training.noDecay.some((suffix) => name.endsWith(suffix));
  for (const p of all) decay.set(p.name, decays(p.name));

  const isHead = (n: string) => n.startsWith('classifier.') || n.startsWith('bert.pooler.');
  let trained = all.map((p) => p.name);
  let frozen: string[] = [];
  let loraScale: number | undefined;
  const peft = cfg.model.peft;
  if (peft.kind === 'head-only') {
    trained = all.map((p) => p.name).filter(isHead);
    frozen = all.map((p) => p.name).filter((n) => !isHead(n));
  } else if (peft.kind === 'lora') {
    frozen = all.map((p) => p.name).filter((n) => !isHead(n));
    trained = all.map((p) => p.name).filter(isHead);
    loraScale = peft.alpha / peft.rank;
    for (let i = 0; i < config.layers; i++) {
      for (const t of peft.targets) {
        const module = LORA_TARGETS[t];
        if (!module) throw new Error(`model.peft.lora.targets: unknown target '${t}' (known: ${Object.keys(LORA_TARGETS).join(', ')})`);
        const prefix = `bert.encoder.layer.${i}.${module}`;
        const [out, inp] = shapes.get(`${prefix}.weight`)!;
        // As PEFT initializes: A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0, so training starts at the base model.
        const a = new Float32Array(peft.rank * inp).map(() => (r() * 2 - 1) / Math.sqrt(inp));
        const names = [
          [`${prefix}.lora_A.weight`, [peft.rank, inp], a],
          [`${prefix}.lora_B.weight`, [out, peft.rank], new Float32Array(out * peft.rank)],
        ] as const;
        for (const [n, shape, data] of names) {
          params.set(n, data);
          shapes.set(n, [...shape]);
          decay.set(n, decays(n));
          trained.push(n);
        }
      }
    }
  }
  return { config, head, params, shapes, trained, frozen, decay, loraScale, labels, notes, warnings };
}

export function paramDefs(m: ModelSetup, names: string[]): ParamDef[] {
  return names.map((name) => ({ name, shape: m.shapes.get(name)!, data: m.params.get(name)!, decay: m.decay.get(name) }));
}

/** Batch feeds of one micro-batch of B sequences of length T. */
export function batchFeeds(m: ModelSetup, B: number, T: number): FeedDef[] {
  return [
    { name: 'input_ids', dtype: 'int64', shape: [B, T] },
    { name: 'attention_mask', dtype: 'int64', shape: [B, T] },
    { name: 'labels', dtype: 'int64', shape: m.head === 'token' ? [B, T] : [B] },
  ];
}

/**
 * What training.mixed_precision comes to on this run: the dtype of the matrix products, or float32
 * with the reason. Mixed precision is for CUDA: on the CPU, ONNX Runtime runs float16 products by
 * casting them to float32 and back (slower than float32) and has no bfloat16 MatMul at all.
 */
export function resolvePrecision(
  mode: 'no' | 'fp16' | 'bf16' | undefined,
  device: 'auto' | 'cpu' | 'cuda',
  cuda: { available: boolean; reason?: string },
): { compute?: 'float16' | 'bfloat16'; reason?: string } {
  if (!mode || mode === 'no') return {};
  const why = device === 'cpu' ? 'device is cpu' : !cuda.available ? `CUDA is not available: ${cuda.reason}` : undefined;
  if (why) return { reason: `training.mixed_precision: ${mode} applies on CUDA; ${why}, so this run trains in float32` };
  return { compute: mode === 'fp16' ? 'float16' : 'bfloat16' };
}

/** The training loss; `checkpointing` recomputes each encoder layer in the backward pass (training.gradient_checkpointing). */
export function lossFn(m: ModelSetup, checkpointing = false, compute?: EmitOptions['compute']): LossFn {
  return (b, P, batch, random) => {
    const o: EmitOptions = { training: true, random, loraScale: m.loraScale, checkpointing, compute };
    const inp = { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! };
    if (m.head === 'token') return tokenClassificationLoss(b, P, m.config, inp, batch.get('labels')!, o).loss;
    return b.softmaxCrossEntropy(sequenceClassificationLogits(b, P, m.config, inp, o), batch.get('labels')!, -100)[0];
  };
}

/**
 * Forward-only graph: inputs input_ids and attention_mask [batch, sequence] (any sizes), output
 * logits ([batch, sequence, labels] or [batch, labels]). With `weightsAsInputs` every parameter is
 * an input (evaluation during training feeds the current weights); otherwise they are initializers
 * (the exported model), with LoRA adapters merged into the base weights.
 */
export function inferenceGraph(m: ModelSetup, weightsAsInputs: boolean): Graph {
  const g = new Graph('inference');
  const b = new Builder(g);
  const inputIds = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'sequence']);
  const P = new Map<string, Tensor>();
  const merged = weightsAsInputs ? m.params : mergeLora(m);
  for (const [name, data] of merged) {
    if (!weightsAsInputs && name.includes('.lora_')) continue;
    const shape = m.shapes.get(name)!;
    P.set(name, weightsAsInputs ? g.input(name, 'float32', shape) : g.initializer(name, 'float32', shape, data));
  }
  const o: EmitOptions = { training: false, loraScale: m.loraScale };
  const inp = { inputIds, attentionMask };
  const logits = m.head === 'token' ? tokenClassificationLogits(b, P, m.config, inp, o) : sequenceClassificationLogits(b, P, m.config, inp, o);
  g.output(logits, 'logits');
  return g;
}

/** Parameters with LoRA adapters folded in: W + scale * B A (what a plain BERT loads). */
export function mergeLora(m: ModelSetup): Map<string, Float32Array> {
  const out = new Map(m.params);
  for (const name of m.params.keys()) {
    if (!name.endsWith('.lora_A.weight')) continue;
    const prefix = name.slice(0, -'.lora_A.weight'.length);
    const A = m.params.get(name)!;
    const B = m.params.get(`${prefix}.lora_B.weight`)!;
    const W = m.params.get(`${prefix}.weight`)!;
    const [out_, in_] = m.shapes.get(`${prefix}.weight`)!;
    const r = A.length / in_;
    const merged = W.slice();
    const scale = m.loraScale ?? 1;
    for (let o = 0; o < out_; o++) {
      for (let k = 0; k < r; k++) {
        const bk = B[o * r + k] * scale;
        if (bk === 0) continue;
        for (let i = 0; i < in_; i++) merged[o * in_ + i] += bk * A[k * in_ + i];
      }
    }
    out.set(`${prefix}.weight`, merged);
    out.delete(name);
    out.delete(`${prefix}.lora_B.weight`);
  }
  return out;
}
