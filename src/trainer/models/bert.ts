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

/** Dropout when training with a ratio > 0; identity otherwise. */
function dropout(b: Builder, x: Tensor, ratio: number, training: boolean): Tensor {
  return training && ratio > 0 ? b.dropout(x, ratio)[0] : x;
}

/** y = x W^T + bias for x (N, in) and a Hugging Face Linear weight (out, in). */
export function linear(b: Builder, P: Map<string, Tensor>, prefix: string, x: Tensor): Tensor {
  return b.gemm(x, P.get(`${prefix}.weight`)!, P.get(`${prefix}.bias`)!, { transB: true });
}

/** The encoder's last hidden state, flattened to (B*T, H). */
export function emitBertEncoder(b: Builder, P: Map<string, Tensor>, c: BertConfig, inp: BertInputs, training: boolean): Tensor {
  const [B, T] = inp.inputIds.shape as number[];
  const H = c.hidden;
  const nh = c.heads;
  const d = H / nh;
  const p = (n: string) => P.get(n)!;
  const ln = (x: Tensor, prefix: string) => b.layerNorm(x, p(`${prefix}.weight`), p(`${prefix}.bias`), c.layerNormEps)[0];

  // Embeddings: word + position + token type, LayerNorm, dropout.
  const positions = b.g.constant('int64', [T], Array.from({ length: T }, (_, i) => i));
  let x = b.gather(p('bert.embeddings.word_embeddings.weight'), inp.inputIds); // (B, T, H)
  x = b.add(x, b.gather(p('bert.embeddings.position_embeddings.weight'), positions)); // + (T, H)
  const types = inp.tokenTypeIds
    ? b.gather(p('bert.embeddings.token_type_embeddings.weight'), inp.tokenTypeIds) // (B, T, H)
    : b.gather(p('bert.embeddings.token_type_embeddings.weight'), b.g.constant('int64', [], [0])); // (H)
  x = b.add(x, types);
  x = b.reshape(x, [B * T, H]); // (B*T, H)
  x = dropout(b, ln(x, 'bert.embeddings.LayerNorm'), c.hiddenDropout, training);

  // Additive mask: 0 for tokens, -10000 for padding, broadcast over heads and query positions.
  const maskF = b.cast(inp.attentionMask, 'float32');
  const maskBias = b.reshape(b.mulScalar(b.sub(b.scalar(1, maskF), maskF), -10000), [B, 1, 1, T]); // (B, 1, 1, T)

  for (let i = 0; i < c.layers; i++) {
    const L = `bert.encoder.layer.${i}`;
    // Self-attention. Scale q by 1/sqrt(d) before the product: (B, nh, T, d) is smaller than (B, nh, T, T).
    const q = b.transpose(b.reshape(b.mulScalar(linear(b, P, `${L}.attention.self.query`, x), 1 / Math.sqrt(d)), [B, T, nh, d]), [0, 2, 1, 3]); // (B, nh, T, d)
    const k = b.transpose(b.reshape(linear(b, P, `${L}.attention.self.key`, x), [B, T, nh, d]), [0, 2, 3, 1]); // (B, nh, d, T)
    const v = b.transpose(b.reshape(linear(b, P, `${L}.attention.self.value`, x), [B, T, nh, d]), [0, 2, 1, 3]); // (B, nh, T, d)
    const scores = b.add(b.matmul(q, k), maskBias); // (B, nh, T, T)
    const probs = dropout(b, b.softmax(scores, -1), c.attentionDropout, training);
    const ctx = b.reshape(b.transpose(b.matmul(probs, v), [0, 2, 1, 3]), [B * T, H]); // (B, nh, T, d) -> (B*T, H)
    const attnOut = dropout(b, linear(b, P, `${L}.attention.output.dense`, ctx), c.hiddenDropout, training);
    x = ln(b.add(attnOut, x), `${L}.attention.output.LayerNorm`); // (B*T, H)
    // Feed-forward.
    const h = b.gelu(linear(b, P, `${L}.intermediate.dense`, x)); // (B*T, I)
    const ffOut = dropout(b, linear(b, P, `${L}.output.dense`, h), c.hiddenDropout, training);
    x = ln(b.add(ffOut, x), `${L}.output.LayerNorm`); // (B*T, H)
  }
  return x;
}

/** Token-classification logits (B*T, C) and the mean cross-entropy over labels != -100. */
export function tokenClassificationLoss(b: Builder, P: Map<string, Tensor>, c: BertConfig, inp: BertInputs, labels: Tensor, training: boolean): { logits: Tensor; loss: Tensor } {
  const [B, T] = inp.inputIds.shape as number[];
  const hidden = dropout(b, emitBertEncoder(b, P, c, inp, training), c.hiddenDropout, training);
  const logits = linear(b, P, 'classifier', hidden); // (B*T, C)
  const loss = b.softmaxCrossEntropy(logits, b.reshape(labels, [B * T]), -100)[0];
  return { logits, loss };
}
