// Sweeps: the `sweep:` block. Its keys are the settings (method, budget, metric, mode, seed,
// early_termination, concurrency, executor, slurm) and the swept config keys, each a list of values (today's grid shape) or a
// distribution ({loguniform: [1e-5, 1e-3]}, {uniform: [a, b]}, {int: [a, b]}, {choice: [...]}).
// This module checks those keys and values against the schema, resolves the block into a
// SweepSpec, and expands a grid into its runs. Sampling (random, TPE) and early termination live
// in src/shared/sweep/.

import { directionOf, TASK_METRICS, type MetricName } from '../metrics';
import { badKey, checkSchema } from './messages';
import { schemaAt } from './schema';
import { formatNumber, overrideValueText } from './overrides';
import {
  clone,
  isObj,
  type Distribution,
  type EarlyTermination,
  type Issue,
  type SlurmSettings,
  type JPath,
  type Obj,
  type ResolvedConfig,
  type SweepSpec,
} from './types';

/** Keys of the sweep block that configure the sweep rather than name a swept config key. */
const SETTINGS = new Set(['method', 'budget', 'metric', 'mode', 'early_termination', 'concurrency', 'executor', 'slurm']);
const KINDS = ['choice', 'uniform', 'loguniform', 'int'] as const;

/** `seed` is the sampler's seed when it is an integer; a list or a distribution sweeps the config's seed. */
const isSetting = (key: string, value: unknown) => SETTINGS.has(key) || (key === 'seed' && typeof value === 'number');

/** The swept keys of a raw sweep block, in written order. */
export function sweptEntries(sweep: Obj): [string, unknown][] {
  return Object.entries(sweep).filter(([k, v]) => !isSetting(k, v));
}

/** Sweep keys that name no config key, and sweep values (or distribution bounds) the key's schema rejects. */
export function sweepIssues(raw: Obj): Issue[] {
  const out: Issue[] = [];
  if (!isObj(raw.sweep)) return out;
  const sweep = raw.sweep;
  const err = (path: JPath, message: string, at: 'key' | 'value' = 'value') => out.push({ path, at, message, severity: 'error' });
  const method = typeof sweep.method === 'string' ? sweep.method : 'grid';
  const entries = sweptEntries(sweep);
  for (const [key, value] of entries) {
    const bad = badKey(key, 'sweep key');
    if (bad) {
      err(['sweep', key], key.includes('.') ? bad : `${bad} (the sweep's own settings: ${[...SETTINGS, 'seed'].join(', ')})`, 'key');
      continue;
    }
    if (Array.isArray(value)) value.forEach((v, i) => out.push(...checkSchema(v, ['sweep', key, i], key)));
    else if (isObj(value)) out.push(...distributionIssues(key, value, method));
  }
  if (!entries.length) err(['sweep'], 'the sweep names no config key to sweep (e.g. training.lr: [3.0e-5, 5.0e-5])');
  if ((method === 'random' || method === 'tpe') && sweep.budget === undefined)
    err(['sweep', 'method'], `a ${method} sweep needs a budget: the number of trials (e.g. budget: 20)`);
  const task = raw.task as keyof typeof TASK_METRICS;
  if (typeof sweep.metric === 'string' && TASK_METRICS[task] && !(TASK_METRICS[task] as readonly string[]).includes(sweep.metric))
    err(['sweep', 'metric'], `sweep.metric '${sweep.metric}' is not reported for ${task} (one of ${TASK_METRICS[task].join(', ')})`);
  return out;
}

function distributionIssues(key: string, d: Obj, method: string): Issue[] {
  const out: Issue[] = [];
  const at = ['sweep', key];
  const err = (path: JPath, message: string) => out.push({ path, at: 'value', message, severity: 'error' });
  const kinds = KINDS.filter((k) => d[k] !== undefined);
  if (kinds.length !== 1) {
    err(at, `sweep key '${key}' needs exactly one of ${KINDS.join(', ')}${kinds.length ? `, got ${kinds.join(' and ')}` : ''}`);
    return out;
  }
  const kind = kinds[0];
  const v = d[kind];
  if (!Array.isArray(v)) return out; // the schema reports it
  if (d.log !== undefined && kind !== 'int') err([...at, 'log'], `'log' goes with int (${kind === 'uniform' ? 'use loguniform' : `${kind} has none`})`);
  if (kind === 'choice') {
    v.forEach((x, i) => out.push(...checkSchema(x, [...at, kind, i], key)));
    return out;
  }
  if (v.length !== 2 || !v.every((x) => typeof x === 'number')) {
    err([...at, kind], `${kind} takes [low, high], two numbers`);
    return out;
  }
  const [lo, hi] = v;
  if (kind !== 'int' && schemaAt(key)?.type === 'integer') {
    err([...at, kind], `'${key}' takes integers: use {int: [${lo}, ${hi}]} instead of ${kind}`);
    return out;
  }
  if (kind === 'int' ? lo > hi : lo >= hi) err([...at, kind], `${kind} needs low ${kind === 'int' ? '<=' : '<'} high, got [${lo}, ${hi}]`);
  if (kind === 'int' && d.log === true && lo < 1) err([...at, kind], `int with log needs low >= 1, got ${lo}`);
  // The bounds are values of the key: its schema checks their range.
  out.push(...checkSchema(lo, [...at, kind, 0], key), ...checkSchema(hi, [...at, kind, 1], key));
  if (method === 'grid' && kind !== 'int') err([...at, kind], `a grid sweep needs lists of values; ${kind} ranges are for method: random or tpe`);
  return out;
}

function distributionOf(v: unknown): Distribution {
  if (Array.isArray(v)) return { kind: 'choice', values: clone(v) };
  const d = v as Obj;
  if (Array.isArray(d.choice)) return { kind: 'choice', values: clone(d.choice) };
  if (Array.isArray(d.uniform)) return { kind: 'uniform', low: d.uniform[0] as number, high: d.uniform[1] as number };
  if (Array.isArray(d.loguniform)) return { kind: 'loguniform', low: d.loguniform[0] as number, high: d.loguniform[1] as number };
  const i = d.int as number[];
  return { kind: 'int', low: i[0], high: i[1], log: d.log === true };
}

function earlyTermination(v: unknown): EarlyTermination | undefined {
  if (!isObj(v)) return undefined;
  const n = (k: string, dflt: number) => (typeof v[k] === 'number' ? v[k] : dflt);
  if (v.type === 'asha')
    return {
      type: 'asha',
      minSteps: n('min_steps', 1),
      reductionFactor: n('reduction_factor', 4),
      minEarlyStoppingRate: n('min_early_stopping_rate', 0),
      bootstrapCount: n('bootstrap_count', 0),
    };
  return {
    type: 'median',
    startupTrials: n('startup_trials', 5),
    warmupSteps: n('warmup_steps', 0),
    intervalSteps: n('interval_steps', 1),
    minTrials: n('min_trials', 1),
  };
}

/** The resolved sweep block (schema-valid raw block; `done` holds the resolved evaluation and seed). */
export function resolveSweep(v: unknown, done: Obj): SweepSpec | undefined {
  if (!isObj(v)) return undefined;
  const evaluation = done.evaluation as { metric: MetricName };
  const metric = (typeof v.metric === 'string' ? v.metric : evaluation.metric) as MetricName;
  return {
    method: (v.method as SweepSpec['method'] | undefined) ?? 'grid',
    parameters: Object.fromEntries(sweptEntries(v).map(([k, x]) => [k, distributionOf(x)])),
    ...(typeof v.budget === 'number' ? { budget: v.budget } : {}),
    metric,
    mode: (v.mode as 'max' | 'min' | undefined) ?? directionOf(metric),
    seed: typeof v.seed === 'number' ? v.seed : (done.seed as number),
    ...(v.early_termination !== undefined ? { earlyTermination: earlyTermination(v.early_termination) } : {}),
    ...(typeof v.concurrency === 'number' ? { concurrency: v.concurrency } : {}),
    // Only when written: a sweep without them resolves (and hashes) as before they existed.
    ...(v.executor === 'slurm' || v.executor === 'local' ? { executor: v.executor } : {}),
    ...(v.slurm !== undefined ? { slurm: slurmSettings(v.slurm) } : {}),
  };
}

/** `sweep.slurm` with its defaults (the schema's: 4 CPUs, no GPU, 4 jobs at once, polled every 5 s). */
export function slurmSettings(v: unknown): SlurmSettings {
  const o = isObj(v) ? v : {};
  const str = (k: string) => (typeof o[k] === 'string' ? { [k]: o[k] } : {});
  const num = (k: string, dflt: number) => (typeof o[k] === 'number' ? o[k] : dflt);
  const lines = (k: string) => (Array.isArray(o[k]) ? o[k].filter((x): x is string => typeof x === 'string') : []);
  return {
    ...str('partition'),
    ...str('time'),
    ...str('mem'),
    cpus: num('cpus', 4),
    gpus: num('gpus', 0),
    parallel: num('parallel', 4),
    pollSeconds: num('poll_seconds', 5),
    extra: lines('extra'),
    setup: lines('setup'),
  };
}

export interface SweepRun {
  overrides: Record<string, unknown>;
  name: string;
  /** Where each key's value is written in the config (for messages), in key order. */
  origins: JPath[];
}

/** The values a grid takes for one key (a list, a choice, or every integer of an int range) and where each is written. */
function gridValues(key: string, d: Distribution, written: unknown): { value: unknown; origin: JPath }[] {
  const listPath: JPath = Array.isArray(written) ? ['sweep', key] : ['sweep', key, 'choice'];
  if (d.kind === 'choice') return d.values.map((value, i) => ({ value, origin: [...listPath, i] }));
  if (d.kind === 'int') return Array.from({ length: d.high - d.low + 1 }, (_, i) => ({ value: d.low + i, origin: ['sweep', key, 'int'] }));
  throw new Error(`a grid sweep cannot enumerate ${d.kind} '${key}'`);
}

/** A trial's name: the config's name and its values, like "conll-bert[lr=3e-05,batch_size=16]" (drawn floats to 4 significant digits). */
export function trialName(c: ResolvedConfig, overrides: Record<string, unknown>, exact = false): string {
  const keys = Object.keys(overrides);
  const lastSegs = keys.map((k) => k.split('.').pop()!);
  const labels = keys.map((k, i) => (lastSegs.filter((s) => s === lastSegs[i]).length > 1 ? k : lastSegs[i]));
  const text = (v: unknown) => (!exact && typeof v === 'number' && !Number.isInteger(v) ? formatNumber(Number(v.toPrecision(4))) : overrideValueText(v));
  return `${c.name}[${keys.map((k, i) => `${labels[i]}=${text(overrides[k])}`).join(',')}]`;
}

/**
 * The grid over the sweep values: one entry per combination (first key outermost), named like
 * "conll-bert[lr=3e-05]", at most `budget` of them. `written` is the raw sweep block (for the
 * origins of values; without it they point at the key).
 */
export function sweepGrid(c: ResolvedConfig, written?: Obj): SweepRun[] {
  const params = c.sweep?.parameters ?? {};
  const keys = Object.keys(params);
  if (!keys.length) return [{ overrides: {}, name: c.name, origins: [] }];
  let combos: { overrides: Record<string, unknown>; origins: JPath[] }[] = [{ overrides: {}, origins: [] }];
  for (const k of keys) {
    const values = gridValues(k, params[k], written?.[k]);
    combos = combos.flatMap((co) => values.map((v) => ({ overrides: { ...co.overrides, [k]: clone(v.value) }, origins: [...co.origins, v.origin] })));
  }
  const runs = combos.map((co) => ({ ...co, name: trialName(c, co.overrides, true) }));
  return c.sweep?.budget !== undefined ? runs.slice(0, c.sweep.budget) : runs;
}

/** How many runs a sweep makes: the grid's size (capped by its budget), or the budget. */
export function sweepSize(c: ResolvedConfig): number {
  if (!c.sweep) return 1;
  if (c.sweep.method !== 'grid') return c.sweep.budget ?? 1;
  const n = Object.values(c.sweep.parameters).reduce((n, d) => n * (d.kind === 'choice' ? d.values.length : d.kind === 'int' ? d.high - d.low + 1 : 1), 1);
  return Math.min(n, c.sweep.budget ?? n);
}
