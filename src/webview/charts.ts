// The Curves tab: train loss (raw faint + debiased EMA), validation loss, validation metrics,
// learning rate, throughput; one series set per run in compare mode.

import { displayName } from '../shared/run/identity';
import type uPlot from 'uplot';
import { METRIC_NAMES, metricsIn, type MetricName } from '../shared/metrics';
import { Chart, type ChartSpec, type ExportFn, type SeriesSpec } from './chart';
import { shown } from './dom';
import { Envelope, RAW_LIMIT, windowed } from './lod';
import type { RunData } from './store';
import type { Theme } from './theme';

export interface CurveOptions {
  smoothing: number;
  logScale: boolean;
  compareMetric: MetricName;
}

type Series = { x: ArrayLike<number>; ys: ArrayLike<number>[] };

/** Align several (x, ys) tables on the union of their sorted x values; gaps are null. */
export function joinSeries(tables: Series[]): uPlot.AlignedData {
  if (tables.length === 1 && tables[0].x instanceof Float64Array) return [tables[0].x, ...(tables[0].ys as Float64Array[])];
  const xs: number[] = [];
  const idx = tables.map(() => 0);
  for (;;) {
    let next = Infinity;
    for (let t = 0; t < tables.length; t++) if (idx[t] < tables[t].x.length) next = Math.min(next, tables[t].x[idx[t]]);
    if (next === Infinity) break;
    xs.push(next);
    for (let t = 0; t < tables.length; t++) while (idx[t] < tables[t].x.length && tables[t].x[idx[t]] === next) idx[t]++;
  }
  const out: (number | null)[][] = [];
  for (const t of tables) {
    const cols = t.ys.map(() => new Array<number | null>(xs.length).fill(null));
    let j = 0;
    for (let i = 0; i < t.x.length; i++) {
      while (xs[j] < t.x[i]) j++;
      for (let c = 0; c < t.ys.length; c++) {
        const v = t.ys[c][i];
        cols[c][j] = Number.isFinite(v) ? v : null;
      }
    }
    out.push(...cols);
  }
  return [xs, ...out];
}

/** The validation metrics other than loss that any of the runs reports, in the metric table's order. */
export function metricNames(runs: RunData[]): MetricName[] {
  const names = new Set<MetricName>();
  for (const r of runs) for (const e of r.evals) for (const k of metricsIn(e.metrics)) if (k !== 'loss') names.add(k);
  return METRIC_NAMES.filter((m) => names.has(m));
}

export class CurvesView {
  readonly root: HTMLElement;
  private charts = new Map<string, Chart>();
  private specKey = new Map<string, string>();

  constructor(
    private runs: () => RunData[],
    private colorOf: (r: RunData) => string,
    private opts: () => CurveOptions,
    private theme: Theme,
    private onExport: ExportFn,
  ) {
    this.root = document.createElement('div');
    this.root.className = 'charts';
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    for (const [key, c] of this.charts) c.rebuild(this.spec(key)!, theme);
  }

  chart(key: string): Chart | undefined {
    return this.charts.get(key);
  }

  /** Data changed (or options): rebuild charts whose series changed, redraw the rest next frame. */
  update(): void {
    for (const key of ['loss', 'val-loss', 'val-metrics', 'lr', 'throughput']) {
      const spec = this.spec(key);
      let c = this.charts.get(key);
      if (!spec) {
        c?.destroy();
        this.charts.delete(key);
        this.specKey.delete(key);
        continue;
      }
      const sig = JSON.stringify([spec.title, spec.log, spec.series]);
      if (!c) {
        c = new Chart(spec, this.theme, this.onExport, 'finetune');
        this.charts.set(key, c);
        this.specKey.set(key, sig);
        this.root.append(c.root);
        continue;
      }
      if (this.specKey.get(key) !== sig) {
        this.specKey.set(key, sig);
        c.rebuild(spec, this.theme);
      } else c.update();
    }
    // keep DOM order stable
    for (const key of ['loss', 'val-loss', 'val-metrics', 'lr', 'throughput']) {
      const c = this.charts.get(key);
      if (c) this.root.append(c.root);
    }
  }

  /** Rebuild charts that were built while hidden (zero width). */
  shown(): void {
    for (const c of this.charts.values()) c.update();
  }

  private spec(key: string): ChartSpec | undefined {
    const runs = this.runs();
    const o = this.opts();
    const multi = runs.length > 1;
    const name = (r: RunData, what: string) => (multi ? `${shown(displayName(r.summary))} ${what}` : what);
    switch (key) {
      case 'loss': {
        if (!runs.some((r) => r.length)) return undefined;
        const series: SeriesSpec[] = runs.flatMap((r) => [
          { label: name(r, 'raw'), color: this.colorOf(r), faint: true },
          { label: name(r, o.smoothing > 0 ? `smoothed (${o.smoothing})` : 'loss'), color: this.colorOf(r) },
        ]);
        return {
          key,
          title: 'Train loss',
          yLabel: 'loss',
          log: o.logScale,
          series,
          data: (range) =>
            joinSeries(
              this.runs().map((r) => {
                const w = this.opts().smoothing;
                return trainTable(r, 'loss', [r.cols.loss.a, r.smoothedLoss(w)], w, range);
              }),
            ),
          extent: () => trainExtent(this.runs()),
          count: () => Math.max(0, ...this.runs().map((r) => r.length)),
        };
      }
      case 'val-loss': {
        const have = runs.filter((r) => r.evalsOf('validation').some((e) => e.metrics.loss !== undefined));
        if (!have.length) return undefined;
        return {
          key,
          title: 'Validation loss',
          yLabel: 'loss',
          log: o.logScale,
          series: have.map((r) => ({ label: multi ? shown(displayName(r.summary)) : 'validation loss', color: this.colorOf(r), points: true })),
          data: () => joinSeries(have.map((r) => evalSeries(r, ['loss']))),
          extent: () => dataExtent(joinSeries(have.map((r) => evalSeries(r, ['loss'])))),
        };
      }
      case 'val-metrics': {
        if (!multi) {
          const r = runs[0];
          const names = r ? metricNames([r]) : [];
          if (!names.length) return undefined;
          return {
            key,
            title: 'Validation metrics',
            yLabel: 'score',
            series: names.map((m, i) => ({ label: m, color: this.theme.palette[i % this.theme.palette.length], points: true })),
            data: () => joinSeries([evalSeries(r, names)]),
            extent: () => dataExtent(joinSeries([evalSeries(r, names)])),
          };
        }
        const m = o.compareMetric;
        const have = runs.filter((r) => r.evalsOf('validation').some((e) => e.metrics[m] !== undefined));
        if (!have.length) return undefined;
        return {
          key,
          title: `Validation ${m}`,
          yLabel: m,
          series: have.map((r) => ({ label: shown(displayName(r.summary)), color: this.colorOf(r), points: true })),
          data: () => joinSeries(have.map((r) => evalSeries(r, [m]))),
          extent: () => dataExtent(joinSeries(have.map((r) => evalSeries(r, [m])))),
        };
      }
      case 'lr':
      case 'throughput': {
        if (!runs.some((r) => r.length)) return undefined;
        const col = key === 'lr' ? 'lr' : 'samplesPerSec';
        return {
          key,
          title: key === 'lr' ? 'Learning rate' : 'Throughput',
          yLabel: key === 'lr' ? 'lr' : 'samples/s',
          series: runs.map((r) => ({ label: multi ? shown(displayName(r.summary)) : key === 'lr' ? 'learning rate' : 'samples/s', color: this.colorOf(r) })),
          data: (range) => joinSeries(this.runs().map((r) => trainTable(r, key, [r.cols[col].a], 0, range))),
          extent: () => trainExtent(this.runs()),
          count: () => Math.max(0, ...this.runs().map((r) => r.length)),
        };
      }
    }
    return undefined;
  }
}

const envelopes = new WeakMap<RunData, Map<string, Envelope>>();

/** A run's train columns for a chart: raw when short, an incremental envelope when long, full
 *  detail inside a zoom window. */
function trainTable(r: RunData, key: string, cols: Float64Array[], stamp: unknown, range?: [number, number]): Series {
  const n = r.length,
    x = r.cols.step.a;
  if (range) {
    const [xx, ...ys] = windowed(x, cols, n, range[0], range[1]);
    return { x: xx, ys };
  }
  if (n <= RAW_LIMIT) return { x: x.subarray(0, n), ys: cols.map((c) => c.subarray(0, n)) };
  let m = envelopes.get(r);
  if (!m) envelopes.set(r, (m = new Map<string, Envelope>()));
  let e = m.get(key);
  if (!e) m.set(key, (e = new Envelope()));
  const [xx, ...ys] = e.update(x, cols, n, stamp);
  return { x: xx, ys };
}

function trainExtent(runs: RunData[]): [number, number] | null {
  const have = runs.filter((r) => r.length);
  if (!have.length) return null;
  return [Math.min(...have.map((r) => r.cols.step.a[0])), Math.max(...have.map((r) => r.cols.step.last))];
}

function dataExtent(d: uPlot.AlignedData): [number, number] | null {
  const xs = d[0];
  return xs.length ? [xs[0], xs[xs.length - 1]] : null;
}

function evalSeries(r: RunData, metrics: MetricName[]): Series {
  const es = r.evalsOf('validation');
  return { x: es.map((e) => e.step), ys: metrics.map((m) => es.map((e) => e.metrics[m] ?? NaN)) };
}
