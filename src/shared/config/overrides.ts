// Overrides: `--set KEY=VALUE` on the command line and the values of a sweep run, applied to a raw
// config before validation. Any key the schema defines can be overridden; errors they cause are
// labelled with the override (`(override training.lr=0.5)`).

import { badKey } from './messages';
import { clone, isObj, type Issue, type JPath, type Obj } from './types';

export interface OverrideInfo {
  key: string;
  path: JPath;
  origin: JPath;
  value: unknown;
  label: string;
}

const setArg = (key: string, value: unknown) => `--set ${key}=${overrideValueText(value)}`;

/** Numbers as Python prints them (3e-05, 0.0001, 16), so sweep names read like other tools'. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && Number.isFinite(v) && (a < 1e-4 || a >= 1e16)) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

export function overrideValueText(v: unknown): string {
  return typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v);
}

function setAt(root: Obj, segs: string[], value: unknown): void {
  let cur = root;
  for (const s of segs.slice(0, -1)) {
    if (!isObj(cur[s])) cur[s] = {};
    cur = cur[s] as Obj;
  }
  cur[segs[segs.length - 1]] = clone(value);
}

/**
 * Writes the overrides into `raw` (in place). Keys that name no config key become issues at
 * `origins[key]` (the sweep value that set them) or at the top of the file.
 */
export function applyOverrides(
  raw: Obj,
  overrides: Record<string, unknown>,
  origins: Record<string, JPath>,
  labelPrefix: string,
): { issues: Issue[]; infos: OverrideInfo[] } {
  const issues: Issue[] = [];
  const infos: OverrideInfo[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const bad = badKey(key, labelPrefix);
    if (bad) {
      // A command-line key that names nothing has no place in the file: the error names the argument.
      const source = origins[key] === undefined ? setArg(key, value) : undefined;
      issues.push({ path: origins[key] ?? [], at: 'value', message: bad, severity: 'error', source });
      continue;
    }
    const segs = key.split('.');
    setAt(raw, segs, value);
    infos.push({ key, path: segs, origin: origins[key] ?? segs, value, label: `${labelPrefix} ${key}=${overrideValueText(value)}` });
  }
  return { issues, infos };
}

/** The labels of command-line overrides, for errors found after validation (file checks). */
export function overrideInfos(overrides: Record<string, unknown>): OverrideInfo[] {
  return Object.entries(overrides).map(([key, value]) => {
    const segs = key.split('.');
    return { key, path: segs, origin: segs, value, label: `override ${key}=${overrideValueText(value)}` };
  });
}

/**
 * `--set KEY=VALUE` arguments → overrides: VALUE is JSON when it parses (numbers, booleans, null,
 * lists, quoted strings), otherwise the plain string. Keys are not checked here: validation checks
 * them against the schema (so any key the schema defines can be set) and labels their errors.
 */
export function parseSetArgs(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`--set needs KEY=VALUE, got '${s}'`);
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[s.slice(0, eq)] = value;
  }
  return out;
}
