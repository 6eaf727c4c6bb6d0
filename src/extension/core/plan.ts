// Turning "start this config" into run folders: the config is validated (with its files), a sweep
// expands into one run per combination, and each run gets its folder with run.json (status
// queued) written at once, so the history shows the queue before anything trains. launch.json
// keeps how to start (and rerun) it.

import * as path from 'node:path';
import { configHash, expandSweep, loadConfigWithWarnings, type ConfigError, type ResolvedConfig } from '../../shared/config/config';
import { createRunFolder, newRunInfo, writeLaunch, writeRunInfo, type Launch, type RunInfo } from '../../shared/run';

export type { Launch };

export interface PlannedRun extends Launch {
  id: string;
  dir: string;
  name: string;
}

/** Validates a config (throws ConfigValidationError) and creates one queued run folder per sweep combination. */
export function planRuns(configPath: string, runsDir: string, now = new Date()): { runs: PlannedRun[]; warnings: ConfigError[] } {
  const file = path.resolve(configPath);
  const { config, warnings } = loadConfigWithWarnings(file);
  const combos = expandSweep(config, file);
  const sweep = combos.length > 1 || Object.keys(combos[0].overrides).length > 0;
  const resolved: { cfg: ResolvedConfig; overrides: Record<string, unknown>; name: string }[] = combos.map((c) => {
    const overrides = sweep ? { ...c.overrides, name: c.name } : {};
    return { cfg: sweep ? loadConfigWithWarnings(file, overrides).config : config, overrides, name: c.name };
  });
  const runs: PlannedRun[] = [];
  for (const r of resolved) {
    const { id, dir } = createRunFolder(runsDir, r.name, now);
    writeQueued(dir, id, r.name, file, r.cfg, now);
    const launch: Launch = { configPath: file, overrides: r.overrides };
    writeLaunch(dir, launch);
    runs.push({ id, dir, name: r.name, ...launch });
  }
  return { runs, warnings };
}

export function writeQueued(dir: string, id: string, name: string, configPath: string, cfg: ResolvedConfig | null, now = new Date()): RunInfo {
  const info = newRunInfo({ id, name, configPath, configHash: cfg ? configHash(cfg) : '', config: cfg, status: 'queued', now });
  writeRunInfo(dir, info);
  return info;
}

/** One new queued run folder for a rerun of a launch. */
export function planRerun(launch: Launch, runsDir: string, now = new Date()): PlannedRun {
  const file = path.resolve(launch.configPath);
  const { config } = loadConfigWithWarnings(file, launch.overrides);
  const { id, dir } = createRunFolder(runsDir, config.name, now);
  writeQueued(dir, id, config.name, file, config, now);
  writeLaunch(dir, { configPath: file, overrides: launch.overrides });
  return { id, dir, name: config.name, configPath: file, overrides: launch.overrides };
}
