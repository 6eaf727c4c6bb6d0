// Parallel coordinates, the pure part (no DOM, tested on plain Node): where each axis stands, where
// each run's polyline crosses it, which line is nearest the pointer, which runs a set of brushes
// keeps, and axis reordering. The canvas drawing is parallel.ts.

import { buildScale, type PlotValue, type Scale } from './scale';
import type { PlotData } from './types';

export const MARGIN = { top: 40, bottom: 44, left: 64, right: 64 };
/** How far below an axis's bottom the "—" slot (runs without a value) sits. */
export const MISSING_GAP = 22;

export interface ParallelLayout {
  width: number;
  height: number;
  scales: Scale[];
  /** x of each axis, in order. */
  xs: number[];
  top: number;
  bottom: number;
  missingY: number;
  /** Positions 0 … 1 of run i on axis j at [i * axes + j]; NaN: missing. */
  pos: Float64Array;
  /** The colour axis position 0 … 1 of each run; NaN: no value. */
  color: Float64Array;
  /** Index of the colour axis in `scales`, -1 when it is not shown. */
  colorAxis: number;
}

/** Lays out `data` in a width × height box (CSS pixels). */
export function layoutParallel(data: PlotData, width: number, height: number): ParallelLayout {
  const scales = data.axes.map((a) => buildScale(a, data.points));
  const m = scales.length,
    n = data.points.length;
  const top = MARGIN.top,
    bottom = Math.max(top + 20, height - MARGIN.bottom);
  const xs = scales.map((_, j) => (m === 1 ? width / 2 : MARGIN.left + ((width - MARGIN.left - MARGIN.right) * j) / (m - 1)));
  const pos = new Float64Array(n * m);
  data.points.forEach((p, i) => scales.forEach((s, j) => (pos[i * m + j] = s.pos(p.values[s.axis.key]) ?? NaN)));
  const colorAxis = data.axes.findIndex((a) => a.key === data.colorBy);
  const colorScale = colorAxis >= 0 ? scales[colorAxis] : buildScale({ key: data.colorBy, label: data.colorBy, kind: 'number' }, data.points);
  const color = new Float64Array(n);
  data.points.forEach((p, i) => (color[i] = colorScale.pos(p.values[data.colorBy]) ?? NaN));
  return { width, height, scales, xs, top, bottom, missingY: bottom + MISSING_GAP, pos, color, colorAxis };
}

/** y of a position 0 … 1 (NaN: the "—" slot). */
export function yOf(l: ParallelLayout, t: number): number {
  return Number.isNaN(t) ? l.missingY : l.bottom - t * (l.bottom - l.top);
}

/** The position 0 … 1 of a y inside the axis (clamped). */
export function tOf(l: ParallelLayout, y: number): number {
  return Math.max(0, Math.min(1, (l.bottom - y) / (l.bottom - l.top)));
}

/** Run i's polyline: one [x, y] per axis. */
export function lineOf(l: ParallelLayout, i: number): [number, number][] {
  const m = l.scales.length;
  return l.xs.map((x, j) => [x, yOf(l, l.pos[i * m + j])]);
}

/** Brushes: axis key → [lo, hi] positions 0 … 1 (lo ≤ hi). */
export type Brushes = Map<string, [number, number]>;

/** Whether run i passes every brush (a run without a value on a brushed axis does not). */
export function passes(l: ParallelLayout, brushes: Brushes, i: number): boolean {
  const m = l.scales.length;
  for (let j = 0; j < m; j++) {
    const b = brushes.get(l.scales[j].axis.key);
    if (!b) continue;
    const t = l.pos[i * m + j];
    if (Number.isNaN(t) || t < b[0] - 1e-9 || t > b[1] + 1e-9) return false;
  }
  return true;
}

/** Indexes of the runs that pass every brush. */
export function brushed(l: ParallelLayout, brushes: Brushes): number[] {
  const n = l.color.length,
    out: number[] = [];
  for (let i = 0; i < n; i++) if (passes(l, brushes, i)) out.push(i);
  return out;
}

/** The axis whose line is within `slop` pixels of x, or -1. */
export function axisAt(l: ParallelLayout, x: number, slop = 14): number {
  let best = -1,
    bestD = slop;
  l.xs.forEach((ax, j) => {
    const d = Math.abs(ax - x);
    if (d <= bestD) [best, bestD] = [j, d];
  });
  return best;
}

/**
 * The run whose polyline passes nearest (vertically) to (x, y), within `maxDist` pixels, among
 * the runs `candidates` (all when omitted); -1 when none is that close.
 */
export function nearestLine(l: ParallelLayout, x: number, y: number, maxDist = 8, candidates?: readonly number[]): number {
  const m = l.scales.length;
  if (!m) return -1;
  // The segment between the two axes around x (or the end axis outside them).
  let j = 0;
  while (j < m - 2 && x > l.xs[j + 1]) j++;
  const x0 = l.xs[j],
    x1 = m > 1 ? l.xs[j + 1] : x0;
  const f = x1 > x0 ? Math.max(0, Math.min(1, (x - x0) / (x1 - x0))) : 0;
  let best = -1,
    bestD = maxDist;
  const consider = (i: number) => {
    const y0 = yOf(l, l.pos[i * m + j]),
      y1 = m > 1 ? yOf(l, l.pos[i * m + j + 1]) : y0;
    const d = Math.abs(y0 + (y1 - y0) * f - y);
    if (d <= bestD) [best, bestD] = [i, d];
  };
  if (candidates) for (const i of candidates) consider(i);
  else for (let i = 0; i < l.color.length; i++) consider(i);
  return best;
}

/** Moves the axis at `from` to `to` (an index in the new order). */
export function moveAxis<T>(order: readonly T[], from: number, to: number): T[] {
  const out = [...order];
  const [a] = out.splice(from, 1);
  out.splice(Math.max(0, Math.min(out.length, to)), 0, a);
  return out;
}

/** Where an axis dragged to x lands: the index among the other axes. */
export function dropIndex(l: ParallelLayout, from: number, x: number): number {
  const others = l.xs.filter((_, j) => j !== from);
  return others.filter((ax) => ax < x).length;
}

/** A run's values as tooltip lines: "label: value", axis by axis. */
export function tooltipLines(data: PlotData, i: number, format: (v: PlotValue) => string): string[] {
  const p = data.points[i];
  return [p.label, ...data.axes.map((a) => `${a.label}: ${format(p.values[a.key])}`)];
}
