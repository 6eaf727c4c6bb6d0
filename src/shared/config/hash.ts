// The config hash that run history uses to tell configs apart.

import { createHash } from 'node:crypto';
import { isObj, type ResolvedConfig } from './types';

function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * A stable hash of the resolved config (sorted-keys JSON, sha256 hex) for run history. It covers
 * what is trained and how; `name`, `configPath` and `baseDir` are left out, so renaming or
 * re-keying a config keeps its hash.
 */
export function configHash(c: ResolvedConfig): string {
  const { name: _n, configPath: _p, baseDir: _b, ...rest } = c;
  return createHash('sha256').update(sortedJson(rest)).digest('hex');
}
