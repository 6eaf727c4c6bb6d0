// Report tables: headline metrics with their best step, entity-level and token-level per-class
// reports (sortable by clicking a header), and the run comparison table.

import { displayName } from '../shared/run/identity';
import type { EvalRecord, PrfJson } from '../shared/protocol';
import { el, fmt, shownEl } from './dom';
import { formatMetric, lowerIsBetter, metricsIn, type MetricName } from '../shared/metrics';
import { bestOf, type RunData } from './store';
import { metricNames } from './charts';

export interface SortState {
  key: string;
  dir: 'asc' | 'desc';
}
export type SortMap = Record<string, SortState>;

interface Col {
  key: string;
  label: string;
  numeric?: boolean;
  digits?: number;
  fixed?: number;
  /** A metric value: shown with `formatMetric`, the one format the sidebar, hovers and CLI use. */
  metric?: boolean;
}
type Row = Record<string, string | number | undefined>;

export function sortableTable(
  id: string,
  caption: string,
  cols: Col[],
  rows: Row[],
  sorts: SortMap,
  onSort: (id: string, s: SortState) => void,
): HTMLTableElement {
  const sort = sorts[id];
  if (sort) {
    const col = cols.find((c) => c.key === sort.key);
    if (col) {
      const k = sort.dir === 'asc' ? 1 : -1;
      rows = [...rows].sort((a, b) => {
        const x = a[sort.key],
          y = b[sort.key];
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * k;
      });
    }
  }
  const table = el('table', { class: 'report', 'data-table': id });
  table.append(el('caption', {}, caption));
  const tr = el('tr');
  for (const c of cols) {
    const active = sort?.key === c.key;
    const th = el('th', {
      scope: 'col',
      class: c.numeric ? 'num' : undefined,
      'aria-sort': active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none',
    });
    const b = el(
      'button',
      { type: 'button', class: 'sort', 'data-key': c.key, 'aria-label': `Sort by ${c.label}` },
      c.label,
      el('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''),
    );
    b.addEventListener('click', () => onSort(id, { key: c.key, dir: active && sort.dir === 'desc' ? 'asc' : active ? 'desc' : c.numeric ? 'desc' : 'asc' }));
    th.append(b);
    tr.append(th);
  }
  table.append(el('thead', {}, tr));
  const body = el('tbody');
  for (const r of rows) {
    const row = el('tr');
    cols.forEach((c, i) => {
      const v = r[c.key];
      const text =
        typeof v === 'number'
          ? c.metric
            ? formatMetric(v)
            : c.fixed !== undefined
              ? v.toFixed(c.fixed)
              : c.digits === 0
                ? String(v)
                : fmt(v, c.digits ?? 4)
          : (v ?? '—');
      row.append(shownEl(i === 0 ? 'th' : 'td', { class: c.numeric ? 'num' : undefined, scope: i === 0 ? 'row' : undefined }, text)); // class and run names are run strings
    });
    body.append(row);
  }
  table.append(body);
  return table;
}

const PRF_COLS: Col[] = [
  { key: 'label', label: 'Class' },
  { key: 'precision', label: 'Precision', numeric: true, metric: true },
  { key: 'recall', label: 'Recall', numeric: true, metric: true },
  { key: 'f1', label: 'F1', numeric: true, metric: true },
  { key: 'support', label: 'Support', numeric: true, digits: 0 },
];

function prfRows(rep: Record<string, PrfJson>): Row[] {
  return Object.entries(rep).map(([label, p]) => ({ label, precision: p.precision, recall: p.recall, f1: p.f1, support: p.support }));
}

/** What a task's confusion cells count: tokens (NER) or examples (classification). */
export function unitOf(run: RunData): 'token' | 'example' {
  return run.summary.task === 'sequence-classification' ? 'example' : 'token';
}

/** Which weights an evaluation measured: "step 190", or "best checkpoint, step 114" for the test
 *  split, which is evaluated on the best checkpoint after training ends. */
export function weightsOf(ev: EvalRecord): string {
  return ev.checkpointStep !== undefined ? `best checkpoint, step ${ev.checkpointStep}` : `step ${ev.step}`;
}

/** Headline metrics of one split: latest value, best value and the step it was reached at. */
function headline(run: RunData, split: 'validation' | 'test', sorts: SortMap, onSort: (id: string, s: SortState) => void): HTMLElement | null {
  const evals = run.evalsOf(split);
  if (!evals.length) return null;
  const latest = evals[evals.length - 1];
  const rows = metricsIn(latest.metrics).map((m) => {
    const b = bestOf(evals, m);
    return { metric: m, latest: latest.metrics[m], best: b?.value, step: b?.step, better: lowerIsBetter(m) ? 'lower' : 'higher' };
  });
  const caption =
    split === 'test'
      ? `Test metrics (${weightsOf(latest)})`
      : `Validation metrics (latest at step ${latest.step}; best over ${evals.length} evaluation${evals.length === 1 ? '' : 's'})`;
  return sortableTable(
    `headline-${split}`,
    caption,
    [
      { key: 'metric', label: 'Metric' },
      { key: 'latest', label: 'Latest', numeric: true, metric: true },
      { key: 'best', label: 'Best', numeric: true, metric: true },
      { key: 'step', label: 'Best step', numeric: true, digits: 0 },
      { key: 'better', label: 'Better' },
    ],
    rows,
    sorts,
    onSort,
  );
}

export function renderRunReports(run: RunData, split: 'validation' | 'test', sorts: SortMap, onSort: (id: string, s: SortState) => void): HTMLElement {
  const box = el('div', { class: 'reports' });
  const h1 = headline(run, 'validation', sorts, onSort),
    h2 = headline(run, 'test', sorts, onSort);
  if (h1) box.append(h1);
  if (h2) box.append(h2);
  const ev: EvalRecord | undefined = run.latestEval(split) ?? run.latestEval('validation');
  if (!ev) {
    box.append(el('p', { class: 'muted' }, 'No evaluation yet.'));
    return box;
  }
  const which = `${ev.split}, ${weightsOf(ev)}`;
  const perClass = unitOf(run) === 'token' ? 'Entity-level report' : 'Per-class report';
  if (ev.perClass) box.append(sortableTable('per-class', `${perClass} (${which})`, PRF_COLS, prfRows(ev.perClass), sorts, onSort));
  if (ev.tokenReport) box.append(sortableTable('token-report', `Token-level report (${which})`, PRF_COLS, prfRows(ev.tokenReport), sorts, onSort));
  return box;
}

/** Compare mode: one row per run with each metric's best value (and step). */
export function renderCompareTable(runs: RunData[], sorts: SortMap, onSort: (id: string, s: SortState) => void): HTMLElement {
  const metrics: MetricName[] = ['loss', ...metricNames(runs)];
  const rows = runs.map((r) => {
    const evals = r.evalsOf('validation');
    const row: Row = { run: displayName(r.summary), status: r.summary.status, step: r.summary.step };
    for (const m of metrics) {
      const b = bestOf(evals, m);
      row[m] = b?.value;
      row[`${m}@`] = b?.step;
    }
    return row;
  });
  const cols: Col[] = [
    { key: 'run', label: 'Run' },
    { key: 'status', label: 'Status' },
    { key: 'step', label: 'Step', numeric: true, digits: 0 },
  ];
  for (const m of metrics) cols.push({ key: m, label: `best ${m}`, numeric: true, metric: true }, { key: `${m}@`, label: 'at step', numeric: true, digits: 0 });
  return sortableTable('compare-metrics', 'Best validation metrics per run', cols, rows, sorts, onSort);
}
