// Every gradient rule against float64 central finite differences (tolerances in helpers/gradcheck.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Builder } from '../src/trainer/engine/builder';
import type { Tensor } from '../src/trainer/engine/ir';
import { registeredGradientOps } from '../src/trainer/engine/gradients';
import { gradCheck, randn, rng, type GradCheckOptions, type InputSpec } from './helpers/gradcheck';

const r = rng(1234);
const inp = (name: string, shape: number[], opts: Partial<InputSpec> & { lo?: number; hi?: number } = {}): InputSpec => {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = opts.values ?? (opts.lo !== undefined ? Array.from({ length: n }, () => opts.lo! + (opts.hi! - opts.lo!) * r()) : randn(n, r));
  return { name, shape, values, dtype: opts.dtype, diff: opts.diff };
};
/** Values bounded away from zero (for kinks and poles). */
const awayFromZero = (name: string, shape: number[]) =>
  inp(name, shape, {
    values: randn(
      shape.reduce((a, b) => a * b, 1),
      r,
    ).map((v) => (v >= 0 ? v + 0.2 : v - 0.2)),
  });

function erf64(x: number): number {
  // Maclaurin series; exact to ~1e-14 for |x| <= 3 in float64.
  let term = x,
    sum = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const covered = new Set<string>();
function check(op: string, title: string, specs: InputSpec[], build: (b: Builder, xs: Tensor[]) => Tensor, opts: GradCheckOptions = {}) {
  covered.add(op);
  it(`${op}: ${title}`, async () => {
    const res = await gradCheck(specs, build, opts);
    assert.ok(res.checked > 0);
    assert.ok(res.worst <= 1, `${op} ${title}: worst error ${res.worst.toFixed(2)}x tolerance at ${res.detail}`);
  });
}

describe('gradient rules vs finite differences (float64)', () => {
  check('Add', 'broadcast [3,4] + [4]', [inp('a', [3, 4]), inp('b', [4])], (b, [x, y]) => b.add(x, y));
  check('Sub', 'broadcast [3,1] - [3,4]', [inp('a', [3, 1]), inp('b', [3, 4])], (b, [x, y]) => b.sub(x, y));
  check('Mul', 'broadcast [2,3,4] * [3,1]', [inp('a', [2, 3, 4]), inp('b', [3, 1])], (b, [x, y]) => b.mul(x, y));
  check('Mul', 'fan-out x * x', [inp('a', [5])], (b, [x]) => b.mul(x, x));
  check('Div', 'broadcast [3,4] / [4]', [inp('a', [3, 4]), inp('b', [4], { lo: 0.5, hi: 2 })], (b, [x, y]) => b.div(x, y));
  check('Neg', '[2,3]', [inp('a', [2, 3])], (b, [x]) => b.neg(x));
  check('Pow', 'constant exponent 3', [inp('a', [2, 3])], (b, [x]) => b.pow(x, b.scalar(3, x)));
  check('Pow', 'tensor exponent', [inp('a', [2, 3], { lo: 0.5, hi: 2 }), inp('e', [3], { lo: -1, hi: 2 })], (b, [x, e]) => b.pow(x, e));
  check('Sqrt', '[2,3]', [inp('a', [2, 3], { lo: 0.3, hi: 3 })], (b, [x]) => b.sqrt(x));
  check('Exp', '[2,3]', [inp('a', [2, 3])], (b, [x]) => b.exp(x));
  check('Log', '[2,3]', [inp('a', [2, 3], { lo: 0.3, hi: 3 })], (b, [x]) => b.log(x));
  check('Tanh', '[2,3]', [inp('a', [2, 3])], (b, [x]) => b.tanh(x));
  check('Sigmoid', '[2,3]', [inp('a', [2, 3])], (b, [x]) => b.sigmoid(x));
  check('Relu', '[3,4] away from the kink', [awayFromZero('a', [3, 4])], (b, [x]) => b.relu(x));
  check('Abs', '[3,4] away from the kink', [awayFromZero('a', [3, 4])], (b, [x]) => b.abs(x));
  check('Reciprocal', '[2,3]', [inp('a', [2, 3], { lo: 0.5, hi: 2 })], (b, [x]) => b.g.op('Reciprocal', [x]));
  check('Erf', 'float32 graph vs float64 reference', [inp('a', [2, 5], { dtype: 'float32', lo: -2.5, hi: 2.5 })], (b, [x]) => b.erf(x), {
    reference: ([x]) => x.map(erf64),
    eps: 1e-5,
  });
  check('Gelu', 'exact, float32 graph vs float64 reference', [inp('a', [2, 5], { dtype: 'float32', lo: -3, hi: 3 })], (b, [x]) => b.gelu(x), {
    reference: ([x]) => x.map((v) => 0.5 * v * (1 + erf64(v / Math.SQRT2))),
    eps: 1e-5,
  });
  check(
    'Gelu',
    'tanh approximation, float32 vs float64 reference',
    [inp('a', [2, 5], { dtype: 'float32', lo: -3, hi: 3 })],
    (b, [x]) => b.g.op('Gelu', [x], { approximate: 'tanh' }),
    { reference: ([x]) => x.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))), eps: 1e-5 },
  );
  check('Softmax', 'last axis', [inp('a', [3, 5])], (b, [x]) => b.softmax(x, -1));
  check('Softmax', 'axis 1 of 3-D', [inp('a', [2, 4, 3])], (b, [x]) => b.softmax(x, 1));
  check('LogSoftmax', 'last axis', [inp('a', [3, 5])], (b, [x]) => b.logSoftmax(x, -1));
  check('ReduceSum', 'axis 1, keepdims 0', [inp('a', [2, 3, 4])], (b, [x]) => b.reduceSum(x, [1], false));
  check('ReduceSum', 'axes [0,2], keepdims 1', [inp('a', [2, 3, 4])], (b, [x]) => b.reduceSum(x, [0, 2], true));
  check('ReduceMean', 'last axis', [inp('a', [2, 3, 4])], (b, [x]) => b.reduceMean(x, [-1], false));
  check('ReduceSumSquare', 'all axes', [inp('a', [2, 3])], (b, [x]) => b.reduceSumSquare(x, null, false));
  check('Reshape', '[2,3,4] -> [6,4]', [inp('a', [2, 3, 4])], (b, [x]) => b.mul(b.reshape(x, [6, 4]), b.reshape(x, [6, 4])));
  check('Transpose', 'perm [2,0,1]', [inp('a', [2, 3, 4])], (b, [x]) => b.transpose(x, [2, 0, 1]));
  check('Unsqueeze', 'axes [0,2]', [inp('a', [3, 4])], (b, [x]) => b.unsqueeze(x, [0, 2]));
  check('Squeeze', 'axis 1', [inp('a', [3, 1, 4])], (b, [x]) => b.squeeze(x, [1]));
  check('Concat', 'axis 1', [inp('a', [2, 3]), inp('b', [2, 2])], (b, [x, y]) => b.concat([x, y, x], 1));
  check('Split', 'axis 1 into [1,3]', [inp('a', [2, 4])], (b, [x]) => b.split(x, [1, 3], 1)[1]);
  check('Slice', 'axis 1 [1:3] and negative end', [inp('a', [3, 5])], (b, [x]) => b.slice(x, [1, 1], [-1, 3], [0, 1]));
  check(
    'Gather',
    'embedding rows with a repeated index',
    [inp('table', [5, 3]), inp('idx', [2, 3], { dtype: 'int64', values: [0, 4, 2, 2, 1, 4], diff: false })],
    (b, [t, i]) => b.gather(t, i, 0),
  );
  check(
    'Where',
    'constant condition, broadcast branch',
    [inp('c', [3, 4], { dtype: 'bool', values: [1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0], diff: false }), inp('a', [3, 4]), inp('b', [4])],
    (b, [c, x, y]) => b.where(c, x, y),
  );
  check(
    'Cast',
    'float64 -> float32 -> float64 with exact float32 inputs',
    [inp('a', [4], { values: [0.5, -1.25, 2, 0.75] })],
    (b, [x]) => b.cast(b.mul(b.cast(x, 'float32'), b.scalar(2, 'float32')), 'float64'),
    { eps: 1 / 1024 },
  );
  check('Dropout', 'ratio 0.4, mask reused (fixed seed)', [inp('a', [4, 6])], (b, [x]) => b.dropout(x, 0.4, 17)[0], { freshSession: true });
  check(
    'LayerNormalization',
    'last axis with scale and bias',
    [inp('x', [3, 5]), inp('s', [5]), inp('bias', [5])],
    (b, [x, s, bb]) => b.layerNorm(x, s, bb, 1e-5)[0],
  );
  check(
    'LayerNormalization',
    'axis 1 of 3-D',
    [inp('x', [2, 3, 4]), inp('s', [3, 4]), inp('bias', [3, 4])],
    (b, [x, s, bb]) => b.layerNorm(x, s, bb, 1e-5, 1)[0],
  );
  check(
    'SoftmaxCrossEntropyLoss',
    'mean with ignore_index -100',
    [inp('logits', [4, 5]), inp('labels', [4], { dtype: 'int64', values: [1, -100, 4, 0], diff: false })],
    (b, [x, l]) => b.softmaxCrossEntropy(x, l, -100)[0],
  );
  check(
    'SoftmaxCrossEntropyLoss',
    '3-D logits [N,C,T], token labels',
    [inp('logits', [2, 3, 4]), inp('labels', [2, 4], { dtype: 'int64', values: [0, 2, -100, 1, 1, -100, -100, 2], diff: false })],
    (b, [x, l]) => b.softmaxCrossEntropy(x, l, -100)[0],
  );
  check('MatMul', '2-D', [inp('a', [3, 4]), inp('b', [4, 2])], (b, [x, y]) => b.matmul(x, y));
  check('MatMul', 'batched with broadcast [2,3,4] @ [1,4,5]', [inp('a', [2, 3, 4]), inp('b', [1, 4, 5])], (b, [x, y]) => b.matmul(x, y));
  check('MatMul', '3-D activations @ 2-D weight', [inp('a', [2, 3, 4]), inp('b', [4, 5])], (b, [x, y]) => b.matmul(x, y));
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    check(
      'Gemm',
      `transA=${+tA} transB=${+tB}, alpha 0.7, beta 1.3, bias [n]`,
      [inp('a', tA ? [4, 3] : [3, 4]), inp('b', tB ? [2, 4] : [4, 2]), inp('c', [2])],
      (b, [x, y, z]) => b.gemm(x, y, z, { transA: tA, transB: tB, alpha: 0.7, beta: 1.3 }),
    );
  }
  check('Sum', 'three inputs with broadcast', [inp('a', [2, 3]), inp('b', [3]), inp('c', [2, 1])], (b, xs) => b.sum(xs));
  check('Identity', '[3]', [inp('a', [3])], (b, [x]) => b.mul(b.g.op('Identity', [x]), x));
  check('Expand', '[3,1] -> [2,3,4]', [inp('a', [3, 1])], (b, [x]) => b.expand(x, [2, 3, 4]));
  check(
    'ReduceSum',
    'a small MLP end to end (fan-out, broadcast bias, ReLU, Softmax CE)',
    [inp('x', [4, 3]), inp('w1', [3, 5]), inp('b1', [5]), inp('w2', [5, 2]), inp('y', [4], { dtype: 'int64', values: [0, 1, 1, 0], diff: false })],
    (b, [x, w1, b1, w2, y]) => {
      const h = b.tanh(b.add(b.matmul(x, w1), b1));
      return b.add(b.softmaxCrossEntropy(b.matmul(h, w2), y)[0], b.reduceSum(b.mul(h, h), [0, 1]));
    },
  );

  it('covers every registered rule', () => {
    const missing = registeredGradientOps().filter((op) => !covered.has(op));
    assert.deepEqual(missing, [], `rules without a finite-difference test: ${missing.join(', ')}`);
  });
});
