// The experiments table's columns: fixed ones (pin, status, label, started, duration, step), then
// one per parameter (dotted config key) and one per metric (best_…, test_…). Which are shown: the
// user's choice when made, else parameters whose values differ between runs and every metric.

import { parseFinalKey } from '../../shared/metrics';
import type { TableRow } from '../../shared/protocol';
import { fmt, fmtDuration } from '../dom';

export type CellValue = string | number | boolean | null | undefined;

export interface Column {
  key: string;
  title: string;
  kind: 'fixed' | 'param' | 'metric';
  /** Width in pixels. */
  width: number;
  numeric: boolean;
  /** The value sorted, filtered and exported. */
  value(r: TableRow, now: number): CellValue;
  /** The text drawn. */
  text(r: TableRow, now: number): string;
}

const STATUS_ORDER: Record<string, number> = { running: 0, queued: 1, completed: 2, stopped: 3, pruned: 4, failed: 5 };

function durationOf(r: TableRow, now: number): number | undefined {
  if (!r.startedAt) return undefined;
  const start = Date.parse(r.startedAt);
  const end = r.endedAt ? Date.parse(r.endedAt) : r.status === 'running' ? now : NaN;
  const s = (end - start) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}

/** `2026-11-30 17:52` in local time: short, sortable by eye. */
function startedText(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export const FIXED_COLUMNS: Column[] = [
  { key: 'pinned', title: '★', kind: 'fixed', width: 28, numeric: false, value: (r) => r.pinned === true, text: (r) => (r.pinned ? '★' : '☆') },
  {
    key: 'status',
    title: 'status',
    kind: 'fixed',
    width: 104,
    numeric: false,
    value: (r) => r.status,
    text: (r) => r.status,
  },
  { key: 'label', title: 'run', kind: 'fixed', width: 220, numeric: false, value: (r) => r.label, text: (r) => r.label },
  { key: 'started', title: 'started', kind: 'fixed', width: 150, numeric: false, value: (r) => r.startedAt ?? null, text: (r) => startedText(r.startedAt) },
  {
    key: 'duration',
    title: 'duration',
    kind: 'fixed',
    width: 84,
    numeric: true,
    value: (r, now) => durationOf(r, now),
    text: (r, now) => fmtDuration(durationOf(r, now)),
  },
  {
    key: 'step',
    title: 'step',
    kind: 'fixed',
    width: 96,
    numeric: true,
    value: (r) => r.step,
    text: (r) => (r.totalSteps ? `${r.step}/${r.totalSteps}` : String(r.step)),
  },
];

/** Status sorts by state (running first), not alphabetically. */
export const statusRank = (s: string) => STATUS_ORDER[s] ?? 9;

/** A parameter as a config would write it: small numbers as `3e-5`, not `3.00e-5`. */
export function paramText(v: CellValue): string {
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (v !== 0 && Number.isFinite(v) && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return Number(v.toPrecision(4)).toExponential();
    return Number.isInteger(v) ? String(v) : fmt(v, 6);
  }
  return String(v);
}

/** A parameter's column; `numeric`: every value is a number (right-aligned). */
export function paramColumn(key: string, numeric = false): Column {
  return {
    key,
    title: key,
    kind: 'param',
    width: Math.min(170, Math.max(72, key.length * 7.5 + 24)),
    numeric,
    value: (r) => r.params[key],
    text: (r) => paramText(r.params[key]),
  };
}

export function metricColumn(key: string): Column {
  return {
    key,
    title: key,
    kind: 'metric',
    width: Math.max(80, key.length * 7 + 24),
    numeric: true,
    value: (r) => r.metrics[key],
    text: (r) => (r.metrics[key] === undefined ? '' : fmt(r.metrics[key])),
  };
}

/** Metric keys in a stable order: by metric name, best_ before test_. */
function metricOrder(a: string, b: string): number {
  const pa = parseFinalKey(a);
  const pb = parseFinalKey(b);
  const na = pa?.metric ?? a;
  const nb = pb?.metric ?? b;
  if (na !== nb) return na < nb ? -1 : 1;
  return (pa?.source ?? '') < (pb?.source ?? '') ? -1 : (pa?.source ?? '') > (pb?.source ?? '') ? 1 : 0;
}

export interface ColumnSet {
  all: Column[];
  /** Parameter keys whose values differ between the runs (shown by default). */
  differing: Set<string>;
}

/**
 * Every column the rows have, and which parameters differ between them: a parameter whose value
 * differs, or that some runs lack, among the runs of one config (the table's groups), or one that
 * every run has with different values. A key only another config has (a LoRA rank where the other
 * config trains fully) is not a difference: the group headers say which config a run is of.
 */
export function buildColumns(rows: Iterable<TableRow>): ColumnSet {
  // per config and over all rows: each parameter's first value, how many rows have it, whether another value was seen
  interface Seen {
    n: number;
    first: Map<string, CellValue>;
    count: Map<string, number>;
    varied: Set<string>;
  }
  const fresh = (): Seen => ({ n: 0, first: new Map(), count: new Map(), varied: new Set() });
  const see = (s: Seen, params: TableRow['params']) => {
    s.n++;
    for (const k in params) {
      const v = params[k];
      const c = s.count.get(k);
      if (c === undefined) {
        s.first.set(k, v);
        s.count.set(k, 1);
      } else {
        s.count.set(k, c + 1);
        if (s.first.get(k) !== v && !(Number.isNaN(v) && Number.isNaN(s.first.get(k)))) s.varied.add(k);
      }
    }
  };
  const all = fresh();
  const groups = new Map<string, Seen>();
  const text = new Set<string>();
  const metrics = new Set<string>();
  for (const r of rows) {
    see(all, r.params);
    let g = groups.get(r.config);
    if (!g) groups.set(r.config, (g = fresh()));
    see(g, r.params);
    for (const k in r.params) if (typeof r.params[k] !== 'number' && r.params[k] !== null) text.add(k);
    for (const k in r.metrics) metrics.add(k);
  }
  const differing = new Set<string>();
  for (const g of groups.values()) {
    for (const k of g.varied) differing.add(k);
    for (const [k, c] of g.count) if (c < g.n) differing.add(k); // some runs of the config do not have it
  }
  for (const k of all.varied) if (all.count.get(k) === all.n) differing.add(k);
  const params = [...all.first.keys()].sort();
  return {
    all: [...FIXED_COLUMNS, ...params.map((k) => paramColumn(k, !text.has(k))), ...[...metrics].sort(metricOrder).map(metricColumn)],
    differing,
  };
}

/** Whether a column is shown: the user's choice, else fixed and metric columns and differing parameters. */
export function isShown(c: Column, set: ColumnSet, chosen: Record<string, boolean>): boolean {
  if (c.key === 'label') return true;
  if (c.key in chosen) return chosen[c.key];
  return c.kind !== 'param' || set.differing.has(c.key);
}

export function shownColumns(set: ColumnSet, chosen: Record<string, boolean>): Column[] {
  return set.all.filter((c) => isShown(c, set, chosen));
}
