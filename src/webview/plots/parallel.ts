// Parallel coordinates on a canvas: one vertical axis per PlotAxis, one polyline per run coloured
// by the colour axis. Drag along an axis to brush (the runs inside every brush stay coloured, the
// others turn grey, and the brushed ids go to onBrush); click an axis without dragging to clear its
// brush; drag an axis title sideways to reorder. Hover shows the nearest run's values. The lines
// are drawn once into an offscreen canvas; hover only redraws the overlay, so 10,000 runs stay
// responsive. The layout and hit tests are parallelLayout.ts.

import { clipText } from '../../shared/display';
import type { Theme } from '../theme';
import { CanvasPlot, clipToWidth, escXml, fitCanvas, type PlotTheme } from './canvas';
import {
  axisAt,
  brushed,
  dropIndex,
  layoutParallel,
  lineOf,
  moveAxis,
  nearestLine,
  passes,
  tOf,
  tooltipLines,
  yOf,
  type Brushes,
  type ParallelLayout,
} from './parallelLayout';
import { formatValue } from './scale';
import type { PlotData } from './types';

export interface ParallelOptions {
  /** Brushes changed: the ids of the runs inside every brush (all runs when there is none) and whether any brush is set. */
  onBrush?: (ids: string[], active: boolean) => void;
  /** A run's line was clicked. */
  onClick?: (id: string) => void;
  height?: number;
}

type Drag = { kind: 'brush'; axis: number; y0: number; moved: boolean } | { kind: 'move'; axis: number; x: number };

export class ParallelPlot extends CanvasPlot {
  private data: PlotData = { axes: [], colorBy: '', points: [] };
  private layout: ParallelLayout | null = null;
  private brushes: Brushes = new Map();
  private hovered = -1;
  private drag: Drag | null = null;
  private readonly height: number;
  private readonly moveHandler = (e: MouseEvent) => this.onMove(e);
  private readonly upHandler = (e: MouseEvent) => this.onUp(e);

  constructor(
    private readonly opts: ParallelOptions = {},
    theme?: Theme,
  ) {
    super('plot-parallel', theme);
    this.height = opts.height ?? 320;
    this.canvas.setAttribute('aria-label', 'Parallel coordinates of the runs');
    this.canvas.addEventListener('mousedown', (e) => this.onDown(e));
    // Drags continue outside the canvas: listen on the window (removed by destroy).
    window.addEventListener('mousemove', this.moveHandler);
    window.addEventListener('mouseup', this.upHandler);
    this.canvas.addEventListener('mouseleave', () => {
      if (!this.drag) this.setHover(-1);
    });
  }

  setData(data: PlotData): void {
    const keep = new Set(data.axes.map((a) => a.key));
    for (const k of [...this.brushes.keys()]) if (!keep.has(k)) this.brushes.delete(k);
    this.data = data;
    this.hovered = -1;
    this.render();
  }

  /** The runs inside every brush (all runs when no brush is set). */
  brushedIds(): string[] {
    if (!this.layout) return [];
    return brushed(this.layout, this.brushes).map((i) => this.data.points[i].id);
  }

  /** Sets a brush on an axis from positions 0 … 1 (null clears it), as a drag would. */
  setBrush(key: string, range: [number, number] | null): void {
    if (range) this.brushes.set(key, [Math.min(...range), Math.max(...range)]);
    else this.brushes.delete(key);
    this.render();
    this.reportBrush();
  }

  getLayout(): ParallelLayout | null {
    return this.layout;
  }

  override destroy(): void {
    window.removeEventListener('mousemove', this.moveHandler);
    window.removeEventListener('mouseup', this.upHandler);
    super.destroy();
  }

  /** Re-lays out and redraws every line into the offscreen canvas, then the visible one. */
  protected override draw(w: number): void {
    this.layout = layoutParallel(this.data, w, this.height);
    drawParallel(fitCanvas(this.base, w, this.height), this.layout, this.data, this.brushes, this.theme);
  }

  /** The offscreen image plus the hovered line and a brush being dragged. */
  protected override paint(): void {
    const l = this.layout;
    if (!l) return;
    const ctx = this.blit(l.width, l.height);
    if (this.hovered >= 0) strokeRun(ctx, l, this.hovered, this.theme.colorOf(l.color[this.hovered]), 3, this.theme.background);
  }

  private pointer(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private onDown(e: MouseEvent): void {
    const l = this.layout;
    if (!l || e.button !== 0) return;
    const [x, y] = this.pointer(e);
    const j = axisAt(l, x);
    if (j < 0) return;
    e.preventDefault();
    if (y < l.top - 8) this.drag = { kind: 'move', axis: j, x };
    else if (y <= l.bottom + 6) this.drag = { kind: 'brush', axis: j, y0: y, moved: false };
  }

  private onMove(e: MouseEvent): void {
    const l = this.layout;
    if (!l) return;
    const [x, y] = this.pointer(e);
    const d = this.drag;
    if (d?.kind === 'brush') {
      if (Math.abs(y - d.y0) < 3 && !d.moved) return;
      d.moved = true;
      const key = l.scales[d.axis].axis.key;
      const a = tOf(l, d.y0),
        b = tOf(l, y);
      this.brushes.set(key, [Math.min(a, b), Math.max(a, b)]);
      this.render();
      return;
    }
    if (d?.kind === 'move') {
      d.x = x;
      this.paint();
      const ctx = this.canvas.getContext('2d')!;
      ctx.strokeStyle = this.theme.foreground;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x, l.top);
      ctx.lineTo(x, l.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      return;
    }
    if (e.target !== this.canvas) return;
    const visible = this.brushes.size ? brushed(l, this.brushes) : undefined;
    this.setHover(nearestLine(l, x, y, 8, visible), x, y);
  }

  private onUp(e: MouseEvent): void {
    const d = this.drag,
      l = this.layout;
    this.drag = null;
    if (!d || !l) {
      if (l && e.target === this.canvas && this.hovered >= 0) this.opts.onClick?.(this.data.points[this.hovered].id);
      return;
    }
    if (d.kind === 'brush') {
      if (!d.moved) {
        // A click on an axis: clears its brush, or picks the run under the pointer.
        const key = l.scales[d.axis].axis.key;
        if (this.brushes.delete(key)) this.render();
        else if (this.hovered >= 0) this.opts.onClick?.(this.data.points[this.hovered].id);
      }
      this.reportBrush();
      return;
    }
    const to = dropIndex(l, d.axis, d.x);
    const axes = moveAxis(this.data.axes, d.axis, to);
    this.data = { ...this.data, axes };
    this.render();
  }

  private reportBrush(): void {
    this.opts.onBrush?.(this.brushedIds(), this.brushes.size > 0);
  }

  private setHover(i: number, x = 0, y = 0): void {
    if (i !== this.hovered) {
      this.hovered = i;
      this.paint();
    }
    if (i < 0) this.tooltip.hide();
    else
      this.tooltip.show(
        tooltipLines(this.data, i, formatValue).map((s) => clipText(s)),
        x,
        y,
        this.width,
      );
  }

  toSVG(): string {
    return this.layout ? parallelSvg(this.layout, this.data, this.brushes, this.theme) : '';
  }
}

/** Draws run i's polyline; a halo in `halo` first makes a highlighted line stand out of the others. */
function strokeRun(ctx: CanvasRenderingContext2D, l: ParallelLayout, i: number, color: string, width: number, halo?: string): void {
  const pts = lineOf(l, i);
  const path = () => {
    ctx.beginPath();
    pts.forEach(([x, y], j) => (j ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  };
  if (halo) {
    path();
    ctx.strokeStyle = halo;
    ctx.lineWidth = width + 2.5;
    ctx.stroke();
  }
  path();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.stroke();
}

/** Several runs' polylines in one path and one stroke. */
function strokeRuns(ctx: CanvasRenderingContext2D, l: ParallelLayout, runs: readonly number[], color: string, width: number): void {
  if (!runs.length) return;
  const m = l.scales.length;
  ctx.beginPath();
  for (const i of runs)
    for (let j = 0; j < m; j++) {
      const y = yOf(l, l.pos[i * m + j]);
      if (j) ctx.lineTo(l.xs[j], y);
      else ctx.moveTo(l.xs[j], y);
    }
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.stroke();
}

/** The whole plot: background, lines (out of brush, normal, highlighted), axes, ticks, brushes. */
export function drawParallel(ctx: CanvasRenderingContext2D, l: ParallelLayout, data: PlotData, brushes: Brushes, t: PlotTheme): void {
  ctx.fillStyle = t.background;
  ctx.fillRect(0, 0, l.width, l.height);
  const n = data.points.length;
  const highlight = new Set(data.highlight ?? []);
  const isHi = (i: number) => highlight.has(data.points[i].id);
  const dim = highlight.size > 0;
  ctx.lineJoin = 'round';
  // Runs outside a brush: thin, grey, behind everything. Lines of one colour (64 steps) share one
  // path and one stroke instead of one per run; where lines of one colour cross, their alpha does
  // not add up, which costs little of the density reading (bench/plots.ts measures the draw).
  const groups = new Map<string, number[]>();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!passes(l, brushes, i)) out.push(i);
    else if (!isHi(i)) {
      const c = t.colorOf(l.color[i]);
      const g = groups.get(c);
      if (g) g.push(i);
      else groups.set(c, [i]);
    }
  }
  ctx.globalAlpha = 0.18;
  strokeRuns(ctx, l, out, t.muted, 1);
  // Many runs overlap: let density show through.
  ctx.globalAlpha = dim ? 0.45 : n > 300 ? Math.max(0.15, 300 / n) : 1;
  const width = n > 300 ? 1 : 1.5;
  for (const [c, runs] of groups) strokeRuns(ctx, l, runs, c, width);
  ctx.globalAlpha = 1;
  for (let i = 0; i < n; i++) if (isHi(i) && passes(l, brushes, i)) strokeRun(ctx, l, i, t.colorOf(l.color[i]), 3, t.background);
  drawAxes(ctx, l, brushes, t);
}

function drawAxes(ctx: CanvasRenderingContext2D, l: ParallelLayout, brushes: Brushes, t: PlotTheme): void {
  const gap = l.xs.length > 1 ? l.xs[1] - l.xs[0] : l.width;
  ctx.font = `11px ${t.font}`;
  ctx.textBaseline = 'middle';
  l.scales.forEach((s, j) => {
    const x = l.xs[j];
    const b = brushes.get(s.axis.key);
    if (b) {
      ctx.fillStyle = t.foreground;
      ctx.globalAlpha = 0.2;
      ctx.fillRect(x - 7, yOf(l, b[1]), 14, yOf(l, b[0]) - yOf(l, b[1]));
      ctx.globalAlpha = 1;
      ctx.strokeStyle = t.foreground;
      ctx.lineWidth = 1;
      ctx.strokeRect(x - 7, yOf(l, b[1]), 14, yOf(l, b[0]) - yOf(l, b[1]));
    }
    ctx.strokeStyle = t.foreground;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, l.top);
    ctx.lineTo(x, l.bottom);
    ctx.stroke();
    if (j === l.colorAxis) drawColorBar(ctx, l, x, t);
    // ticks: labels to the left, each with a halo so lines behind do not cut them
    ctx.textAlign = 'right';
    for (const tk of s.ticks) {
      const y = yOf(l, tk.at);
      ctx.beginPath();
      ctx.moveTo(x - 4, y);
      ctx.lineTo(x, y);
      ctx.stroke();
      haloText(ctx, clipToWidth(ctx, tk.label, Math.max(30, gap - 24)), x - 6, y, t.foreground, t.background);
    }
    haloText(ctx, '—', x - 6, l.missingY, t.muted, t.background);
    ctx.textAlign = 'center';
    ctx.font = `bold 11px ${t.font}`;
    haloText(ctx, clipToWidth(ctx, s.axis.label, Math.max(40, gap - 8)), x, l.top - 18, t.foreground, t.background);
    ctx.font = `11px ${t.font}`;
  });
}

/** The colour scale as a strip just right of the colour axis. */
function drawColorBar(ctx: CanvasRenderingContext2D, l: ParallelLayout, x: number, t: PlotTheme): void {
  const h = l.bottom - l.top;
  for (let k = 0; k < h; k++) {
    ctx.fillStyle = t.colorOf(1 - k / h);
    ctx.fillRect(x + 3, l.top + k, 5, 1.5);
  }
}

function haloText(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, color: string, halo: string): void {
  ctx.lineWidth = 3;
  ctx.strokeStyle = halo;
  ctx.strokeText(text, x, y);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

/** The same plot as SVG (lines as polylines, axes and ticks as text). */
export function parallelSvg(l: ParallelLayout, data: PlotData, brushes: Brushes, t: PlotTheme): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" font-family="${escXml(t.font)}" font-size="11">`,
    `<rect width="100%" height="100%" fill="${escXml(t.background)}"/>`,
  ];
  const highlight = new Set(data.highlight ?? []);
  const order = data.points.map((_, i) => i).sort((a, b) => Number(highlight.has(data.points[a].id)) - Number(highlight.has(data.points[b].id)));
  for (const i of order) {
    const inside = passes(l, brushes, i);
    const pts = lineOf(l, i)
      .map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`)
      .join(' ');
    const color = inside ? t.colorOf(l.color[i]) : t.muted;
    const width = highlight.has(data.points[i].id) ? 3 : 1.5;
    out.push(
      `<polyline fill="none" stroke="${escXml(color)}" stroke-width="${width}"${inside ? '' : ' stroke-opacity="0.18"'} points="${pts}"><title>${escXml(clipText(data.points[i].label))}</title></polyline>`,
    );
  }
  l.scales.forEach((s, j) => {
    const x = l.xs[j].toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${l.top}" y2="${l.bottom}" stroke="${escXml(t.foreground)}"/>`);
    out.push(
      `<text x="${x}" y="${l.top - 18}" text-anchor="middle" font-weight="bold" fill="${escXml(t.foreground)}">${escXml(clipText(s.axis.label))}</text>`,
    );
    for (const tk of s.ticks)
      out.push(
        `<text x="${l.xs[j] - 6}" y="${yOf(l, tk.at).toFixed(1)}" dy="4" text-anchor="end" fill="${escXml(t.foreground)}">${escXml(clipText(tk.label))}</text>`,
      );
    out.push(`<text x="${l.xs[j] - 6}" y="${l.missingY}" dy="4" text-anchor="end" fill="${escXml(t.muted)}">—</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
