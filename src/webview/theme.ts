// Colours from VS Code's theme variables. uPlot draws on a canvas, so CSS variables are resolved
// to concrete colours here and charts are rebuilt when the theme changes.

const FALLBACK: Record<string, string> = {
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#999999',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-yellow': '#cca700',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-lines': 'rgba(128,128,128,0.5)',
  '--vscode-editor-font-family': 'system-ui, sans-serif',
};

export function cssVar(name: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || FALLBACK[name] || '';
}

let scratch: CanvasRenderingContext2D | null = null;
/** Any CSS colour as [r, g, b, a] (0–255, alpha 0–1), via the canvas's own parser. */
export function parseColor(color: string): [number, number, number, number] {
  scratch ??= document.createElement('canvas').getContext('2d');
  if (!scratch) return [0, 0, 0, 1];
  scratch.fillStyle = '#000';
  scratch.fillStyle = color;
  const c = String(scratch.fillStyle); // normalized: #rrggbb or rgba(...)
  if (c.startsWith('#')) return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16), 1];
  const m = /rgba?\(([^)]+)\)/.exec(c);
  if (!m) return [0, 0, 0, 1];
  const [r, g, b, a = 1] = m[1].split(',').map((s) => parseFloat(s));
  return [r, g, b, a];
}

/** Any CSS colour as rgba(r,g,b,a) with the given alpha. */
export function withAlpha(color: string, alpha: number): string {
  const [r, g, b, a] = parseColor(color);
  return `rgba(${r},${g},${b},${+(a * alpha).toFixed(3)})`;
}

/** WCAG relative luminance of an opaque colour. */
function luminance([r, g, b]: readonly number[]): number {
  const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two colours (alpha ignored: both taken as opaque). */
export function contrastRatio(a: string, b: string): number {
  const [x, y] = [luminance(parseColor(a)), luminance(parseColor(b))];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/**
 * A series colour that reads on the background: opaque (some themes derive chart colours from
 * translucent highlight colours — Light+'s charts.orange is rgba(234,92,0,0.33) — which drew a
 * compared run's curve nearly invisible), then mixed towards the foreground until its contrast
 * with the background is at least `min` (WCAG AA asks 3:1 for graphics).
 */
export function seriesColor(color: string, background: string, foreground: string, min = 3): string {
  const [r, g, b] = parseColor(color);
  const [fr, fg, fb] = parseColor(foreground);
  let out = `rgb(${r},${g},${b})`;
  for (let t = 0.1; contrastRatio(out, background) < min && t <= 1.001; t += 0.1)
    out = `rgb(${Math.round(r + (fr - r) * t)},${Math.round(g + (fg - g) * t)},${Math.round(b + (fb - b) * t)})`;
  return out;
}

export interface Theme {
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  font: string;
  /** Series colours in order: blue, orange, green, purple, red, yellow. */
  palette: string[];
  kind: 'light' | 'dark' | 'high-contrast';
}

export function readTheme(): Theme {
  const cls = document.body.classList;
  const kind =
    cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light') ? 'high-contrast' : cls.contains('vscode-light') ? 'light' : 'dark';
  const fg = cssVar('--vscode-foreground');
  const background = cssVar('--vscode-editor-background');
  return {
    background,
    foreground: fg,
    muted: cssVar('--vscode-descriptionForeground'),
    grid: withAlpha(fg, kind === 'high-contrast' ? 0.35 : 0.12),
    font: cssVar('--vscode-editor-font-family') || 'sans-serif',
    palette: ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((c) => seriesColor(cssVar(`--vscode-charts-${c}`), background, fg)),
    kind,
  };
}

/** Calls `fn` when VS Code switches theme (body class or the variables on <html> change). */
export function onThemeChange(fn: () => void): void {
  let pending = false;
  const obs = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn();
    });
  });
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}
