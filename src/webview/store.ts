// The metrics of the runs a panel shows, kept as growable typed columns so a million-step
// history costs a few MB per column and a live append costs O(new points).

import { isBetter, type MetricName } from '../shared/metrics';
import type { EvalRecord, MetricsRecord, RunSummary, TrainRecord } from '../shared/protocol';
import { emaInit, emaInto, type EmaState } from './smoothing';

export class Column {
  a: Float64Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Float64Array(cap);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  /** A view of the filled part (no copy). */
  view(): Float64Array {
    return this.a.subarray(0, this.n);
  }
  truncate(n: number): void {
    this.n = Math.min(this.n, n);
  }
  get last(): number {
    return this.n ? this.a[this.n - 1] : NaN;
  }
}

export const TRAIN_FIELDS = ['step', 'epoch', 'loss', 'lr', 'gradNorm', 'stepsPerSec', 'samplesPerSec', 'tokensPerSec', 'time'] as const;
export type TrainField = (typeof TRAIN_FIELDS)[number];

export class RunData {
  summary: RunSummary;
  etaSeconds?: number;
  readonly cols = Object.fromEntries(TRAIN_FIELDS.map((f) => [f, new Column()])) as Record<TrainField, Column>;
  smoothed = new Column();
  private emaState: EmaState = emaInit();
  private smoothing = -1;
  evals: EvalRecord[] = [];
  historyDone = false;
  /** Bumped on every change; `rewound` is set when points were removed (charts redraw fully). */
  version = 0;
  rewound = false;

  constructor(summary: RunSummary) {
    this.summary = summary;
  }

  get length(): number {
    return this.cols.step.n;
  }

  add(records: readonly MetricsRecord[]): void {
    for (const r of records) {
      if (r.type === 'train') this.addTrain(r);
      else this.addEval(r);
    }
    if (records.length) this.version++;
  }

  private addTrain(r: TrainRecord): void {
    const step = this.cols.step;
    if (step.n && r.step <= step.last) {
      // A resumed run logs again from its checkpoint: drop what came after it.
      let lo = 0,
        hi = step.n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (step.a[mid] < r.step) lo = mid + 1;
        else hi = mid;
      }
      for (const c of Object.values(this.cols)) c.truncate(lo);
      this.smoothing = -1; // recompute the EMA
      this.rewound = true;
    }
    for (const f of TRAIN_FIELDS) {
      const v = (r as unknown as Record<string, number | undefined>)[f];
      this.cols[f].push(v === undefined ? NaN : v);
    }
  }

  private addEval(r: EvalRecord): void {
    // Keep evals ordered by step; a re-logged step replaces the old one.
    const i = this.evals.findIndex((e) => e.split === r.split && e.step >= r.step);
    if (i >= 0) {
      this.evals = this.evals.filter((e) => !(e.split === r.split && e.step >= r.step));
      this.rewound = true;
    }
    this.evals.push(r);
  }

  /** The EMA of the loss, brought up to date for smoothing weight `w`. */
  smoothedLoss(w: number): Float64Array {
    const n = this.cols.loss.n;
    if (w !== this.smoothing || this.smoothed.n > n) {
      this.smoothing = w;
      this.emaState = emaInit();
      this.smoothed.n = 0;
    }
    if (this.smoothed.a.length < n) {
      const b = new Float64Array(Math.max(n, this.smoothed.a.length * 2));
      b.set(this.smoothed.a.subarray(0, this.smoothed.n));
      this.smoothed.a = b;
    }
    emaInto(this.cols.loss.a, this.smoothed.a, this.smoothed.n, n, w, this.emaState);
    this.smoothed.n = n;
    return this.smoothed.view();
  }

  evalsOf(split: 'validation' | 'test'): EvalRecord[] {
    return this.evals.filter((e) => e.split === split);
  }

  latestEval(split: 'validation' | 'test', withConfusion = false): EvalRecord | undefined {
    const es = this.evalsOf(split).filter((e) => !withConfusion || e.confusion);
    return es[es.length - 1];
  }

  trainRecordAt(i: number): Record<TrainField, number> {
    return Object.fromEntries(TRAIN_FIELDS.map((f) => [f, this.cols[f].a[i]])) as Record<TrainField, number>;
  }
}

/** The best value of a metric over evaluations (the first evaluation that reached it) and its step. */
export function bestOf(evals: readonly EvalRecord[], metric: MetricName): { value: number; step: number } | undefined {
  let best: { value: number; step: number } | undefined;
  for (const e of evals) {
    const v = e.metrics[metric];
    if (v === undefined || !Number.isFinite(v)) continue;
    if (isBetter(metric, v, best?.value)) best = { value: v, step: e.step };
  }
  return best;
}
