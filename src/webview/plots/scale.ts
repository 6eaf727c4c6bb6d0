// Scales of the cross-run plots, pure (no DOM, tested on plain Node): a value on an axis → a
// position from 0 (bottom) to 1 (top), or null when the run has no value there (drawn at the "—"
// slot below the axis). Numeric axes get nice linear ticks, log axes decade ticks, category axes
// one evenly spaced slot per distinct value.

import type { PlotAxis, PlotPoint } from './types';

export type PlotValue = PlotPoint['values'][string] | undefined;

export interface Tick {
  /** 0 (bottom) … 1 (top). */
  at: number;
  label: string;
}

export interface Scale {
  axis: PlotAxis;
  /** The run's value as a position 0 … 1, or null: missing (or ≤ 0 on a log axis). */
  pos(v: PlotValue): number | null;
  /** The inverse for numeric and log axes (value at a position); category axes return the nearest category. */
  valueAt(t: number): number | string;
  ticks: Tick[];
  /** Category axes: the categories bottom to top. */
  categories?: string[];
  /** Numeric and log axes: the data's extent. */
  domain?: [number, number];
}

/** A number short enough for a tick or tooltip: 3e-4, 0.0123, 12.5, 1.2e+6. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return Number(v.toPrecision(3)).toExponential();
  return String(Number(v.toPrecision(4)));
}

/** A value as shown in a tooltip or category label; null and undefined are "—". */
export function formatValue(v: PlotValue): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

const finite = (v: PlotValue): v is number => typeof v === 'number' && Number.isFinite(v);

/** Round steps of 1, 2 or 5 × 10^k covering [min, max] with about `count` intervals. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Powers of ten within [min, max] (min > 0); when fewer than three fall inside, also 2× and 5×. */
export function decadeTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min) + 1e-9),
    hi = Math.ceil(Math.log10(max) - 1e-9);
  const within = (mults: number[]) => {
    const out: number[] = [];
    for (let e = lo; e <= hi; e++)
      for (const m of mults) {
        const v = Number((m * Math.pow(10, e)).toPrecision(12));
        if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
      }
    return out;
  };
  const decades = within([1]);
  const out = decades.length >= 3 ? decades : within([1, 2, 5]);
  return out.length ? out : [min];
}

/** Category order: numbers numerically, then strings alphabetically (booleans as "false" < "true"). */
export function categoriesOf(values: PlotValue[]): string[] {
  const nums = new Map<string, number>();
  const strs = new Set<string>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) nums.set(formatValue(v), v);
    } else strs.add(String(v));
  }
  const n = [...nums.entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k);
  return [...n, ...[...strs].filter((s) => !nums.has(s)).sort()];
}

export function buildScale(axis: PlotAxis, points: readonly PlotPoint[]): Scale {
  const values = points.map((p) => p.values[axis.key]);
  if (axis.kind === 'category') return categoryScale(axis, values);
  const nums = values.filter(finite).filter((v) => axis.kind !== 'log' || v > 0);
  if (!nums.length) return categoryScale(axis, []); // nothing to place: every run is in the "—" slot
  let min = Infinity,
    max = -Infinity;
  for (const v of nums) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return axis.kind === 'log' ? logScale(axis, min, max) : linearScale(axis, min, max);
}

function linearScale(axis: PlotAxis, min: number, max: number): Scale {
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    [min, max] = [min - pad, max + pad];
  }
  const span = max - min;
  return {
    axis,
    domain: [min, max],
    pos: (v) => (finite(v) ? (v - min) / span : null),
    valueAt: (t) => min + t * span,
    ticks: niceTicks(min, max, 5).map((v) => ({ at: (v - min) / span, label: formatNumber(v) })),
  };
}

function logScale(axis: PlotAxis, min: number, max: number): Scale {
  if (min === max) [min, max] = [min / 2, max * 2];
  const l0 = Math.log10(min),
    span = Math.log10(max) - l0;
  return {
    axis,
    domain: [min, max],
    pos: (v) => (finite(v) && v > 0 ? (Math.log10(v) - l0) / span : null),
    valueAt: (t) => Math.pow(10, l0 + t * span),
    ticks: decadeTicks(min, max).map((v) => ({ at: (Math.log10(v) - l0) / span, label: formatNumber(v) })),
  };
}

function categoryScale(axis: PlotAxis, values: PlotValue[]): Scale {
  const cats = categoriesOf(values);
  const index = new Map(cats.map((c, i) => [c, i]));
  // One category sits in the middle; more are spread from 0 to 1.
  const at = (i: number) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
  return {
    axis,
    categories: cats,
    pos: (v) => {
      if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return null;
      const i = index.get(formatValue(v));
      return i === undefined ? null : at(i);
    },
    valueAt: (t) => cats[Math.max(0, Math.min(cats.length - 1, Math.round(t * (cats.length - 1))))] ?? '',
    ticks: cats.map((c, i) => ({ at: at(i), label: c })),
  };
}
