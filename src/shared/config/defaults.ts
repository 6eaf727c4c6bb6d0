// Defaults: a schema-valid raw config → the camelCase ResolvedConfig, with schema defaults filled in
// and paths made absolute against the config's folder.

import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG_SCHEMA, type JsonSchema } from './schema';
import { clone, isObj, type Obj, type PeftConfig, type ResolvedConfig, type Task } from './types';

/** The value of `key` in a section, or the schema default. */
function pick<T>(section: unknown, schema: JsonSchema, key: string): T {
  const v = isObj(section) ? section[key] : undefined;
  if (v !== undefined) return v as T;
  return clone(schema.properties?.[key]?.default) as T;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The run name derived from a config file name. */
export function defaultRunName(file: string): string {
  const base = path.basename(file);
  const m = /^(.*)\.finetune\.(ya?ml|json)$/i.exec(base);
  return m ? m[1] : base.replace(/\.(ya?ml|json)$/i, '');
}

export function resolveConfig(raw: Obj, file: string): ResolvedConfig {
  const S = CONFIG_SCHEMA.properties!;
  const configPath = path.resolve(file);
  const baseDir = path.dirname(configPath);
  const abs = (p: unknown) => (typeof p === 'string' ? path.resolve(baseDir, expandHome(p)) : undefined);

  const m = (raw.model ?? {}) as Obj;
  const mS = S.model;
  const fsS = mS.properties!.from_scratch;
  let fromScratch: ResolvedConfig['model']['fromScratch'];
  if (isObj(m.from_scratch)) {
    const f = m.from_scratch;
    const hidden = pick<number>(f, fsS, 'hidden');
    fromScratch = {
      layers: pick(f, fsS, 'layers'),
      hidden,
      heads: pick(f, fsS, 'heads'),
      intermediate: (f.intermediate as number | undefined) ?? 4 * hidden,
      maxPositions: pick(f, fsS, 'max_positions'),
      minFrequency: pick(f, fsS, 'min_frequency'),
      lowercase: pick(f, fsS, 'lowercase'),
    };
  }
  let peft: PeftConfig;
  const rawPeft = pick<unknown>(m, mS, 'peft');
  if (isObj(rawPeft)) {
    const loraS = mS.properties!.peft.anyOf![1].properties!.lora;
    const l = rawPeft.lora;
    peft = { kind: 'lora', rank: pick(l, loraS, 'rank'), alpha: pick(l, loraS, 'alpha'), dropout: pick(l, loraS, 'dropout'), targets: pick(l, loraS, 'targets') };
  } else peft = { kind: rawPeft as 'none' | 'head-only' };

  const d = raw.data as Obj;
  const dS = S.data;
  const t = (raw.training ?? {}) as Obj;
  const tS = S.training;
  const esS = tS.properties!.early_stopping;
  const es = t.early_stopping;
  const ev = (raw.evaluation ?? {}) as Obj;
  const eS = S.evaluation;

  const c: ResolvedConfig = {
    name: typeof raw.name === 'string' ? raw.name : defaultRunName(file),
    task: raw.task as Task,
    configPath,
    baseDir,
    model: {
      pretrained: abs(m.pretrained),
      fromScratch,
      dropout: pick(m, mS, 'dropout'),
      attentionDropout: pick(m, mS, 'attention_dropout'),
      peft,
    },
    data: {
      format: d.format as ResolvedConfig['data']['format'],
      train: abs(d.train)!,
      validation: abs(d.validation),
      test: abs(d.test),
      validationSplit: d.validation_split as number | undefined,
      tagColumn: pick(d, dS, 'tag_column'),
      scheme: pick(d, dS, 'scheme'),
      textField: pick(d, dS, 'text_field'),
      labelField: pick(d, dS, 'label_field'),
      delimiter: pick(d, dS, 'delimiter'),
      maxLength: pick(d, dS, 'max_length'),
      overflow: pick(d, dS, 'overflow'),
      // The default overlap shrinks for short sequences so that windows always advance.
      stride: (d.stride as number | undefined) ?? Math.min(dS.properties!.stride.default as number, Math.max(0, Math.floor((pick<number>(d, dS, 'max_length') - 2) / 2))),
    },
    training: {
      epochs: pick(t, tS, 'epochs'),
      maxSteps: t.max_steps as number | undefined,
      batchSize: pick(t, tS, 'batch_size'),
      gradientAccumulation: pick(t, tS, 'gradient_accumulation'),
      optimizer: pick(t, tS, 'optimizer'),
      lr: pick(t, tS, 'lr'),
      weightDecay: pick(t, tS, 'weight_decay'),
      adamBeta1: pick(t, tS, 'adam_beta1'),
      adamBeta2: pick(t, tS, 'adam_beta2'),
      adamEps: pick(t, tS, 'adam_eps'),
      momentum: pick(t, tS, 'momentum'),
      noDecay: pick(t, tS, 'no_decay'),
      warmupRatio: pick(t, tS, 'warmup_ratio'),
      warmupSteps: t.warmup_steps as number | undefined,
      schedule: pick(t, tS, 'schedule'),
      gradClip: pick(t, tS, 'grad_clip'),
      stepsPerRun: pick(t, tS, 'steps_per_run'),
      earlyStopping: isObj(es)
        ? { metric: pick(es, esS, 'metric'), mode: pick(es, esS, 'mode'), patience: pick(es, esS, 'patience'), minDelta: pick(es, esS, 'min_delta') }
        : undefined,
    },
    evaluation: { every: pick(ev, eS, 'every'), metric: pick(ev, eS, 'metric'), mode: pick(ev, eS, 'mode'), maxMisclassified: pick(ev, eS, 'max_misclassified') },
    device: pick(raw, CONFIG_SCHEMA, 'device'),
    threads: pick(raw, CONFIG_SCHEMA, 'threads'),
    seed: pick(raw, CONFIG_SCHEMA, 'seed'),
    sweep: isObj(raw.sweep) ? (clone(raw.sweep) as Record<string, unknown[]>) : undefined,
  };
  return dropUndefined(c);
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

