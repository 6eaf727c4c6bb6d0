// Which config key is at a position of a config text, and where that key's value lives in a run's
// resolved (camelCase) config. YAML and JSON are both parsed with the YAML parser (JSON is YAML).

import * as path from 'node:path';
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { schemaAt } from '../../shared/config/schema';

export interface KeyAt {
  /** Dotted snake_case key as users write it, e.g. "training.batch_size"; a key under `sweep:` is the swept key. */
  key: string;
  /** The path in the document (sweep keys stay one segment). */
  path: (string | number)[];
  /** On the key itself or on its value. */
  on: 'key' | 'value';
  /** 0-based offsets of what the cursor is on. */
  start: number;
  end: number;
  /** True when the key sits in the `sweep:` block. */
  inSweep: boolean;
}

const within = (r: readonly number[] | null | undefined, off: number) => !!r && off >= r[0] && off <= r[1];

/** The config key at a 0-based offset of `text`, or undefined (comments, blank space, parse failure). */
export function keyAtOffset(text: string, offset: number): KeyAt | undefined {
  let doc;
  try {
    doc = parseDocument(text, { keepSourceTokens: false });
  } catch {
    return undefined;
  }
  const segs: (string | number)[] = [];
  let node: unknown = doc.contents;
  let found: KeyAt | undefined;
  for (let depth = 0; depth < 32 && node; depth++) {
    if (isMap(node)) {
      let next: unknown;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const k = pair.key as YamlNode | null;
        const v = pair.value as YamlNode | null;
        const name = isScalar(k) ? String(k.value) : undefined;
        if (name === undefined) continue;
        if (k && within(k.range, offset) && offset < (k.range?.[1] ?? 0) + 1) {
          segs.push(name);
          found = { key: '', path: [...segs], on: 'key', start: k.range![0], end: k.range![1], inSweep: false };
          next = undefined;
          break;
        }
        if (v && within(v.range, offset)) {
          segs.push(name);
          if (isScalar(v)) {
            found = { key: '', path: [...segs], on: 'value', start: v.range![0], end: v.range![1], inSweep: false };
            next = undefined;
          } else next = v;
          break;
        }
      }
      if (found || next === undefined) break;
      node = next;
    } else if (isSeq(node)) {
      let next: unknown;
      node.items.forEach((item, i) => {
        const it = item as YamlNode | null;
        if (next === undefined && it && within(it.range, offset)) {
          segs.push(i);
          if (isScalar(it)) found = { key: '', path: [...segs], on: 'value', start: it.range![0], end: it.range![1], inSweep: false };
          else next = it;
        }
      });
      if (found || next === undefined) break;
      node = next;
    } else break;
  }
  if (!found) return undefined;
  const named = found.path.filter((s): s is string => typeof s === 'string');
  if (named[0] === 'sweep') {
    if (named.length < 2) return undefined;
    return { ...found, key: named[1], inSweep: true };
  }
  return { ...found, key: named.join('.') };
}

/** 0-based line/character (as VS Code counts) → offset in a text. */
export function offsetAt(text: string, line0: number, character0: number): number {
  let off = 0;
  for (let l = 0; l < line0; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + character0);
}

export { schemaAt };

/** Whether a key holds a value (not a section like `training`). */
export function isLeafKey(key: string): boolean {
  const s = schemaAt(key);
  if (!s) return false;
  if (key === 'model.peft' || key === 'training.early_stopping' || key === 'sweep') return key !== 'sweep';
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  return !(types.length === 1 && types[0] === 'object');
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The camelCase path in a resolved config for a snake_case key: training.batch_size → training.batchSize; model.peft.lora.rank → model.peft.rank. */
export function resolvedPath(key: string): string[] {
  const segs = key.split('.');
  if (segs[0] === 'model' && segs[1] === 'peft' && segs[2] === 'lora') return ['model', 'peft', ...segs.slice(3).map(camel)];
  return segs.map(camel);
}

/** A key's value in a resolved config (run.json `config`), undefined when absent. */
export function resolvedValue(config: unknown, key: string): unknown {
  let cur: unknown = config;
  for (const seg of resolvedPath(key)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (key === 'model.peft' && cur && typeof cur === 'object') {
    const p = cur as { kind: string; rank?: number; alpha?: number };
    return p.kind === 'lora' ? `lora r=${p.rank} α=${p.alpha}` : p.kind;
  }
  return cur;
}

/** A value as the hover shows it: numbers as written in configs, paths relative to the config folder. */
export function displayValue(v: unknown, baseDir?: string): string {
  if (v === undefined) return '(default)';
  if (v === null) return 'null';
  if (typeof v === 'number') {
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
    return String(v);
  }
  if (typeof v === 'string') {
    if (baseDir && path.isAbsolute(v)) {
      const rel = path.relative(baseDir, v);
      return rel && !rel.startsWith('..') ? rel : v;
    }
    return v;
  }
  return JSON.stringify(v);
}
