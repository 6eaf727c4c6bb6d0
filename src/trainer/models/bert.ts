// A BERT encoder emitted into the graph IR, with Hugging Face parameter names
// (bert-base layout: post-LayerNorm, GELU feed-forward, additive padding mask).

import type { Builder } from '../engine/builder';
import type { Tensor } from '../engine/ir';
import type { ParamDef } from '../engine/program';

export interface BertConfig {
  vocabSize: number;
  hidden: number; // H
  layers: number;
  heads: number; // H must divide by heads
  intermediate: number; // feed-forward width, usually 4H
  maxPositions: number;
  typeVocabSize: number; // 2 in BERT
  layerNormEps: number; // 1e-12 in BERT
  hiddenDropout: number; // 0.1 in BERT
  attentionDropout: number; // 0.1 in BERT
  numLabels: number;
}

/** A BERT of the given depth and width with BERT's other settings (WordPiece vocabulary of
 *  bert-base, 4H feed-forward, 512 positions, dropout 0.1, 9 NER labels): the sizes benchmarks and
 *  memory estimates are taken at. */
export function bertSized(layers: number, hidden: number, heads: number, o: Partial<BertConfig> = {}): BertConfig {
  return {
    vocabSize: 30522,
    hidden,
    layers,
    heads,
    intermediate: 4 * hidden,
    maxPositions: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    numLabels: 9,
    ...o,
  };
}

export interface ParamShape {
  name: string;
  shape: number[];
  decay: boolean; // weight decay applies (not to biases and LayerNorm weights, as in HF Trainer)
  init: 'normal' | 'zeros' | 'ones';
}

/** Every parameter of BertFor{Token,Sequence}Classification, in Hugging Face naming. */
export function bertParamShapes(c: BertConfig, head: 'token' | 'sequence' = 'token'): ParamShape[] {
  const out: ParamShape[] = [];
  const w = (name: string, shape: number[]) => out.push({ name, shape, decay: true, init: 'normal' });
  const bias = (name: string, n: number) => out.push({ name, shape: [n], decay: false, init: 'zeros' });
  const ln = (prefix: string) => {
    out.push({ name: `${prefix}.weight`, shape: [c.hidden], decay: false, init: 'ones' });
    out.push({ name: `${prefix}.bias`, shape: [c.hidden], decay: false, init: 'zeros' });
  };
  const linear = (prefix: string, outN: number, inN: number) => {
    w(`${prefix}.weight`, [outN, inN]);
    bias(`${prefix}.bias`, outN);
  };
  w('bert.embeddings.word_embeddings.weight', [c.vocabSize, c.hidden]);
  w('bert.embeddings.position_embeddings.weight', [c.maxPositions, c.hidden]);
  w('bert.embeddings.token_type_embeddings.weight', [c.typeVocabSize, c.hidden]);
  ln('bert.embeddings.LayerNorm');
  for (let i = 0; i < c.layers; i++) {
    const p = `bert.encoder.layer.${i}`;
    linear(`${p}.attention.self.query`, c.hidden, c.hidden);
    linear(`${p}.attention.self.key`, c.hidden, c.hidden);
    linear(`${p}.attention.self.value`, c.hidden, c.hidden);
    linear(`${p}.attention.output.dense`, c.hidden, c.hidden);
    ln(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, c.intermediate, c.hidden);
    linear(`${p}.output.dense`, c.hidden, c.intermediate);
    ln(`${p}.output.LayerNorm`);
  }
  if (head === 'sequence') linear('bert.pooler.dense', c.hidden, c.hidden);
  linear('classifier', c.numLabels, c.hidden);
  return out;
}

/** Initial parameters as BERT initializes them: normal(0, 0.02) weights, zero biases, unit LayerNorm. */
export function initParams(shapes: ParamShape[], rand: () => number, std = 0.02): ParamDef[] {
  return shapes.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (s.init === 'ones') data.fill(1);
    else if (s.init === 'normal') {
      for (let i = 0; i < n; i++) {
        const u = Math.max(rand(), 1e-12);
        data[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
      }
    }
    return { name: s.name, shape: s.shape, data, decay: s.decay };
  });
}

export interface BertInputs {
  inputIds: Tensor; // (B, T) int64
  attentionMask: Tensor; // (B, T) int64, 1 = token, 0 = padding
  tokenTypeIds?: Tensor; // (B, T) int64
}

/**
 * Random bytes for dropout masks, one uniform uint8 tensor of the given shape per call, fed from
 * outside so that masks depend only on (seed, step, site): the same seed gives the same numbers,
 * and a resumed run draws the same masks as one never stopped.
 */
export type RandomSource = (shape: number[]) => Tensor;

export interface EmitOptions {
  training: boolean;
  random?: RandomSource;
  /** LoRA scaling alpha/rank, applied where a `<linear>.lora_A.weight` parameter exists. */
  loraScale?: number;
  /**
   * Gradient checkpointing: each encoder layer is a recomputation segment, recomputed from its
   * input in the backward pass instead of keeping its activations (training only).
   */
  checkpointing?: boolean;
  /**
   * Mixed precision (training.mixed_precision): matrix products, GELU and dropout of the products'
   * outputs run in this dtype from float32 weights cast each step; embeddings, the residual stream,
   * LayerNorm, the attention softmax and the loss stay float32 (the ops PyTorch's autocast keeps in
   * float32). Absent: everything float32.
   */
  compute?: 'float16' | 'bfloat16';
}

/** x in the compute dtype of mixed precision (unchanged without it). */
function toCompute(b: Builder, x: Tensor, o?: EmitOptions): Tensor {
  return o?.compute && x.dtype !== o.compute ? b.cast(x, o.compute) : x;
}

/** x as float32 (a mixed-precision product's output back to the float32 stream). */
function toF32(b: Builder, x: Tensor): Tensor {
  return x.dtype === 'float32' ? x : b.cast(x, 'float32');
}

/** Inverted dropout with a mask from the random source: keep where byte >= round(256 p). */
export function dropout(b: Builder, x: Tensor, ratio: number, o: EmitOptions): Tensor {
  if (!o.training || ratio <= 0) return x;
  if (!o.random) return b.dropout(x, ratio)[0];
  if (!x.shape.every((d) => typeof d === 'number')) throw new Error('dropout masks need static shapes');
  const threshold = Math.min(255, Math.round(ratio * 256));
  const keep = b.g.op('GreaterOrEqual', [o.random(x.shape), b.g.constant('uint8', [], [threshold])]);
  return b.where(keep, b.mulScalar(x, 256 / (256 - threshold)), b.scalar(0, x));
}

/**
 * y = x W^T + bias for x (..., in) and a Hugging Face Linear weight (out, in); 2-D inputs use one
 * Gemm. With LoRA parameters A (r, in) and B (out, r): y += scale * (x A^T) B^T.
 */
export function linear(b: Builder, P: Map<string, Tensor>, prefix: string, x: Tensor, o?: EmitOptions): Tensor {
  const w = toCompute(b, P.get(`${prefix}.weight`)!, o);
  const bias = toCompute(b, P.get(`${prefix}.bias`)!, o);
  x = toCompute(b, x, o);
  const mm = (t: Tensor, m: Tensor, c: Tensor | null) =>
    t.shape.length === 2 ? b.gemm(t, m, c, { transB: true }) : c ? b.add(b.matmul(t, b.transpose(m, [1, 0])), c) : b.matmul(t, b.transpose(m, [1, 0]));
  const y = mm(x, w, bias);
  const loraA0 = P.get(`${prefix}.lora_A.weight`);
  const loraB0 = P.get(`${prefix}.lora_B.weight`);
  if (!loraA0 || !loraB0) return y;
  const loraA = toCompute(b, loraA0, o);
  const loraB = toCompute(b, loraB0, o);
  return b.add(y, b.mulScalar(mm(mm(x, loraA, null), loraB, null), o?.loraScale ?? 1));
}

/**
 * The encoder's last hidden state (B, T, H). Batch and sequence sizes may be symbolic (the
 * exported inference model takes any batch and length up to maxPositions).
 */
export function emitBertEncoder(b: Builder, P: Map<string, Tensor>, c: BertConfig, inp: BertInputs, o: EmitOptions): Tensor {
  const H = c.hidden;
  const nh = c.heads;
  const d = H / nh;
  const p = (n: string) => P.get(n)!;
  const ln = (x: Tensor, prefix: string) => b.layerNorm(toF32(b, x), p(`${prefix}.weight`), p(`${prefix}.bias`), c.layerNormEps)[0];

  // Embeddings: word + position + token type, LayerNorm, dropout.
  const T = inp.inputIds.shape[1];
  const positions =
    typeof T === 'number'
      ? b.g.constant(
          'int64',
          [T],
          Array.from({ length: T }, (_, i) => i),
        )
      : b.g.op('Range', [b.g.constant('int64', [], [0]), b.gather(b.shapeOf(inp.inputIds), b.g.constant('int64', [], [1])), b.g.constant('int64', [], [1])]);
  let x = b.gather(p('bert.embeddings.word_embeddings.weight'), inp.inputIds); // (B, T, H)
  x = b.add(x, b.gather(p('bert.embeddings.position_embeddings.weight'), positions)); // + (T, H)
  const types = inp.tokenTypeIds
    ? b.gather(p('bert.embeddings.token_type_embeddings.weight'), inp.tokenTypeIds) // (B, T, H)
    : b.gather(p('bert.embeddings.token_type_embeddings.weight'), b.g.constant('int64', [], [0])); // (H)
  x = dropout(b, ln(b.add(x, types), 'bert.embeddings.LayerNorm'), c.hiddenDropout, o); // (B, T, H)

  // Additive mask: 0 for tokens, -10000 for padding, broadcast over heads and query positions.
  const maskF = b.cast(inp.attentionMask, 'float32');
  const maskBias = b.unsqueeze(b.mulScalar(b.sub(b.scalar(1, maskF), maskF), -10000), [1, 2]); // (B, 1, 1, T)

  const layer = (i: number, input: Tensor): Tensor => {
    const L = `bert.encoder.layer.${i}`;
    let x = input;
    // Self-attention. Scale q by 1/sqrt(d) before the product: (B, nh, T, d) is smaller than (B, nh, T, T).
    const heads = (t: Tensor) => b.reshape(t, [0, 0, nh, d]); // (B, T, H) -> (B, T, nh, d)
    const q = b.transpose(heads(b.mulScalar(linear(b, P, `${L}.attention.self.query`, x, o), 1 / Math.sqrt(d))), [0, 2, 1, 3]); // (B, nh, T, d)
    const k = b.transpose(heads(linear(b, P, `${L}.attention.self.key`, x, o)), [0, 2, 3, 1]); // (B, nh, d, T)
    const v = b.transpose(heads(linear(b, P, `${L}.attention.self.value`, x, o)), [0, 2, 1, 3]); // (B, nh, T, d)
    const scores = b.add(toF32(b, b.matmul(q, k)), maskBias); // (B, nh, T, T), float32 for the softmax
    const probs = toCompute(b, dropout(b, b.softmax(scores, -1), c.attentionDropout, o), o);
    const ctx = b.reshape(b.transpose(b.matmul(probs, v), [0, 2, 1, 3]), [0, 0, H]); // (B, nh, T, d) -> (B, T, H)
    const attnOut = dropout(b, linear(b, P, `${L}.attention.output.dense`, ctx, o), c.hiddenDropout, o);
    x = ln(b.add(toF32(b, attnOut), x), `${L}.attention.output.LayerNorm`); // (B, T, H)
    // Feed-forward.
    const h = b.gelu(linear(b, P, `${L}.intermediate.dense`, x, o)); // (B, T, I)
    const ffOut = dropout(b, linear(b, P, `${L}.output.dense`, h, o), c.hiddenDropout, o);
    return ln(b.add(toF32(b, ffOut), x), `${L}.output.LayerNorm`); // (B, T, H)
  };
  for (let i = 0; i < c.layers; i++) {
    const input = x;
    x = o.training && o.checkpointing ? b.g.segment(`bert.encoder.layer.${i}`, () => layer(i, input)) : layer(i, input);
  }
  return x;
}

/** Token-classification logits (B, T, C) and the mean cross-entropy over labels != -100. */
export function tokenClassificationLoss(
  b: Builder,
  P: Map<string, Tensor>,
  c: BertConfig,
  inp: BertInputs,
  labels: Tensor,
  o: EmitOptions,
): { logits: Tensor; loss: Tensor } {
  const logits = tokenClassificationLogits(b, P, c, inp, o);
  // Cross-entropy takes classes on axis 1: (B, C, T) against labels (B, T).
  const loss = b.softmaxCrossEntropy(b.transpose(logits, [0, 2, 1]), labels, -100)[0];
  return { logits, loss };
}

export function tokenClassificationLogits(b: Builder, P: Map<string, Tensor>, c: BertConfig, inp: BertInputs, o: EmitOptions): Tensor {
  const hidden = dropout(b, emitBertEncoder(b, P, c, inp, o), c.hiddenDropout, o);
  return toF32(b, linear(b, P, 'classifier', hidden, o)); // (B, T, C)
}

/** Sequence-classification logits (B, C): pooler tanh(W h_[CLS] + b), dropout, classifier. */
export function sequenceClassificationLogits(b: Builder, P: Map<string, Tensor>, c: BertConfig, inp: BertInputs, o: EmitOptions): Tensor {
  const hidden = emitBertEncoder(b, P, c, inp, o); // (B, T, H)
  const cls = b.squeeze(b.slice(hidden, [0], [1], [1]), [1]); // (B, H)
  const pooled = b.tanh(linear(b, P, 'bert.pooler.dense', cls, o));
  return toF32(b, linear(b, P, 'classifier', dropout(b, pooled, c.hiddenDropout, o), o)); // (B, C)
}
