// The int8 export (engine/quantize.ts, `finetune export --int8`): ONNX Runtime's dynamic
// quantization done as a graph pass over a run's model.onnx. A tiny NER model is trained on the
// bundled example's first sentences; its model.onnx is read back, quantized, and run in
// onnxruntime-node beside the float32 model on the example's test sentences.
//
// Tolerances: argmax agreement on >= 99% of the test tokens, and every logit within 5% of the
// float32 logits' largest magnitude (observed here: 99.8% and 0.7%). The reference for the exact
// int8 model is Python ORT's quantize_dynamic (test/compat/int8.compat.test.ts: equal logits).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../src/shared/config/config';
import type { TrainerEvent } from '../src/shared/protocol';
import { readRunInfo, runPaths } from '../src/shared/run';
import type { Graph } from '../src/trainer/engine/ir';
import { parseModel, serializeModel } from '../src/trainer/engine/onnx';
import { quantizeDynamic, quantizeTableUint8, quantizeWeightInt8, type QuantizeOptions } from '../src/trainer/engine/quantize';
import { Session } from '../src/trainer/engine/session';
import { readExported } from '../src/trainer/predict';
import { loadRunData } from '../src/trainer/train/dataset';
import { Evaluator } from '../src/trainer/train/evaluate';
import { exportInt8 } from '../src/trainer/train/export';
import { train } from '../src/trainer/train/trainer';
import type { TokenFeature } from '../src/trainer/encode';
import type { ResolvedConfig } from '../src/shared/config/config';
import { tinyWorkspace } from './helpers/tinyrun';

const quiet = (_e: TrainerEvent) => {};
const INPUTS = [
  { name: 'input_ids', dtype: 'int64' as const, shape: ['batch', 'sequence'] },
  { name: 'attention_mask', dtype: 'int64' as const, shape: ['batch', 'sequence'] },
];

let runDir = '';
let fp32 = new Uint8Array(0);
let features: TokenFeature[] = [];
let C = 0;
let reference: Float32Array[] = [];

async function logitsOf(bytes: Uint8Array): Promise<Float32Array[]> {
  const ev = new Evaluator(await Session.create(bytes, INPUTS, { threads: 1, device: 'cpu' }), { head: 'token', numLabels: C });
  try {
    return await ev.logits(features);
  } finally {
    await ev.release();
  }
}

/** Share of tokens whose argmax agrees, and the largest logit difference relative to the largest |fp32 logit|. */
function compare(a: Float32Array[], b: Float32Array[]): { agree: number; rel: number } {
  let same = 0;
  let n = 0;
  let diff = 0;
  let scale = 0;
  const argmax = (l: Float32Array, off: number) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (l[off + c] > l[off + best]) best = c;
    return best;
  };
  a.forEach((la, i) => {
    for (let off = 0; off < la.length; off += C) {
      n++;
      if (argmax(la, off) === argmax(b[i], off)) same++;
    }
    for (let j = 0; j < la.length; j++) {
      diff = Math.max(diff, Math.abs(la[j] - b[i][j]));
      scale = Math.max(scale, Math.abs(la[j]));
    }
  });
  return { agree: same / n, rel: diff / scale };
}

const countOps = (g: Graph) => g.nodes.reduce((m, n) => m.set(n.op, (m.get(n.op) ?? 0) + 1), new Map<string, number>());

describe('int8 export: dynamic quantization of model.onnx', () => {
  before(async () => {
    const ws = tinyWorkspace('', { train: 160, dev: 20 });
    runDir = path.join(ws.dir, 'run');
    const res = await train({ config: loadConfig(ws.config, { 'training.epochs': 3 }), runDir, emit: quiet });
    assert.equal(res.status, 'completed');
    const x = readExported(runDir);
    fp32 = fs.readFileSync(x.model);
    C = x.labels.labels.length;
    const data = await loadRunData(readRunInfo(runDir).config as ResolvedConfig, x.tokenizerDir, x.labels.labels);
    features = data.test!.features as TokenFeature[];
    reference = await logitsOf(fp32);
  });

  it('weights are quantized as ONNX Runtime does: int8 symmetric (scale max|w|/127, ties to even), tables uint8 asymmetric', () => {
    // max |w| = 1.27: scale 0.01; 0.005 / 0.01 = 0.5 rounds to 0 and 0.015 / 0.01 = 1.5 to 2 (half to even, as numpy).
    const w = quantizeWeightInt8(Float32Array.of(0.5, -1.27, 0.005, 0.015), 2, 2, false);
    assert.ok(Math.abs(w.scale[0] - 0.01) < 1e-9, `scale ${w.scale[0]}`);
    assert.deepEqual(Array.from(w.q), [50, -127, 0, 2]);
    // Per column: column 0 has max 0.5 (scale 0.5/127), column 1 max 1.27 (0.01).
    const pc = quantizeWeightInt8(Float32Array.of(0.5, -1.27, 0.25, 0.015), 2, 2, true);
    assert.deepEqual(Array.from(pc.q), [127, -127, 64, 2]);
    // Range [-0.2, 0.8] (with 0): scale 1/255, zero point rint(0.2 * 255) = 51.
    const t = quantizeTableUint8(Float32Array.of(-0.2, 0, 0.8, 0.4));
    assert.ok(Math.abs(t.scale - 1 / 255) < 1e-9);
    assert.equal(t.zeroPoint, 51);
    assert.deepEqual(Array.from(t.q), [0, 51, 255, 153]);
  });

  it('parseModel reads model.onnx back exactly: serializing what it read gives the same bytes', () => {
    assert.ok(Buffer.from(serializeModel(parseModel(fp32))).equals(Buffer.from(fp32)));
  });

  it("the graph has quantize_dynamic's structure: every weight MatMul in int8 with its Transpose folded, embeddings uint8, attention MatMuls float", () => {
    const src = parseModel(fp32);
    const { graph, report } = quantizeDynamic(src);
    const before = countOps(src);
    const after = countOps(graph);
    // 1 layer: q, k, v, attention output, intermediate, output, classifier; the 2 attention MatMuls stay.
    assert.equal(report.matmuls.length, 7);
    assert.equal(after.get('MatMulInteger'), 7);
    assert.equal(after.get('MatMul'), before.get('MatMul')! - 7);
    assert.equal(after.get('Transpose'), before.get('Transpose')! - 7);
    // q, k and v read the same x: one DynamicQuantizeLinear serves them.
    assert.equal(after.get('DynamicQuantizeLinear'), 5);
    assert.deepEqual(report.embeddings.sort(), [
      'bert.embeddings.position_embeddings.weight',
      'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.word_embeddings.weight',
    ]);
    for (const name of [...report.matmuls, ...report.embeddings]) assert.ok(!graph.initializers.has(name), `float copy of ${name} left in the graph`);
    // ONNX's checker and ORT's Python loader refuse two nodes of one name.
    const names = graph.nodes.map((n) => n.name);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
      'node names are unique',
    );
  });

  it('the stored weights dequantize back to model.onnx weights within half a step (W_q · scale ≈ Wᵀ)', () => {
    const src = parseModel(fp32);
    const { graph } = quantizeDynamic(src);
    for (const n of graph.nodes.filter((n) => n.op === 'MatMulInteger')) {
      const q = graph.initializers.get(n.inputs[1])!;
      // Mul(x_scale, W_scale) -> '<out>_scales', beside MatMulInteger -> '<out>_int32'.
      const mul = graph.nodes.find((m) => m.op === 'Mul' && m.outputs[0] === n.outputs[0].replace(/_int32$/, '_scales'))!;
      const scale = graph.initializers.get(mul.inputs[1])!.data[0] as number;
      const name = q.name.replace(/_quantized$/, '');
      const w = src.initializers.get(name)!.data as Float32Array; // (N, K); q is (K, N)
      const [K, N] = q.shape as number[];
      let worst = 0;
      for (let k = 0; k < K; k++) for (let c = 0; c < N; c++) worst = Math.max(worst, Math.abs((q.data[k * N + c] as number) * scale - w[c * K + k]) / scale);
      assert.ok(worst <= 0.5 + 1e-3, `${name}: an element is ${worst.toFixed(3)} steps from its float value`);
    }
  });

  for (const [label, o] of [
    ['standard ops (as quantize_dynamic writes them)', {}],
    ['per-channel scales', { perChannel: true }],
    ["ORT's fused DynamicQuantizeMatMul", { fused: true }],
  ] as [string, QuantizeOptions][]) {
    it(`${label}: the int8 model runs in onnxruntime-node and its logits match fp32 on the example (>= 99% argmax agreement, within 5%)`, async () => {
      const q = await logitsOf(serializeModel(quantizeDynamic(parseModel(fp32), o).graph));
      const { agree, rel } = compare(reference, q);
      assert.ok(agree >= 0.99, `argmax agrees on ${(agree * 100).toFixed(2)}% of tokens`);
      assert.ok(rel <= 0.05, `largest logit difference is ${(rel * 100).toFixed(2)}% of the largest logit`);
      assert.ok(rel > 0, 'the int8 logits are not float32 logits');
    });
  }

  it('model.int8.onnx is written beside model.onnx, its quantized weights 4x smaller than their float32', () => {
    const r = exportInt8(runDir);
    assert.equal(r.path, runPaths(runDir).modelInt8);
    assert.equal(fs.statSync(r.path).size, r.bytes.int8);
    assert.equal(r.report.floatBytes, 4 * r.report.quantizedBytes);
    // Everything else (biases, LayerNorm, the graph) is the same: the file shrinks by the weights' 3/4, plus, per
    // quantized tensor, a scale, a zero point, their names and the extra nodes (well under 1 KB each).
    const tensors = r.report.matmuls.length + r.report.embeddings.length;
    const rest = r.bytes.int8 - r.report.quantizedBytes - (r.bytes.fp32 - r.report.floatBytes);
    assert.ok(rest >= 0 && rest < 1024 * tensors, `${rest} bytes beyond the int8 weights and the unquantized rest (${tensors} tensors)`);
    assert.ok(r.bytes.int8 < r.bytes.fp32 / 2, `${r.bytes.int8} vs ${r.bytes.fp32} bytes`);
  });
});
