// The Tree-structured Parzen Estimator, as Optuna 5's TPESampler does it by default
// (n_startup_trials 10, n_ei_candidates 24, gamma(n) = min(ceil(0.1 n), 25), prior weight 1, magic
// clip on, endpoints off, older trials weighted down past 25, one mixture over all parameters —
// `multivariate: false` gives the per-parameter TPE of Optuna before 5). No maintained JavaScript
// TPE exists on npm, so it is written here, following optuna/samplers/_tpe (sampler.py,
// parzen_estimator.py, probability_distributions.py); bench/sweep.ts compares it with Optuna.
//
// The finished trials are split into the best gamma(n) ("below") and the rest ("above"); a mixture
// of product kernels (one per observation, plus a wide prior) is fitted to each group: truncated
// normals for numbers (in log space for log ranges), category weights for choices. 24 candidates
// are drawn from the "below" mixture l and the one with the highest log l(x) − log g(x) is taken.
// The draws are seeded by (sweep seed, trial number), so a resumed sweep suggests the same values.

import type { Distribution } from '../config/types';
import { drawPrior, seeded, type Random } from './random';

export interface TpeTrial {
  params: Record<string, unknown>;
  state: 'complete' | 'pruned';
  /** The objective (complete trials). */
  value?: number;
  /** Pruned trials: their last reported step and value, which rank them (later steps first). */
  lastStep?: number;
  lastValue?: number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erfc with fractional error below 1.2e-7 everywhere (Numerical Recipes' erfcc). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** The standard normal CDF. */
export const ndtr = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

/** The standard normal quantile (Acklam's rational approximation, one Halley step). */
export function ndtri(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    if (p > 1 - lo) x = -x;
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const e = ndtr(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** The probability mass of N(mu, sigma) between a and b, as a log. */
function logMass(a: number, b: number, mu: number, sigma: number): number {
  const za = (a - mu) / sigma;
  const zb = (b - mu) / sigma;
  // Upper tail: use the mirror image so that the difference of two CDFs near 1 keeps its digits.
  const m = za > 0 ? ndtr(-za) - ndtr(-zb) : ndtr(zb) - ndtr(za);
  return Math.log(Math.max(m, 1e-300));
}

/** A parameter value → the mixture's representation (a category's index; numbers as they are); undefined when it is not in the space. */
function toInternal(d: Distribution, v: unknown): number | undefined {
  if (d.kind === 'choice') {
    const i = d.values.findIndex((x) => JSON.stringify(x) === JSON.stringify(v));
    return i < 0 ? undefined : i;
  }
  return typeof v === 'number' && v >= d.low && v <= d.high ? v : undefined;
}

const toExternal = (d: Distribution, x: number): unknown => (d.kind === 'choice' ? d.values[x] : x);

/** Optuna's default_weights: equal up to 25 observations, then the older ones ramp down. */
export function defaultWeights(n: number): number[] {
  if (n < 25) return Array.from({ length: n }, () => 1);
  const ramp = Array.from({ length: n - 25 }, (_, i) => (n - 25 === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (n - 26)));
  return [...ramp, ...Array.from({ length: 25 }, () => 1)];
}

/** Optuna's default_gamma: how many trials count as good. */
export const defaultGamma = (n: number) => Math.min(Math.ceil(0.1 * n), 25);

/** One parameter of a mixture: per kernel (the observations, then the prior), a distribution over its values. */
interface Dim {
  sample(k: number, r: Random): number;
  logPdf(k: number, x: number): number;
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

function pick(weights: number[], r: Random): number {
  let u = r();
  for (let k = 0; k < weights.length; k++) {
    u -= weights[k];
    if (u < 0) return k;
  }
  return weights.length - 1;
}

/**
 * Truncated normals, one per observation plus the prior (centre of the range, sigma the range):
 * in log space for log ranges, over [low − step/2, high + step/2] for integers. An observation's
 * sigma is the larger gap to its sorted neighbours (bounds included; the outermost ones ignore
 * the bounds), clipped to [range / min(100, n + 2), range].
 */
function numericDim(obs: number[], d: Exclude<Distribution, { kind: 'choice' }>): Dim {
  const step = d.kind === 'int' ? 1 : 0;
  const log = d.kind === 'loguniform' || (d.kind === 'int' && d.log);
  const t = (x: number) => (log ? Math.log(x) : x);
  const lo = t(d.low - step / 2);
  const hi = t(d.high + step / 2);
  const mus = obs.map(t);
  const order = mus.map((_, i) => i).sort((a, b) => mus[a] - mus[b] || a - b);
  const sorted = [lo, ...order.map((i) => mus[i]), hi];
  const sortedSigmas = order.map((_, j) => Math.max(sorted[j + 1] - sorted[j], sorted[j + 2] - sorted[j + 1]));
  if (sorted.length >= 4) {
    sortedSigmas[0] = sorted[2] - sorted[1];
    sortedSigmas[sortedSigmas.length - 1] = sorted[sorted.length - 2] - sorted[sorted.length - 3];
  }
  const sigmas = new Array<number>(mus.length);
  order.forEach((i, j) => (sigmas[i] = sortedSigmas[j]));
  const range = hi - lo;
  const minSigma = range / Math.min(100, 1 + obs.length + 1);
  const mu = [...mus, 0.5 * (lo + hi)];
  const sig = [...sigmas.map((s) => Math.min(range, Math.max(minSigma, s))), range];
  const norm = mu.map((m, k) => logMass(lo, hi, m, sig[k]));
  return {
    sample(k, r) {
      const a = (lo - mu[k]) / sig[k];
      const b = (hi - mu[k]) / sig[k];
      // Inverse CDF on the side of the mean where the tail probabilities keep their digits.
      const z = a > 0 ? -ndtri(ndtr(-a) - r() * (ndtr(-a) - ndtr(-b))) : ndtri(ndtr(a) + r() * (ndtr(b) - ndtr(a)));
      let x = Math.min(hi, Math.max(lo, mu[k] + sig[k] * (Number.isFinite(z) ? z : 0)));
      if (log) x = Math.exp(x);
      if (step) x = Math.min(d.high, Math.max(d.low, d.low + Math.round((x - d.low) / step) * step));
      return x;
    },
    logPdf(k, x) {
      if (step) return logMass(t(x - step / 2), t(x + step / 2), mu[k], sig[k]) - norm[k];
      const z = (t(x) - mu[k]) / sig[k];
      return -0.5 * z * z - LOG_SQRT_2PI - Math.log(sig[k]) - norm[k];
    },
  };
}

/** Categories: an observation's kernel puts 1 on its value plus the prior weight spread over all values; the prior kernel is uniform. */
function categoricalDim(obs: number[], n: number, priorWeight: number): Dim {
  const kernels = obs.length + 1;
  const rows = Array.from({ length: kernels }, (_, k) => {
    const row = Array.from({ length: n }, () => (obs.length ? priorWeight / kernels : 1 / n));
    if (k < obs.length) row[obs[k]] += 1;
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((w) => w / sum);
  });
  return { sample: (k, r) => pick(rows[k], r), logPdf: (k, x) => Math.log(rows[k][x]) };
}

/** A mixture of product kernels over the given parameters (Optuna's _ParzenEstimator): `obs[i]` is observation i's internal values, in parameter order. */
export class Parzen {
  readonly weights: number[];
  private readonly dims: Dim[];

  constructor(obs: number[][], space: Distribution[], priorWeight: number) {
    const w = obs.length === 0 ? [1] : [...defaultWeights(obs.length), priorWeight];
    const sum = w.reduce((a, b) => a + b, 0);
    this.weights = w.map((x) => x / sum);
    this.dims = space.map((d, j) => {
      const col = obs.map((o) => o[j]);
      return d.kind === 'choice' ? categoricalDim(col, d.values.length, priorWeight) : numericDim(col, d);
    });
  }

  sample(r: Random): number[] {
    const k = pick(this.weights, r);
    return this.dims.map((dim) => dim.sample(k, r));
  }

  logPdf(x: number[]): number {
    return logSumExp(this.weights.map((w, k) => Math.log(w) + this.dims.reduce((s, dim, j) => s + dim.logPdf(k, x[j]), 0)));
  }
}

/** Splits finished trials into the best gamma(n) ("below") and the rest, as Optuna's _split_trials (direction: which way is better). */
export function splitTrials(trials: TpeTrial[], mode: 'max' | 'min'): { below: number[]; above: number[] } {
  let nBelow = defaultGamma(trials.length);
  const sign = mode === 'min' ? 1 : -1;
  const idx = trials.map((_, i) => i);
  const complete = idx.filter((i) => trials[i].state === 'complete').sort((a, b) => sign * (trials[a].value! - trials[b].value!) || a - b);
  const pruned = idx
    .filter((i) => trials[i].state === 'pruned')
    .sort((a, b) => {
      const key = (t: TpeTrial): [number, number] =>
        t.lastStep === undefined ? [1, 0] : Number.isNaN(t.lastValue) ? [-t.lastStep, Infinity] : [-t.lastStep, sign * t.lastValue!];
      const [ka, kb] = [key(trials[a]), key(trials[b])];
      return ka[0] - kb[0] || ka[1] - kb[1] || a - b;
    });
  const below = complete.slice(0, nBelow);
  nBelow = Math.max(0, nBelow - below.length);
  below.push(...pruned.slice(0, nBelow));
  const inBelow = new Set(below);
  const above = idx.filter((i) => !inBelow.has(i));
  return { below: below.sort((a, b) => a - b), above };
}

export interface TpeOptions {
  startupTrials: number;
  eiCandidates: number;
  priorWeight: number;
  /** One mixture over all parameters (Optuna 5's default for one objective), or one per parameter (Optuna before 5). */
  multivariate: boolean;
}

export const TPE_OPTIONS: TpeOptions = { startupTrials: 10, eiCandidates: 24, priorWeight: 1, multivariate: true };

/**
 * The parameters of trial number `trialNumber` given the finished trials before it (complete or
 * pruned, in trial order): random draws for the first 10, then the candidate among 24 drawn from
 * the good trials' mixture l(x) with the highest log l(x) − log g(x).
 */
export function suggestTpe(
  space: Record<string, Distribution>,
  trials: TpeTrial[],
  mode: 'max' | 'min',
  seed: number,
  trialNumber: number,
  o: TpeOptions = TPE_OPTIONS,
): Record<string, unknown> {
  const keys = Object.keys(space);
  const usable = trials.filter((t) => t.state === 'pruned' || (t.value !== undefined && !Number.isNaN(t.value)));
  if (usable.length < o.startupTrials) return suggestRandom(space, seed, trialNumber);
  const groups = o.multivariate ? [keys] : keys.map((k) => [k]);
  const out: Record<string, unknown> = {};
  groups.forEach((group, g) => {
    const r = seeded(seed, trialNumber, 1000 + g);
    const dists = group.map((k) => space[k]);
    // Only the trials that have every parameter of the group, as Optuna does.
    const have = usable.filter((t) => group.every((k, j) => toInternal(dists[j], t.params[k]) !== undefined));
    const { below, above } = splitTrials(have, mode);
    const obs = (ids: number[]) => ids.map((i) => group.map((k, j) => toInternal(dists[j], have[i].params[k])!));
    const l = new Parzen(obs(below), dists, o.priorWeight);
    const gm = new Parzen(obs(above), dists, o.priorWeight);
    let best: number[] = [];
    let bestScore = -Infinity;
    for (let c = 0; c < o.eiCandidates; c++) {
      const x = l.sample(r);
      const score = l.logPdf(x) - gm.logPdf(x);
      if (c === 0 || score > bestScore) [best, bestScore] = [x, score];
    }
    group.forEach((k, j) => (out[k] = toExternal(dists[j], best[j])));
  });
  return out;
}

/** Independent draws from every distribution (random search), seeded by the sweep seed and trial number. */
export function suggestRandom(space: Record<string, Distribution>, seed: number, trialNumber: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(space).map(([key, d], p) => [key, drawPrior(d, seeded(seed, trialNumber, p))]));
}
