// Which config key is at a position of a config text, and where that key's value lives in a run's
// resolved (camelCase) config. YAML and JSON are both parsed with the YAML parser (JSON is YAML).

import * as path from 'node:path';
import { resolvedPath } from '../../shared/config/defaults';
import { schemaAt } from '../../shared/config/schema';

// The key lookup is the config module's document walker (the same one that positions errors).
export { keyAtOffset, type KeyAt } from '../../shared/config/source';
// Where a key's value lives in a resolved config is the defaults module's business.
export { resolvedPath };

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
