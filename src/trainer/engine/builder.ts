// Typed helpers over Graph.add: one method per op the engine emits. Gradient rules, optimizers
// and model layers are written against this, so they read like the maths.

import type { DType, Graph, Shape, Tensor } from './ir';
import { A, GraphError, fmtShape, numel, typedArrayFor } from './ir';
import { ONNX_DTYPE } from './shapes';

export class Builder {
  constructor(readonly g: Graph) {}

  /** The same builder writing into another graph (e.g. a Loop body). */
  into(g: Graph): Builder {
    return new Builder(g);
  }

  // ---- constants -------------------------------------------------------------------------
  scalar(v: number, like: Tensor | DType): Tensor {
    return this.g.constant(typeof like === 'string' ? like : like.dtype, [], [v]);
  }
  ints(values: number[]): Tensor {
    return this.g.constant('int64', [values.length], values);
  }
  full(shape: Shape, v: number, dtype: DType): Tensor {
    if (numel(shape) <= 16) return this.g.constant(dtype, shape, new Array(numel(shape)).fill(v));
    const value = { kind: 'tensor' as const, v: { name: 'value', dtype, shape: [1], data: typedArrayFor(dtype, [v]) } };
    return this.g.op('ConstantOfShape', [this.ints(shape as number[])], { value });
  }
  zeros(shape: Shape, dtype: DType): Tensor {
    return this.full(shape, 0, dtype);
  }

  // ---- elementwise -----------------------------------------------------------------------
  add(a: Tensor, b: Tensor) {
    return this.g.op('Add', [a, b]);
  }
  sub(a: Tensor, b: Tensor) {
    return this.g.op('Sub', [a, b]);
  }
  mul(a: Tensor, b: Tensor) {
    return this.g.op('Mul', [a, b]);
  }
  div(a: Tensor, b: Tensor) {
    return this.g.op('Div', [a, b]);
  }
  pow(a: Tensor, b: Tensor) {
    return this.g.op('Pow', [a, b]);
  }
  max(a: Tensor, b: Tensor) {
    return this.g.op('Max', [a, b]);
  }
  min(a: Tensor, b: Tensor) {
    return this.g.op('Min', [a, b]);
  }
  sum(xs: Tensor[]) {
    return xs.length === 1 ? xs[0] : this.g.op('Sum', xs);
  }
  neg(x: Tensor) {
    return this.g.op('Neg', [x]);
  }
  sqrt(x: Tensor) {
    return this.g.op('Sqrt', [x]);
  }
  exp(x: Tensor) {
    return this.g.op('Exp', [x]);
  }
  log(x: Tensor) {
    return this.g.op('Log', [x]);
  }
  tanh(x: Tensor) {
    return this.g.op('Tanh', [x]);
  }
  erf(x: Tensor) {
    return this.g.op('Erf', [x]);
  }
  relu(x: Tensor) {
    return this.g.op('Relu', [x]);
  }
  gelu(x: Tensor) {
    return this.g.op('Gelu', [x]);
  }
  sigmoid(x: Tensor) {
    return this.g.op('Sigmoid', [x]);
  }
  softmax(x: Tensor, axis = -1) {
    return this.g.op('Softmax', [x], { axis });
  }
  logSoftmax(x: Tensor, axis = -1) {
    return this.g.op('LogSoftmax', [x], { axis });
  }
  abs(x: Tensor) {
    return this.g.op('Abs', [x]);
  }
  where(c: Tensor, a: Tensor, b: Tensor) {
    return this.g.op('Where', [c, a, b]);
  }
  equal(a: Tensor, b: Tensor) {
    return this.g.op('Equal', [a, b]);
  }
  greater(a: Tensor, b: Tensor) {
    return this.g.op('Greater', [a, b]);
  }
  less(a: Tensor, b: Tensor) {
    return this.g.op('Less', [a, b]);
  }
  not(x: Tensor) {
    return this.g.op('Not', [x]);
  }
  cast(x: Tensor, to: DType) {
    return x.dtype === to ? x : this.g.op('Cast', [x], { to: ONNX_DTYPE[to] });
  }
  mulScalar(x: Tensor, v: number) {
    return v === 1 ? x : this.mul(x, this.scalar(v, x));
  }
  addScalar(x: Tensor, v: number) {
    return v === 0 ? x : this.add(x, this.scalar(v, x));
  }

  // ---- linear algebra --------------------------------------------------------------------
  matmul(a: Tensor, b: Tensor) {
    return this.g.op('MatMul', [a, b]);
  }
  gemm(a: Tensor, b: Tensor, c: Tensor | null, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}) {
    const attrs: Record<string, ReturnType<typeof A.i>> = {};
    if (o.transA) attrs.transA = A.i(1);
    if (o.transB) attrs.transB = A.i(1);
    if (o.alpha !== undefined && o.alpha !== 1) attrs.alpha = A.f(o.alpha);
    if (o.beta !== undefined && o.beta !== 1) attrs.beta = A.f(o.beta);
    return this.g.op('Gemm', c ? [a, b, c] : [a, b], attrs);
  }

  // ---- reductions ------------------------------------------------------------------------
  reduceSum(x: Tensor, axes: number[], keepdims = false) {
    if (axes.length === 0) return x;
    return this.g.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: Tensor, axes: number[], keepdims = false) {
    return this.g.op('ReduceMean', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  reduceSumSquare(x: Tensor, axes: number[] | null, keepdims = false) {
    return this.g.op('ReduceSumSquare', axes ? [x, this.ints(axes)] : [x], { keepdims: keepdims ? 1 : 0 });
  }

  // ---- shapes ----------------------------------------------------------------------------
  reshape(x: Tensor, shape: number[]) {
    return this.g.op('Reshape', [x, this.ints(shape)]);
  }
  shapeOf(x: Tensor) {
    return this.g.op('Shape', [x]);
  }
  isStatic(x: Tensor) {
    return x.shape.every((d) => typeof d === 'number');
  }
  /** Reshape x to the shape of `like` (a constant when static, else taken at run time). */
  reshapeLike(x: Tensor, like: Tensor) {
    if (this.isStatic(like)) return this.reshape(x, like.shape as number[]);
    return this.g.op('Reshape', [x, this.shapeOf(like)]);
  }
  /** Broadcast x to the shape of `like`. */
  expandLike(x: Tensor, like: Tensor) {
    if (this.isStatic(like)) return this.expand(x, like.shape);
    return this.g.op('Expand', [x, this.shapeOf(like)]);
  }
  /** Swap the last two axes. */
  transposeLast2(x: Tensor) {
    const r = x.shape.length;
    const perm = x.shape.map((_, i) => i);
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.transpose(x, perm);
  }
  transpose(x: Tensor, perm: number[]) {
    return this.g.op('Transpose', [x], { perm });
  }
  unsqueeze(x: Tensor, axes: number[]) {
    return this.g.op('Unsqueeze', [x, this.ints(axes)]);
  }
  squeeze(x: Tensor, axes: number[]) {
    return this.g.op('Squeeze', [x, this.ints(axes)]);
  }
  concat(xs: Tensor[], axis: number) {
    return this.g.op('Concat', xs, { axis });
  }
  split(x: Tensor, sizes: number[], axis: number) {
    return this.g.add('Split', [x, this.ints(sizes)], { axis }, { outputs: sizes.length });
  }
  slice(x: Tensor, starts: number[], ends: number[], axes?: number[], steps?: number[]) {
    const ins = [x, this.ints(starts), this.ints(ends)];
    if (axes || steps) ins.push(this.ints(axes ?? starts.map((_, i) => i)));
    if (steps) ins.push(this.ints(steps));
    return this.g.op('Slice', ins);
  }
  pad(x: Tensor, pads: number[]) {
    return this.g.op('Pad', [x, this.ints(pads)]);
  }
  expand(x: Tensor, shape: Shape) {
    if (!shape.every((d) => typeof d === 'number')) throw new GraphError(`expand to symbolic shape ${fmtShape(shape)}`);
    return this.g.op('Expand', [x, this.ints(shape)]);
  }
  gather(x: Tensor, idx: Tensor, axis = 0) {
    return this.g.op('Gather', [x, idx], { axis });
  }
  scatterNDAdd(data: Tensor, idx: Tensor, upd: Tensor) {
    return this.g.op('ScatterND', [data, idx, upd], { reduction: 'add' });
  }

  // ---- layers as single ops --------------------------------------------------------------
  /** LayerNormalization over the trailing axes from `axis`: [y, mean, invStdDev]. */
  layerNorm(x: Tensor, scale: Tensor, bias: Tensor | null, eps = 1e-5, axis = -1) {
    return this.g.add('LayerNormalization', bias ? [x, scale, bias] : [x, scale], { axis, epsilon: A.f(eps) }, { outputs: 3 });
  }
  /** Dropout in training mode: [y, mask]. */
  dropout(x: Tensor, ratio: number, seed?: number) {
    const attrs: Record<string, number> = seed === undefined ? {} : { seed };
    return this.g.add('Dropout', [x, this.scalar(ratio, x), this.g.constant('bool', [], [1])], attrs, { outputs: 2 });
  }
  /** Softmax cross-entropy over class axis 1, mean over labels != ignoreIndex: [loss, logProb]. */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = -100) {
    return this.g.add('SoftmaxCrossEntropyLoss', [logits, labels], { reduction: 'mean', ignore_index: ignoreIndex }, { outputs: 2 });
  }
}
