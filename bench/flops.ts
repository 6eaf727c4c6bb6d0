// Effective GFLOP/s for the bench rows, and this machine's matrix-multiply peak to read them
// against: one MatMul of BERT's feed-forward shape (tokens × hidden by hidden × intermediate) run
// in ONNX Runtime here, and the same torch.matmul on the Python side (bench/suite_py.py matmul).

import { Builder } from '../src/trainer/engine/builder';
import { Graph } from '../src/trainer/engine/ir';
import { serializeModel } from '../src/trainer/engine/onnx';
import { Session } from '../src/trainer/engine/session';
import type { BertConfig } from '../src/trainer/models/bert';

/**
 * Multiply-add FLOPs (2 per multiply-add) of one forward pass over `tokens` positions of sequences
 * of length T: per layer the Q, K, V and output projections (4·H²) and the feed-forward (2·H·I)
 * per token, the attention products Q·Kᵀ and P·V (2·T·H per token), and the classifier.
 * Embedding look-ups, LayerNorm, softmax and GELU are left out (a few percent).
 */
export function forwardFlops(c: BertConfig, tokens: number, T: number): number {
  const H = c.hidden;
  return tokens * (c.layers * 2 * (4 * H * H + 2 * H * c.intermediate + 2 * T * H) + 2 * H * c.numLabels);
}

/**
 * A training step: full fine-tuning is forward + backward with input and weight gradients (3×
 * forward); with the encoder frozen (LoRA, head only) the backward pass needs input gradients
 * only (2× forward; LoRA's rank-8 products are negligible); head only stops at the classifier.
 */
export function trainFlops(c: BertConfig, tokens: number, T: number, mode: 'full' | 'lora' | 'head'): number {
  const f = forwardFlops(c, tokens, T);
  return mode === 'full' ? 3 * f : mode === 'lora' ? 2 * f : f + 2 * tokens * 2 * c.hidden * c.numLabels;
}

/** Our side of the matmul microbench: [M, K] × [K, N] in one ONNX Runtime MatMul, GFLOP/s (median). */
export async function workMatmul(threads: number, M: number, K: number, N: number, runs: number) {
  const g = new Graph('matmul');
  const b = new Builder(g);
  const x = g.input('x', 'float32', [M, K]);
  const w = g.input('w', 'float32', [K, N]);
  // Only the product's first element is fetched: the Node binding copies every output it returns
  // (~20 ns per float here), which for the whole [M, N] product took longer than the product itself.
  g.output(b.slice(b.matmul(x, w), [0, 0], [1, 1], [0, 1]), 'y');
  const session = await Session.create(serializeModel(g), g.inputs, { threads }, 'matmul');
  const data = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const feeds = { x: { dtype: 'float32' as const, shape: [M, K], data: data(M * K) }, w: { dtype: 'float32' as const, shape: [K, N], data: data(K * N) } };
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    if (i > 0) times.push((performance.now() - t) / 1000);
  }
  times.sort((a, c) => a - c);
  const sec = times[times.length >> 1];
  console.log(JSON.stringify({ gflops: (2 * M * K * N) / sec / 1e9, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
}
