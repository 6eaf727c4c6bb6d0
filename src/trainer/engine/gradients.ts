// One gradient rule per op, registered in one explicit table. A rule gets the node's inputs (x),
// outputs (y) and output gradients (dy, null where nothing flows back) and returns one gradient
// per input (null for inputs that are not differentiable). Rules return gradients in the output's
// broadcast shape; the engine (autodiff.ts) reduces broadcast axes. Every rule is checked against
// float64 finite differences in test/gradients.test.ts.

import type { Builder } from './builder';
import type { Node, Tensor } from './ir';
import { GraphError } from './ir';
import { normAxis, sliceParams } from './shapes';

export interface GradContext {
  b: Builder;
  node: Node;
  x: Tensor[];
  y: Tensor[];
  dy: (Tensor | null)[];
  needs(i: number): boolean;
}

export type GradRule = (c: GradContext) => (Tensor | null)[];

/** Ops whose outputs carry no gradient (comparisons, shape queries, index producers). */
export const NON_DIFFERENTIABLE = new Set([
  'Shape',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Range',
  'ConstantOfShape',
  'IsNaN',
  'IsInf',
  'Sign',
  'ArgMax',
]);

const RULES = new Map<string, GradRule>();

export function registerGradient(op: string, rule: GradRule): void {
  if (RULES.has(op)) throw new Error(`gradient rule for ${op} registered twice`);
  if (NON_DIFFERENTIABLE.has(op)) throw new Error(`${op} is declared non-differentiable`);
  RULES.set(op, rule);
}

export function ruleFor(op: string): GradRule | undefined {
  return RULES.get(op);
}

export function registeredGradientOps(): string[] {
  return [...RULES.keys()].sort();
}

function intAttr(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a && a.kind === 'int' ? a.v : dflt;
}
function floatAttr(n: Node, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a && (a.kind === 'float' || a.kind === 'int') ? a.v : dflt;
}
function strAttr(n: Node, name: string, dflt: string): string {
  const a = n.attrs[name];
  return a && a.kind === 'string' ? a.v : dflt;
}
function constInts(c: GradContext, i: number): number[] {
  const v = c.node.inputs[i] ? c.b.g.constInts(c.node.inputs[i]) : undefined;
  if (!v) throw new GraphError(`input ${i} must be a constant for differentiation`, c.node.name, c.node.op);
  return v;
}
/** The single output gradient (most ops have one output). */
function dy0(c: GradContext): Tensor {
  return c.dy[0]!;
}

// ---- arithmetic (broadcasting is reduced by the engine) --------------------------------------
registerGradient('Add', (c) => [dy0(c), dy0(c)]);
registerGradient('Sub', (c) => [dy0(c), c.needs(1) ? c.b.neg(dy0(c)) : null]);
registerGradient('Mul', (c) => {
  const { b, x } = c;
  return [c.needs(0) ? b.mul(dy0(c), x[1]) : null, c.needs(1) ? b.mul(dy0(c), x[0]) : null];
});
registerGradient('Div', (c) => {
  // y = a / b:  da = dy / b,  db = -dy * y / b
  const { b, x, y } = c;
  return [c.needs(0) ? b.div(dy0(c), x[1]) : null, c.needs(1) ? b.neg(b.div(b.mul(dy0(c), y[0]), x[1])) : null];
});
registerGradient('Neg', (c) => [c.b.neg(dy0(c))]);
registerGradient('Pow', (c) => {
  // y = a ^ e:  da = dy * e * a^(e-1),  de = dy * y * ln(a)
  const { b, x, y } = c;
  const e = c.b.g.constValue(x[1].name);
  let da: Tensor | null = null;
  if (c.needs(0)) {
    if (e && e.length === 1) {
      const ev = Number(e[0]);
      const aPow = ev === 2 ? x[0] : b.pow(x[0], b.scalar(ev - 1, x[1]));
      da = b.mulScalar(b.mul(dy0(c), aPow), ev);
    } else {
      da = b.mul(b.mul(dy0(c), x[1]), b.pow(x[0], b.sub(x[1], b.scalar(1, x[1]))));
    }
  }
  const de = c.needs(1) ? b.mul(b.mul(dy0(c), y[0]), b.log(x[0])) : null;
  return [da, de];
});
registerGradient('Sum', (c) => c.x.map(() => dy0(c)));
registerGradient('Identity', (c) => [dy0(c)]);
registerGradient('Expand', (c) => [dy0(c), null]);
registerGradient('Abs', (c) => [c.b.mul(dy0(c), c.b.cast(c.b.g.op('Sign', [c.x[0]]), c.x[0].dtype))]);
registerGradient('Reciprocal', (c) => [c.b.neg(c.b.mul(dy0(c), c.b.mul(c.y[0], c.y[0])))]);

// ---- elementwise functions -------------------------------------------------------------------
registerGradient('Sqrt', (c) => [c.b.div(c.b.mulScalar(dy0(c), 0.5), c.y[0])]);
registerGradient('Exp', (c) => [c.b.mul(dy0(c), c.y[0])]);
registerGradient('Log', (c) => [c.b.div(dy0(c), c.x[0])]);
registerGradient('Tanh', (c) => {
  const { b, y } = c; // dy * (1 - y^2)
  return [b.mul(dy0(c), b.sub(b.scalar(1, y[0]), b.mul(y[0], y[0])))];
});
registerGradient('Sigmoid', (c) => {
  const { b, y } = c; // dy * y * (1 - y)
  return [b.mul(b.mul(dy0(c), y[0]), b.sub(b.scalar(1, y[0]), y[0]))];
});
registerGradient('Erf', (c) => {
  const { b, x } = c; // dy * 2/sqrt(pi) * exp(-x^2)
  return [b.mulScalar(b.mul(dy0(c), b.exp(b.neg(b.mul(x[0], x[0])))), 2 / Math.sqrt(Math.PI))];
});
registerGradient('Relu', (c) => {
  const { b, x } = c;
  return [b.where(b.greater(x[0], b.scalar(0, x[0])), dy0(c), b.scalar(0, x[0]))];
});
registerGradient('Gelu', (c) => {
  const { b, x } = c;
  const v = x[0];
  if (strAttr(c.node, 'approximate', 'none') === 'tanh') {
    // y = 0.5 x (1 + t), t = tanh(u), u = k (x + 0.044715 x^3), k = sqrt(2/pi)
    // dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 * 0.044715 x^2)
    const k = Math.sqrt(2 / Math.PI);
    const x2 = b.mul(v, v);
    const u = b.mulScalar(b.add(v, b.mulScalar(b.mul(x2, v), 0.044715)), k);
    const t = b.tanh(u);
    const one = b.scalar(1, v);
    const du = b.mulScalar(b.addScalar(b.mulScalar(x2, 3 * 0.044715), 1), k);
    const d = b.add(b.mulScalar(b.add(one, t), 0.5), b.mul(b.mulScalar(b.mul(v, b.sub(one, b.mul(t, t))), 0.5), du));
    return [b.mul(dy0(c), d)];
  }
  // exact: dy/dx = Phi(x) + x phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2,  phi(x) = exp(-x^2/2) / sqrt(2 pi)
  const cdf = b.mulScalar(b.addScalar(b.erf(b.mulScalar(v, Math.SQRT1_2)), 1), 0.5);
  const pdf = b.mulScalar(b.exp(b.mulScalar(b.mul(v, v), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return [b.mul(dy0(c), b.add(cdf, b.mul(v, pdf)))];
});
registerGradient('Softmax', (c) => {
  const { b, y } = c; // y * (dy - sum(dy * y, axis))
  const axis = intAttr(c.node, 'axis', -1);
  const s = b.reduceSum(b.mul(dy0(c), y[0]), [axis], true);
  return [b.mul(y[0], b.sub(dy0(c), s))];
});
registerGradient('LogSoftmax', (c) => {
  const { b, y } = c; // dy - exp(y) * sum(dy, axis)
  const axis = intAttr(c.node, 'axis', -1);
  return [b.sub(dy0(c), b.mul(b.exp(y[0]), b.reduceSum(dy0(c), [axis], true)))];
});

// ---- reductions ------------------------------------------------------------------------------
function reductionAxes(c: GradContext): number[] {
  const r = c.x[0].shape.length;
  const axes = c.node.inputs[1] ? constInts(c, 1) : [];
  if (axes.length === 0) {
    if (intAttr(c.node, 'noop_with_empty_axes', 0)) return [];
    return c.x[0].shape.map((_, i) => i);
  }
  return axes.map((a) => normAxis(a, r)).sort((p, q) => p - q);
}
function spreadBack(c: GradContext, scale: number): Tensor {
  const { b, x } = c;
  const axes = reductionAxes(c);
  let g = dy0(c);
  if (!intAttr(c.node, 'keepdims', 1) && axes.length) g = b.unsqueeze(g, axes);
  return b.expandLike(b.mulScalar(g, scale), x[0]);
}
registerGradient('ReduceSum', (c) => [spreadBack(c, 1), null]);
registerGradient('ReduceMean', (c) => {
  const shape = c.x[0].shape;
  let n = 1;
  for (const a of reductionAxes(c)) {
    const d = shape[a];
    if (typeof d !== 'number') throw new GraphError(`ReduceMean over symbolic axis ${a}`, c.node.name, c.node.op);
    n *= d;
  }
  return [spreadBack(c, 1 / n), null];
});
registerGradient('ReduceSumSquare', (c) => {
  const { b, x } = c; // 2 x dy
  const axes = reductionAxes(c);
  let g = dy0(c);
  if (!intAttr(c.node, 'keepdims', 1) && axes.length) g = b.unsqueeze(g, axes);
  return [b.mul(b.mulScalar(x[0], 2), g), null];
});

// ---- shape ops -------------------------------------------------------------------------------
registerGradient('Reshape', (c) => [c.b.reshapeLike(dy0(c), c.x[0]), null]);
registerGradient('Transpose', (c) => {
  const r = c.x[0].shape.length;
  const perm = (c.node.attrs.perm?.v as number[] | undefined) ?? c.x[0].shape.map((_, i) => r - 1 - i);
  const inv = new Array<number>(r);
  perm.forEach((p, i) => (inv[p] = i));
  return [c.b.transpose(dy0(c), inv)];
});
registerGradient('Unsqueeze', (c) => [c.b.reshapeLike(dy0(c), c.x[0]), null]);
registerGradient('Squeeze', (c) => [c.b.reshapeLike(dy0(c), c.x[0]), null]);
registerGradient('Concat', (c) => {
  const axis = normAxis(intAttr(c.node, 'axis', 0), c.x[0].shape.length);
  const sizes = c.x.map((t) => t.shape[axis]);
  if (!sizes.every((s) => typeof s === 'number')) throw new GraphError('Concat over a symbolic axis', c.node.name, c.node.op);
  return c.b.split(dy0(c), sizes, axis);
});
registerGradient('Split', (c) => {
  const { b, y } = c;
  const axis = normAxis(intAttr(c.node, 'axis', 0), c.x[0].shape.length);
  const parts = c.dy.map((g, i) => g ?? b.full(y[i].shape, 0, y[i].dtype));
  return [b.concat(parts, axis), null];
});
registerGradient('Slice', (c) => {
  // Scatter the slice back into zeros: Pad with (start, dim - end) on each sliced axis.
  const x = c.x[0];
  const axes = c.node.inputs[3] ? constInts(c, 3) : undefined;
  const steps = c.node.inputs[4] ? constInts(c, 4) : undefined;
  const params = sliceParams(x.shape, constInts(c, 1), constInts(c, 2), axes, steps);
  const r = x.shape.length;
  const pads = new Array<number>(2 * r).fill(0);
  for (const p of params) {
    const dim = x.shape[p.axis];
    if (p.step !== 1 || typeof dim !== 'number') {
      throw new GraphError('Slice gradient needs step 1 and a static sliced axis', c.node.name, c.node.op);
    }
    pads[p.axis] = p.start;
    pads[p.axis + r] = dim - p.end;
  }
  return [c.b.pad(dy0(c), pads), null, null, null, null];
});

// ---- indexing --------------------------------------------------------------------------------
registerGradient('Gather', (c) => {
  // Embedding lookup: add the rows back into a zero table of the data's shape. ScatterElements
  // with reduction=add, not ScatterND: ORT's multi-threaded ScatterND add races on repeated
  // indices (a token twice in a batch) and loses updates; ScatterElements adds them all.
  const { b, x } = c;
  if (normAxis(intAttr(c.node, 'axis', 0), x[0].shape.length) !== 0) {
    throw new GraphError('Gather gradient is implemented for axis 0 (embedding lookup)', c.node.name, c.node.op);
  }
  const rowShape = x[0].shape.slice(1);
  if (!rowShape.every((d) => typeof d === 'number')) throw new GraphError('Gather gradient needs static row shape', c.node.name, c.node.op);
  const idx = b.reshape(b.cast(x[1], 'int64'), [-1]); // (N)
  const updates = b.reshape(dy0(c), [-1, ...rowShape]); // (N, row...)
  const indices = b.expandLike(
    b.unsqueeze(
      idx,
      rowShape.map((_, i) => i + 1),
    ),
    updates,
  ); // (N, row...)
  const zeros = b.full(x[0].shape, 0, x[0].dtype);
  return [b.g.op('ScatterElements', [zeros, indices, updates], { axis: 0, reduction: 'add' }), null];
});
registerGradient('Where', (c) => {
  const { b, x } = c;
  const zero = b.scalar(0, x[1]);
  return [null, c.needs(1) ? b.where(x[0], dy0(c), zero) : null, c.needs(2) ? b.where(x[0], zero, dy0(c)) : null];
});
registerGradient('Cast', (c) => [c.b.cast(dy0(c), c.x[0].dtype)]);

// ---- layers ----------------------------------------------------------------------------------
registerGradient('Dropout', (c) => {
  // The mask of the forward pass is reused: dx = dy * mask / (1 - ratio).
  const { b, node, y } = c;
  const trainingInput = node.inputs[2] ? b.g.constInts(node.inputs[2]) : [0];
  if (!trainingInput || trainingInput[0] === 0) return [dy0(c), null, null];
  const ratioData = node.inputs[1] ? b.g.constValue(node.inputs[1]) : undefined;
  if (node.inputs[1] && !ratioData) throw new GraphError('Dropout ratio must be a constant', node.name, node.op);
  const ratio = ratioData ? Number(ratioData[0]) : 0.5;
  const scaled = b.mulScalar(dy0(c), ratio >= 1 ? 0 : 1 / (1 - ratio));
  return [b.where(y[1], scaled, b.scalar(0, y[0])), null, null];
});
registerGradient('LayerNormalization', (c) => {
  // xhat = (x - mean) * inv;  g = dy * scale
  // dx = inv * (g - mean(g) - xhat * mean(g * xhat));  dscale = dy * xhat;  dbias = dy
  const { b, x, y, node } = c;
  const r = x[0].shape.length;
  const axis = normAxis(intAttr(node, 'axis', -1), r);
  const normAxes = Array.from({ length: r - axis }, (_, i) => axis + i);
  let mean: Tensor, inv: Tensor;
  if (y[1].dtype === x[0].dtype) [mean, inv] = [y[1], y[2]];
  else {
    // ORT keeps the statistics in float32 (stash_type); for float64 inputs recompute them exactly.
    mean = b.reduceMean(x[0], normAxes, true);
    const centered = b.sub(x[0], mean);
    const variance = b.reduceMean(b.mul(centered, centered), normAxes, true);
    inv = b.g.op('Reciprocal', [b.sqrt(b.addScalar(variance, floatAttr(node, 'epsilon', 1e-5)))]);
  }
  const xhat = b.mul(b.sub(x[0], mean), inv);
  const out: (Tensor | null)[] = [null, null, null];
  if (c.needs(0)) {
    const g = b.mul(dy0(c), x[1]);
    const mg = b.reduceMean(g, normAxes, true);
    const mgx = b.reduceMean(b.mul(g, xhat), normAxes, true);
    out[0] = b.mul(inv, b.sub(b.sub(g, mg), b.mul(xhat, mgx)));
  }
  if (c.needs(1)) out[1] = b.mul(dy0(c), xhat);
  if (x[2] && c.needs(2)) out[2] = dy0(c);
  if (c.dy[1] || c.dy[2]) throw new GraphError('gradients through Mean/InvStdDev outputs are not supported', node.name, node.op);
  return out;
});
registerGradient('SoftmaxCrossEntropyLoss', (c) => {
  // d logits = (softmax - onehot(label)) * valid / count * dloss, class axis 1.
  const { b, x, y, node } = c;
  if (node.inputs[2]) throw new GraphError('class weights are not supported', node.name, node.op);
  const reduction = strAttr(node, 'reduction', 'mean');
  const ignore = intAttr(node, 'ignore_index', Number.NaN);
  const logits = x[0];
  const labels = b.cast(x[1], 'int64');
  const C = logits.shape[1];
  if (typeof C !== 'number') throw new GraphError('class axis must be static', node.name, node.op);
  const r = logits.shape.length;
  const classShape = logits.shape.map((_, i) => (i === 1 ? C : 1));
  const classes = b.g.constant(
    'int64',
    classShape,
    Array.from({ length: C }, (_, i) => i),
  );
  const lab1 = b.unsqueeze(labels, [1]); // (N, 1, d...)
  const onehot = b.cast(b.equal(lab1, classes), logits.dtype); // (N, C, d...)
  const prob = b.exp(y[1]);
  let grad = b.sub(prob, onehot);
  let validF: Tensor | null = null;
  if (!Number.isNaN(ignore)) {
    validF = b.cast(b.not(b.equal(lab1, b.g.constant('int64', [], [ignore]))), logits.dtype);
    grad = b.mul(grad, validF);
  }
  const dl = dy0(c);
  if (reduction === 'none') {
    grad = b.mul(grad, b.unsqueeze(dl, [1]));
  } else {
    grad = b.mul(grad, dl);
    if (reduction === 'mean') {
      const count = validF
        ? b.max(
            b.reduceSum(
              validF,
              Array.from({ length: r }, (_, i) => i),
              false,
            ),
            b.scalar(1, logits),
          )
        : b.scalar(Number(labels.shape.reduce((p, d) => (p as number) * (d as number), 1)), logits);
      grad = b.div(grad, count);
    }
  }
  return [grad, null];
});
registerGradient('Gemm', (c) => {
  // Y = alpha op(A) op(B) + beta C
  const { b, x, node } = c;
  const tA = !!intAttr(node, 'transA', 0);
  const tB = !!intAttr(node, 'transB', 0);
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  const g = dy0(c);
  const [A, B] = x;
  const dA = !c.needs(0) ? null : !tA ? b.gemm(g, B, null, { transB: !tB, alpha }) : b.gemm(B, g, null, { transA: tB, transB: true, alpha });
  const dB = !c.needs(1) ? null : !tB ? b.gemm(A, g, null, { transA: !tA, alpha }) : b.gemm(g, A, null, { transA: true, transB: tA, alpha });
  const dC = x[2] && c.needs(2) ? b.mulScalar(g, beta) : null;
  return [dA, dB, dC];
});
registerGradient('MatMul', (c) => {
  // Y = A @ B:  dA = dY @ B^T,  dB = A^T @ dY (batch broadcast reduced by the engine).
  const { b, x } = c;
  const [A, B] = x;
  const g = dy0(c);
  const dA = c.needs(0) ? b.matmul(g, b.transposeLast2(B)) : null;
  let dB: Tensor | null = null;
  if (c.needs(1)) {
    if (B.shape.length === 2 && A.shape.length > 2 && b.isStatic(A) && b.isStatic(g)) {
      // A (..., m, k) with a 2-D weight: fold the batch into one GEMM, (k, N) @ (N, n).
      const k = A.shape[A.shape.length - 1] as number;
      const n = g.shape[g.shape.length - 1] as number;
      dB = b.gemm(b.reshape(A, [-1, k]), b.reshape(g, [-1, n]), null, { transA: true });
    } else {
      dB = b.matmul(b.transposeLast2(A), g);
    }
  }
  return [dA, dB];
});
