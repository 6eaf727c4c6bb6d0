// Metric vs parameter scatter on a canvas: x a parameter (numeric, log, or categories with a
// stable jitter), y a metric, each run a dot coloured by the colour axis; highlighted runs larger
// with a ring, on top. Hover shows the run's values; a click reports its id. The layout and hit
// test are scatterLayout.ts.

import { clipText } from '../../shared/display';
import type { Theme } from '../theme';
import { CanvasPlot, clipToWidth, escXml, fitCanvas, type PlotTheme } from './canvas';
import { formatValue } from './scale';
import { layoutScatter, nearestPoint, xTick, yTick, type ScatterLayout } from './scatterLayout';
import type { PlotAxis, PlotData } from './types';

export interface ScatterOptions {
  onClick?: (id: string) => void;
  height?: number;
}

export class ScatterPlot extends CanvasPlot {
  private data: PlotData = { axes: [], colorBy: '', points: [] };
  private x: PlotAxis | null = null;
  private y: PlotAxis | null = null;
  private layout: ScatterLayout | null = null;
  private hovered = -1;
  private readonly height: number;

  constructor(
    private readonly opts: ScatterOptions = {},
    theme?: Theme,
  ) {
    super('plot-scatter', theme);
    this.height = opts.height ?? 300;
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => this.setHover(-1));
    this.canvas.addEventListener('click', () => {
      if (this.hovered >= 0) this.opts.onClick?.(this.data.points[this.hovered].id);
    });
  }

  /** The runs, and which axis is x (a parameter) and which y (a metric); keys from data.axes. */
  setData(data: PlotData, xKey: string, yKey: string): void {
    const find = (k: string) => data.axes.find((a) => a.key === k) ?? null;
    this.data = data;
    this.x = find(xKey);
    this.y = find(yKey);
    this.hovered = -1;
    this.canvas.setAttribute('aria-label', `${this.y?.label ?? yKey} against ${this.x?.label ?? xKey}, one dot per run`);
    this.render();
  }

  getLayout(): ScatterLayout | null {
    return this.layout;
  }

  protected override ready(): boolean {
    return !!this.x && !!this.y;
  }

  protected override draw(w: number): void {
    this.layout = layoutScatter(this.data, this.x!, this.y!, w, this.height);
    drawScatter(fitCanvas(this.base, w, this.height), this.layout, this.data, this.theme);
  }

  protected override paint(): void {
    const l = this.layout;
    if (!l) return;
    const ctx = this.blit(l.width, l.height);
    const k = l.index.indexOf(this.hovered);
    if (k >= 0) dot(ctx, l.px[k], l.py[k], 6, this.theme.colorOf(l.color[k]), this.theme.foreground, 2);
  }

  private onMove(e: MouseEvent): void {
    const l = this.layout;
    if (!l) return;
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left,
      y = e.clientY - r.top;
    this.setHover(nearestPoint(l, x, y, 8), x, y);
  }

  private setHover(i: number, x = 0, y = 0): void {
    if (i !== this.hovered) {
      this.hovered = i;
      this.paint();
    }
    if (i < 0 || !this.x || !this.y) return this.tooltip.hide();
    const p = this.data.points[i];
    const lines = [p.label, `${this.x.label}: ${formatValue(p.values[this.x.key])}`, `${this.y.label}: ${formatValue(p.values[this.y.key])}`];
    if (this.data.colorBy !== this.x.key && this.data.colorBy !== this.y.key) {
      const c = this.data.axes.find((a) => a.key === this.data.colorBy);
      lines.push(`${c?.label ?? this.data.colorBy}: ${formatValue(p.values[this.data.colorBy])}`);
    }
    this.tooltip.show(
      lines.map((s) => clipText(s)),
      x,
      y,
      this.width,
    );
  }

  toSVG(): string {
    return this.layout ? scatterSvg(this.layout, this.data, this.theme) : '';
  }
}

function dot(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, fill: string, ring: string, ringWidth: number): void {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.lineWidth = ringWidth;
  ctx.strokeStyle = ring;
  ctx.stroke();
}

export function drawScatter(ctx: CanvasRenderingContext2D, l: ScatterLayout, data: PlotData, t: PlotTheme): void {
  ctx.fillStyle = t.background;
  ctx.fillRect(0, 0, l.width, l.height);
  ctx.font = `11px ${t.font}`;
  ctx.lineWidth = 1;
  // grid and ticks
  ctx.strokeStyle = t.grid;
  ctx.fillStyle = t.foreground;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const tk of l.y.ticks) {
    const y = yTick(l, tk.at);
    ctx.beginPath();
    ctx.moveTo(l.left, y);
    ctx.lineTo(l.right, y);
    ctx.stroke();
    ctx.fillText(clipToWidth(ctx, tk.label, l.left - 10), l.left - 6, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const slot = (l.right - l.left) / Math.max(1, l.x.ticks.length);
  for (const tk of l.x.ticks) {
    const x = xTick(l, tk.at);
    ctx.beginPath();
    ctx.moveTo(x, l.top);
    ctx.lineTo(x, l.bottom);
    ctx.stroke();
    ctx.fillText(clipToWidth(ctx, tk.label, Math.max(30, slot - 4)), x, l.bottom + 6);
  }
  ctx.strokeStyle = t.foreground;
  ctx.strokeRect(l.left, l.top, l.right - l.left, l.bottom - l.top);
  ctx.fillText(clipToWidth(ctx, l.x.axis.label, l.right - l.left), (l.left + l.right) / 2, l.height - 18);
  ctx.save();
  ctx.translate(14, (l.top + l.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(clipToWidth(ctx, l.y.axis.label, l.bottom - l.top), 0, 0);
  ctx.restore();
  if (l.missing) {
    ctx.textAlign = 'right';
    ctx.fillStyle = t.muted;
    ctx.fillText(`${l.missing} run${l.missing === 1 ? '' : 's'} without a value`, l.right, l.top - 4); // above the plot: the x label has the bottom line
  }
  // dots: the others first, highlighted on top with a ring in the foreground colour
  const highlight = new Set(data.highlight ?? []);
  const dim = highlight.size > 0;
  const n = l.index.length;
  ctx.globalAlpha = dim ? 0.6 : 1;
  for (let k = 0; k < n; k++)
    if (!highlight.has(data.points[l.index[k]].id)) dot(ctx, l.px[k], l.py[k], n > 2000 ? 2 : 3.5, t.colorOf(l.color[k]), t.background, n > 2000 ? 0 : 1);
  ctx.globalAlpha = 1;
  for (let k = 0; k < n; k++) if (highlight.has(data.points[l.index[k]].id)) dot(ctx, l.px[k], l.py[k], 5.5, t.colorOf(l.color[k]), t.foreground, 1.5);
}

export function scatterSvg(l: ScatterLayout, data: PlotData, t: PlotTheme): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" font-family="${escXml(t.font)}" font-size="11">`,
    `<rect width="100%" height="100%" fill="${escXml(t.background)}"/>`,
    `<rect x="${l.left}" y="${l.top}" width="${l.right - l.left}" height="${l.bottom - l.top}" fill="none" stroke="${escXml(t.foreground)}"/>`,
  ];
  for (const tk of l.y.ticks)
    out.push(
      `<text x="${l.left - 6}" y="${yTick(l, tk.at).toFixed(1)}" dy="4" text-anchor="end" fill="${escXml(t.foreground)}">${escXml(clipText(tk.label))}</text>`,
    );
  for (const tk of l.x.ticks)
    out.push(
      `<text x="${xTick(l, tk.at).toFixed(1)}" y="${l.bottom + 16}" text-anchor="middle" fill="${escXml(t.foreground)}">${escXml(clipText(tk.label))}</text>`,
    );
  out.push(
    `<text x="${(l.left + l.right) / 2}" y="${l.height - 8}" text-anchor="middle" fill="${escXml(t.foreground)}">${escXml(clipText(l.x.axis.label))}</text>`,
  );
  out.push(
    `<text transform="translate(14 ${(l.top + l.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="${escXml(t.foreground)}">${escXml(clipText(l.y.axis.label))}</text>`,
  );
  const highlight = new Set(data.highlight ?? []);
  l.index.forEach((i, k) => {
    const hi = highlight.has(data.points[i].id);
    out.push(
      `<circle cx="${l.px[k].toFixed(1)}" cy="${l.py[k].toFixed(1)}" r="${hi ? 5.5 : 3.5}" fill="${escXml(t.colorOf(l.color[k]))}" stroke="${escXml(hi ? t.foreground : t.background)}"><title>${escXml(clipText(data.points[i].label))}</title></circle>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
