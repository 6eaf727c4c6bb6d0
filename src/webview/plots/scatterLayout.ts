// Metric vs parameter scatter, the pure part (no DOM, tested on plain Node): x is a parameter axis
// (numeric, log, or categories spread by a jitter that is stable per run id), y a metric; runs
// without both values are counted, not drawn. The canvas drawing is scatter.ts.

import { buildScale, type Scale } from './scale';
import type { PlotAxis, PlotData } from './types';

export const SCATTER_MARGIN = { top: 16, bottom: 44, left: 64, right: 20 };
/** Numeric axes keep this fraction free at each end, so the extreme runs' dots are not cut by the frame. */
export const PAD = 0.04;
/** Category slots are this wide a fraction of the gap between categories, jittered within. */
export const JITTER = 0.5;

export interface ScatterLayout {
  width: number;
  height: number;
  x: Scale;
  y: Scale;
  left: number;
  right: number;
  top: number;
  bottom: number;
  /** Runs drawn (indexes into data.points) and their pixel coordinates. */
  index: number[];
  px: Float64Array;
  py: Float64Array;
  /** Colour axis position 0 … 1 of each drawn run (NaN: none). */
  color: Float64Array;
  /** Runs without an x or y value (not drawn). */
  missing: number;
}

/** A stable number in [-0.5, 0.5) from a run id (FNV-1a): the same run sits at the same jitter. */
export function jitterOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32 - 0.5;
}

export function layoutScatter(data: PlotData, xAxis: PlotAxis, yAxis: PlotAxis, width: number, height: number): ScatterLayout {
  const x = buildScale(xAxis, data.points),
    y = buildScale(yAxis, data.points);
  const left = SCATTER_MARGIN.left,
    right = Math.max(left + 20, width - SCATTER_MARGIN.right),
    top = SCATTER_MARGIN.top,
    bottom = Math.max(top + 20, height - SCATTER_MARGIN.bottom);
  const cats = x.categories?.length ?? 0;
  // Category axes: slots inset by half a slot so jittered points stay inside the plot.
  const inset = cats ? (right - left) / (cats * 2) : 0;
  const slot = cats > 1 ? (right - left - 2 * inset) / (cats - 1) : right - left - 2 * inset;
  const colorAxis = data.axes.find((a) => a.key === data.colorBy) ?? { key: data.colorBy, label: data.colorBy, kind: 'number' as const };
  const c = colorAxis.key === yAxis.key ? y : colorAxis.key === xAxis.key ? x : buildScale(colorAxis, data.points);
  const index: number[] = [],
    pxs: number[] = [],
    pys: number[] = [],
    cs: number[] = [];
  let missing = 0;
  data.points.forEach((p, i) => {
    const tx = x.pos(p.values[xAxis.key]),
      ty = y.pos(p.values[yAxis.key]);
    if (tx === null || ty === null) {
      missing++;
      return;
    }
    index.push(i);
    pxs.push(cats ? left + inset + tx * (cats > 1 ? (cats - 1) * slot : 0) + jitterOf(p.id) * slot * JITTER : left + padded(tx) * (right - left));
    pys.push(bottom - padded(ty) * (bottom - top));
    cs.push(c.pos(p.values[data.colorBy]) ?? NaN);
  });
  return {
    width,
    height,
    x,
    y,
    left,
    right,
    top,
    bottom,
    index,
    px: Float64Array.from(pxs),
    py: Float64Array.from(pys),
    color: Float64Array.from(cs),
    missing,
  };
}

/** A numeric position 0 … 1 inside the padded range. */
export const padded = (t: number): number => PAD + t * (1 - 2 * PAD);

/** y of a tick position 0 … 1 on the y scale. */
export function yTick(l: ScatterLayout, at: number): number {
  return l.bottom - padded(at) * (l.bottom - l.top);
}

/** x of a tick position 0 … 1 on the x scale (category ticks at their slot centres). */
export function xTick(l: ScatterLayout, at: number): number {
  const cats = l.x.categories?.length ?? 0;
  if (!cats) return l.left + padded(at) * (l.right - l.left);
  const inset = (l.right - l.left) / (cats * 2);
  return l.left + inset + at * (l.right - l.left - 2 * inset);
}

/** The drawn run (index into data.points) nearest (x, y) within `maxDist` pixels, or -1. */
export function nearestPoint(l: ScatterLayout, x: number, y: number, maxDist = 8): number {
  let best = -1,
    bestD = maxDist * maxDist;
  for (let k = 0; k < l.index.length; k++) {
    const d = (l.px[k] - x) ** 2 + (l.py[k] - y) ** 2;
    if (d <= bestD) [best, bestD] = [l.index[k], d];
  }
  return best;
}
