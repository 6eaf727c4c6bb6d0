// Config text with source positions: YAML parsed with a line counter (JSON is YAML, so JSON configs
// get the same positions). One walker over the document serves both directions: a path or dotted
// key → the span to point at (error messages, `locate`), and an offset → the path there (the
// editor's hover key lookup).

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { JPath, Span } from './types';

interface YNode { range?: [number, number, number] | null; flow?: boolean }

export interface Source { text: string; doc: Document; lc: LineCounter }

export function parseSource(text: string): Source {
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


const keyText = (k: unknown): string => (isScalar(k) ? String(k.value) : String(k));

interface Nav { node: unknown; key: unknown; matched: number }

/** Follows a path through the document; stops at the deepest existing node. */
export function navigate(src: Source, p: JPath): Nav {
  let node: unknown = src.doc.contents;
  let key: unknown = undefined;
  let i = 0;
  for (; i < p.length; i++) {
    if (isAlias(node)) node = node.resolve(src.doc);
    const seg = p[i];
    if (isMap(node)) {
      const pair = node.items.find((it) => keyText(it.key) === String(seg));
      if (!pair) break;
      key = pair.key;
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(String(seg)) && Number(seg) < node.items.length) {
      key = undefined;
      node = node.items[Number(seg)];
    } else break;
  }
  return { node, key, matched: i };
}

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

/** Turns a dotted key into a document path; keys that themselves contain dots (sweep keys) match greedily. */
export function dottedToPath(src: Source, dotted: string): JPath | undefined {
  const parts = dotted.split('.');
  const out: JPath = [];
  let node: unknown = src.doc.contents;
  let i = 0;
  while (i < parts.length) {
    if (isAlias(node)) node = node.resolve(src.doc);
    if (isMap(node)) {
      let found = false;
      for (let k = parts.length; k > i; k--) {
        const key = parts.slice(i, k).join('.');
        const pair = node.items.find((it) => keyText(it.key) === key);
        if (pair) {
          out.push(key);
          node = pair.value;
          i = k;
          found = true;
          break;
        }
      }
      if (!found) return undefined;
    } else if (isSeq(node) && /^\d+$/.test(parts[i]) && Number(parts[i]) < node.items.length) {
      out.push(Number(parts[i]));
      node = node.items[Number(parts[i])];
      i++;
    } else return undefined;
  }
  return out;
}

/** The dotted-key → 1-based line/column of a value in a config text (hovers use it). */
export function locate(text: string, dottedKey: string): Span | undefined {
  const src = parseSource(text);
  const p = dottedToPath(src, dottedKey);
  if (!p) return undefined;
  return spanAt(src, p, 'value');
}

