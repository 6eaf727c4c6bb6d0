// Early termination: should this trial stop now? Pure functions of the validation records the
// trials have written so far (metrics.jsonl eval records, reduced to (step, value) points), with
// the decisions of Optuna's pruners: ASHA as SuccessiveHalvingPruner, median stopping as
// MedianPruner (test/sweep-prune.test.ts replays curves against decisions Optuna recorded).
// Browser-safe (no Node built-in): the extension uses it too.

import type { EarlyTermination } from '../config/types';
import type { MetricName } from '../metrics';
import type { MetricsRecord } from '../protocol';

/** One validation value of a trial: the step it was evaluated at and the sweep metric there. */
export type Point = [step: number, value: number];

export interface TrialCurve {
  /** Finished trials count for the median; every trial's rungs count for ASHA. */
  state: 'running' | 'complete' | 'pruned' | 'failed';
  /** Its validation points so far, in order. */
  points: Point[];
  /** ASHA: the rung a pruned trial was stopped at (its decision's `rung`); without it, the first rung its last evaluation reached. */
  prunedRung?: number;
}

/** A decision; when ASHA stops a trial, the rung it stopped at (keep it with the trial: later decisions need it). */
export interface Decision {
  prune: boolean;
  rung?: number;
}

/** The (step, metric) points of a run's validation records (a record without the metric is skipped). */
export function curveOf(records: MetricsRecord[], metric: MetricName): Point[] {
  const out: Point[] = [];
  for (const r of records) if (r.type === 'eval' && r.split === 'validation' && typeof r.metrics[metric] === 'number') out.push([r.step, r.metrics[metric]]);
  return out;
}

export type Mode = 'max' | 'min';

/**
 * Whether the trial whose points are `points` (its latest evaluation last) stops now, given the
 * other trials' points so far.
 */
export function decide(rule: EarlyTermination, points: Point[], others: TrialCurve[], mode: Mode): Decision {
  return rule.type === 'asha' ? ashaDecide(rule, points, others, mode) : { prune: medianShouldPrune(rule, points, others, mode) };
}

type Asha = Extract<EarlyTermination, { type: 'asha' }>;

/** The step a trial must reach to complete rung `rung`. */
const rungStep = (a: Asha, rung: number) => a.minSteps * a.reductionFactor ** (a.minEarlyStoppingRate + rung);

/**
 * A trial's value at each rung it reached: the value of its first evaluation at or after the
 * rung's step (as Optuna records `completed_rung_k`). A pruned trial has values up to the rung it
 * was stopped at (`stoppedAt`), even when its last evaluation went past more rungs.
 */
export function rungValues(a: Asha, points: Point[], stoppedAt = Infinity): number[] {
  const out: number[] = [];
  for (const [step, value] of points)
    while (out.length <= stoppedAt && step >= rungStep(a, out.length)) {
      if (Number.isNaN(value)) return out; // a NaN stops the trial before anything is recorded
      out.push(value);
    }
  return out;
}

/** The rungs of another trial (a pruned one without its rung: the first its last evaluation reached). */
function rungsOf(a: Asha, t: TrialCurve): number[] {
  if (t.state !== 'pruned') return rungValues(a, t.points);
  return rungValues(a, t.points, t.prunedRung ?? rungValues(a, t.points.slice(0, -1)).length);
}

/** Optuna's _is_trial_promotable_to_next_rung: in the top 1/reduction_factor of the rung (the first trial always is). */
function promotable(value: number, competing: number[], reductionFactor: number, mode: Mode): boolean {
  let idx = Math.floor(competing.length / reductionFactor) - 1;
  if (idx === -1) idx = 0;
  const sorted = [...competing].sort((x, y) => x - y);
  return mode === 'max' ? value >= sorted[sorted.length - 1 - idx] : value <= sorted[idx];
}

/** ASHA (SuccessiveHalvingPruner): at each rung its latest evaluation reaches, the trial must be in the top 1/η of the values recorded there. */
export function ashaDecide(a: Asha, points: Point[], others: TrialCurve[], mode: Mode): Decision {
  if (!points.length) return { prune: false };
  const [step, value] = points[points.length - 1];
  let rung = rungValues(a, points.slice(0, -1)).length;
  const otherRungs = others.map((t) => rungsOf(a, t));
  for (;;) {
    if (step < rungStep(a, rung)) return { prune: false };
    if (Number.isNaN(value)) return { prune: true, rung };
    const competing = [...otherRungs.filter((r) => r.length > rung).map((r) => r[rung]), value];
    if (competing.length <= a.bootstrapCount) return { prune: true, rung };
    if (!promotable(value, competing, a.reductionFactor, mode)) return { prune: true, rung };
    rung++;
  }
}

type Median = Extract<EarlyTermination, { type: 'median' }>;

/** numpy's nanpercentile with linear interpolation. */
function percentile(values: number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const pos = ((v.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** Median stopping (MedianPruner): the trial's best value so far is worse than the median of the completed trials' values at this step. */
export function medianShouldPrune(m: Median, points: Point[], others: TrialCurve[], mode: Mode): boolean {
  const complete = others.filter((t) => t.state === 'complete');
  if (complete.length === 0 || complete.length < m.startupTrials || !points.length) return false;
  const step = points[points.length - 1][0];
  if (step < m.warmupSteps) return false;
  // Only the first evaluation in each interval of interval_steps is checked.
  const nearestLower = Math.floor((step - m.warmupSteps) / m.intervalSteps) * m.intervalSteps + m.warmupSteps;
  const secondLast = points.reduce((acc, [s]) => (s > acc && s !== step ? s : acc), -1);
  if (!(secondLast < nearestLower)) return false;
  const vals = points.map(([, v]) => v).filter((v) => !Number.isNaN(v));
  if (!vals.length) return true;
  const best = mode === 'max' ? Math.max(...vals) : Math.min(...vals);
  const atStep = complete.flatMap((t) => t.points.filter(([s]) => s === step).map(([, v]) => v));
  if (atStep.length < m.minTrials) return false;
  const p = percentile(atStep, 50);
  if (Number.isNaN(p)) return false;
  return mode === 'max' ? best < p : best > p;
}
