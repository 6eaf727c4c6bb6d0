// Sweeps as the extension shows and runs them: the sweep folders' sweep.json files (written by
// `finetune sweep`, src/shared/sweep/folder.ts) kept current, a config's runs split into its sweeps
// and the rest, each sweep's state (a driver that died while it ran is `interrupted`), progress,
// best and pruned trials, and the arguments that start or resume a sweep driver. No `vscode`
// here, so node:test covers it.

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatMetric } from '../../shared/metrics';
import { isPidAlive, type RunRecord } from '../../shared/run';
import { bestTrial, readSweep, type SweepInfo, type SweepTrial } from '../../shared/sweep/folder';
import { mdText } from './runs';

export interface SweepRecord {
  /** The sweep folder (absolute). */
  dir: string;
  info: SweepInfo;
}

/** What a sweep is doing now: sweep.json's status, except that a `running` sweep whose driver is gone (on this host) is `interrupted`. */
export type SweepState = 'running' | 'interrupted' | 'stopped' | 'completed' | 'failed';

export function sweepState(info: SweepInfo, alive: (pid: number) => boolean = isPidAlive, host = os.hostname()): SweepState {
  if (info.status !== 'running') return info.status;
  // Another machine's driver (a shared folder) cannot be checked from here: it is taken at its word.
  if (info.host && info.host !== host) return 'running';
  return info.pid && alive(info.pid) ? 'running' : 'interrupted';
}

/** Trials that ended (completed, pruned, failed) out of the budget; running ones; pruned ones. */
export function sweepProgress(info: SweepInfo): { done: number; total: number; running: number; pruned: number } {
  const count = (f: (t: SweepTrial) => boolean) => info.trials.filter(f).length;
  return {
    done: count((t) => t.status === 'completed' || t.status === 'pruned' || t.status === 'failed'),
    total: info.total,
    running: count((t) => t.status === 'running'),
    pruned: count((t) => t.status === 'pruned'),
  };
}

export interface SweepGroup {
  sweep: SweepRecord;
  state: SweepState;
  /** The trials whose run folders are known, by trial number. */
  trials: { trial: SweepTrial; run: RunRecord }[];
}

const newestSweepFirst = (a: SweepRecord, b: SweepRecord) =>
  (Date.parse(b.info.createdAt) || 0) - (Date.parse(a.info.createdAt) || 0) || b.dir.localeCompare(a.dir);

/** A config's runs split into its sweeps (newest first; their trials' runs under them) and the runs of no sweep (in their order). */
export function splitBySweep(
  configPath: string,
  runs: RunRecord[],
  sweeps: SweepRecord[],
  state: (s: SweepRecord) => SweepState = (s) => sweepState(s.info),
): { sweeps: SweepGroup[]; rest: RunRecord[] } {
  const cfg = configPath ? path.resolve(configPath) : '';
  const byDir = new Map(runs.map((r) => [path.resolve(r.dir), r]));
  const taken = new Set<string>();
  const groups: SweepGroup[] = [];
  for (const s of sweeps.filter((x) => cfg && path.resolve(x.info.configPath) === cfg).sort(newestSweepFirst)) {
    const trials: SweepGroup['trials'] = [];
    for (const t of [...s.info.trials].sort((a, b) => a.number - b.number)) {
      const d = path.resolve(t.runDir);
      const run = byDir.get(d);
      if (!run || taken.has(d)) continue;
      taken.add(d);
      trials.push({ trial: t, run });
    }
    groups.push({ sweep: s, state: state(s), trials });
  }
  return { sweeps: groups, rest: runs.filter((r) => !taken.has(path.resolve(r.dir))) };
}

/** The sweep a run is a trial of, if any. */
export function sweepOfRun(runDir: string, sweeps: SweepRecord[]): SweepRecord | undefined {
  const d = path.resolve(runDir);
  return sweeps.find((s) => s.info.trials.some((t) => path.resolve(t.runDir) === d));
}

const distText = (d: SweepInfo['space'][string]): string => {
  if (d.kind === 'choice') return d.values.map((v) => JSON.stringify(v)).join(', ');
  if (d.kind === 'int') return `int [${d.low}, ${d.high}]${d.log ? ' log' : ''}`;
  return `${d.kind} [${d.low}, ${d.high}]`;
};

const earlyText = (e: SweepInfo['earlyTermination']): string => {
  if (!e) return 'off';
  if (e.type === 'asha') return `ASHA: min_steps ${e.minSteps}, reduction_factor ${e.reductionFactor}`;
  return `median: startup_trials ${e.startupTrials}, warmup_steps ${e.warmupSteps}`;
};

/** The sweep node: label (method, n/budget), description (best value and trial, pruned, state), Markdown tooltip with the settings, menu context. */
export function describeSweep(s: SweepRecord, state: SweepState): { label: string; description: string; tooltip: string; contextValue: string } {
  const i = s.info;
  const p = sweepProgress(i);
  const best = bestTrial(i);
  const parts: string[] = [];
  if (best?.value !== undefined) parts.push(`best ${i.metric} ${formatMetric(best.value)} (#${best.number})`);
  if (p.pruned) parts.push(`${p.pruned} pruned`);
  if (state === 'running' && p.running) parts.push(`${p.running} running`);
  if (state !== 'running' && state !== 'completed') parts.push(state);
  const rows: [string, string][] = [
    ['state', state === 'interrupted' ? `interrupted (its process ${i.pid ?? ''} is gone): Resume sweep continues it` : state],
    ['method', `${i.method}, seed ${i.sampler.seed}`],
    ['trials', `${p.done} of ${p.total} done${p.running ? `, ${p.running} running` : ''}${p.pruned ? `, ${p.pruned} pruned` : ''}`],
    ['metric', `${i.metric} (${i.mode})`],
    ['early termination', earlyText(i.earlyTermination)],
    ['at once', String(i.concurrency ?? 1)],
    ...Object.entries(i.space).map(([k, d]): [string, string] => [k, distText(d)]),
  ];
  const valueText = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : JSON.stringify(v));
  if (best)
    rows.push([
      'best trial',
      `#${best.number}: ${Object.entries(best.params)
        .map(([k, v]) => `${k}=${valueText(v)}`)
        .join(', ')}`,
    ]);
  const tooltip = [
    `**${mdText(i.name)}** — ${i.method} sweep`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${mdText(k)} | ${mdText(v)} |`),
    '',
    mdText(s.dir),
  ].join('\n');
  return {
    label: `${i.method} sweep ${p.done}/${p.total}`,
    description: parts.join(' · '),
    tooltip,
    contextValue: `sweep-${state}`,
  };
}

/**
 * The words a trial's run adds in the tree: its number and best before the run's description, and
 * the step it was pruned at, which the run's description says in place of its bare status word.
 */
export function trialNote(s: SweepInfo, trial: SweepTrial): { prefix: string; pruned: boolean; best: boolean; prunedAt?: number } {
  const best = bestTrial(s)?.number === trial.number;
  const pruned = trial.status === 'pruned';
  return { prefix: `#${trial.number}${best ? ' ★ best' : ''}`, pruned, best, ...(pruned && trial.pruned ? { prunedAt: trial.pruned.step } : {}) };
}

/**
 * Why a queued run must not be started in place by Rerun, when it is a sweep's trial: its sweep
 * starts it (a local driver in its pool, or Slurm when its job's turn comes), and an interrupted or
 * stopped sweep is continued by Resume sweep. Undefined for a run no sweep holds.
 */
export function queuedTrialRefusal(runDir: string, sweeps: SweepRecord[], alive?: (pid: number) => boolean): string | undefined {
  const d = path.resolve(runDir);
  const s = sweepOfRun(d, sweeps);
  const t = s?.info.trials.find((x) => path.resolve(x.runDir) === d);
  if (!s || !t) return undefined;
  const what = `trial #${t.number} of sweep ${s.info.name}`;
  const job = t.job ? `Slurm job ${t.job.id}${t.job.state ? ` (${t.job.state.toLowerCase()})` : ''}` : undefined;
  const state = sweepState(s.info, alive);
  if (state === 'running') return `it is ${what}, which starts it${job ? ` as ${job}` : ' when a place in its pool is free'}`;
  return `it is ${what}, which is ${state}: continue it with Resume sweep`;
}

/** Arguments for dist/trainer.js that start (a config) or continue (a sweep folder) a sweep. */
export function sweepArgs(o: { configPath?: string; resume?: string; concurrency?: number; device?: string; threads?: number }): string[] {
  const args = ['sweep'];
  if (o.resume) args.push('--resume', o.resume);
  else if (o.configPath) args.push(o.configPath);
  else throw new Error('sweepArgs: a config path or a sweep folder to resume is needed');
  if (o.concurrency && o.concurrency >= 1) args.push('--concurrency', String(Math.floor(o.concurrency)));
  if (o.device && o.device !== 'config') args.push('--device', o.device);
  if (o.threads && o.threads > 0) args.push('--threads', String(o.threads));
  return args;
}

/** The sweep folder a driver names on its first line (`sweep: … in <dir>`). */
export function sweepDirFromLine(line: string): string | undefined {
  const m = /^sweep: \w+ sweep of \d+ trials .*? in (.+)$/.exec(line);
  return m?.[1];
}

/** Every known sweep, kept current from the sweeps folders (scans and watcher events). */
export class SweepStore extends EventEmitter<{ change: [] }> {
  private readonly sweeps = new Map<string, SweepRecord>();
  private readonly folders = new Set<string>();

  all(): SweepRecord[] {
    return [...this.sweeps.values()];
  }

  get(dir: string): SweepRecord | undefined {
    return this.sweeps.get(path.resolve(dir));
  }

  /** A sweeps folder (`.finetune/sweeps`) to read; false when it was known. */
  addFolder(folder: string): boolean {
    const f = path.resolve(folder);
    if (this.folders.has(f)) return false;
    this.folders.add(f);
    this.scan(f);
    this.emit('change');
    return true;
  }

  rescan(): void {
    this.sweeps.clear();
    for (const f of this.folders) this.scan(f);
    this.emit('change');
  }

  /** Re-reads one sweep folder (its sweep.json changed, appeared or went). */
  refresh(dir: string): SweepRecord | undefined {
    const d = path.resolve(dir);
    const s = this.read(d);
    if (s) this.sweeps.set(d, s);
    else this.sweeps.delete(d);
    this.emit('change');
    return s;
  }

  private scan(folder: string): void {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.isDirectory()) continue;
      const s = this.read(path.join(folder, n.name));
      if (s) this.sweeps.set(s.dir, s);
    }
  }

  /** A sweep folder's record; undefined for anything that is not one (a half-written or foreign folder is not shown). */
  private read(dir: string): SweepRecord | undefined {
    try {
      return { dir, info: readSweep(dir) };
    } catch {
      return undefined;
    }
  }
}
