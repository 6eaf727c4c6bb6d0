// Finite-difference gradient checks: build a graph, differentiate a random projection of its
// output with the engine, and compare every gradient element with central differences.

import { gradients } from '../../src/trainer/engine/autodiff';
import { Builder } from '../../src/trainer/engine/builder';
import { Graph, type DType, type Tensor } from '../../src/trainer/engine/ir';
import { serializeModel } from '../../src/trainer/engine/onnx';
import { Session, type HostTensor } from '../../src/trainer/engine/session';
import { rng } from '../../src/shared/rng';

export { rng };

/** Float64 graphs: central differences with eps 1e-6 have truncation error ~1e-12 and rounding
 *  error ~1e-10, so 1e-6 relative (1e-8 absolute) leaves wide margin while catching any wrong rule. */
export const F64_TOL = { rtol: 1e-6, atol: 1e-8 };
/** Float32 gradients (ops with no float64 kernel in ORT: Erf, Gelu) against float64 differences of
 *  a float64 reference: float32 has ~6e-8 unit roundoff, accumulated over a few ops. */
export const F32_TOL = { rtol: 1e-4, atol: 2e-5 };

export function randn(n: number, r: () => number, scale = 1): number[] {
  return Array.from({ length: n }, () => {
    const u = Math.max(r(), 1e-12);
    return scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  });
}

export interface InputSpec {
  name: string;
  shape: number[];
  dtype?: DType; // default float64
  values: number[];
  /** Differentiate with respect to this input (default: true for float inputs). */
  diff?: boolean;
}

export interface GradCheckOptions {
  eps?: number;
  tol?: { rtol: number; atol: number };
  /** A float64 reference of the forward for ops without float64 kernels; the graph then runs float32. */
  reference?: (xs: number[][]) => number[];
  /** Build a fresh session per evaluation (ops with internal random state, e.g. Dropout with a seed). */
  freshSession?: boolean;
  seed?: number;
}

export interface GradCheckResult {
  worst: number; // worst |a - n| / (atol + rtol |n|); <= 1 passes
  detail: string;
  checked: number;
}

function host(spec: InputSpec, values: number[]): HostTensor {
  const dtype = spec.dtype ?? 'float64';
  const data =
    dtype === 'float64'
      ? Float64Array.from(values)
      : dtype === 'float32'
        ? Float32Array.from(values)
        : dtype === 'int64'
          ? BigInt64Array.from(values.map((v) => BigInt(v)))
          : dtype === 'bool'
            ? Uint8Array.from(values)
            : Int32Array.from(values);
  return { dtype, shape: spec.shape, data };
}

export async function gradCheck(specs: InputSpec[], build: (b: Builder, xs: Tensor[]) => Tensor, opts: GradCheckOptions = {}): Promise<GradCheckResult> {
  const eps = opts.eps ?? 1e-6;
  const tol = opts.tol ?? (opts.reference ? F32_TOL : F64_TOL);
  const r = rng(opts.seed ?? 7);
  const g = new Graph('gradcheck');
  const b = new Builder(g);
  const xs = specs.map((s) => g.input(s.name, s.dtype ?? 'float64', s.shape));
  const out = build(b, xs);
  const outShape = out.shape as number[];
  const nOut = outShape.reduce((p, d) => p * d, 1);
  const w = g.input('proj', 'float64', outShape);
  const loss = b.reduceSum(
    b.mul(b.cast(out, 'float64'), w),
    outShape.map((_, i) => i),
    false,
  );
  const diffIdx = specs.map((s, i) => ((s.diff ?? ['float64', 'float32'].includes(s.dtype ?? 'float64')) ? i : -1)).filter((i) => i >= 0);
  const grads = gradients(
    g,
    loss,
    diffIdx.map((i) => xs[i]),
  );
  g.output(loss, 'loss');
  diffIdx.forEach((i) => g.output(grads.get(xs[i].name)!, `grad_${specs[i].name}`));
  const model = serializeModel(g);
  const projValues = randn(nOut, r);
  const proj: HostTensor = { dtype: 'float64', shape: outShape, data: Float64Array.from(projValues) };

  let shared: Session | undefined;
  const session = async () => (opts.freshSession || !shared ? (shared = await Session.create(model, g.inputs, { threads: 1 })) : shared);
  const feeds = (vals: number[][]) => Object.fromEntries([...specs.map((s, i) => [s.name, host(s, vals[i])]), ['proj', proj]]);
  const lossAt = async (vals: number[][]): Promise<number> => {
    if (opts.reference) {
      const y = opts.reference(vals);
      return y.reduce((acc, v, k) => acc + v * projValues[k], 0);
    }
    const res = await (await session()).run(feeds(vals), ['loss']);
    return Number(res.loss.data[0]);
  };

  const base = specs.map((s) => s.values.slice());
  const analytic = await (await session()).run(feeds(base));
  let worst = 0;
  let detail = 'ok';
  let checked = 0;
  for (const i of diffIdx) {
    const a = analytic[`grad_${specs[i].name}`].data as Float64Array | Float32Array;
    for (let k = 0; k < specs[i].values.length; k++) {
      const plus = base.map((v) => v.slice());
      const minus = base.map((v) => v.slice());
      plus[i][k] += eps;
      minus[i][k] -= eps;
      const num = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * eps);
      const err = Math.abs(a[k] - num) / (tol.atol + tol.rtol * Math.abs(num));
      checked++;
      if (err > worst) {
        worst = err;
        detail = `${specs[i].name}[${k}]: analytic ${a[k]} vs numeric ${num}`;
      }
    }
  }
  return { worst, detail, checked };
}
