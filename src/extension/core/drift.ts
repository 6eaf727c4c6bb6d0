// "Config changed since this run": a run keeps its own resolved copy of the config (run.json
// `config`, hashed in `configHash`); the config file may be edited afterwards. The current file
// is resolved with the run's own overrides (a sweep combination, launch.json) and hashed the same
// way; device and threads are how a run was executed (settings may override them), not what it
// trained, so the run's own values are used for both.

import * as fs from 'node:fs';
import { configHash, validateConfigText, type ResolvedConfig } from '../../shared/config/config';
import type { RunInfo } from '../../shared/run';

export type Drift = 'same' | 'changed' | 'missing' | 'invalid' | 'unknown';

/** Pure: compares the current config (resolved, or why not) with the run's recorded hash. */
export function configDrift(
  info: Pick<RunInfo, 'configHash' | 'config'>,
  current: ResolvedConfig | 'missing' | 'invalid',
  hash: (c: ResolvedConfig) => string = configHash,
): Drift {
  if (!info.configHash) return 'unknown'; // failed validation: nothing was recorded
  if (current === 'missing' || current === 'invalid') return current;
  const run = (info.config ?? {}) as Partial<ResolvedConfig>;
  const aligned = { ...current, device: run.device ?? current.device, threads: run.threads ?? current.threads };
  return hash(aligned) === info.configHash || hash(current) === info.configHash ? 'same' : 'changed';
}

/** Words for a drift (undefined: nothing worth saying). */
export function driftText(d: Drift): string | undefined {
  switch (d) {
    case 'changed':
      return 'config changed since this run';
    case 'missing':
      return 'config file no longer exists';
    case 'invalid':
      return 'config changed since this run (now invalid)';
    default:
      return undefined;
  }
}

/** Resolves config files at most once per (file, mtime, size, overrides). */
export class ConfigDriftCache {
  private readonly cache = new Map<string, { stamp: string; value: ResolvedConfig | 'missing' | 'invalid'; hashes?: Map<string, string> }>();

  current(configPath: string, overrides: Record<string, unknown> = {}): ResolvedConfig | 'missing' | 'invalid' {
    const key = `${configPath}\0${JSON.stringify(overrides)}`;
    let st: fs.Stats;
    try {
      st = fs.statSync(configPath);
    } catch {
      this.cache.delete(key);
      return 'missing';
    }
    const stamp = `${st.mtimeMs}:${st.size}`;
    const hit = this.cache.get(key);
    if (hit && hit.stamp === stamp) return hit.value;
    let value: ResolvedConfig | 'missing' | 'invalid';
    try {
      value = validateConfigText(fs.readFileSync(configPath, 'utf8'), configPath, overrides).config ?? 'invalid';
    } catch {
      value = 'invalid';
    }
    this.cache.set(key, { stamp, value });
    return value;
  }

  drift(info: RunInfo, overrides: Record<string, unknown> = {}): Drift {
    if (!info.configPath || !info.configHash) return 'unknown';
    const current = this.current(info.configPath, overrides);
    const entry = this.cache.get(`${info.configPath}\0${JSON.stringify(overrides)}`);
    if (!entry || typeof current === 'string') return configDrift(info, current);
    // the runs of one config differ only in device/threads here: hash each variant once
    const hashes = (entry.hashes ??= new Map<string, string>());
    const memo = (c: ResolvedConfig) => {
      const k = `${c.device}\0${c.threads}`;
      let h = hashes.get(k);
      if (h === undefined) hashes.set(k, (h = configHash(c)));
      return h;
    };
    return configDrift(info, current, memo);
  }
}
