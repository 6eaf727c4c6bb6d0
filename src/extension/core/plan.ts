// Turning "start this config" into run folders: the config is validated (with its files), a sweep
// expands into one run per combination, and each run gets its folder with run.json (status
// queued) written at once, so the history shows the queue before anything trains. launch.json
// keeps how to start (and rerun) it.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configHash, expandSweep, loadConfigWithWarnings, type ConfigError, type ResolvedConfig } from '../../shared/config/config';
import { createRunDir, writeJsonAtomic, type RunInfo } from '../../trainer/run/rundir';

export interface Launch {
  configPath: string;
  /** `--set` overrides (a sweep combination, and its run name). */
  overrides: Record<string, unknown>;
}

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
    const { id, dir } = createRunDir(runsDir, r.name, now);
    writeQueued(dir, id, r.name, file, r.cfg, now);
    const launch: Launch = { configPath: file, overrides: r.overrides };
    writeJsonAtomic(path.join(dir, 'launch.json'), launch);
    runs.push({ id, dir, name: r.name, ...launch });
  }
  return { runs, warnings };
}

export function writeQueued(dir: string, id: string, name: string, configPath: string, cfg: ResolvedConfig | null, now = new Date()): RunInfo {
  const info: RunInfo = {
    id, name, configPath, configHash: cfg ? configHash(cfg) : '', config: cfg, status: 'queued', createdAt: now.toISOString(), host: os.hostname(),
    versions: { node: process.version }, step: 0, epoch: 0,
  };
  writeJsonAtomic(path.join(dir, 'run.json'), info);
  return info;
}

/** How a run folder was launched (launch.json), else its config with no overrides. */
export function readLaunch(dir: string, configPath?: string): Launch | undefined {
  try {
    const l = JSON.parse(fs.readFileSync(path.join(dir, 'launch.json'), 'utf8')) as Launch;
    if (typeof l.configPath === 'string') return { configPath: l.configPath, overrides: l.overrides ?? {} };
  } catch {
    // not launched by the extension
  }
  return configPath ? { configPath, overrides: {} } : undefined;
}

/** One new queued run folder for a rerun of a launch. */
export function planRerun(launch: Launch, runsDir: string, now = new Date()): PlannedRun {
  const file = path.resolve(launch.configPath);
  const { config } = loadConfigWithWarnings(file, launch.overrides);
  const { id, dir } = createRunDir(runsDir, config.name, now);
  writeQueued(dir, id, config.name, file, config, now);
  writeJsonAtomic(path.join(dir, 'launch.json'), { configPath: file, overrides: launch.overrides });
  return { id, dir, name: config.name, configPath: file, overrides: launch.overrides };
}
