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
/** Any CSS colour as rgba(r,g,b,a) with the given alpha. */
export function withAlpha(color: string, alpha: number): string {
  scratch ??= document.createElement('canvas').getContext('2d');
  if (!scratch) return color;
  scratch.fillStyle = '#000';
  scratch.fillStyle = color;
  const c = String(scratch.fillStyle); // normalized: #rrggbb or rgba(...)
  let r = 0,
    g = 0,
    b = 0,
    a = 1;
  if (c.startsWith('#')) {
    r = parseInt(c.slice(1, 3), 16);
    g = parseInt(c.slice(3, 5), 16);
    b = parseInt(c.slice(5, 7), 16);
  } else {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (m) [r, g, b, a = 1] = m[1].split(',').map((s) => parseFloat(s));
  }
  return `rgba(${r},${g},${b},${+(a * alpha).toFixed(3)})`;
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
  return {
    background: cssVar('--vscode-editor-background'),
    foreground: fg,
    muted: cssVar('--vscode-descriptionForeground'),
    grid: withAlpha(fg, kind === 'high-contrast' ? 0.35 : 0.12),
    font: cssVar('--vscode-editor-font-family') || 'sans-serif',
    palette: ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((c) => cssVar(`--vscode-charts-${c}`)),
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
