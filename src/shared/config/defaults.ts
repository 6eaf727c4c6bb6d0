// Defaults: a schema-valid raw config → the camelCase ResolvedConfig. Derived from the schema: every
// property becomes its camelCase key with the written value or the schema's `default` (absent when
// it has none); a section (an object with `properties`) is resolved recursively when written or when
// it has a default (`training: {}`), and left out otherwise (`model.from_scratch`,
// `training.early_stopping`). A new key therefore needs no edit here. The few keys whose resolved
// value is computed (paths, derived defaults, `model.peft`) are in RESOLVE below.

import * as os from 'node:os';
import * as path from 'node:path';
import { writtenHubId } from './hubid';
import { CONFIG_SCHEMA, schemaAt, type JsonSchema } from './schema';
import { resolveSweep } from './sweep';
import { clone, isObj, type Obj, type PeftConfig, type ResolvedConfig } from './types';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The run name derived from a config file name. */
export function defaultRunName(file: string): string {
  const base = path.basename(file);
  const m = /^(.*)\.finetune\.(ya?ml|json)$/i.exec(base);
  return m ? m[1] : base.replace(/\.(ya?ml|json)$/i, '');
}

export const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

interface Ctx {
  file: string;
  baseDir: string;
}

/** A written path, absolute against the config's folder (`~` is the home folder). */
const absPath = (v: unknown, _done: Obj, ctx: Ctx) => (typeof v === 'string' ? path.resolve(ctx.baseDir, expandHome(v)) : undefined);

/**
 * Keys whose resolved value is computed: (written value, the section's keys resolved so far
 * (camelCase, in schema order), context) → resolved value. Every other key is the written value or
 * the schema default.
 */
const RESOLVE: Record<string, (v: unknown, done: Obj, ctx: Ctx) => unknown> = {
  name: (v, _d, ctx) => (typeof v === 'string' ? v : defaultRunName(ctx.file)),
  // A Hub id stays as written (see hubid.ts); a local folder becomes absolute.
  'model.pretrained': (v, d, ctx) => (typeof v === 'string' && writtenHubId(v, ctx.baseDir)) || absPath(v, d, ctx),
  'model.from_scratch.intermediate': (v, done) => v ?? 4 * (done.hidden as number),
  'model.peft': (v, _d, ctx): PeftConfig => {
    const p = v ?? clone(schemaAt('model.peft')!.default);
    // `{ lora: {...} }` resolves to `{ kind: 'lora', rank, ... }` (see resolvedPath).
    if (isObj(p))
      return {
        kind: 'lora',
        ...(resolveSection(p.lora, schemaAt('model.peft.lora')!, 'model.peft.lora', ctx) as Omit<Extract<PeftConfig, { kind: 'lora' }>, 'kind'>),
      };
    return { kind: p as 'none' | 'head-only' };
  },
  // With data.hub, the split names stay as written.
  'data.train': (v, d, ctx) => (d.hub ? v : absPath(v, d, ctx)),
  'data.validation': (v, d, ctx) => (d.hub ? v : absPath(v, d, ctx)),
  'data.test': (v, d, ctx) => (d.hub ? v : absPath(v, d, ctx)),
  // Both shapes of the sweep block become one SweepSpec; its metric and seed default to the resolved evaluation.metric and seed.
  sweep: (v, done) => resolveSweep(v, done),
  // The default overlap shrinks for short sequences so that windows always advance.
  'data.stride': (v, done) => v ?? Math.min(schemaAt('data.stride')!.default as number, Math.max(0, Math.floor(((done.maxLength as number) - 2) / 2))),
};

/** A section's keys in schema order: computed, written, or the schema default; nested sections recursively. */
function resolveSection(raw: unknown, schema: JsonSchema, prefix: string, ctx: Ctx): Obj {
  const section = isObj(raw) ? raw : {};
  const out: Obj = {};
  for (const [k, sub] of Object.entries(schema.properties ?? {})) {
    const dotted = prefix ? `${prefix}.${k}` : k;
    const v = section[k];
    let value: unknown;
    if (RESOLVE[dotted]) value = RESOLVE[dotted](v, out, ctx);
    else if (sub.properties && !sub.anyOf) {
      const written = isObj(v) ? v : isObj(sub.default) ? clone(sub.default) : undefined;
      value = written && resolveSection(written, sub, dotted, ctx);
    } else value = v !== undefined ? clone(v) : clone(sub.default);
    out[camel(k)] = value;
  }
  return out;
}

export function resolveConfig(raw: Obj, file: string): ResolvedConfig {
  const configPath = path.resolve(file);
  const baseDir = path.dirname(configPath);
  const { name, task, ...rest } = resolveSection(raw, CONFIG_SCHEMA, '', { file, baseDir });
  return dropUndefined({ name, task, configPath, baseDir, ...rest }) as unknown as ResolvedConfig;
}

/** The camelCase path in a resolved config for a snake_case key: training.batch_size → training.batchSize; model.peft.lora.rank → model.peft.rank. */
export function resolvedPath(key: string): string[] {
  const segs = key.split('.');
  if (segs[0] === 'model' && segs[1] === 'peft' && segs[2] === 'lora') return ['model', 'peft', ...segs.slice(3).map(camel)];
  return segs.map(camel);
}

/** Optional fields that are absent are left out (not `undefined`), so JSON and deepEqual see the same object. */
function dropUndefined<T>(v: T): T {
  if (Array.isArray(v)) return v.map(dropUndefined) as T;
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = dropUndefined(x);
    return out as T;
  }
  return v;
}
