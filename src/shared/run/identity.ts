// Run identity: how a run is told apart from its siblings wherever it is named (the runs view, pick
// lists, dashboard tabs, legends, reports, config diffs, hovers, notifications). Every run of a
// config used to be shown by the config's name; here each run gets
//   - a short id: 7 hex digits of a hash of its folder id (stable across reloads and machines),
//     lengthened for the few ids whose 7 digits collide with a sibling's;
//   - a label: what sets it apart from the other runs of the same config, made of the resolved
//     config keys whose values differ among them, in the config's own snake_case keys, shortened
//     (`training.lr` → `lr`, `training.batch_size` → `bs`), e.g. `lr=3e-4 · bs=32`.
// A run the user renamed (run.json `renamed: true`) is labelled by its name; so is a run with no
// sibling. Pure functions, browser-safe (no Node built-ins): the webview uses them too.

import { clipText } from '../display';
import { configAsWritten } from '../config/written';

/** What identity needs of a run: RunInfo and RunSummary both fit. */
export interface IdentityRun {
  /** The run folder's id (its folder name). */
  id: string;
  /** run.json's name: the config's `name` unless the user renamed the run. */
  name: string;
  /** Runs with the same config path are siblings. */
  configPath?: string;
  /** The resolved config (run.json, camelCase) or the same in written keys; null or absent when it did not validate. */
  config?: unknown;
  /** Set by Rename: the name is the user's and is the label. Absent in run folders older than this field: see `isRenamed`. */
  renamed?: boolean;
}

export interface RunIdentity {
  shortId: string;
  label: string;
}

/** Most characters of a computed label (a legend or a tab title has little room); the name's own limit is DISPLAY_MAX. */
export const LABEL_MAX = 60;
/** Between the parts of a label. */
export const LABEL_SEP = ' · ';
/** Digits of a short id, unless a sibling shares them. */
export const SHORT_ID_LENGTH = 7;

/**
 * Config keys never in a label: `name` (the run's name; a sweep sets it per trial from the very
 * values the label shows) and `sweep` (the search, the same block in all its trials). The
 * resolver's `config_path` and `base_dir` are not written keys (configAsWritten drops them). No key
 * is left out for saying nothing: every other key changes what a run does (seed, threads, device
 * included), so when it is what differs it is what the label should say.
 */
export const LABEL_EXCLUDED_KEYS: readonly string[] = ['name', 'sweep'];

/**
 * Short names of common keys, most telling first: a label lists its keys in this order, then the
 * rest in config order. A key not here is its last segment (`training.early_stopping.patience` →
 * `patience`), lengthened by segments when two keys of a label would read the same.
 */
export const KEY_ABBREVIATIONS: readonly (readonly [string, string])[] = [
  ['training.lr', 'lr'],
  ['training.batch_size', 'bs'],
  ['training.epochs', 'epochs'],
  ['training.max_steps', 'steps'],
  ['training.weight_decay', 'wd'],
  ['training.warmup_ratio', 'warmup'],
  ['training.warmup_steps', 'warmup_steps'],
  ['training.schedule', 'sched'],
  ['training.optimizer', 'opt'],
  ['training.gradient_accumulation', 'accum'],
  ['training.grad_clip', 'clip'],
  ['training.adam_beta1', 'beta1'],
  ['training.adam_beta2', 'beta2'],
  ['training.adam_eps', 'eps'],
  ['training.momentum', 'momentum'],
  ['model.pretrained', 'model'],
  ['model.peft', 'peft'],
  ['model.peft.lora.rank', 'r'],
  ['model.peft.lora.alpha', 'alpha'],
  ['model.peft.lora.dropout', 'lora_dropout'],
  ['model.dropout', 'dropout'],
  ['model.attention_dropout', 'attn_dropout'],
  ['model.from_scratch.layers', 'layers'],
  ['model.from_scratch.hidden', 'hidden'],
  ['model.from_scratch.heads', 'heads'],
  ['data.max_length', 'len'],
  ['seed', 'seed'],
];
const ABBREV = new Map(KEY_ABBREVIATIONS);
const PRIORITY = new Map(KEY_ABBREVIATIONS.map(([k], i) => [k, i]));

// ---------------------------------------------------------------------------------------------
// Short ids

/** cyrb53: a fast 53-bit string hash with good spread (public domain, bryc). */
function hash53(s: string): number {
  let h1 = 0xdeadbeef,
    h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The 13 hex digits a short id is cut from: the hash's low 52 bits (its top digit would hold only bit 52). */
const fullHex = (id: string) => hash53(id).toString(16).padStart(14, '0').slice(1);

/** A run's short id: the first `length` (7) hex digits of a hash of its folder id; the same id gives the same short id everywhere. */
export function shortRunId(id: string, length = SHORT_ID_LENGTH): string {
  return fullHex(id).slice(0, Math.max(1, Math.min(13, length)));
}

/**
 * Short ids unique among `ids`: 7 digits, one more for each id whose digits a sibling shares (up to
 * 13); a 52-bit collision (practically never) takes a `-n` suffix. An id keeps its short id unless a
 * new sibling happens to share its first 7 digits (about one pair in 2^28/n).
 */
export function shortRunIds(ids: readonly string[]): Map<string, string> {
  const unique = [...new Set(ids)];
  const hex = new Map(unique.map((id) => [id, fullHex(id)]));
  const len = new Map(unique.map((id) => [id, SHORT_ID_LENGTH]));
  for (let n = SHORT_ID_LENGTH; n < 13; n++) {
    const byPrefix = new Map<string, string[]>();
    for (const id of unique) if (len.get(id) === n) push(byPrefix, hex.get(id)!.slice(0, n), id);
    let clash = false;
    for (const group of byPrefix.values()) {
      if (group.length < 2) continue;
      clash = true;
      for (const id of group) len.set(id, n + 1);
    }
    if (!clash) break;
  }
  const out = new Map<string, string>();
  const taken = new Map<string, number>();
  for (const id of [...unique].sort()) {
    const s = hex.get(id)!.slice(0, len.get(id));
    const k = taken.get(s) ?? 0;
    taken.set(s, k + 1);
    out.set(id, k ? `${s}-${k}` : s);
  }
  return out;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

// ---------------------------------------------------------------------------------------------
// Labels

/**
 * Whether the run's name is the user's (Rename) rather than the config's. Rename records
 * `renamed: true` in run.json; a run folder written before that field says nothing, so there the
 * name counts as the user's when it is not the name its own resolved config gives runs.
 */
export function isRenamed(run: Pick<IdentityRun, 'name' | 'config' | 'renamed'>): boolean {
  if (run.renamed !== undefined) return run.renamed;
  const configName = (run.config as { name?: unknown } | null | undefined)?.name;
  return typeof configName === 'string' && run.name !== configName;
}

/** One flattened config value: a scalar or list, or a mapping (`on`; a one-key mapping like `peft: {lora: …}` is its key); `text` compares them. */
type Leaf = { kind: 'value'; value: unknown; text: string } | { kind: 'section'; value: string; text: string };

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Flattened configs by config object: a run's config is read once per run.json, and labels are recomputed on every change of any run. */
const flatCache = new WeakMap<object, Map<string, Leaf>>();

/** Dotted written key → value, every mapping included as a `section` entry (so a mapping present in one run and absent in another is a difference). */
function flatten(config: object): Map<string, Leaf> {
  const cached = flatCache.get(config);
  if (cached) return cached;
  const out = new Map<string, Leaf>();
  const walk = (v: unknown, key: string) => {
    if (LABEL_EXCLUDED_KEYS.includes(key)) return;
    if (!isObj(v)) {
      if (key && v !== undefined) out.set(key, { kind: 'value', value: v, text: JSON.stringify(v) });
      return;
    }
    const keys = Object.keys(v);
    const value = keys.length === 1 && isObj(v[keys[0]]) ? keys[0] : 'on';
    if (key) out.set(key, { kind: 'section', value, text: `\u0000section:${value}` });
    for (const k of keys) walk(v[k], key ? `${key}.${k}` : k);
  };
  walk(configAsWritten(config), '');
  flatCache.set(config, out);
  return out;
}

const leafText = (l: Leaf | undefined) => (l === undefined ? '\u0000missing' : l.text);

/** The short names of `keys`, each unique among them: the abbreviation or last segment, lengthened segment by segment where two read the same. */
export function shortKeys(keys: readonly string[]): Map<string, string> {
  const level = new Map(keys.map((k) => [k, 0]));
  const nameAt = (k: string, n: number) => {
    const segs = k.split('.');
    if (n === 0) return ABBREV.get(k) ?? segs[segs.length - 1];
    return segs.slice(Math.max(0, segs.length - 1 - n)).join('.');
  };
  for (;;) {
    const byName = new Map<string, string[]>();
    for (const k of keys) push(byName, nameAt(k, level.get(k)!), k);
    let moved = false;
    for (const group of byName.values())
      if (group.length > 1)
        for (const k of group)
          if (nameAt(k, level.get(k)!) !== k) {
            level.set(k, level.get(k)! + 1);
            moved = true;
          }
    if (!moved) break;
  }
  return new Map(keys.map((k) => [k, nameAt(k, level.get(k)!)]));
}

/**
 * A number as compactly as it reads: `32`, `0.1`, `3e-4`, `2.5e-5`, with `digits` significant digits
 * at most; `exp` writes a fraction in exponent form even where the decimal is as short (`1e-1`).
 */
export function formatLabelNumber(v: number, digits = 3, notation: 'auto' | 'exp' = 'auto'): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const p = Math.max(1, Math.min(17, digits));
  const dec = String(Number(v.toPrecision(p)));
  const [m, e] = v.toExponential(p - 1).split('e');
  const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
  const exp = `${mant}e${e.replace(/^\+/, '')}`;
  return notation === 'exp' || exp.length < dec.length ? exp : dec;
}

/** One key's numbers with `digits` digits, in one notation: exponent form for all its fractions when any of them reads shorter so (`1e-3`, `1.5e-3`, not `1e-3`, `0.0015`). */
function formatNumbers(values: number[], digits: number): string[] {
  const auto = values.map((v) => formatLabelNumber(v, digits));
  if (!auto.some((t) => t.includes('e'))) return auto;
  return values.map((v) => formatLabelNumber(v, digits, 'exp'));
}

/** Texts for the distinct values of one key: numbers with as few digits as keep them apart; paths by as many trailing segments as keep them apart. */
function valueTexts(values: Leaf[]): Map<string, string> {
  const distinct = new Map<string, Leaf>();
  for (const l of values) distinct.set(leafText(l), l);
  const out = new Map<string, string>();
  const nums = [...distinct].filter(([, l]) => l.kind === 'value' && typeof l.value === 'number');
  for (let d = 3; d <= 17; d++) {
    const texts = formatNumbers(
      nums.map(([, l]) => l.value as number),
      d,
    );
    if (new Set(texts).size === nums.length || d === 17) {
      nums.forEach(([k], i) => out.set(k, texts[i]));
      break;
    }
  }
  const paths = [...distinct].filter(([, l]) => l.kind === 'value' && typeof l.value === 'string' && /[\\/]/.test(l.value));
  const segs = paths.map(([, l]) => (l.value as string).split(/[\\/]+/).filter(Boolean));
  for (let n = 1; ; n++) {
    const texts = segs.map((s) => s.slice(-n).join('/'));
    if (new Set(texts).size === paths.length || segs.every((s) => s.length <= n)) {
      paths.forEach(([k], i) => out.set(k, texts[i]));
      break;
    }
  }
  for (const [k, l] of distinct) {
    if (out.has(k)) continue;
    if (l.kind === 'section') out.set(k, l.value);
    else if (Array.isArray(l.value))
      out.set(k, `[${l.value.map((x) => (typeof x === 'number' ? formatLabelNumber(x) : typeof x === 'string' ? x : JSON.stringify(x))).join(',')}]`);
    else out.set(k, typeof l.value === 'string' ? l.value : String(JSON.stringify(l.value)));
  }
  return out;
}

const ancestors = (key: string) => {
  const segs = key.split('.');
  return segs.slice(1).map((_, i) => segs.slice(0, i + 1).join('.'));
};

/**
 * The label parts of sibling runs (same config), keyed by run: `key=value` for each config key
 * that tells them apart. A key whose differences a differing parent key already says (the keys of
 * `model.peft.lora` when `model.peft` differs) is left out unless it splits runs the parent does
 * not; a run without a key writes `key=–`, or nothing when a differing parent says why.
 */
function siblingParts(runs: { id: string; leaves: Map<string, Leaf> }[]): Map<string, string[]> {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const r of runs)
    for (const k of r.leaves.keys())
      if (!seen.has(k)) {
        seen.add(k);
        order.push(k);
      }
  const differs = order.filter((k) => new Set(runs.map((r) => leafText(r.leaves.get(k)))).size > 1);
  const differing = new Set(differs);
  const kept = differs.filter((k) => {
    const parents = ancestors(k).filter((a) => differing.has(a));
    if (!parents.length) return true;
    // kept when two runs that agree on every differing parent disagree on k
    const byParents = new Map<string, string>();
    for (const r of runs) {
      const p = parents.map((a) => leafText(r.leaves.get(a))).join('\u0001');
      const v = leafText(r.leaves.get(k));
      if (byParents.has(p) && byParents.get(p) !== v) return true;
      byParents.set(p, v);
    }
    return false;
  });
  const rank = (k: string) => PRIORITY.get(k) ?? KEY_ABBREVIATIONS.length + order.indexOf(k);
  kept.sort((a, b) => rank(a) - rank(b));
  const names = shortKeys(kept);
  const texts = new Map(kept.map((k) => [k, valueTexts(runs.map((r) => r.leaves.get(k)).filter((l): l is Leaf => !!l))]));
  // what a run without the key writes: nothing when a differing parent says why, `off` for a mapping, else `–`
  const absent = new Map(
    kept.map((k) => [k, ancestors(k).some((a) => differing.has(a)) ? undefined : `${names.get(k)}=${order.some((x) => x.startsWith(`${k}.`)) ? 'off' : '–'}`]),
  );
  const out = new Map<string, string[]>();
  for (const r of runs) {
    const parts: string[] = [];
    for (const k of kept) {
      const l = r.leaves.get(k);
      const part = l ? `${names.get(k)}=${texts.get(k)!.get(l.text)}` : absent.get(k);
      if (part) parts.push(part);
    }
    out.set(r.id, parts);
  }
  return out;
}

/**
 * Short id and label of each run, by run id. Labels are computed among the runs of the same config
 * (same `configPath`): a renamed run, or one with no sibling, is labelled by its name; the others by
 * what differs (`lr=3e-4 · bs=32`, at most LABEL_MAX characters); runs whose labels would read the
 * same (they differ in nothing, or only in what was clipped) get ` #<short id>` after them. `short`:
 * the short ids when they are known already (over more runs than these: `shortRunIds`).
 */
export function runIdentities(runs: readonly IdentityRun[], short: ReadonlyMap<string, string> = shortRunIds(runs.map((r) => r.id))): Map<string, RunIdentity> {
  const groups = new Map<string, IdentityRun[]>();
  for (const r of runs) push(groups, r.configPath ?? '', r);
  const out = new Map<string, RunIdentity>();
  for (const group of groups.values()) {
    // renamed runs count as siblings (what differs from them is still what tells the others apart)
    const computed = group.filter((r) => r.config && typeof r.config === 'object');
    const parts = computed.length > 1 ? siblingParts(computed.map((r) => ({ id: r.id, leaves: flatten(r.config as object) }))) : new Map<string, string[]>();
    const labels = group.map((r) => {
      const p = isRenamed(r) ? undefined : parts.get(r.id);
      const full = p?.length ? p.join(LABEL_SEP) : r.name;
      return { r, full, label: p?.length ? clipText(full, LABEL_MAX) : r.name };
    });
    const count = new Map<string, number>();
    for (const { label } of labels) count.set(label, (count.get(label) ?? 0) + 1);
    for (const { r, full, label } of labels) {
      const id = short.get(r.id) ?? shortRunId(r.id);
      const clash = (count.get(label) ?? 0) > 1 && !isRenamed(r);
      // the short id always fits: the text before it is clipped to leave it room
      out.set(r.id, { shortId: id, label: clash ? `${clipText(full, LABEL_MAX - id.length - 2)} #${id}` : label });
    }
  }
  return out;
}

/** Each run's label by run id (see runIdentities). */
export function runLabels(runs: readonly IdentityRun[]): Map<string, string> {
  return new Map([...runIdentities(runs)].map(([id, x]) => [id, x.label]));
}

/** What a run is called where it is drawn: its label, else (an old host, a test) its name. */
export function displayName(run: { label?: string; name: string }): string {
  return run.label || run.name;
}
