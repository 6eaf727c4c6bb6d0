// Sweeps: the `sweep:` block's keys and values checked against the schema, and the grid of runs
// (one per combination of values) with their overrides and names.

import { badKey, checkSchema } from './messages';
import { overrideValueText } from './overrides';
import { clone, isObj, type Issue, type Obj, type ResolvedConfig } from './types';

/** Sweep keys that name no config key, and sweep values the key's schema rejects. */
export function sweepIssues(raw: Obj): Issue[] {
  const out: Issue[] = [];
  if (!isObj(raw.sweep)) return out;
  for (const [key, values] of Object.entries(raw.sweep)) {
    const bad = badKey(key, 'sweep key');
    if (bad) {
      out.push({ path: ['sweep', key], at: 'key', message: bad, severity: 'error' });
      continue;
    }
    if (!Array.isArray(values)) continue; // the schema reports it
    (values as unknown[]).forEach((value, i) => out.push(...checkSchema(value, ['sweep', key, i], key)));
  }
  return out;
}

export interface SweepRun {
  overrides: Record<string, unknown>;
  name: string;
  /** Index of each key's value, in key order. */ index: number[];
}

/** The grid over the sweep values: one entry per combination (first key outermost), named like "conll-bert[lr=3e-05]". */
export function sweepGrid(c: ResolvedConfig): SweepRun[] {
  const sweep = c.sweep ?? {};
  const keys = Object.keys(sweep);
  if (!keys.length) return [{ overrides: {}, name: c.name, index: [] }];
  const lastSegs = keys.map((k) => k.split('.').pop()!);
  const labels = keys.map((k, i) => (lastSegs.filter((s) => s === lastSegs[i]).length > 1 ? k : lastSegs[i]));

  let combos: { overrides: Record<string, unknown>; index: number[] }[] = [{ overrides: {}, index: [] }];
  keys.forEach((k) => {
    combos = combos.flatMap((co) => sweep[k].map((v, i) => ({ overrides: { ...co.overrides, [k]: clone(v) }, index: [...co.index, i] })));
  });
  return combos.map((co) => ({
    overrides: co.overrides,
    name: `${c.name}[${keys.map((k, i) => `${labels[i]}=${overrideValueText(co.overrides[k])}`).join(',')}]`,
    index: co.index,
  }));
}
