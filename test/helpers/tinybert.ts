// A tiny BERT and its token-classification micro-batches, for engine tests that train a few
// steps in well under a second (gradient checkpointing, mixed precision).

import type { ProgramSpec } from '../../src/trainer/engine/program';
import { bertParamShapes, initParams, tokenClassificationLoss, type BertConfig, type EmitOptions } from '../../src/trainer/models/bert';
import { rng } from '../../src/shared/rng';

/** 16 hidden, 2 heads, 40-token vocabulary, 5 labels, dropout 0.1; `layers` encoder layers. */
export function tinyBert(layers: number): BertConfig {
  return {
    vocabSize: 40,
    hidden: 16,
    layers,
    heads: 2,
    intermediate: 32,
    maxPositions: 16,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    numLabels: 5,
  };
}

/**
 * K micro-batches of B rows of T tokens, from micro-batch `from` on of one seeded stream: random
 * ids, the last two positions of every other row padding (label -100).
 */
export function tinyBatches(c: BertConfig, B: number, T: number, K: number, from = 0): Record<string, BigInt64Array> {
  const r = rng(9);
  const n = (from + K) * B * T;
  const mask = BigInt64Array.from({ length: n }, (_, i) => (Math.floor(i / T) % 2 === 0 && i % T >= T - 2 ? 0n : 1n));
  const ids = BigInt64Array.from({ length: n }, () => BigInt(1 + Math.floor(r() * (c.vocabSize - 1))));
  const labels = BigInt64Array.from({ length: n }, (_, i) => (mask[i] ? BigInt(Math.floor(r() * c.numLabels)) : -100n));
  const part = (a: BigInt64Array) => a.slice(from * B * T);
  return { input_ids: part(ids), attention_mask: part(mask), labels: part(labels) };
}

/**
 * The training program of BERT config `c` on B × T token-classification micro-batches (the feeds
 * tinyBatches makes): seeded weights, AdamW with weight decay 0.01, clipping at 1; `emit` adds to
 * the loss graph's options (checkpointing, compute), `extra` to the spec (loss scaling).
 */
export function tinyTrainSpec(c: BertConfig, B: number, T: number, emit: Partial<EmitOptions> = {}, extra: Partial<ProgramSpec> = {}): ProgramSpec {
  return {
    params: initParams(bertParamShapes(c), rng(3)),
    batch: ['input_ids', 'attention_mask', 'labels'].map((n) => ({ name: n, dtype: 'int64' as const, shape: [B, T] })),
    loss: (b, P, batch, random) =>
      tokenClassificationLoss(b, P, c, { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! }, batch.get('labels')!, {
        training: true,
        random,
        ...emit,
      }).loss,
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
    seed: 5,
    ...extra,
  };
}
