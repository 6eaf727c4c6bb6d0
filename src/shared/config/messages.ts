// Schema validation (Ajv over CONFIG_SCHEMA) and its errors as human messages: paths as users
// write them, anyOf branches collapsed, did-you-mean for unknown keys and enum values.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { CONFIG_SCHEMA, schemaAt, schemaKeys, type JsonSchema } from './schema';
import type { Issue, JPath, Obj } from './types';

/** A path as users write it: `training.lr`, `training.no_decay[0]`, `sweep['training.lr'][1]`. */
export function display(p: JPath): string {
  let s = '';
  for (const seg of p) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (seg.includes('.') || seg === '') s += `['${seg}']`;
    else s += s ? `.${seg}` : seg;
  }
  return s || 'config';
}

const q = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

function listOr(parts: string[]): string {
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string '${v}'`;
  return String(v);
}

function typeWord(t: string): string {
  return (
    { number: 'a number', integer: 'an integer', string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list', null: 'null' }[t] ?? t
  );
}

function describeSchema(s: JsonSchema): string[] {
  if (s.const !== undefined) return [q(s.const)];
  if (s.enum) return s.enum.map(q);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  return types.map((t) => {
    let w = typeWord(t);
    if (t === 'integer' || t === 'number') {
      if (s.minimum !== undefined) w += ` >= ${s.minimum}`;
      if (s.exclusiveMinimum !== undefined) w += ` > ${s.exclusiveMinimum}`;
    }
    if (t === 'object' && s.required?.length) w += ` with ${s.required.map(q).join(', ')}`;
    return w;
  });
}

function jsType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function branchAcceptsType(b: JsonSchema, v: unknown): boolean {
  const vt = jsType(v);
  const types: string[] = b.type ? (Array.isArray(b.type) ? b.type : [b.type]) : b.const !== undefined ? [jsType(b.const)] : b.enum ? b.enum.map(jsType) : [];
  return types.some((t) => t === vt || (t === 'integer' && vt === 'number'));
}

// Did-you-mean: edit distance on normalized names, plus common names from other trainers.
const ALIASES: Record<string, string[]> = {
  learning_rate: ['lr'],
  learningrate: ['lr'],
  rate: ['lr'],
  num_epochs: ['epochs'],
  num_train_epochs: ['epochs'],
  epoch: ['epochs'],
  n_epochs: ['epochs'],
  batch: ['batch_size'],
  batchsize: ['batch_size'],
  per_device_train_batch_size: ['batch_size'],
  train_batch_size: ['batch_size'],
  gradient_accumulation_steps: ['gradient_accumulation'],
  grad_accum: ['gradient_accumulation'],
  accumulation: ['gradient_accumulation'],
  max_grad_norm: ['grad_clip'],
  clip_grad_norm: ['grad_clip'],
  gradient_clipping: ['grad_clip'],
  clip: ['grad_clip'],
  lr_scheduler: ['schedule'],
  lr_scheduler_type: ['schedule'],
  scheduler: ['schedule'],
  lr_schedule: ['schedule'],
  warmup: ['warmup_ratio'],
  num_warmup_steps: ['warmup_steps'],
  optim: ['optimizer'],
  optimiser: ['optimizer'],
  beta1: ['adam_beta1'],
  beta2: ['adam_beta2'],
  eps: ['adam_eps'],
  epsilon: ['adam_eps'],
  adam_epsilon: ['adam_eps'],
  steps: ['max_steps'],
  total_steps: ['max_steps'],
  early_stop: ['early_stopping'],
  max_seq_length: ['max_length'],
  max_len: ['max_length'],
  seq_len: ['max_length'],
  max_seq_len: ['max_length'],
  dev: ['validation'],
  valid: ['validation'],
  val: ['validation'],
  eval: ['evaluation', 'validation'],
  val_split: ['validation_split'],
  train_file: ['train'],
  training: ['train'],
  validation_file: ['validation'],
  test_file: ['test'],
  text_column: ['text_field'],
  label_column: ['label_field'],
  sep: ['delimiter'],
  separator: ['delimiter'],
  tagging_scheme: ['scheme'],
  model_name_or_path: ['pretrained'],
  model_name: ['pretrained'],
  model_path: ['pretrained'],
  path: ['pretrained'],
  scratch: ['from_scratch'],
  num_layers: ['layers'],
  num_hidden_layers: ['layers'],
  hidden_size: ['hidden'],
  num_attention_heads: ['heads'],
  num_heads: ['heads'],
  intermediate_size: ['intermediate'],
  max_position_embeddings: ['max_positions'],
  hidden_dropout_prob: ['dropout'],
  attention_probs_dropout_prob: ['attention_dropout'],
  lora_r: ['rank'],
  r: ['rank'],
  lora_alpha: ['alpha'],
  lora_dropout: ['dropout'],
  target_modules: ['targets'],
  eval_steps: ['every'],
  evaluation_strategy: ['every'],
  metric_for_best_model: ['metric'],
  random_seed: ['seed'],
  num_threads: ['threads'],
  gpu: ['cuda'],
  ner: ['token-classification'],
  token_cls: ['token-classification'],
  text_classification: ['sequence-classification'],
  classification: ['sequence-classification'],
};

const norm = (s: string) => s.toLowerCase().replace(/[-\s]/g, '_');

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[j] = Math.min(d[j], prev); // transposition (approximate)
      prev = cur;
    }
  }
  return d[b.length];
}

/** The candidate closest to `word`, if close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = norm(word);
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  const consider = (c: string, form: string) => {
    const dist = editDistance(w, form);
    if (dist <= limit && dist < bestD) {
      best = c;
      bestD = dist;
    }
  };
  for (const c of candidates) consider(c, norm(c));
  for (const [alias, targets] of Object.entries(ALIASES)) for (const t of targets) if (candidates.includes(t)) consider(t, alias);
  return best;
}

// Ajv compiles CONFIG_SCHEMA (and a sweep key's sub-schema) on first use and keeps the validator.
let ajv: Ajv | undefined;
let validateRoot: ValidateFunction | undefined;
const subValidators = new Map<string, ValidateFunction>();

function getAjv(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
    ajv.addVocabulary(['enumDescriptions', 'markdownDescription', 'patternErrorMessage']);
  }
  return ajv;
}

function rootValidator(): ValidateFunction {
  return (validateRoot ??= getAjv().compile(CONFIG_SCHEMA));
}

function subValidator(dotted: string, s: JsonSchema): ValidateFunction {
  let v = subValidators.get(dotted);
  if (!v) subValidators.set(dotted, (v = getAjv().compile(s)));
  return v;
}

/** Validates `data` against the whole schema, or against the schema of the dotted `key` (a sweep value); issues at `base` + the path inside `data`. */
export function checkSchema(data: unknown, base: JPath = [], key?: string): Issue[] {
  const v = key === undefined ? rootValidator() : subValidator(key, schemaAt(key)!);
  return v(data) ? [] : schemaIssues(v.errors ?? [], data, base);
}

function pointerToPath(pointer: string, data: unknown): JPath {
  if (!pointer) return [];
  const out: JPath = [];
  let cur: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Obj)[seg] : undefined;
    }
  }
  return out;
}

/** Ajv errors → human issues: anyOf collapsed (or narrowed to the branch a mapping belongs to), type errors shadowing their siblings. */
export function schemaIssues(errors: ErrorObject[], data: unknown, base: JPath): Issue[] {
  const suppressed: string[] = [];
  const collapsed = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const branches = e.schema as JsonSchema[];
    let keep = -1;
    if (e.data !== null && typeof e.data === 'object') {
      const matching = branches.flatMap((b, i) => (branchAcceptsType(b, e.data) ? [i] : []));
      if (matching.length === 1) keep = matching[0];
    }
    branches.forEach((_, i) => i !== keep && suppressed.push(`${e.schemaPath}/${i}/`));
    if (keep < 0) collapsed.add(e);
  }
  let kept = errors.filter((e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf' ? collapsed.has(e) : !suppressed.some((s) => e.schemaPath.startsWith(s))));
  const typed = new Set(kept.filter((e) => e.keyword === 'type' || collapsed.has(e)).map((e) => e.instancePath));
  kept = kept.filter((e) => e.keyword === 'type' || collapsed.has(e) || !typed.has(e.instancePath));

  const out: Issue[] = [];
  for (const e of kept) {
    const p = [...base, ...pointerToPath(e.instancePath, data)];
    const name = display(p);
    const s = e.parentSchema as JsonSchema | undefined;
    const got = describeValue(e.data);
    const add = (message: string, at: 'value' | 'key' = 'value', where: JPath = p) => out.push({ path: where, at, message, severity: 'error' });
    switch (e.keyword) {
      case 'type': {
        const types = String((e.params as { type: string | string[] }).type).split(',');
        const hint = e.data === null && types.includes('object') ? ' (write {} to use the defaults)' : '';
        add(`${name} must be ${listOr(types.map(typeWord))}, got ${got}${hint}`);
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        const sub = s?.properties?.[missing];
        const hint = sub?.enum ? ` (one of ${sub.enum.map(q).join(', ')})` : '';
        add(`missing required key '${missing}'${p.length ? ` in '${name}'` : ''}${hint}`, 'key');
        break;
      }
      case 'additionalProperties': {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        const known = Object.keys(s?.properties ?? {});
        let hint = '';
        const near = closest(extra, known);
        if (near) hint = ` — did you mean '${near}'?`;
        else {
          const elsewhere = schemaKeys().filter((k) => {
            const last = k.split('.').pop()!;
            return last === extra || (Object.hasOwn(ALIASES, norm(extra)) ? ALIASES[norm(extra)] : []).includes(last);
          });
          if (elsewhere.length) hint = ` — did you mean '${elsewhere[0]}'?`;
          else if (known.length) hint = ` (known keys: ${known.join(', ')})`;
        }
        add(`unknown key '${extra}'${hint}`, 'key', [...p, extra]);
        break;
      }
      case 'enum': {
        const allowed = s?.enum ?? [];
        const near = typeof e.data === 'string' ? closest(e.data, allowed.map(String)) : undefined;
        add(`${name} must be one of ${allowed.map(q).join(', ')}, got ${q(e.data)}${near ? ` — did you mean '${near}'?` : ''}`);
        break;
      }
      case 'const':
        add(`${name} must be ${q((e.params as { allowedValue: unknown }).allowedValue)}, got ${q(e.data)}`);
        break;
      case 'anyOf':
      case 'oneOf':
        add(`${name} must be ${listOr((e.schema as JsonSchema[]).flatMap(describeSchema))}, got ${describeValue(e.data)}`);
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const op = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
        add(`${name} must be ${op} ${(e.params as { limit: number }).limit}, got ${e.data}`);
        break;
      }
      case 'minItems': {
        const n = (e.params as { limit: number }).limit;
        add(n === 1 ? `${name} must not be an empty list` : `${name} must have at least ${n} items`);
        break;
      }
      case 'minLength':
        add(`${name} must not be empty`);
        break;
      case 'pattern':
        add(`${name} ${s?.patternErrorMessage ?? `must match ${s?.pattern}`}, got ${q(e.data)}`);
        break;
      default:
        add(`${name} ${e.message ?? 'is invalid'}`);
    }
  }
  return out;
}

const ALL_KEYS = () => schemaKeys();

/** Checks a dotted key names a config key that can be swept/overridden; returns a message when not. */
export function badKey(key: string, what: string): string | undefined {
  if (key === 'sweep' || key.startsWith('sweep.')) return `${what} '${key}' cannot change the sweep itself`;
  if (schemaAt(key)) return undefined;
  const all = ALL_KEYS();
  const parts = key.split('.');
  // A typo in the last part is looked for among its siblings first, where aliases apply
  // ('training.lerning_rate' → 'training.lr', not the nearer full key 'training.logging_steps').
  const parent = parts.slice(0, -1).join('.');
  const siblings = parent
    ? all.filter((k) => k.startsWith(`${parent}.`) && !k.slice(parent.length + 1).includes('.')).map((k) => k.slice(parent.length + 1))
    : [];
  const leaf = siblings.length ? closest(parts[parts.length - 1], siblings) : undefined;
  let near = leaf ? `${parent}.${leaf}` : closest(key, all);
  if (!near) {
    const last = closest(parts[parts.length - 1], [...new Set(all.map((k) => k.split('.').pop()!))]);
    if (last) near = all.find((k) => k === [...parts.slice(0, -1), last].join('.')) ?? all.find((k) => k.endsWith(`.${last}`));
  }
  return `${what} '${key}' is not a config key${near ? ` — did you mean '${near}'?` : ''}`;
}
