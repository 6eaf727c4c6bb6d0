// Metrics as CSV: one row per train or eval record, runs one after another, eval metrics as columns.

import { displayName } from '../shared/run/identity';
import { metricsIn } from '../shared/metrics';
import type { RunData } from './store';
import { TRAIN_FIELDS } from './store';

function cell(v: unknown): string {
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`; // no formulas in spreadsheets
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function metricsCsv(runs: RunData[]): string {
  const metricKeys = [...new Set(runs.flatMap((r) => r.evals.flatMap((e) => metricsIn(e.metrics))))].sort();
  const head = ['run', 'type', 'split', ...TRAIN_FIELDS, ...metricKeys.map((m) => `eval_${m}`)];
  const lines = [head.join(',')];
  for (const r of runs) {
    const name = cell(displayName(r.summary));
    let e = 0;
    const evals = [...r.evals].sort((a, b) => a.step - b.step);
    const pushEval = (ev: (typeof evals)[number]) =>
      lines.push(
        [
          name,
          'eval',
          ev.split,
          ev.step,
          ev.epoch,
          ...TRAIN_FIELDS.slice(2).map((f) => (f === 'time' ? cell(ev.time) : '')),
          ...metricKeys.map((m) => cell(ev.metrics[m])),
        ].join(','),
      );
    const steps = r.cols.step.a;
    for (let i = 0; i < r.length; i++) {
      while (e < evals.length && evals[e].step < steps[i]) pushEval(evals[e++]);
      const row = [name, 'train', ''];
      for (const f of TRAIN_FIELDS) row.push(cell(r.cols[f].a[i]));
      for (let k = 0; k < metricKeys.length; k++) row.push('');
      lines.push(row.join(','));
    }
    while (e < evals.length) pushEval(evals[e++]);
  }
  return lines.join('\n') + '\n';
}
