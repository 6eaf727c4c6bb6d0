// What both cross-run plots share in the browser: a HiDPI canvas sized to its box, the tooltip
// element, and the theme as the plots draw it (colours resolved from VS Code's variables by
// theme.ts, plus the sequential colour scale fitted to the background).

import { parseColor, readTheme, type Theme } from '../theme';
import { css, sequentialScale, type ColorScale, type RGB } from './color';

export interface PlotTheme {
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  font: string;
  kind: Theme['kind'];
  scale: ColorScale;
  /** The colour of a colour-axis position 0 … 1; NaN (no value): muted. */
  colorOf(t: number): string;
}

export function plotTheme(theme: Theme = readTheme()): PlotTheme {
  const rgb = (c: string): RGB => parseColor(c).slice(0, 3) as unknown as RGB;
  const scale = sequentialScale(rgb(theme.background), rgb(theme.foreground));
  // 64 cached steps: 10,000 lines need no per-line colour math.
  const steps = Array.from({ length: 64 }, (_, k) => css(scale.at(k / 63)));
  return {
    background: theme.background,
    foreground: theme.foreground,
    muted: theme.muted,
    grid: theme.grid,
    font: theme.font,
    kind: theme.kind,
    scale,
    colorOf: (t) => (Number.isNaN(t) ? theme.muted : steps[Math.max(0, Math.min(63, Math.round(t * 63)))]),
  };
}

/** Sizes a canvas to width × height CSS pixels at the device pixel ratio; returns its context, scaled. */
export function fitCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr)),
    h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${width}px`; // CSSOM, not a style attribute: allowed by the webview's CSP
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** The tooltip: a box of text lines near the pointer, in the theme's widget colours. */
export class Tooltip {
  readonly el: HTMLElement;
  constructor(parent: HTMLElement) {
    this.el = document.createElement('div');
    this.el.className = 'plot-tooltip';
    this.el.setAttribute('role', 'tooltip');
    const s = this.el.style;
    s.position = 'absolute';
    s.pointerEvents = 'none';
    s.zIndex = '2';
    s.padding = '4px 8px';
    s.borderRadius = '3px';
    s.font = '12px var(--vscode-font-family, sans-serif)';
    s.whiteSpace = 'pre';
    s.color = 'var(--vscode-editorWidget-foreground, var(--vscode-foreground))';
    s.background = 'var(--vscode-editorWidget-background, var(--vscode-editor-background))';
    s.border = '1px solid var(--vscode-widget-border, var(--vscode-contrastBorder, rgba(128,128,128,0.5)))';
    this.el.hidden = true;
    parent.append(this.el);
  }

  show(lines: string[], x: number, y: number, boxWidth: number): void {
    this.el.textContent = lines.join('\n'); // text only: run labels never become markup
    this.el.hidden = false;
    const w = this.el.offsetWidth;
    this.el.style.left = `${x + 14 + w > boxWidth ? Math.max(0, x - 14 - w) : x + 14}px`;
    this.el.style.top = `${Math.max(0, y + 12)}px`;
  }

  hide(): void {
    this.el.hidden = true;
  }
}

/** Text clipped with an ellipsis to `max` pixels in the context's current font. */
export function clipToWidth(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  let lo = 0,
    hi = Math.min(text.length, 200);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + '…').width <= max) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo) + '…';
}

export const escXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** What both plots are: a root holding the visible canvas, an offscreen copy of the plot without
 *  the hover, a tooltip and the theme; redrawn (`render`) when the root's width changes. */
export abstract class CanvasPlot {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  protected readonly base = document.createElement('canvas');
  protected readonly tooltip: Tooltip;
  protected theme: PlotTheme;
  protected width = 0;
  private readonly resizeObs: ResizeObserver;
  /** Milliseconds the last full render took (for the benchmark). */
  lastRenderMs = 0;

  constructor(className: string, theme?: Theme) {
    this.theme = plotTheme(theme);
    this.root = document.createElement('div');
    this.root.className = className;
    this.root.style.position = 'relative';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.style.display = 'block';
    this.root.append(this.canvas);
    this.tooltip = new Tooltip(this.root);
    this.resizeObs = new ResizeObserver(() => {
      const w = Math.floor(this.root.clientWidth);
      if (w > 0 && w !== this.width) {
        this.width = w;
        this.render();
      }
    });
    this.resizeObs.observe(this.root);
  }

  /** Lays out and redraws the whole plot (timed in lastRenderMs), then paints the hover over it. */
  render(): void {
    const w = this.width || Math.floor(this.root.clientWidth);
    if (w <= 0 || !this.ready()) return; // hidden: drawn when the ResizeObserver sees a size
    this.width = w;
    const t0 = performance.now();
    this.draw(w);
    this.lastRenderMs = performance.now() - t0;
    this.paint();
  }

  /** Whether the plot has what it needs to draw (default: always). */
  protected ready(): boolean {
    return true;
  }

  /** Lays the plot out at width w and draws it onto the offscreen canvas. */
  protected abstract draw(w: number): void;

  /** The offscreen image on the visible canvas, with what hovers or is being dragged on top. */
  protected abstract paint(): void;

  setTheme(theme?: Theme): void {
    this.theme = plotTheme(theme);
    this.render();
  }

  /** The colours the plot draws with (for the contrast checks). */
  getTheme(): PlotTheme {
    return this.theme;
  }

  destroy(): void {
    this.resizeObs.disconnect();
    this.root.remove();
  }

  /** The visible canvas sized to the plot, with the offscreen image drawn on it (hover goes on top). */
  protected blit(width: number, height: number): CanvasRenderingContext2D {
    const ctx = fitCanvas(this.canvas, width, height);
    ctx.drawImage(this.base, 0, 0, width, height);
    return ctx;
  }

  /** PNG (base64, no data: prefix) of the plot as drawn, without the hover. */
  toPNG(): string {
    return this.base.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
  }
}
