// Tiny DOM helpers. Every string that comes from a run (labels, names, notes, example text, file
// names) goes through textContent / createTextNode: nothing here ever parses HTML. A run string is
// also clipped where it is drawn (`shown`, `shownEl`, `svgLabel`): a run folder can hold a 1 MB label.

import { clipText, DISPLAY_MAX, DISPLAY_MAX_LONG, isClipped } from '../shared/display';

type Attrs = Record<string, string | number | boolean | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Attrs, ...children: (Node | string | null | undefined)[]): HTMLElement;
export function el(tag: string, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): HTMLElement {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag: string, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): SVGElement {
  const e = document.createElementNS(SVG_NS, tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

function setAttrs(e: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    // No `on*` attributes and no `style` attribute: the CSP forbids both and data never goes there.
    if (/^on/i.test(k) || k === 'style') throw new Error(`attribute ${k} not allowed`);
    e.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(e: Element, children: (Node | string | null | undefined)[]): void {
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** A run string as drawn: cut to `max` characters with '…' (shared/display). */
export function shown(s: string, max = DISPLAY_MAX): string {
  return clipText(String(s), max);
}

/** An element holding a run string, clipped; when cut, the fuller text (up to DISPLAY_MAX_LONG) is its title (tooltip). */
export function shownEl<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs, s: string, max = DISPLAY_MAX): HTMLElementTagNameMap[K] {
  const text = String(s);
  return el(tag, isClipped(text, max) ? { ...attrs, title: clipText(text, DISPLAY_MAX_LONG) } : attrs, clipText(text, max));
}

/** An SVG <text> holding a run string, clipped; when cut, the fuller text is its <title> (SVG's tooltip). */
export function svgLabel(attrs: Attrs, s: string, max = DISPLAY_MAX): SVGElement {
  const text = String(s);
  return svg('text', attrs, clipText(text, max), isClipped(text, max) ? svg('title', {}, clipText(text, DISPLAY_MAX_LONG)) : null);
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/** Number formatting shared by tables, legends and headers. */
export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtDuration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s) || s < 0) return '—';
  s = Math.round(s);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
