// Metric names: which metrics an evaluation reports, which way each one is better, and how the
// keys of a run's final numbers (`test_f1`, `best_f1`) are formed and read back. The trainer, the
// extension (hovers, run history, CodeLens, compare) and the webview all use this one table.
// Imported by all three bundles, so it imports nothing itself.

/** Every metric an evaluation can report, with its direction and what it measures. */
export const METRICS = {
  f1: {
    lowerIsBetter: false,
    description: 'F1 score: entity-level (seqeval, micro) for token classification, macro-averaged over classes for sequence classification.',
  },
  precision: { lowerIsBetter: false, description: 'Precision: entity-level (micro) for token classification, macro-averaged for sequence classification.' },
  recall: { lowerIsBetter: false, description: 'Recall: entity-level (micro) for token classification, macro-averaged for sequence classification.' },
  accuracy: { lowerIsBetter: false, description: 'Accuracy: tokens (token classification) or examples (sequence classification) predicted correctly.' },
  loss: { lowerIsBetter: true, description: 'Mean cross-entropy loss on the evaluation data (lower is better).' },
  token_f1: { lowerIsBetter: false, description: 'Token-level micro F1 over non-O tags (token classification only).' },
} as const satisfies Record<string, { lowerIsBetter: boolean; description: string }>;

export type MetricName = keyof typeof METRICS;

export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** The metrics each task's evaluation reports, in the order they are listed. */
export const TASK_METRICS = {
  'token-classification': ['f1', 'precision', 'recall', 'accuracy', 'loss', 'token_f1'],
  'sequence-classification': ['accuracy', 'f1', 'precision', 'recall', 'loss'],
} as const satisfies Record<string, readonly MetricName[]>;

/** The headline numbers of one evaluation (an `eval` record's `metrics`). */
export type EvalMetrics = Partial<Record<MetricName, number>>;

/** A run's final numbers (run.json `final`): the test value of each metric and the best validation value of the selection metric. */
export type FinalKey = `test_${MetricName}` | `best_${MetricName}`;
export type FinalMetrics = Partial<Record<FinalKey, number>>;

export const testKey = <M extends MetricName>(m: M): `test_${M}` => `test_${m}`;
export const bestKey = <M extends MetricName>(m: M): `best_${M}` => `best_${m}`;

export function isMetricName(s: unknown): s is MetricName {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(METRICS, s);
}

/** The metric names present in an evaluation's numbers, in the record's order (names not in the table are left out). */
export function metricsIn(m: EvalMetrics): MetricName[] {
  return Object.keys(m).filter(isMetricName);
}

/** `test_f1` → { source: 'test', metric: 'f1' }; undefined for any other key. */
export function parseFinalKey(key: string): { source: 'test' | 'best'; metric: MetricName } | undefined {
  const m = /^(test|best)_(.+)$/.exec(key);
  return m && isMetricName(m[2]) ? { source: m[1] as 'test' | 'best', metric: m[2] } : undefined;
}

/** Whether lower values of a metric are better (only loss, today). */
export function lowerIsBetter(metric: MetricName): boolean {
  return METRICS[metric].lowerIsBetter;
}

/** The selection direction of a metric: 'min' for lower-is-better metrics, else 'max'. */
export function directionOf(metric: MetricName): 'min' | 'max' {
  return lowerIsBetter(metric) ? 'min' : 'max';
}

/** Whether `a` is better than `b` for this metric (anything beats undefined; `minDelta` is the margin it must win by). */
export function isBetter(metric: MetricName, a: number, b: number | undefined, minDelta = 0): boolean {
  if (b === undefined) return true;
  return lowerIsBetter(metric) ? a < b - minDelta : a > b + minDelta;
}

/** The one format for a metric value, everywhere (dashboard, sidebar, hovers, notifications, CLI):
 *  four decimals (`0.6100`, `1.0000`), so values line up and compare at a glance; very small or
 *  very large values (a loss of 3e-5 or 2e4) in exponent form with three significant digits. */
export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(4);
}
