// Run configurations: `*.finetune.yaml|yml|json` parsed with source positions, validated against
// CONFIG_SCHEMA (Ajv), defaults filled into a camelCase ResolvedConfig, then semantic checks.
// Every problem is reported as `<file>:<line>:<col>: <message>` pointing at the offending value
// (or at the key / mapping where a required key is missing). JSON is parsed with the same YAML
// parser (JSON is YAML), so positions work identically for both.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { CONFIG_SCHEMA, TASK_METRICS, schemaAt, type JsonSchema } from './schema';

// ---------------------------------------------------------------------------------------------
// Public types

export type Task = 'token-classification' | 'sequence-classification';

export interface ConfigError {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  severity: 'error' | 'warning';
}

export type PeftConfig = { kind: 'none' } | { kind: 'head-only' } | { kind: 'lora'; rank: number; alpha: number; dropout: number; targets: string[] };

export interface ResolvedConfig {
  name: string;
  task: Task;
  /** Absolute path of the config file. */
  configPath: string;
  /** Folder of the config; relative data/model paths resolve against it. */
  baseDir: string;
  model: {
    /** Absolute. */
    pretrained?: string;
    fromScratch?: { layers: number; hidden: number; heads: number; intermediate: number; maxPositions: number; minFrequency: number; lowercase: boolean };
    dropout: number;
    attentionDropout: number;
    peft: PeftConfig;
  };
  data: {
    format: 'conll' | 'jsonl' | 'csv';
    /** Absolute, like validation and test. */
    train: string;
    validation?: string;
    test?: string;
    validationSplit?: number;
    tagColumn: number;
    scheme: 'auto' | 'IOB1' | 'IOB2' | 'BIOES';
    textField: string;
    labelField: string;
    delimiter: string;
    maxLength: number;
    overflow: 'window' | 'truncate';
    stride: number;
  };
  training: {
    epochs: number;
    maxSteps?: number;
    batchSize: number;
    gradientAccumulation: number;
    optimizer: 'adamw' | 'sgd';
    lr: number;
    weightDecay: number;
    adamBeta1: number;
    adamBeta2: number;
    adamEps: number;
    momentum: number;
    noDecay: string[];
    warmupRatio: number;
    warmupSteps?: number;
    schedule: 'linear' | 'cosine' | 'constant';
    gradClip: number | null;
    stepsPerRun: 'auto' | number;
    earlyStopping?: { metric: string; mode: 'max' | 'min'; patience: number; minDelta: number };
  };
  evaluation: { every: 'epoch' | number; metric: string; mode: 'default' | 'strict'; maxMisclassified: number };
  device: 'auto' | 'cpu' | 'cuda';
  threads: number;
  seed: number;
  /** Dotted snake_case config key (as written, e.g. "training.lr") → values to try. */
  sweep?: Record<string, unknown[]>;
}

export function formatConfigError(e: ConfigError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.severity === 'warning' ? 'warning: ' : ''}${e.message}`;
}

export class ConfigValidationError extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map(formatConfigError).join('\n') || 'invalid config');
    this.name = 'ConfigValidationError';
  }
}

// ---------------------------------------------------------------------------------------------
// Source positions

type Seg = string | number;
type JPath = Seg[];
type Obj = Record<string, unknown>;
interface Span { line: number; column: number; endLine: number; endColumn: number }
interface YNode { range?: [number, number, number] | null; flow?: boolean }

interface Source { text: string; doc: Document; lc: LineCounter }

function parseSource(text: string): Source {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, keepSourceTokens: true });
  return { text, doc, lc };
}

function spanOf(src: Source, start: number, end: number): Span {
  const a = src.lc.linePos(start);
  const b = src.lc.linePos(Math.max(start, end));
  return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
}

function nodeSpan(src: Source, n: YNode): Span | undefined {
  if (!n.range) return undefined;
  return spanOf(src, n.range[0], n.range[1]);
}

/** The first line of a (block) node: enough to point at it without highlighting a whole section. */
function firstLineSpan(src: Source, n: YNode | null | undefined): Span {
  if (!n?.range) return { line: 1, column: 1, endLine: 1, endColumn: 1 };
  const start = n.range[0];
  const nl = src.text.indexOf('\n', start);
  const end = Math.min(n.range[1], nl < 0 ? src.text.length : nl);
  return spanOf(src, start, end);
}

const keyText = (k: unknown): string => (isScalar(k) ? String(k.value) : String(k));

interface Nav { node: unknown; key: unknown; matched: number }

/** Follows a path through the document; stops at the deepest existing node. */
function navigate(src: Source, p: JPath): Nav {
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
function spanAt(src: Source, p: JPath, at: 'value' | 'key'): Span {
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
function dottedToPath(src: Source, dotted: string): JPath | undefined {
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

// ---------------------------------------------------------------------------------------------
// Messages

/** A path as users write it: `training.lr`, `training.no_decay[0]`, `sweep['training.lr'][1]`. */
function display(p: JPath): string {
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

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string '${v}'`;
  return String(v);
}

function typeWord(t: string): string {
  return { number: 'a number', integer: 'an integer', string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list', null: 'null' }[t] ?? t;
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
  learning_rate: ['lr'], learningrate: ['lr'], rate: ['lr'],
  num_epochs: ['epochs'], num_train_epochs: ['epochs'], epoch: ['epochs'], n_epochs: ['epochs'],
  batch: ['batch_size'], batchsize: ['batch_size'], per_device_train_batch_size: ['batch_size'], train_batch_size: ['batch_size'],
  gradient_accumulation_steps: ['gradient_accumulation'], grad_accum: ['gradient_accumulation'], accumulation: ['gradient_accumulation'],
  max_grad_norm: ['grad_clip'], clip_grad_norm: ['grad_clip'], gradient_clipping: ['grad_clip'], clip: ['grad_clip'],
  lr_scheduler: ['schedule'], lr_scheduler_type: ['schedule'], scheduler: ['schedule'], lr_schedule: ['schedule'],
  warmup: ['warmup_ratio'], num_warmup_steps: ['warmup_steps'],
  optim: ['optimizer'], optimiser: ['optimizer'], beta1: ['adam_beta1'], beta2: ['adam_beta2'], eps: ['adam_eps'], epsilon: ['adam_eps'], adam_epsilon: ['adam_eps'],
  steps: ['max_steps'], total_steps: ['max_steps'], early_stop: ['early_stopping'],
  max_seq_length: ['max_length'], max_len: ['max_length'], seq_len: ['max_length'], max_seq_len: ['max_length'],
  dev: ['validation'], valid: ['validation'], val: ['validation'], eval: ['evaluation', 'validation'], val_split: ['validation_split'],
  train_file: ['train'], training: ['train'], validation_file: ['validation'], test_file: ['test'],
  text_column: ['text_field'], label_column: ['label_field'], sep: ['delimiter'], separator: ['delimiter'], tagging_scheme: ['scheme'],
  model_name_or_path: ['pretrained'], model_name: ['pretrained'], model_path: ['pretrained'], path: ['pretrained'], scratch: ['from_scratch'],
  num_layers: ['layers'], num_hidden_layers: ['layers'], hidden_size: ['hidden'], num_attention_heads: ['heads'], num_heads: ['heads'],
  intermediate_size: ['intermediate'], max_position_embeddings: ['max_positions'], hidden_dropout_prob: ['dropout'], attention_probs_dropout_prob: ['attention_dropout'],
  lora_r: ['rank'], r: ['rank'], lora_alpha: ['alpha'], lora_dropout: ['dropout'], target_modules: ['targets'],
  eval_steps: ['every'], evaluation_strategy: ['every'], metric_for_best_model: ['metric'], random_seed: ['seed'], num_threads: ['threads'],
  gpu: ['cuda'], ner: ['token-classification'], token_cls: ['token-classification'], text_classification: ['sequence-classification'], classification: ['sequence-classification'],
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
function closest(word: string, candidates: readonly string[]): string | undefined {
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

// ---------------------------------------------------------------------------------------------
// Schema helpers

/** Every dotted key the schema defines (through anyOf branches), e.g. "model.peft.lora.rank". */
function schemaKeys(s: JsonSchema = CONFIG_SCHEMA, prefix = ''): string[] {
  const out: string[] = [];
  const visit = (node: JsonSchema) => {
    for (const [k, sub] of Object.entries(node.properties ?? {})) {
      const dotted = prefix ? `${prefix}.${k}` : k;
      out.push(dotted);
      out.push(...schemaKeys(sub, dotted));
    }
    for (const b of node.anyOf ?? []) visit(b);
  };
  visit(s);
  return [...new Set(out)];
}

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

// ---------------------------------------------------------------------------------------------
// Issues: a message at a path, turned into positioned ConfigErrors at the end

interface Issue {
  path: JPath;
  at: 'value' | 'key';
  message: string;
  severity: 'error' | 'warning';
  /** Where to point instead when `path` is not written in the text (e.g. a default value). */
  fallback?: JPath;
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
function schemaIssues(errors: ErrorObject[], data: unknown, base: JPath): Issue[] {
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
        const allowed = (s?.enum ?? []) as unknown[];
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

interface OverrideInfo { key: string; path: JPath; origin: JPath; value: unknown; label: string }

function toConfigErrors(src: Source, file: string, issues: Issue[], overrides: OverrideInfo[] = []): ConfigError[] {
  const out: ConfigError[] = [];
  const seen = new Set<string>();
  for (const is of issues) {
    let where = is.path;
    let at = is.at;
    if (is.fallback && navigate(src, where).matched < where.length) where = is.fallback;
    let message = is.message;
    const ov = overrides.find((o) => o.path.length <= is.path.length && o.path.every((s, i) => String(s) === String(is.path[i])));
    if (ov) {
      where = ov.origin;
      at = 'value';
      message += ` (${ov.label})`;
    }
    const sp = spanAt(src, where, at);
    const e: ConfigError = { file, ...sp, message, severity: is.severity };
    const id = `${e.line}:${e.column}:${e.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(e);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

// ---------------------------------------------------------------------------------------------
// Defaults

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

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

function resolveConfig(raw: Obj, file: string): ResolvedConfig {
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

// ---------------------------------------------------------------------------------------------
// Semantic checks (cross-field rules the schema does not express)

function has(raw: Obj, p: string[]): boolean {
  let cur: unknown = raw;
  for (const s of p) {
    if (!isObj(cur) || !(s in cur)) return false;
    cur = cur[s];
  }
  return true;
}

function semanticIssues(raw: Obj, c: ResolvedConfig): Issue[] {
  const out: Issue[] = [];
  const err = (p: JPath, message: string, at: 'value' | 'key' = 'value') => out.push({ path: p, at, message, severity: 'error' });
  const warn = (p: JPath, message: string, at: 'value' | 'key' = 'value') => out.push({ path: p, at, message, severity: 'warning' });

  // Format vs task.
  if (c.task === 'token-classification' && c.data.format !== 'conll')
    err(['data', 'format'], `data.format '${c.data.format}' does not fit task 'token-classification' (token classification reads 'conll')`);
  if (c.task === 'sequence-classification' && c.data.format === 'conll')
    err(['data', 'format'], `data.format 'conll' does not fit task 'sequence-classification' (use 'jsonl' or 'csv')`);

  // Exactly one model source.
  if (has(raw, ['model', 'pretrained']) && has(raw, ['model', 'from_scratch']))
    err(['model', 'from_scratch'], `model.pretrained and model.from_scratch are mutually exclusive — use one`, 'key');
  else if (!has(raw, ['model', 'pretrained']) && !has(raw, ['model', 'from_scratch']))
    err(['model'], `model needs one of 'pretrained' (a local Hugging Face folder) or 'from_scratch'`, 'key');

  const f = c.model.fromScratch;
  if (f && !c.model.pretrained) {
    if (f.hidden % f.heads !== 0) {
      const at: JPath = has(raw, ['model', 'from_scratch', 'heads']) ? ['model', 'from_scratch', 'heads'] : has(raw, ['model', 'from_scratch', 'hidden']) ? ['model', 'from_scratch', 'hidden'] : ['model', 'from_scratch'];
      err(at, `model.from_scratch.hidden (${f.hidden}) must be divisible by model.from_scratch.heads (${f.heads})`, at.length === 2 ? 'key' : 'value');
    }
    if (c.data.maxLength > f.maxPositions) {
      const at: JPath = has(raw, ['data', 'max_length']) || !has(raw, ['model', 'from_scratch', 'max_positions']) ? ['data', 'max_length'] : ['model', 'from_scratch', 'max_positions'];
      err(at, `data.max_length (${c.data.maxLength}) exceeds model.from_scratch.max_positions (${f.maxPositions})`);
    }
    if (c.model.peft.kind !== 'none')
      warn(['model', 'peft'], `model.peft '${c.model.peft.kind}' freezes randomly initialized encoder weights of a from_scratch model; use 'none'`);
  }

  // Windows must advance.
  if (c.data.overflow === 'window' && c.data.stride >= c.data.maxLength - 2) {
    err(['data', 'stride'], `data.stride (${c.data.stride}) must be less than data.max_length - 2 (${c.data.maxLength - 2}, the room left after [CLS] and [SEP]) when overflow is 'window'`);
  }

  // Validation data.
  const hasValidation = c.data.validation !== undefined || c.data.validationSplit !== undefined;
  if (c.training.earlyStopping && !hasValidation)
    err(['training', 'early_stopping'], `training.early_stopping needs validation data: set data.validation or data.validation_split`, 'key');
  if (c.data.validation !== undefined && c.data.validationSplit !== undefined)
    warn(['data', 'validation_split'], `data.validation_split is ignored because data.validation is set`);

  // Warmup.
  if (has(raw, ['training', 'warmup_ratio']) && has(raw, ['training', 'warmup_steps']))
    err(['training', 'warmup_steps'], `training.warmup_ratio and training.warmup_steps are mutually exclusive — set one`);

  // Metrics the task produces.
  const metrics: readonly string[] = TASK_METRICS[c.task];
  const metricMsg = (key: string, v: string) => `${key} '${v}' is not produced by ${c.task} (one of: ${metrics.join(', ')})`;
  if (!metrics.includes(c.evaluation.metric))
    err(has(raw, ['evaluation', 'metric']) ? ['evaluation', 'metric'] : ['evaluation'], metricMsg('evaluation.metric', c.evaluation.metric));
  const es = c.training.earlyStopping;
  if (es) {
    if (!metrics.includes(es.metric))
      err(has(raw, ['training', 'early_stopping', 'metric']) ? ['training', 'early_stopping', 'metric'] : ['training', 'early_stopping'], metricMsg('training.early_stopping.metric', es.metric));
    const lowerBetter = es.metric === 'loss';
    if (lowerBetter !== (es.mode === 'min'))
      warn(has(raw, ['training', 'early_stopping', 'mode']) ? ['training', 'early_stopping', 'mode'] : ['training', 'early_stopping'],
        `training.early_stopping.mode '${es.mode}' with metric '${es.metric}': ${lowerBetter ? 'lower' : 'higher'} is better, so mode should be '${lowerBetter ? 'min' : 'max'}'`);
  }

  // Optimizer.
  if (c.training.optimizer === 'adamw' && c.training.lr > 1e-2)
    warn(['training', 'lr'], `training.lr ${c.training.lr} is unusually large for adamw (typical: 1e-5 to 1e-3)`);
  if (c.training.optimizer === 'adamw' && has(raw, ['training', 'momentum']))
    warn(['training', 'momentum'], `training.momentum is only used by optimizer 'sgd'`);
  if (c.training.optimizer === 'sgd')
    for (const k of ['adam_beta1', 'adam_beta2', 'adam_eps'])
      if (has(raw, ['training', k])) warn(['training', k], `training.${k} is only used by optimizer 'adamw'`);

  return out;
}

const ALL_KEYS = () => schemaKeys();

/** Checks a dotted key names a config key that can be swept/overridden; returns a message when not. */
function badKey(key: string, what: string): string | undefined {
  if (key === 'sweep' || key.startsWith('sweep.')) return `${what} '${key}' cannot change the sweep itself`;
  if (schemaAt(key)) return undefined;
  const all = ALL_KEYS();
  let near = closest(key, all);
  if (!near) {
    const parts = key.split('.');
    const last = closest(parts[parts.length - 1], [...new Set(all.map((k) => k.split('.').pop()!))]);
    if (last) near = all.find((k) => k === [...parts.slice(0, -1), last].join('.')) ?? all.find((k) => k.endsWith(`.${last}`));
  }
  return `${what} '${key}' is not a config key${near ? ` — did you mean '${near}'?` : ''}`;
}

function sweepIssues(raw: Obj): Issue[] {
  const out: Issue[] = [];
  if (!isObj(raw.sweep)) return out;
  for (const [key, values] of Object.entries(raw.sweep)) {
    const bad = badKey(key, 'sweep key');
    if (bad) {
      out.push({ path: ['sweep', key], at: 'key', message: bad, severity: 'error' });
      continue;
    }
    if (!Array.isArray(values)) continue; // the schema reports it
    const s = schemaAt(key)!;
    const v = subValidator(key, s);
    (values as unknown[]).forEach((value, i) => {
      if (!v(value)) out.push(...schemaIssues(v.errors ?? [], value, ['sweep', key, i]));
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation entry points

function setAt(root: Obj, segs: string[], value: unknown): void {
  let cur = root;
  for (const s of segs.slice(0, -1)) {
    if (!isObj(cur[s])) cur[s] = {};
    cur = cur[s] as Obj;
  }
  cur[segs[segs.length - 1]] = clone(value);
}

function overrideValueText(v: unknown): string {
  return typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v);
}

interface Validated { src: Source; config?: ResolvedConfig; errors: ConfigError[] }

function validateWith(text: string, file: string, overrides: Record<string, unknown> = {}, origins: Record<string, JPath> = {}, labelPrefix = 'override'): Validated {
  const src = parseSource(text);
  const errors: ConfigError[] = [];
  for (const e of src.doc.errors) errors.push({ file, ...spanOf(src, e.pos[0], e.pos[1]), message: e.message, severity: 'error' });
  for (const w of src.doc.warnings) errors.push({ file, ...spanOf(src, w.pos[0], w.pos[1]), message: w.message, severity: 'warning' });
  if (src.doc.errors.length) return { src, errors };

  let raw: unknown;
  try {
    raw = src.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    errors.push({ file, ...firstLineSpan(src, src.doc.contents as YNode), message: (e as Error).message, severity: 'error' });
    return { src, errors };
  }
  if (raw === null || raw === undefined) {
    errors.push({ file, line: 1, column: 1, endLine: 1, endColumn: 1, message: `config is empty (it needs at least 'task', 'model' and 'data')`, severity: 'error' });
    return { src, errors };
  }
  if (!isObj(raw)) {
    errors.push({ file, ...firstLineSpan(src, src.doc.contents as YNode), message: `config must be a mapping of keys to values, got ${describeValue(raw)}`, severity: 'error' });
    return { src, errors };
  }

  const issues: Issue[] = [];
  const infos: OverrideInfo[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const bad = badKey(key, labelPrefix);
    if (bad) {
      issues.push({ path: origins[key] ?? [], at: 'value', message: bad, severity: 'error' });
      continue;
    }
    const segs = key.split('.');
    setAt(raw, segs, value);
    infos.push({ key, path: segs, origin: origins[key] ?? segs, value, label: `${labelPrefix} ${key}=${overrideValueText(value)}` });
  }

  const validate = rootValidator();
  if (!validate(raw)) issues.push(...schemaIssues(validate.errors ?? [], raw, []));
  let config: ResolvedConfig | undefined;
  if (!issues.some((i) => i.severity === 'error')) {
    config = resolveConfig(raw, file);
    issues.push(...semanticIssues(raw, config));
  }
  issues.push(...sweepIssues(raw)); // independent of the rest, so shown even while other keys have errors
  errors.push(...toConfigErrors(src, file, issues, infos));
  const ok = !errors.some((e) => e.severity === 'error');
  return { src, config: ok ? config : undefined, errors };
}

/** Parses and validates text (no file access); returns errors instead of throwing; warnings included. */
export function validateConfigText(text: string, file: string, overrides?: Record<string, unknown>): { config?: ResolvedConfig; errors: ConfigError[] } {
  const { config, errors } = validateWith(text, file, overrides);
  return config ? { config, errors } : { errors };
}

/** loadConfig plus the warnings it found (loadConfig drops them). */
export function loadConfigWithWarnings(file: string, overrides?: Record<string, unknown>): { config: ResolvedConfig; warnings: ConfigError[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigValidationError([{ file, line: 1, column: 1, endLine: 1, endColumn: 1, message: `cannot read config: ${(e as Error).message}`, severity: 'error' }]);
  }
  const { src, config, errors } = validateWith(text, file, overrides);
  if (!config) throw new ConfigValidationError(errors.filter((e) => e.severity === 'error'));
  const fileErrors = fileIssuesToErrors(src, config, file, overrides ?? {});
  const all = [...errors, ...fileErrors];
  if (all.some((e) => e.severity === 'error')) throw new ConfigValidationError(all.filter((e) => e.severity === 'error'));
  return { config, warnings: all.filter((e) => e.severity === 'warning') };
}

/** Reads the file, validates (schema + semantic checks incl. that referenced files/folders exist), throws ConfigValidationError on errors. */
export function loadConfig(file: string, overrides?: Record<string, unknown>): ResolvedConfig {
  return loadConfigWithWarnings(file, overrides).config;
}

// ---------------------------------------------------------------------------------------------
// File-system checks

function fileIssues(c: ResolvedConfig): Issue[] {
  const out: Issue[] = [];
  const err = (p: JPath, message: string) => out.push({ path: p, at: 'value', message, severity: 'error' });
  const stat = (p: string) => {
    try {
      return fs.statSync(p);
    } catch {
      return undefined;
    }
  };
  for (const key of ['train', 'validation', 'test'] as const) {
    const p = c.data[key];
    if (p === undefined) continue;
    const st = stat(p);
    if (!st) err(['data', key], `data.${key}: file not found: ${p}`);
    else if (!st.isFile()) err(['data', key], `data.${key}: ${p} is a folder, not a file`);
  }
  const pre = c.model.pretrained;
  if (pre !== undefined) {
    const st = stat(pre);
    if (!st) err(['model', 'pretrained'], `model.pretrained: folder not found: ${pre}`);
    else if (!st.isDirectory()) err(['model', 'pretrained'], `model.pretrained: ${pre} is a file; expected a Hugging Face model folder`);
    else {
      const there = (f: string) => stat(path.join(pre, f))?.isFile() ?? false;
      const missing: string[] = [];
      if (!there('config.json')) missing.push('config.json');
      if (!there('model.safetensors') && !there('model.safetensors.index.json'))
        missing.push(there('pytorch_model.bin') ? 'model.safetensors (it has only pytorch_model.bin; save the model with safe_serialization=True)' : 'model.safetensors');
      if (!there('tokenizer.json') && !there('vocab.txt')) missing.push('tokenizer.json or vocab.txt');
      if (missing.length) err(['model', 'pretrained'], `model.pretrained: ${pre} has no ${missing.join(', no ')}`);
      if (there('config.json')) {
        try {
          const hf = JSON.parse(fs.readFileSync(path.join(pre, 'config.json'), 'utf8')) as { max_position_embeddings?: unknown };
          const maxPos = hf.max_position_embeddings;
          if (typeof maxPos === 'number' && c.data.maxLength > maxPos)
            out.push({
              path: ['data', 'max_length'],
              fallback: ['model', 'pretrained'],
              at: 'value',
              message: `data.max_length (${c.data.maxLength}) exceeds the model's max_position_embeddings (${maxPos}) in ${path.join(pre, 'config.json')}`,
              severity: 'error',
            });
        } catch (e) {
          err(['model', 'pretrained'], `model.pretrained: cannot read ${path.join(pre, 'config.json')}: ${(e as Error).message}`);
        }
      }
    }
  }
  return out;
}

function fileIssuesToErrors(src: Source, c: ResolvedConfig, file: string, overrides: Record<string, unknown>): ConfigError[] {
  const infos: OverrideInfo[] = Object.entries(overrides).map(([key, value]) => {
    const segs = key.split('.');
    return { key, path: segs, origin: segs, value, label: `override ${key}=${overrideValueText(value)}` };
  });
  return toConfigErrors(src, file, fileIssues(c), infos);
}

/** Semantic checks needing the file system (data files exist, pretrained folder has config.json and weights); used by loadConfig and the editor diagnostics. */
export function checkFiles(config: ResolvedConfig, text: string, file: string): ConfigError[] {
  return toConfigErrors(parseSource(text), file, fileIssues(config));
}

// ---------------------------------------------------------------------------------------------
// Hashing and sweeps

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

/** Numbers as Python prints them (3e-05, 0.0001, 16), so sweep names read like other tools'. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && Number.isFinite(v) && (a < 1e-4 || a >= 1e16)) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

/**
 * The grid over the sweep values: one entry per combination (first key outermost), with the
 * overrides to pass to loadConfig and a name like "conll-bert[lr=3e-05]". Without a sweep, one
 * entry with no overrides. When `file` is readable, every combination is validated (schema and
 * semantic checks) first, and a ConfigValidationError points at the offending sweep values.
 */
export function expandSweep(c: ResolvedConfig, file: string): { overrides: Record<string, unknown>; name: string }[] {
  const sweep = c.sweep ?? {};
  const keys = Object.keys(sweep);
  if (!keys.length) return [{ overrides: {}, name: c.name }];
  const lastSegs = keys.map((k) => k.split('.').pop()!);
  const labels = keys.map((k, i) => (lastSegs.filter((s) => s === lastSegs[i]).length > 1 ? k : lastSegs[i]));

  let combos: { overrides: Record<string, unknown>; index: number[] }[] = [{ overrides: {}, index: [] }];
  keys.forEach((k) => {
    combos = combos.flatMap((co) => sweep[k].map((v, i) => ({ overrides: { ...co.overrides, [k]: clone(v) }, index: [...co.index, i] })));
  });
  const runs = combos.map((co) => ({
    overrides: co.overrides,
    name: `${c.name}[${keys.map((k, i) => `${labels[i]}=${overrideValueText(co.overrides[k])}`).join(',')}]`,
    index: co.index,
  }));

  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const errors: ConfigError[] = [];
    for (const r of runs) {
      const origins: Record<string, JPath> = {};
      keys.forEach((k, i) => (origins[k] = ['sweep', k, r.index[i]]));
      const v = validateWith(text, file, r.overrides, origins, 'sweep');
      for (const e of v.errors) if (e.severity === 'error') errors.push({ ...e, message: `sweep run '${r.name}': ${e.message}` });
    }
    if (errors.length) throw new ConfigValidationError(errors);
  }
  return runs.map(({ overrides, name }) => ({ overrides, name }));
}
