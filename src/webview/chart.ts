// One uPlot line chart: built from a spec (series, colours, log scale), fed by a data function
// that returns aligned columns (typed-array views, no copies), redrawn at most once per animation
// frame with setData. Exports itself as PNG (canvas) and SVG (built from the data).

import uPlot from 'uplot';
import { el } from './dom';
import { withAlpha, type Theme } from './theme';

export interface SeriesSpec {
  label: string;
  color: string;
  /** The raw line drawn faint behind its smoothed version. */
  faint?: boolean;
  points?: boolean;
}

export interface ChartSpec {
  key: string;
  title: string;
  yLabel: string;
  log?: boolean;
  series: SeriesSpec[];
  /** All data (decimated when long), or the data inside an x range (full detail when zoomed in). */
  data: (range?: [number, number]) => uPlot.AlignedData;
  /** x extent of all data. */
  extent: () => [number, number] | null;
  /** Raw points behind the chart (for `data-points`; decimation does not change it). */
  count?: () => number;
}

export type ExportFn = (format: 'png' | 'svg', name: string, data: string, base64: boolean) => void;

// -- one requestAnimationFrame for all charts ---------------------------------------------------
const dirty = new Set<Chart>();
let frame = 0;
function schedule(c: Chart): void {
  dirty.add(c);
  if (!frame) frame = requestAnimationFrame(flushCharts);
}

/** Redraw every chart with new data now (called from an animation-frame callback). */
export function flushCharts(): void {
  if (frame) cancelAnimationFrame(frame);
  frame = 0;
  const cs = [...dirty];
  dirty.clear();
  for (const ch of cs) ch.redrawNow();
}

const HEIGHT = 220;

export class Chart {
  readonly root: HTMLElement;
  private readonly plot: HTMLElement;
  private u: uPlot | null = null;
  private spec: ChartSpec;
  private theme: Theme;
  private zoom: [number, number] | null = null;
  private resizeObs: ResizeObserver;
  points = 0;

  constructor(
    spec: ChartSpec,
    theme: Theme,
    private readonly onExport: ExportFn,
    private readonly syncKey: string,
  ) {
    this.spec = spec;
    this.theme = theme;
    this.plot = el('div', { class: 'plot' });
    const title = el('h3', { id: `chart-title-${spec.key}` }, spec.title);
    const btn = (label: string, aria: string, fn: () => void) => {
      const b = el('vscode-button', { appearance: 'icon', 'aria-label': aria, title: aria, class: 'chart-btn' }, label);
      b.addEventListener('click', fn);
      return b;
    };
    const tools = el(
      'div',
      { class: 'chart-tools' },
      btn('⤢', `Reset zoom of ${spec.title}`, () => this.resetZoom()),
      btn('PNG', `Export ${spec.title} as PNG`, () => this.onExport('png', `${spec.key}.png`, this.toPNG(), true)),
      btn('SVG', `Export ${spec.title} as SVG`, () => this.onExport('svg', `${spec.key}.svg`, this.toSVG(), false)),
    );
    this.root = el(
      'section',
      { class: 'chart', 'data-chart': spec.key, 'aria-labelledby': `chart-title-${spec.key}` },
      el('div', { class: 'chart-head' }, title, tools),
      this.plot,
    );
    this.resizeObs = new ResizeObserver(() => {
      const w = this.width();
      if (this.u && w > 0 && Math.abs(w - this.u.width) > 1) this.u.setSize({ width: w, height: HEIGHT });
      else if (!this.u && w > 0) this.build();
    });
    this.resizeObs.observe(this.plot);
  }

  private width(): number {
    return Math.floor(this.plot.clientWidth);
  }

  /** Replace the spec (series, log scale) or theme: rebuilds the uPlot instance. */
  rebuild(spec: ChartSpec, theme: Theme): void {
    this.spec = spec;
    this.theme = theme;
    this.build();
  }

  private build(): void {
    const w = this.width();
    if (w <= 0) {
      this.u?.destroy();
      this.u = null;
      return;
    } // hidden tab: built when shown
    this.u?.destroy();
    const t = this.theme,
      s = this.spec;
    const font = `11px ${t.font}`;
    const axis = (label?: string, log = false): uPlot.Axis => ({
      stroke: t.foreground,
      font,
      labelFont: font,
      label,
      labelSize: label ? 16 : 0,
      grid: { stroke: t.grid, width: 1 },
      ticks: { stroke: t.grid, width: 1 },
      values: (_u, splits) => (log ? splits.map(logTick) : tickLabels(splits)),
    });
    const opts: uPlot.Options = {
      width: w,
      height: HEIGHT,
      pxAlign: false,
      cursor: { sync: { key: this.syncKey }, drag: { x: true, y: false, setScale: true } },
      legend: { live: true },
      scales: { x: { time: false }, y: s.log ? { distr: 3, log: 10 } : { auto: true } },
      axes: [axis('step'), { ...axis(s.yLabel, !!s.log), size: 60 }],
      series: [
        { label: 'step', value: (_u, v) => (v === null || v === undefined ? '—' : String(v)) },
        ...s.series.map((ss): uPlot.Series => ({
          label: ss.label,
          stroke: ss.faint ? withAlpha(ss.color, t.kind === 'high-contrast' ? 0.45 : 0.28) : ss.color,
          width: ss.faint ? 1 : 2,
          points: { show: !!ss.points, size: 5, fill: ss.color, stroke: ss.color },
          spanGaps: true,
          value: (_u, v) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : formatVal(v)),
        })),
      ],
    };
    opts.hooks = {
      setScale: [
        (u: uPlot, key: string) => {
          if (key === 'x') this.onScale(u);
        },
      ],
    };
    const data = this.zoom ? s.data(this.zoom) : s.data();
    this.u = new uPlot(opts, data, this.plot);
    if (this.zoom) this.u.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    // uPlot's double-click resets to the data it has (a zoomed slice): reset to everything instead.
    this.u.over.addEventListener('dblclick', () => this.resetZoom());
    this.note();
  }

  /** Zoomed when the x scale is narrower than all data; a zoomed chart gets full-detail data. */
  private onScale(u: uPlot): void {
    const ext = this.spec.extent();
    const min = u.scales.x.min,
      max = u.scales.x.max;
    if (!ext || min === undefined || max === undefined || min === null || max === null) return;
    const eps = (ext[1] - ext[0]) * 1e-9 + 1e-12;
    if (min > ext[0] + eps || max < ext[1] - eps) {
      if (!this.zoom || this.zoom[0] !== min || this.zoom[1] !== max) {
        this.zoom = [min, max];
        this.update();
      }
    } else {
      this.zoom = null;
    }
  }

  /** New data arrived: redraw on the next animation frame (coalesced). */
  update(): void {
    schedule(this);
  }

  redrawNow(): void {
    if (!this.u) {
      this.build();
      return;
    }
    // Keep the user's zoom when live points arrive; follow the data otherwise.
    const z = this.zoom;
    if (z) {
      this.u.setData(this.spec.data(z), false);
      this.u.setScale('x', { min: z[0], max: z[1] }); // y fits the detailed data in the window
    } else {
      this.u.setData(this.spec.data(), true);
    }
    this.note();
  }

  /** `data-points`: how many points the chart's data covers (its extent in steps for train charts). */
  private note(): void {
    const n = this.spec.count?.() ?? (this.u ? this.u.data[0].length : 0);
    this.points = n;
    this.root.dataset.points = String(n);
  }

  resetZoom(): void {
    this.zoom = null;
    if (this.u) this.u.setData(this.spec.data(), true);
  }

  destroy(): void {
    this.resizeObs.disconnect();
    dirty.delete(this);
    this.u?.destroy();
    this.u = null;
    this.root.remove();
  }

  get canvas(): HTMLCanvasElement | null {
    return this.u ? this.u.ctx.canvas : null;
  }

  /** PNG (base64, no data: prefix): title, the plot canvas and a legend on the theme background. */
  toPNG(): string {
    const u = this.u;
    if (!u) return '';
    const src = u.ctx.canvas;
    const dpr = src.width / u.width;
    const series = this.spec.series;
    const legendH = 18 * Math.ceil(series.length / 3);
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height + Math.round((28 + legendH) * dpr);
    const ctx = c.getContext('2d')!;
    ctx.scale(dpr, dpr);
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, u.width, c.height / dpr);
    ctx.fillStyle = this.theme.foreground;
    ctx.font = `bold 13px ${this.theme.font}`;
    ctx.fillText(this.spec.title, 8, 18);
    ctx.drawImage(src, 0, 24, u.width, u.height);
    ctx.font = `11px ${this.theme.font}`;
    series.forEach((ss, i) => {
      const x = 8 + (i % 3) * Math.floor(u.width / 3),
        y = 24 + u.height + 14 + 18 * Math.floor(i / 3);
      ctx.fillStyle = ss.color;
      ctx.fillRect(x, y - 8, 12, 3);
      ctx.fillStyle = this.theme.foreground;
      ctx.fillText(ss.label, x + 16, y);
    });
    return c.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
  }

  /** SVG built from the data in the current zoom window (min/max per pixel column). */
  toSVG(): string {
    return buildSvg(
      this.spec,
      this.zoom ? this.spec.data(this.zoom) : this.spec.data(),
      this.theme,
      this.u?.width ?? 800,
      HEIGHT,
      this.u?.scales.x.min,
      this.u?.scales.x.max,
    );
  }
}

/** Tick labels with enough digits to tell neighbours apart (1e-3 steps do not all print as 0.001). */
const logTick = (v: number | null) => (typeof v !== 'number' ? '' : v >= 1e-2 && v < 1e4 ? String(Number(v.toPrecision(2))) : v.toExponential(0));

export function tickLabels(all: (number | null)[]): string[] {
  const splits = all.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const max = Math.max(0, ...splits.map((v) => Math.abs(v)));
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
  const digits = Math.max(0, Math.min(8, -Math.floor(Math.log10(step || 1))));
  const label = (v: number) => (Number.isInteger(step) && Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : v.toFixed(digits));
  if (max !== 0 && (max < 1e-2 || max >= 1e6)) return all.map((v) => (typeof v !== 'number' ? '' : v === 0 ? '0' : v.toExponential(1)));
  return all.map((v) => (typeof v !== 'number' ? '' : label(v)));
}

export function formatVal(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return Number(v.toPrecision(5)).toString();
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function buildSvg(
  spec: ChartSpec,
  data: uPlot.AlignedData,
  theme: Theme,
  width: number,
  height: number,
  xMin?: number | null,
  xMax?: number | null,
): string {
  const xs = data[0] as ArrayLike<number>;
  const n = xs.length;
  const ml = 64,
    mr = 12,
    mt = 28,
    mb = 34;
  const legendH = 18 * Math.ceil(spec.series.length / 3);
  const pw = width - ml - mr,
    ph = height - mt - mb;
  const x0 = xMin ?? (n ? xs[0] : 0),
    x1 = xMax ?? (n ? xs[n - 1] : 1);
  // visible index range
  let i0 = 0,
    i1 = n;
  while (i0 < n && xs[i0] < x0) i0++;
  while (i1 > i0 && xs[i1 - 1] > x1) i1--;
  let yMin = Infinity,
    yMax = -Infinity;
  for (let s = 1; s < data.length; s++) {
    const ys = data[s] as ArrayLike<number | null>;
    for (let i = i0; i < i1; i++) {
      const y = ys[i];
      if (y === null || y === undefined || !Number.isFinite(y) || (spec.log && y <= 0)) continue;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
    }
  }
  if (!Number.isFinite(yMin)) {
    yMin = 0;
    yMax = 1;
  }
  if (yMax === yMin) {
    yMax += Math.abs(yMax) * 0.1 || 1;
    yMin -= Math.abs(yMin) * 0.1 || 1;
  }
  const ty = spec.log ? (v: number) => Math.log10(v) : (v: number) => v;
  const ly0 = ty(yMin),
    ly1 = ty(yMax);
  const px = (x: number) => ml + ((x - x0) / (x1 - x0 || 1)) * pw;
  const py = (y: number) => mt + ph - ((ty(y) - ly0) / (ly1 - ly0 || 1)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + legendH}" viewBox="0 0 ${width} ${height + legendH}" font-family="${esc(theme.font)}" font-size="11">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="${esc(theme.background)}"/>`);
  parts.push(`<text x="8" y="18" font-size="13" font-weight="bold" fill="${esc(theme.foreground)}">${esc(spec.title)}</text>`);
  // axes and grid
  const yt = spec.log
    ? niceTicks(Math.floor(ly0), Math.ceil(ly1), Math.max(1, Math.ceil(ly1) - Math.floor(ly0)))
        .map((e) => Math.pow(10, e))
        .filter((v) => v >= yMin && v <= yMax)
    : niceTicks(yMin, yMax, 5);
  for (const v of yt) {
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${ml}" x2="${ml + pw}" y1="${y}" y2="${y}" stroke="${esc(theme.grid)}"/>`);
    parts.push(`<text x="${ml - 6}" y="${y}" dy="4" text-anchor="end" fill="${esc(theme.foreground)}">${esc(formatVal(v))}</text>`);
  }
  for (const v of niceTicks(x0, x1, 6)) {
    const x = px(v).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${mt}" y2="${mt + ph}" stroke="${esc(theme.grid)}"/>`);
    parts.push(`<text x="${x}" y="${mt + ph + 14}" text-anchor="middle" fill="${esc(theme.foreground)}">${esc(formatVal(v))}</text>`);
  }
  parts.push(`<text x="${ml + pw / 2}" y="${height - 4}" text-anchor="middle" fill="${esc(theme.foreground)}">step</text>`);
  parts.push(`<text transform="translate(12 ${mt + ph / 2}) rotate(-90)" text-anchor="middle" fill="${esc(theme.foreground)}">${esc(spec.yLabel)}</text>`);
  parts.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="${esc(theme.grid)}"/>`);
  // series: per pixel column keep first/min/max/last so a million points become ~4 per pixel
  spec.series.forEach((ss, k) => {
    const ys = data[k + 1] as ArrayLike<number | null>;
    const stroke = ss.faint ? withAlpha(ss.color, 0.3) : ss.color;
    const segs: string[] = [];
    let cur: string[] = [];
    let col = NaN,
      cmin = 0,
      cmax = 0,
      cfirst = 0,
      clast = 0;
    const flush = () => {
      if (Number.isNaN(col)) return;
      const x = (ml + col + 0.5).toFixed(1);
      for (const v of cfirst === cmin ? [cmin, cmax, clast] : [cfirst, cmax, cmin, clast]) cur.push(`${x},${py(v).toFixed(1)}`);
      col = NaN;
    };
    const points: string[] = [];
    for (let i = i0; i < i1; i++) {
      const y = ys[i];
      if (y === null || y === undefined || !Number.isFinite(y) || (spec.log && y <= 0)) continue;
      const c = Math.floor(px(xs[i]) - ml);
      if (c !== col) {
        flush();
        col = c;
        cmin = cmax = cfirst = clast = y;
      } else {
        if (y < cmin) cmin = y;
        if (y > cmax) cmax = y;
        clast = y;
      }
      if (ss.points) points.push(`<circle cx="${px(xs[i]).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${esc(ss.color)}"/>`);
    }
    flush();
    if (cur.length) segs.push(cur.join(' '));
    cur = [];
    for (const seg of segs) parts.push(`<polyline fill="none" stroke="${esc(stroke)}" stroke-width="${ss.faint ? 1 : 2}" points="${seg}"/>`);
    parts.push(...points);
  });
  spec.series.forEach((ss, i) => {
    const x = 8 + (i % 3) * Math.floor(width / 3),
      y = height + 14 + 18 * Math.floor(i / 3);
    parts.push(`<rect x="${x}" y="${y - 8}" width="12" height="3" fill="${esc(ss.color)}"/>`);
    parts.push(`<text x="${x + 16}" y="${y}" fill="${esc(theme.foreground)}">${esc(ss.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
