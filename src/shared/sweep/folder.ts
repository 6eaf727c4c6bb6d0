// A sweep on disk: `<config dir>/.finetune/sweeps/<id>/sweep.json`, the contract between whoever
// runs the sweep (`finetune sweep`, later the extension or a cluster executor) and whoever shows
// it. It holds the config, the resolved search space and sampler settings (the sampler's state is
// its seed and the trials: every suggestion is a function of them), and each trial with its
// parameters, run folder, status and value. Each trial is a normal run folder in the runs folder.
// Replaced atomically on every change, so a sweep killed at any moment continues from it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Distribution, EarlyTermination, SweepSpec } from '../config/types';
import type { MetricName } from '../metrics';
import { DEFAULT_RUNS_FOLDER, writeJsonAtomic } from '../run';

export const SWEEP_FILE = 'sweep.json';
/** Beside the runs folder: `.finetune/sweeps`. */
export const DEFAULT_SWEEPS_FOLDER = path.join(path.dirname(DEFAULT_RUNS_FOLDER), 'sweeps');

export type TrialStatus = 'running' | 'completed' | 'pruned' | 'failed' | 'stopped';

export interface SweepTrial {
  number: number;
  params: Record<string, unknown>;
  /** Absolute run folder of the trial. */
  runDir: string;
  status: TrialStatus;
  /** The best validation value of the sweep metric (completed and pruned trials). */
  value?: number;
  /** Where early termination stopped it (ASHA: the rung too; later decisions need it). */
  pruned?: { step: number; rung?: number };
  startedAt: string;
  endedAt?: string;
  /** With the slurm executor: the trial's batch job (its id, and its last state and reason as squeue/scontrol said). */
  job?: { id: string; state?: string; reason?: string };
}

export interface SweepInfo {
  version: 1;
  id: string;
  name: string;
  /** Absolute path of the config, and the `--set` overrides the sweep was started with. */
  configPath: string;
  overrides: Record<string, unknown>;
  method: SweepSpec['method'];
  /** The resolved search space: dotted config key → distribution. */
  space: Record<string, Distribution>;
  metric: MetricName;
  mode: 'max' | 'min';
  /** How many trials the sweep runs (the budget, or the grid's size). */
  total: number;
  earlyTermination?: EarlyTermination;
  /** Trials run at once (the last run's; absent in sweeps from before concurrent trials: 1). */
  concurrency?: number;
  /** The sampler and its seed: suggestions are a function of these and the finished trials. */
  sampler: { kind: SweepSpec['method']; seed: number };
  status: 'running' | 'completed' | 'stopped' | 'failed';
  /** Where the trials run: 'local' (absent in older files) or 'slurm' (one batch job per trial). */
  executor?: 'local' | 'slurm';
  pid?: number;
  host?: string;
  createdAt: string;
  updatedAt: string;
  trials: SweepTrial[];
}

export function defaultSweepsFolder(baseDir: string): string {
  return path.join(baseDir, DEFAULT_SWEEPS_FOLDER);
}

export const sweepFile = (dir: string) => path.join(dir, SWEEP_FILE);

export function writeSweep(dir: string, info: SweepInfo): void {
  writeJsonAtomic(sweepFile(dir), { ...info, updatedAt: new Date().toISOString() });
}

/** Reads a sweep folder's sweep.json; a clear error when it is not one. */
export function readSweep(dir: string): SweepInfo {
  let text: string;
  try {
    text = fs.readFileSync(sweepFile(dir), 'utf8');
  } catch (e) {
    throw new Error(`${dir} is not a sweep folder: cannot read ${SWEEP_FILE} (${(e as Error).message})`);
  }
  let info: SweepInfo;
  try {
    info = JSON.parse(text) as SweepInfo;
  } catch (e) {
    throw new Error(`${sweepFile(dir)}: not valid JSON (${(e as Error).message})`);
  }
  if (info?.version !== 1 || !Array.isArray(info.trials)) throw new Error(`${sweepFile(dir)}: not a sweep file this version reads`);
  return info;
}

/** The best finished trial (completed or pruned) by the sweep metric, or undefined. */
export function bestTrial(info: SweepInfo): SweepTrial | undefined {
  let best: SweepTrial | undefined;
  for (const t of info.trials)
    if ((t.status === 'completed' || t.status === 'pruned') && t.value !== undefined && !Number.isNaN(t.value))
      if (!best || (info.mode === 'max' ? t.value > best.value! : t.value < best.value!)) best = t;
  return best;
}
