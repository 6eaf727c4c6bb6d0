// Run configurations: `*.finetune.yaml|yml|json` parsed with source positions, validated against
// CONFIG_SCHEMA (Ajv), defaults filled into a camelCase ResolvedConfig, then semantic checks.
// Every problem is reported as `<file>:<line>:<col>: <message>` pointing at the offending value
// (or at the key / mapping where a required key is missing). JSON is parsed with the same YAML
// parser (JSON is YAML), so positions work identically for both.
//
// This is the public entry; the concerns live beside it (each imports only its own dependencies,
// never this file): source.ts (positions), schema.ts, messages.ts (schema errors, did-you-mean),
// defaults.ts, semantic.ts, files.ts, overrides.ts (`--set`), sweep.ts, validate.ts (the
// pipeline), hash.ts, types.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { notARegularFile } from './fileKind';
import { fileIssues, positionIssues } from './files';
export { modelPositions } from './files';
import { overrideInfos } from './overrides';
import { parseSource } from './source';
import { sweepGrid } from './sweep';
import { ConfigValidationError, isObj, type ConfigError, type JPath, type ResolvedConfig } from './types';
import { toConfigErrors, validateWith } from './validate';

export {
  ConfigValidationError,
  formatConfigError,
  type ConfigError,
  type Distribution,
  type EarlyTermination,
  type PeftConfig,
  type ResolvedConfig,
  type SweepSpec,
  type Task,
} from './types';
export { defaultRunName } from './defaults';
export { configAsWritten } from './written';
export { isHubId } from './hubid';
export { configHash } from './hash';
export { sweepSize, trialName } from './sweep';
export { formatNumber, parseSetArgs } from './overrides';
export { locate } from './source';

/** Parses and validates text (no file access); returns errors instead of throwing; warnings included. */
export function validateConfigText(text: string, file: string, overrides?: Record<string, unknown>): { config?: ResolvedConfig; errors: ConfigError[] } {
  const { config, errors } = validateWith(text, file, overrides);
  return config ? { config, errors } : { errors };
}

/** loadConfig plus the warnings it found (loadConfig drops them). */
export function loadConfigWithWarnings(file: string, overrides?: Record<string, unknown>): { config: ResolvedConfig; warnings: ConfigError[] } {
  const cannot = (why: string) =>
    new ConfigValidationError([{ file, line: 1, column: 1, endLine: 1, endColumn: 1, message: `cannot read config: ${why}`, severity: 'error' }]);
  // By type before it is opened: /dev/zero or a FIFO would be read forever or block forever.
  const notFile = notARegularFile(file);
  if (notFile) throw cannot(`${path.resolve(file)} ${notFile}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw cannot((e as Error).message);
  }
  const { src, config, errors } = validateWith(text, file, overrides);
  if (!config) throw new ConfigValidationError(errors.filter((e) => e.severity === 'error'));
  const fileErrors = toConfigErrors(src, file, fileIssues(config), overrideInfos(overrides ?? {}));
  const all = [...errors, ...fileErrors];
  if (all.some((e) => e.severity === 'error')) throw new ConfigValidationError(all.filter((e) => e.severity === 'error'));
  return { config, warnings: all.filter((e) => e.severity === 'warning') };
}

/** Reads the file, validates (schema + semantic checks incl. that referenced files/folders exist), throws ConfigValidationError on errors. */
export function loadConfig(file: string, overrides?: Record<string, unknown>): ResolvedConfig {
  return loadConfigWithWarnings(file, overrides).config;
}

/**
 * The checks that need the model's own files, once the trainer has them (a Hub id just resolved
 * to its snapshot folder): data.max_length against its position embeddings. Throws a
 * ConfigValidationError at the config's lines (file:line), before anything is allocated.
 */
export function checkResolvedModel(config: ResolvedConfig, folder: string): void {
  const issues = positionIssues(config, folder);
  if (!issues.length) return;
  let text = '';
  try {
    text = fs.readFileSync(config.configPath, 'utf8');
  } catch {
    // the config file went away since it was loaded: the errors point at its first line
  }
  throw new ConfigValidationError(toConfigErrors(parseSource(text), config.configPath, issues));
}

/** Semantic checks needing the file system (data files exist, pretrained folder has config.json and weights); used by loadConfig and the editor diagnostics. */
export function checkFiles(config: ResolvedConfig, text: string, file: string): ConfigError[] {
  return toConfigErrors(parseSource(text), file, fileIssues(config));
}

/**
 * The grid over the sweep values: one entry per combination (first key outermost), with the
 * overrides to pass to loadConfig and a name like "conll-bert[lr=3e-05]". Without a sweep, one
 * entry with no overrides. When `file` is readable, every combination is validated (schema and
 * semantic checks) first, and a ConfigValidationError points at the offending sweep values. A
 * random or TPE sweep has no grid: it is an error pointing at its method (`finetune sweep` runs it).
 */
export function expandSweep(c: ResolvedConfig, file: string): { overrides: Record<string, unknown>; name: string }[] {
  const keys = Object.keys(c.sweep?.parameters ?? {});
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  const src = text !== undefined ? parseSource(text) : undefined;
  if (c.sweep && c.sweep.method !== 'grid') {
    const message = `a ${c.sweep.method} sweep draws its trials one after another: run it with \`finetune sweep ${path.basename(file)}\` (only grid sweeps are queued here)`;
    throw new ConfigValidationError(
      src
        ? toConfigErrors(src, file, [{ path: ['sweep', 'method'], at: 'value', message, severity: 'error' }])
        : [{ file, line: 1, column: 1, endLine: 1, endColumn: 1, message, severity: 'error' }],
    );
  }
  const data: unknown = src?.doc.toJS();
  const written = isObj(data) && isObj(data.sweep) ? data.sweep : undefined;
  const runs = sweepGrid(c, written);
  if (!keys.length) return runs.map(({ overrides, name }) => ({ overrides, name }));
  if (text !== undefined) {
    const errors: ConfigError[] = [];
    for (const r of runs) {
      const origins: Record<string, JPath> = {};
      keys.forEach((k, i) => (origins[k] = r.origins[i]));
      const v = validateWith(text, file, r.overrides, origins, 'sweep');
      for (const e of v.errors) if (e.severity === 'error') errors.push({ ...e, message: `sweep run '${r.name}': ${e.message}` });
    }
    if (errors.length) throw new ConfigValidationError(errors);
  }
  return runs.map(({ overrides, name }) => ({ overrides, name }));
}
