// A resolved config back in the keys a config file is written with. Browser-safe (no Node
// built-ins): the run identity (../run/identity.ts) uses it, and the webview may.

import { isObj } from './types';

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A resolved config (camelCase, run.json's `config`) in the keys a config file is written with:
 *  `training.batchSize` → `training.batch_size`, `model.peft: {kind: 'lora', rank}` → `{lora: {rank}}`,
 *  without the resolver's own `configPath`/`baseDir`. What the dashboard and the config diff show,
 *  so a person sees the keys they wrote. A config already in written keys comes back the same. */
export function configAsWritten(resolved: unknown): unknown {
  if (!isObj(resolved)) return resolved;
  const { configPath: _p, baseDir: _b, ...rest } = resolved;
  const walk = (v: unknown, dotted: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, dotted));
    if (!isObj(v)) return v;
    if (dotted === 'model.peft' && typeof v.kind === 'string') {
      const { kind, ...o } = v;
      return kind === 'lora' ? { lora: walk(o, 'model.peft.lora') } : kind;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), walk(x, dotted ? `${dotted}.${snake(k)}` : snake(k))]));
  };
  return walk(rest, '');
}
