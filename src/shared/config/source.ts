// Config text with source positions: YAML parsed with a line counter (JSON is YAML, so JSON configs
// get the same positions). One walker over the document serves both directions: a path or dotted
// key → the span to point at (error messages, `locate`), and an offset → the path there (the
// editor's hover key lookup).

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { JPath, Span } from './types';

interface YNode {
  range?: [number, number, number] | null;
  flow?: boolean;
}

export interface Source {
  text: string;
  doc: Document;
  lc: LineCounter;
}

export function parseSource(text: string): Source {
  // A byte order mark (Windows editors save one) is not part of the config; editors hide it too, so
  // positions on line 1 stay those the user sees.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, keepSourceTokens: true });
  return { text, doc, lc };
}

export function spanOf(src: Source, start: number, end: number): Span {
  const a = src.lc.linePos(start);
  const b = src.lc.linePos(Math.max(start, end));
  return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
}

function nodeSpan(src: Source, n: YNode): Span | undefined {
  if (!n.range) return undefined;
  return spanOf(src, n.range[0], n.range[1]);
}

/** The first line of a (block) node: enough to point at it without highlighting a whole section. */
export function firstLineSpan(src: Source, n: YNode | null | undefined): Span {
  if (!n?.range) return { line: 1, column: 1, endLine: 1, endColumn: 1 };
  const start = n.range[0];
  const nl = src.text.indexOf('\n', start);
  const end = Math.min(n.range[1], nl < 0 ? src.text.length : nl);
  return spanOf(src, start, end);
}

// ---------------------------------------------------------------------------------------------
// The walker: one step (the entries of a mapping or sequence), followed by a path or by an offset.

const keyText = (k: unknown): string => (isScalar(k) ? String(k.value) : String(k));

/** One child of a mapping (`seg` is the key's text, `key` its node) or of a sequence (`seg` is the index). */
interface Entry {
  seg: string | number;
  key?: unknown;
  value: unknown;
}

/** The children of a mapping or sequence node; undefined for scalars, aliases and empty values. */
function entries(node: unknown): Entry[] | undefined {
  if (isMap(node)) return node.items.map((it) => ({ seg: keyText(it.key), key: it.key, value: it.value }));
  if (isSeq(node)) return node.items.map((it, i) => ({ seg: i, value: it }));
  return undefined;
}

/** The child named `seg` (a key of a mapping; an index, as a number or digits, of a sequence). */
function child(node: unknown, seg: string | number): Entry | undefined {
  const es = entries(node);
  if (!es) return undefined;
  if (isMap(node)) return es.find((e) => e.seg === String(seg));
  return /^\d+$/.test(String(seg)) ? es[Number(seg)] : undefined;
}

const resolved = (src: Source, node: unknown): unknown => (isAlias(node) ? node.resolve(src.doc) : node);

interface Nav {
  node: unknown;
  key: unknown;
  matched: number;
}

/** Follows a path through the document; stops at the deepest existing node. */
export function navigate(src: Source, p: JPath): Nav {
  let node: unknown = src.doc.contents;
  let key: unknown = undefined;
  let i = 0;
  for (; i < p.length; i++) {
    node = resolved(src, node);
    const e = child(node, p[i]);
    if (!e) break;
    key = e.key;
    node = e.value;
  }
  return { node, key, matched: i };
}

/** Turns a dotted key into a document path; keys that themselves contain dots (sweep keys) match greedily. */
export function dottedToPath(src: Source, dotted: string): JPath | undefined {
  const parts = dotted.split('.');
  const out: JPath = [];
  let node: unknown = src.doc.contents;
  let i = 0;
  while (i < parts.length) {
    node = resolved(src, node);
    let e: Entry | undefined;
    let k = parts.length;
    for (; k > i; k--) if ((e = child(node, parts.slice(i, k).join('.')))) break;
    if (!e) return undefined;
    out.push(e.seg);
    node = e.value;
    i = k;
  }
  return out;
}

const within = (r: readonly number[] | null | undefined, off: number) => !!r && off >= r[0] && off <= r[1];

export interface PathAt {
  /** The path in the document down to the key or scalar value at the offset. */
  path: JPath;
  /** On the key itself or on its value. */
  on: 'key' | 'value';
  /** 0-based offsets of what the offset is on. */
  start: number;
  end: number;
}

/** The key or scalar value at a 0-based offset, with its path; undefined on comments, blank space and punctuation. */
export function pathAtOffset(src: Source, offset: number): PathAt | undefined {
  const segs: JPath = [];
  let node: unknown = src.doc.contents;
  for (let depth = 0; depth < 32; depth++) {
    const es = entries(node);
    if (!es) return undefined;
    let next: unknown;
    for (const e of es) {
      if (isMap(node) && !isScalar(e.key)) continue;
      const k = e.key as YNode | undefined;
      const v = e.value as YNode | null;
      if (k && within(k.range, offset)) return { path: [...segs, e.seg], on: 'key', start: k.range![0], end: k.range![1] };
      if (v && within(v.range, offset)) {
        segs.push(e.seg);
        if (isScalar(v)) return { path: [...segs], on: 'value', start: v.range![0], end: v.range![1] };
        next = v;
        break;
      }
    }
    if (next === undefined) return undefined;
    node = next;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Both directions by dotted key

/** Where to point for a path: the value (`at: 'value'`) or its key (`at: 'key'`); the nearest existing ancestor's key when the path is absent. */
export function spanAt(src: Source, p: JPath, at: 'value' | 'key'): Span {
  const nav = navigate(src, p);
  const keyNode = nav.key as YNode | undefined;
  const node = nav.node as YNode | null | undefined;
  if (nav.matched === 0) return firstLineSpan(src, node);
  if (nav.matched === p.length) {
    if (at === 'key' && keyNode?.range) return nodeSpan(src, keyNode)!;
    if (node?.range && node.range[1] > node.range[0]) {
      const collection = isMap(node) || isSeq(node);
      const oneLine = !src.text.slice(node.range[0], node.range[1]).includes('\n');
      if (!collection || (node.flow && oneLine)) return nodeSpan(src, node)!;
      return keyNode?.range ? nodeSpan(src, keyNode)! : firstLineSpan(src, node);
    }
    return keyNode?.range ? nodeSpan(src, keyNode)! : firstLineSpan(src, node);
  }
  return keyNode?.range ? nodeSpan(src, keyNode)! : firstLineSpan(src, node);
}

/** The dotted-key → 1-based line/column of a value in a config text (hovers use it). */
export function locate(text: string, dottedKey: string): Span | undefined {
  const src = parseSource(text);
  const p = dottedToPath(src, dottedKey);
  if (!p) return undefined;
  return spanAt(src, p, 'value');
}

const SWEEP_SETTINGS = ['method', 'budget', 'metric', 'mode', 'early_termination', 'concurrency', 'executor', 'slurm'];

export interface KeyAt extends PathAt {
  /** Dotted snake_case key as users write it, e.g. "training.batch_size"; a key under `sweep:` is the swept key. */
  key: string;
  /** True when the key sits in the `sweep:` block. */
  inSweep: boolean;
}

/** The config key at a 0-based offset of a config text (the inverse of `locate`), or undefined (comments, blank space, parse failure). */
export function keyAtOffset(text: string, offset: number): KeyAt | undefined {
  let at: PathAt | undefined;
  try {
    at = pathAtOffset(parseSource(text), offset);
  } catch {
    return undefined;
  }
  if (!at) return undefined;
  const named = at.path.filter((s): s is string => typeof s === 'string');
  if (named[0] === 'sweep') {
    if (named.length < 2) return undefined;
    // The sweep's own settings are keys of the sweep block; anything else there is a swept config key.
    if (SWEEP_SETTINGS.includes(named[1])) return { key: named.join('.'), ...at, inSweep: false };
    return { key: named[1], ...at, inSweep: true };
  }
  return { key: named.join('.'), ...at, inSweep: false };
}
