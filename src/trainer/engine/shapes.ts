// Shape and dtype inference for the ops the engine emits. It runs as each node is added, so a
// mismatch is reported at build time with the node, op and input shapes.

import type { DType, Dim, GraphView as Graph, NodeOf, Shape, Tensor } from './types';
import { GraphError, fmtShape } from './types';

type Node = NodeOf<Graph>;

type Info = { dtype: DType; shape: Shape };
type Rule = (node: Node, ins: (Tensor | undefined)[], g: Graph) => Info[];

function fail(node: Node, ins: (Tensor | undefined)[], msg: string): never {
  const shapes = ins.map((t, i) => (t ? `${node.inputs[i]}${fmtShape(t.shape)}:${t.dtype}` : '-')).join(' ');
  throw new GraphError(msg, node.name, node.op, `inputs ${shapes}`);
}

function intAttr(node: Node, name: string, dflt: number): number {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.kind !== 'int') throw new GraphError(`attribute ${name} must be an int`, node.name, node.op);
  return a.v;
}

function intsAttr(node: Node, name: string): number[] | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  if (a.kind !== 'ints') throw new GraphError(`attribute ${name} must be ints`, node.name, node.op);
  return a.v;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function broadcastShapes(a: Shape, b: Shape): Shape | undefined {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'string' && typeof db === 'number') out.push(db);
    else if (typeof db === 'string' && typeof da === 'number') out.push(da);
    else if (typeof da === 'string' && typeof db === 'string') out.push(da);
    else return undefined;
  }
  return out;
}

function need(node: Node, ins: (Tensor | undefined)[], n: number): Tensor[] {
  for (let i = 0; i < n; i++) if (!ins[i]) fail(node, ins, `input ${i} is required`);
  return ins as Tensor[];
}

const sameDtype = (node: Node, ins: (Tensor | undefined)[], ts: Tensor[]) => {
  for (const t of ts) if (t.dtype !== ts[0].dtype) fail(node, ins, `dtype mismatch: ${ts.map((x) => x.dtype).join(' vs ')}`);
};

const broadcast =
  (outDtype?: DType): Rule =>
  (node, ins) => {
    const ts = ins.filter((t): t is Tensor => !!t);
    if (ts.length === 0) fail(node, ins, 'needs inputs');
    if (node.op !== 'Pow') sameDtype(node, ins, ts);
    let shape: Shape = ts[0].shape;
    for (const t of ts.slice(1)) {
      const s = broadcastShapes(shape, t.shape);
      if (!s) fail(node, ins, `shapes ${ts.map((x) => fmtShape(x.shape)).join(' and ')} do not broadcast`);
      shape = s;
    }
    return [{ dtype: outDtype ?? ts[0].dtype, shape }];
  };

const unary: Rule = (node, ins) => {
  const [x] = need(node, ins, 1);
  return [{ dtype: x.dtype, shape: x.shape }];
};

function constInts(node: Node, ins: (Tensor | undefined)[], g: Graph, i: number, what: string): number[] {
  const v = node.inputs[i] ? g.constInts(node.inputs[i]) : undefined;
  if (!v) fail(node, ins, `${what} (input ${i}) must be a constant`);
  return v;
}

function reduceRule(node: Node, ins: (Tensor | undefined)[], g: Graph): Info[] {
  const [x] = need(node, ins, 1);
  const keep = intAttr(node, 'keepdims', 1);
  const axesRaw = node.inputs[1] ? constInts(node, ins, g, 1, 'axes') : (intsAttr(node, 'axes') ?? []);
  const axes = axesRaw.length ? axesRaw.map((a) => normAxis(a, x.shape.length)) : x.shape.map((_, i) => i);
  for (const a of axes) if (a < 0 || a >= x.shape.length) fail(node, ins, `axis ${a} out of range`);
  const shape: Shape = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
}

function matmulShape(node: Node, ins: (Tensor | undefined)[], a: Shape, b: Shape): Shape {
  if (a.length < 2 || b.length < 2) fail(node, ins, 'MatMul operands must have rank >= 2');
  const [m, ka] = a.slice(-2);
  const [kb, n] = b.slice(-2);
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
    fail(node, ins, `inner dimensions differ: ${ka} vs ${kb}`);
  }
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  if (!batch) fail(node, ins, 'batch dimensions do not broadcast');
  return [...batch, m, n];
}

const rules: Record<string, Rule> = {};
const reg = (ops: string[], rule: Rule) => {
  for (const op of ops) {
    if (rules[op]) throw new Error(`shape rule for ${op} registered twice`);
    rules[op] = rule;
  }
};

reg(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean'], broadcast());
reg(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or'], broadcast('bool'));
reg(
  ['Neg', 'Sqrt', 'Exp', 'Log', 'Tanh', 'Erf', 'Relu', 'Gelu', 'Sigmoid', 'Softmax', 'LogSoftmax', 'Identity', 'Abs', 'Reciprocal', 'Sign', 'Not', 'Clip'],
  unary,
);
reg(['IsNaN', 'IsInf'], (node, ins) => [{ dtype: 'bool', shape: need(node, ins, 1)[0].shape }]);

reg(['Where'], (node, ins) => {
  const [c, a, b] = need(node, ins, 3);
  if (c.dtype !== 'bool') fail(node, ins, 'condition must be bool');
  if (a.dtype !== b.dtype) fail(node, ins, `dtype mismatch: ${a.dtype} vs ${b.dtype}`);
  const s1 = broadcastShapes(c.shape, a.shape);
  const s = s1 && broadcastShapes(s1, b.shape);
  if (!s) fail(node, ins, 'shapes do not broadcast');
  return [{ dtype: a.dtype, shape: s }];
});

export const ONNX_DTYPE: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16 };
export const DTYPE_CODES = Object.fromEntries(Object.entries(ONNX_DTYPE).map(([name, code]) => [code, name])) as Record<number, DType>;

reg(['Cast'], (node, ins) => {
  const [x] = need(node, ins, 1);
  const to = DTYPE_CODES[intAttr(node, 'to', 0)];
  if (!to) fail(node, ins, 'Cast needs a supported "to" attribute');
  return [{ dtype: to, shape: x.shape }];
});

reg(['MatMul'], (node, ins) => {
  const [a, b] = need(node, ins, 2);
  sameDtype(node, ins, [a, b]);
  return [{ dtype: a.dtype, shape: matmulShape(node, ins, a.shape, b.shape) }];
});

reg(['Gemm'], (node, ins) => {
  const [a, b] = need(node, ins, 2);
  if (a.shape.length !== 2 || b.shape.length !== 2) fail(node, ins, 'Gemm operands must be 2-D');
  const [m, ka] = intAttr(node, 'transA', 0) ? [a.shape[1], a.shape[0]] : a.shape;
  const [kb, n] = intAttr(node, 'transB', 0) ? [b.shape[1], b.shape[0]] : b.shape;
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) fail(node, ins, `inner dimensions differ: ${ka} vs ${kb}`);
  sameDtype(
    node,
    ins,
    ins.filter((t): t is Tensor => !!t),
  );
  if (ins[2] && !broadcastShapes([m, n], ins[2].shape)) fail(node, ins, `bias ${fmtShape(ins[2].shape)} does not broadcast to [${m},${n}]`);
  return [{ dtype: a.dtype, shape: [m, n] }];
});

reg(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceSumSquare', 'ReduceL2'], reduceRule);

/** The shape of the tensor whose Shape node produced input i, if it was one. */
function shapeFromShapeOp(node: Node, g: Graph, i: number): Shape | undefined {
  const p = node.inputs[i] ? g.producer(node.inputs[i]) : undefined;
  return p && p.op === 'Shape' ? g.info(p.inputs[0]).shape : undefined;
}

reg(['Reshape'], (node, ins, g) => {
  const [x] = need(node, ins, 2);
  const like = shapeFromShapeOp(node, g, 1);
  if (like) return [{ dtype: x.dtype, shape: like }];
  const target = constInts(node, ins, g, 1, 'shape');
  const out: Dim[] = target.map((d, i) => (d === 0 ? x.shape[i] : d));
  const known = x.shape.every((d) => typeof d === 'number');
  const total = known ? x.shape.reduce((p, d) => p * d, 1) : undefined;
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) fail(node, ins, 'more than one -1 in target shape');
  if (total !== undefined && out.every((d) => typeof d === 'number')) {
    const rest = out.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (neg === 1) {
      if (total % rest !== 0) fail(node, ins, `cannot reshape ${fmtShape(x.shape)} to [${target}]`);
      out[out.indexOf(-1)] = total / rest;
    } else if (rest !== total) fail(node, ins, `cannot reshape ${fmtShape(x.shape)} (${total} values) to [${target}]`);
  } else if (neg === 1) {
    out[out.indexOf(-1)] = `${node.name}_d`;
  }
  return [{ dtype: x.dtype, shape: out }];
});

reg(['Transpose'], (node, ins) => {
  const [x] = need(node, ins, 1);
  const perm = intsAttr(node, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
  if (perm.length !== x.shape.length || [...perm].sort().some((p, i) => p !== i)) {
    fail(node, ins, `perm [${perm}] does not fit rank ${x.shape.length}`);
  }
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
});

reg(['Unsqueeze'], (node, ins, g) => {
  const [x] = need(node, ins, 2);
  const r = x.shape.length + constInts(node, ins, g, 1, 'axes').length;
  const axes = constInts(node, ins, g, 1, 'axes').map((a) => normAxis(a, r));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(axes.includes(i) ? 1 : x.shape[j++]);
  return [{ dtype: x.dtype, shape: out }];
});

reg(['Squeeze'], (node, ins, g) => {
  const [x] = need(node, ins, 1);
  const axes = node.inputs[1] ? constInts(node, ins, g, 1, 'axes').map((a) => normAxis(a, x.shape.length)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (x.shape[a] !== 1 && typeof x.shape[a] === 'number') fail(node, ins, `axis ${a} has size ${x.shape[a]}, not 1`);
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
});

reg(['Concat'], (node, ins) => {
  const ts = need(node, ins, ins.length);
  const r = ts[0].shape.length;
  const axis = normAxis(intAttr(node, 'axis', 0), r);
  sameDtype(node, ins, ts);
  let total: Dim = 0;
  for (const t of ts) {
    if (t.shape.length !== r) fail(node, ins, 'ranks differ');
    t.shape.forEach((d, i) => {
      if (i !== axis && typeof d === 'number' && typeof ts[0].shape[i] === 'number' && d !== ts[0].shape[i]) {
        fail(node, ins, `dimension ${i} differs`);
      }
    });
    const d = t.shape[axis];
    total = typeof total === 'number' && typeof d === 'number' ? total + d : `${node.name}_d`;
  }
  const shape = [...ts[0].shape];
  shape[axis] = total;
  return [{ dtype: ts[0].dtype, shape }];
});

reg(['Split'], (node, ins, g) => {
  const [x] = need(node, ins, 2);
  const axis = normAxis(intAttr(node, 'axis', 0), x.shape.length);
  const sizes = constInts(node, ins, g, 1, 'split');
  if (typeof x.shape[axis] === 'number' && sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) {
    fail(node, ins, `split sizes [${sizes}] do not add up to ${x.shape[axis]}`);
  }
  return sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    return { dtype: x.dtype, shape };
  });
});

/** Resolves static Slice parameters: for each axis, [start, end, step] clamped like ONNX does. */
export function sliceParams(shape: Shape, starts: number[], ends: number[], axes?: number[], steps?: number[]) {
  const r = shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, r));
  return ax.map((a, i) => {
    const dim = shape[a];
    if (typeof dim !== 'number') return { axis: a, start: starts[i], end: ends[i], step: steps?.[i] ?? 1, size: `s${a}` as Dim };
    const step = steps?.[i] ?? 1;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
    const start = step > 0 ? clamp(starts[i], 0, dim) : clamp(starts[i], -1, dim - 1);
    const end = step > 0 ? clamp(ends[i], 0, dim) : clamp(ends[i], -1, dim - 1);
    const size = Math.max(0, Math.ceil((end - start) / step));
    return { axis: a, start, end, step, size: size };
  });
}

reg(['Slice'], (node, ins, g) => {
  const [x] = need(node, ins, 3);
  const starts = constInts(node, ins, g, 1, 'starts');
  const ends = constInts(node, ins, g, 2, 'ends');
  const axes = node.inputs[3] ? constInts(node, ins, g, 3, 'axes') : undefined;
  const steps = node.inputs[4] ? constInts(node, ins, g, 4, 'steps') : undefined;
  const shape = [...x.shape];
  for (const p of sliceParams(x.shape, starts, ends, axes, steps)) shape[p.axis] = p.size;
  return [{ dtype: x.dtype, shape }];
});

reg(['Gather'], (node, ins) => {
  const [x, idx] = need(node, ins, 2);
  if (idx.dtype !== 'int64' && idx.dtype !== 'int32') fail(node, ins, 'indices must be int64 or int32');
  const axis = normAxis(intAttr(node, 'axis', 0), x.shape.length);
  return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
});

reg(['ScatterND', 'ScatterElements'], (node, ins) => {
  const [x, , u] = need(node, ins, 3);
  sameDtype(node, ins, [x, u]);
  return [{ dtype: x.dtype, shape: x.shape }];
});

reg(['Expand'], (node, ins, g) => {
  const [x] = need(node, ins, 2);
  const like = shapeFromShapeOp(node, g, 1);
  if (like) {
    const s = broadcastShapes(x.shape, like);
    if (!s) fail(node, ins, `cannot expand ${fmtShape(x.shape)} to ${fmtShape(like)}`);
    return [{ dtype: x.dtype, shape: s }];
  }
  const target = constInts(node, ins, g, 1, 'shape');
  const s = broadcastShapes(x.shape, target);
  if (!s) fail(node, ins, `cannot expand ${fmtShape(x.shape)} to [${target}]`);
  return [{ dtype: x.dtype, shape: s }];
});

reg(['Pad'], (node, ins, g) => {
  const [x] = need(node, ins, 2);
  const pads = constInts(node, ins, g, 1, 'pads');
  const r = x.shape.length;
  if (pads.length !== 2 * r) fail(node, ins, `pads has ${pads.length} values, rank is ${r}`);
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i] + pads[i + r] : d)) }];
});

reg(['Shape'], (node, ins) => [{ dtype: 'int64', shape: [need(node, ins, 1)[0].shape.length] }]);

reg(['ConstantOfShape'], (node, ins, g) => {
  need(node, ins, 1);
  const shape = constInts(node, ins, g, 0, 'shape');
  const v = node.attrs.value;
  const dtype: DType = v && v.kind === 'tensor' ? v.v.dtype : 'float32';
  return [{ dtype, shape }];
});

reg(['Range'], (node, ins, g) => {
  const [s] = need(node, ins, 3);
  const [a, b, d] = [0, 1, 2].map((i) => (node.inputs[i] ? g.constInts(node.inputs[i])?.[0] : undefined));
  if (a === undefined || b === undefined || d === undefined) return [{ dtype: s.dtype, shape: [`${node.name}_len`] }];
  return [{ dtype: s.dtype, shape: [Math.max(0, Math.ceil((b - a) / d))] }];
});

reg(['LayerNormalization'], (node, ins) => {
  const [x, scale] = need(node, ins, 2);
  const axis = normAxis(intAttr(node, 'axis', -1), x.shape.length);
  const norm = x.shape.slice(axis);
  if (scale.shape.length !== norm.length || scale.shape.some((d, i) => typeof d === 'number' && typeof norm[i] === 'number' && d !== norm[i])) {
    fail(node, ins, `scale ${fmtShape(scale.shape)} does not match normalized shape ${fmtShape(norm)}`);
  }
  sameDtype(
    node,
    ins,
    ins.filter((t): t is Tensor => !!t),
  );
  const stat: Shape = x.shape.map((d, i) => (i < axis ? d : 1));
  const stash = DTYPE_CODES[intAttr(node, 'stash_type', 1)]; // Mean/InvStdDev precision
  return [
    { dtype: x.dtype, shape: x.shape },
    { dtype: stash, shape: stat },
    { dtype: stash, shape: stat },
  ];
});

reg(['Dropout'], (node, ins) => {
  const [x] = need(node, ins, 1);
  return [
    { dtype: x.dtype, shape: x.shape },
    { dtype: 'bool', shape: x.shape },
  ];
});

reg(['SoftmaxCrossEntropyLoss'], (node, ins) => {
  const [scores, labels] = need(node, ins, 2);
  if (labels.dtype !== 'int64' && labels.dtype !== 'int32') fail(node, ins, 'labels must be int64 or int32');
  const expect = [scores.shape[0], ...scores.shape.slice(2)];
  if (labels.shape.length !== expect.length || labels.shape.some((d, i) => typeof d === 'number' && typeof expect[i] === 'number' && d !== expect[i])) {
    fail(node, ins, `labels ${fmtShape(labels.shape)} do not match scores ${fmtShape(scores.shape)} (expected ${fmtShape(expect)})`);
  }
  const red = node.attrs.reduction;
  const none = red && red.kind === 'string' && red.v === 'none';
  return [
    { dtype: scores.dtype, shape: none ? labels.shape : [] },
    { dtype: scores.dtype, shape: scores.shape },
  ];
});

reg(['Loop'], (node, ins, g) => {
  const body = node.attrs.body;
  if (!body || body.kind !== 'graph') fail(node, ins, 'Loop needs a body graph');
  const carried = node.inputs.length - 2;
  const trip = node.inputs[0] ? g.constInts(node.inputs[0])?.[0] : undefined;
  const outs = body.v.outputs;
  if (outs.length < 1 + carried) fail(node, ins, `body has ${outs.length} outputs; needs cond + ${carried} carried`);
  const res: Info[] = [];
  for (let i = 0; i < carried; i++) res.push({ dtype: outs[1 + i].dtype, shape: outs[1 + i].shape });
  for (const o of outs.slice(1 + carried)) res.push({ dtype: o.dtype, shape: [trip ?? `${node.name}_trip`, ...o.shape] });
  return res;
});

// Dynamic quantization (quantize.ts): the ops ONNX Runtime's quantize_dynamic emits.
const isQuantized = (t: Tensor) => t.dtype === 'uint8' || t.dtype === 'int8';

/** A zero point or scale: a scalar, or (per column) a vector of the last dimension of `of`. */
function perTensorOrColumn(node: Node, ins: (Tensor | undefined)[], t: Tensor | undefined, of: Tensor, what: string) {
  const n = of.shape[of.shape.length - 1];
  const ok = !t || t.shape.length === 0 || (t.shape.length === 1 && (t.shape[0] === 1 || typeof n !== 'number' || t.shape[0] === n));
  if (!ok) fail(node, ins, `${what} ${fmtShape(t.shape)} must be a scalar or one value per column (${n})`);
}

reg(['DynamicQuantizeLinear'], (node, ins) => {
  const [x] = need(node, ins, 1);
  if (x.dtype !== 'float32') fail(node, ins, 'DynamicQuantizeLinear quantizes float32');
  const scalar = (dtype: DType): Info => ({ dtype, shape: [] });
  return [{ dtype: 'uint8', shape: x.shape }, scalar('float32'), scalar('uint8')]; // y, y_scale, y_zero_point
});

reg(['MatMulInteger'], (node, ins) => {
  const [a, b] = need(node, ins, 2);
  if (!isQuantized(a) || !isQuantized(b)) fail(node, ins, 'MatMulInteger operands must be uint8 or int8');
  if (ins[2] && (ins[2].dtype !== a.dtype || ins[2].shape.length > 0)) fail(node, ins, `a_zero_point must be a ${a.dtype} scalar`);
  if (ins[3] && ins[3].dtype !== b.dtype) fail(node, ins, `b_zero_point must be ${b.dtype}`);
  perTensorOrColumn(node, ins, ins[3], b, 'b_zero_point');
  return [{ dtype: 'int32', shape: matmulShape(node, ins, a.shape, b.shape) }];
});

reg(['DequantizeLinear'], (node, ins) => {
  const [x, scale] = need(node, ins, 2);
  if (!isQuantized(x) && x.dtype !== 'int32') fail(node, ins, 'DequantizeLinear reads uint8, int8 or int32');
  if (scale.dtype !== 'float32') fail(node, ins, 'scale must be float32');
  if (scale.shape.length > 0) fail(node, ins, 'only a per-tensor (scalar) scale is emitted');
  if (ins[2] && (ins[2].dtype !== x.dtype || ins[2].shape.length > 0)) fail(node, ins, `zero point must be a ${x.dtype} scalar`);
  return [{ dtype: 'float32', shape: x.shape }];
});

// com.microsoft: DynamicQuantizeLinear + MatMulInteger + Cast + Mul (+ bias) in one kernel.
reg(['DynamicQuantizeMatMul'], (node, ins) => {
  const [a, b, bScale] = need(node, ins, 3);
  if (node.domain !== 'com.microsoft') fail(node, ins, 'DynamicQuantizeMatMul is in the com.microsoft domain');
  if (a.dtype !== 'float32' || !isQuantized(b) || bScale.dtype !== 'float32') fail(node, ins, 'needs float32 A, int8/uint8 B and float32 b_scale');
  perTensorOrColumn(node, ins, bScale, b, 'b_scale');
  perTensorOrColumn(node, ins, ins[3], b, 'b_zero_point');
  const shape = matmulShape(node, ins, a.shape, b.shape);
  if (ins[4] && (ins[4].shape.length !== 1 || ins[4].shape[0] !== shape[shape.length - 1])) fail(node, ins, 'bias must be one value per column');
  return [{ dtype: 'float32', shape }];
});

export function inferShapes(node: Node, ins: (Tensor | undefined)[], g: Graph): Info[] {
  const rule = rules[node.op];
  if (!rule) throw new GraphError(`no shape rule for op ${node.op}`, node.name, node.op);
  return rule(node, ins, g);
}
