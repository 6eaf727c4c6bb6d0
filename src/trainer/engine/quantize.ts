// Dynamic int8 quantization of an inference graph, done the way ONNX Runtime's
// `onnxruntime.quantization.quantize_dynamic` does it with its defaults (weight_type QInt8,
// per_channel False, reduce_range False), so that the model ORT's tool would write is what we write:
//
// - every MatMul whose second operand is a float32 weight (an initializer, or a Transpose of one,
//   which is how a Linear layer is emitted: x · Wᵀ) becomes
//     DynamicQuantizeLinear(x) -> (x_q uint8, x_scale, x_zp)
//     MatMulInteger(x_q, W_q int8, x_zp, 0) -> int32,  Cast -> float32,  Mul(x_scale · W_scale)
//   with W_q symmetric int8 per tensor (scale max|W| / 127, zero point 0), the Transpose folded
//   into W_q. One DynamicQuantizeLinear serves every MatMul that reads the same x (q, k and v).
//   Activation × activation MatMuls (attention scores, probs · v) stay float, as in ORT; so does a
//   Gemm (the sequence head's pooler and classifier: ORT quantizes Gemm only in static mode).
// - every Gather over a float32 table (the embeddings) reads a uint8 table, asymmetric per tensor,
//   and a DequantizeLinear after it, as ORT's GatherQuant does.
//
// Options beyond ORT's defaults: `perChannel` (one scale per output column; the zero point stays a
// scalar 0, which is the same arithmetic as ORT's per-column zeros) and `fused`, ORT's contrib
// DynamicQuantizeMatMul (com.microsoft) in place of the four standard ops.

import { Graph, numel, type Node, type Tensor } from './ir';

export interface QuantizeOptions {
  /** One weight scale per output column instead of one per tensor (quantize_dynamic's per_channel). */
  perChannel?: boolean;
  /** ORT's contrib DynamicQuantizeMatMul (com.microsoft) instead of the standard-op sequence. */
  fused?: boolean;
  /** Quantize embedding tables (Gather over a float32 initializer); default true, as ORT does. */
  embeddings?: boolean;
}

export interface QuantizeReport {
  /** The weights whose MatMul now runs in int8. */
  matmuls: string[];
  /** The embedding tables now stored as uint8. */
  embeddings: string[];
  /** Bytes of the float32 weights that were quantized, and of their int8/uint8 replacements. */
  floatBytes: number;
  quantizedBytes: number;
}

/** numpy's round (half to even), which ORT's quantizer uses; Math.round rounds halves up. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Symmetric int8 of a (K, N) matrix: per tensor, or per column n; q = clip(rint(w / s), -127, 127). */
export function quantizeWeightInt8(w: Float32Array, K: number, N: number, perChannel: boolean): { q: Int8Array; scale: Float32Array } {
  const absmax = new Float32Array(perChannel ? N : 1);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) {
      const c = perChannel ? n : 0;
      absmax[c] = Math.max(absmax[c], Math.abs(w[k * N + n]));
    }
  // ORT: scale = (rmax - rmin) / (qmax - qmin) with the range made symmetric and qmin, qmax = -127, 127.
  const scale = absmax.map((a) => (a > 0 ? Math.fround((2 * a) / 254) : 1));
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) q[k * N + n] = Math.max(-127, Math.min(127, rint(Math.fround(w[k * N + n] / scale[perChannel ? n : 0]))));
  return { q, scale };
}

/** Asymmetric uint8 per tensor over [min(0, min w), max(0, max w)], as ORT quantizes a Gather's table. */
export function quantizeTableUint8(w: Float32Array): { q: Uint8Array; scale: number; zeroPoint: number } {
  let lo = 0;
  let hi = 0;
  for (const v of w) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  // ORT's arithmetic, to the bit: the range in float32, the scale divided in float64 (the zero point
  // is taken from that) and stored as float32; each value divided by the float32 scale in float32.
  const scale64 = hi > lo ? Math.fround(hi - lo) / 255 : 1;
  const scale = Math.fround(scale64);
  const zeroPoint = Math.max(0, Math.min(255, rint(-lo / scale64)));
  const q = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(0, Math.min(255, rint(Math.fround(w[i] / scale)) + zeroPoint));
  return { q, scale, zeroPoint };
}

/** How many nodes (and graph outputs) read each value. */
function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const use = (n: string) => n && uses.set(n, (uses.get(n) ?? 0) + 1);
  for (const n of g.nodes) n.inputs.forEach(use);
  for (const o of g.outputs) use(o.name);
  return uses;
}

/** The weight a MatMul's second operand is: an initializer (K, N), or a Transpose (perm 1,0) of one (N, K) read only here. */
function weightOf(g: Graph, n: Node, uses: Map<string, number>): { name: string; data: Float32Array; K: number; N: number; transpose?: Node } | undefined {
  const b = n.inputs[1];
  const init = g.initializers.get(b);
  if (init)
    return init.dtype === 'float32' && init.shape.length === 2 ? { name: b, data: init.data as Float32Array, K: +init.shape[0], N: +init.shape[1] } : undefined;
  const t = g.producer(b);
  if (!t || t.op !== 'Transpose' || uses.get(b) !== 1) return undefined;
  const perm = t.attrs.perm;
  const w = g.initializers.get(t.inputs[0]);
  if (!w || w.dtype !== 'float32' || w.shape.length !== 2 || !(perm?.kind === 'ints' && perm.v[0] === 1 && perm.v[1] === 0)) return undefined;
  const [N, K] = w.shape as number[];
  const src = w.data as Float32Array;
  const data = new Float32Array(K * N); // (K, N) = Wᵀ
  for (let r = 0; r < N; r++) for (let c = 0; c < K; c++) data[c * N + r] = src[r * K + c];
  return { name: t.inputs[0], data, K, N, transpose: t };
}

/** A new graph with the weight MatMuls in int8 and the embedding tables in uint8; `src` is not changed. */
export function quantizeDynamic(src: Graph, o: QuantizeOptions = {}): { graph: Graph; report: QuantizeReport } {
  const g = new Graph(src.name);
  const report: QuantizeReport = { matmuls: [], embeddings: [], floatBytes: 0, quantizedBytes: 0 };
  const uses = useCounts(src);
  for (const t of src.inputs) g.input(t.name, t.dtype, t.shape);
  // Initializers are copied when first read, so the float weights that were replaced are dropped.
  const need = (name: string) => {
    const init = src.initializers.get(name);
    if (init && !g.lookup(name)) g.initializer(name, init.dtype, init.shape, init.data);
  };
  const copy = (n: Node) => {
    n.inputs.forEach(need);
    g.add(n.op, n.inputs, n.attrs, { name: n.name, names: n.outputs, domain: n.domain });
  };
  const folded = new Set<Node>();
  const weights = new Map<Node, NonNullable<ReturnType<typeof weightOf>>>();
  for (const n of src.nodes) {
    if (n.op !== 'MatMul') continue;
    const w = weightOf(src, n, uses);
    if (!w) continue;
    weights.set(n, w);
    if (w.transpose) folded.add(w.transpose);
  }
  // Node names must be unique too (ONNX's checker; ORT refuses a model with two nodes of one name),
  // and the Graph only makes value names unique: the new nodes are named after the ones they replace.
  const nodeNames = new Set(src.nodes.map((n) => n.name));
  const nodeName = (base: string) => {
    let name = base;
    for (let i = 1; nodeNames.has(name); i++) name = `${base}_${i}`;
    nodeNames.add(name);
    return name;
  };
  const dql = new Map<string, Tensor[]>(); // x -> [x_q, x_scale, x_zp], shared by MatMuls reading x
  const quantizedInput = (x: string) => {
    let q = dql.get(x);
    if (!q) {
      q = g.add('DynamicQuantizeLinear', [x], {}, { name: nodeName(`${x}_QuantizeLinear`), names: [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`] });
      dql.set(x, q);
    }
    return q;
  };
  for (const n of src.nodes) {
    if (folded.has(n)) continue;
    const w = weights.get(n);
    if (w) {
      emitMatMul(g, n, w, o, quantizedInput, need, nodeName);
      report.matmuls.push(w.name);
      report.floatBytes += 4 * w.K * w.N;
      report.quantizedBytes += w.K * w.N;
      continue;
    }
    const table = n.op === 'Gather' && (o.embeddings ?? true) ? src.initializers.get(n.inputs[0]) : undefined;
    if (table && table.dtype === 'float32' && uses.get(table.name) === 1 && (n.attrs.axis?.v ?? 0) === 0) {
      emitGather(g, n, table.name, table.data as Float32Array, table.shape as number[], need, nodeName);
      report.embeddings.push(table.name);
      report.floatBytes += 4 * numel(table.shape);
      report.quantizedBytes += numel(table.shape);
      continue;
    }
    copy(n);
  }
  for (const t of src.outputs) g.output(g.info(t.name));
  return { graph: g, report };
}

/** `<weight>_quantized`, `_scale`, `_zero_point`, as ORT names them, unless the name is taken. */
const unique = (g: Graph, name: string) => (g.lookup(name) ? g.fresh(name) : name);

function emitMatMul(
  g: Graph,
  n: Node,
  w: NonNullable<ReturnType<typeof weightOf>>,
  o: QuantizeOptions,
  quantizedInput: (x: string) => Tensor[],
  need: (name: string) => void,
  nodeName: (base: string) => string,
) {
  const x = n.inputs[0];
  need(x);
  const { q, scale } = quantizeWeightInt8(w.data, w.K, w.N, !!o.perChannel);
  const wq = g.initializer(unique(g, `${w.name}_quantized`), 'int8', [w.K, w.N], q);
  const ws = g.initializer(unique(g, `${w.name}_scale`), 'float32', o.perChannel ? [w.N] : [], scale);
  const wzp = g.initializer(unique(g, `${w.name}_zero_point`), 'int8', [], new Int8Array(1));
  const out = n.outputs[0];
  if (o.fused) {
    g.add('DynamicQuantizeMatMul', [x, wq, ws, wzp], {}, { name: n.name, names: [out], domain: 'com.microsoft' });
    return;
  }
  const [xq, xs, xzp] = quantizedInput(x);
  const acc = g.add('MatMulInteger', [xq, wq, xzp, wzp], {}, { name: n.name, names: [`${out}_int32`] })[0]; // (..., N) int32
  const f = g.add('Cast', [acc], { to: 1 }, { name: nodeName(`${n.name}_Cast`), names: [`${out}_cast`] })[0];
  const s = g.add('Mul', [xs, ws], {}, { name: nodeName(`${n.name}_scales_Mul`), names: [`${out}_scales`] })[0]; // x_scale · W_scale, scalar or (N)
  g.add('Mul', [f, s], {}, { name: nodeName(`${n.name}_Mul`), names: [out] });
}

function emitGather(g: Graph, n: Node, name: string, data: Float32Array, shape: number[], need: (name: string) => void, nodeName: (base: string) => string) {
  n.inputs.slice(1).forEach(need);
  const { q, scale, zeroPoint } = quantizeTableUint8(data);
  const tq = g.initializer(unique(g, `${name}_quantized`), 'uint8', shape, q);
  const ts = g.initializer(unique(g, `${name}_scale`), 'float32', [], Float32Array.of(scale));
  const tzp = g.initializer(unique(g, `${name}_zero_point`), 'uint8', [], Uint8Array.of(zeroPoint));
  const out = n.outputs[0];
  const gq = g.add('Gather', [tq, n.inputs[1]], n.attrs, { name: n.name, names: [`${out}_quantized`] })[0];
  g.add('DequantizeLinear', [gq, ts, tzp], {}, { name: nodeName(`${n.name}_DequantizeLinear`), names: [out] });
}
