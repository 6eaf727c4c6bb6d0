// `finetune sweep CONFIG`: a sweep run locally, up to `concurrency` trials at once (default one
// after another). Each trial is a normal run folder trained by this same program in a child
// process (`train --sweep-trial`); the sweep folder's sweep.json (src/shared/sweep/folder.ts)
// records the trials as they go, so that `finetune sweep --resume SWEEP_DIR` continues a sweep
// whose process was killed: every trial left running is stopped if its trainer still lives, then
// resumed from its checkpoint (or restarted when it had none). Early termination watches each
// trial's validation records and stops a bad trial with SIGTERM, so that it checkpoints; its run
// is then marked `pruned`. A trial drawn while others run is drawn from the finished trials only
// (as Optuna's n_jobs), and judged against every trial's records as they are at that evaluation.
// With `--executor slurm` (or `sweep.executor: slurm`) the trials are Slurm batch jobs instead
// (./slurm/executor.ts): the sampler, early termination and sweep.json stay here, behind the
// SweepDriver of ./executor.ts.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ConfigValidationError,
  expandSweep,
  formatConfigError,
  loadConfigWithWarnings,
  trialName,
  validateConfigText,
  type ResolvedConfig,
} from '../shared/config/config';
import {
  createRunFolder,
  defaultRunsFolder,
  hasResumeCheckpoint,
  isPidAlive,
  MetricsTail,
  readMetrics,
  readRun,
  runPaths,
  updateRunInfo,
  writeLaunch,
} from '../shared/run';
import { bestTrial, defaultSweepsFolder, readSweep, writeSweep, type SweepInfo, type SweepTrial } from '../shared/sweep/folder';
import { curveOf, decide, type Point, type TrialCurve } from '../shared/sweep/prune';
import { TrialPool } from '../shared/sweep/pool';
import { suggestRandom, suggestTpe, type TpeTrial } from '../shared/sweep/tpe';
import type { TrainerCommand, TrainerEvent } from '../shared/protocol';
import { slurmSettings } from '../shared/config/sweep';
import type { ExecutorKind, SweepDriver, TrialExecutor, TrialJudge } from './executor';
import { slurmExecutor } from './slurm/executor';
import { trainerEnv } from '../shared/trainerEnv';

export interface SweepOptions {
  configPath?: string;
  /** A sweep folder to continue. */
  resume?: string;
  overrides: Record<string, unknown>;
  /** Passed on to every trial (--device, --threads). */
  trainerArgs: string[];
  /** How often a running trial's records are read, ms. */
  pollMs?: number;
  /** `--executor`: overrides the config's sweep.executor (and, with --resume, the sweep's). */
  executor?: ExecutorKind;
  /** Trials at once (--concurrency); default: sweep.concurrency of the config, or of the sweep resumed. */
  concurrency?: number;
}

/** Why `finetune train CONFIG` refuses: the config has a sweep block (undefined when it has none or does not validate: train reports that). */
export function sweepRefusal(configPath: string | undefined): string | undefined {
  if (!configPath) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch {
    return undefined;
  }
  if (!validateConfigText(text, path.resolve(configPath)).config?.sweep) return undefined;
  return `finetune: ${configPath} is a sweep (it has a sweep: block), not one run: run it with \`finetune sweep ${configPath}\` (or remove the sweep block to train once)`;
}

const log = (msg: string) => console.log(`sweep: ${msg}`);

/** The grid's combinations, or the next trial's draw from the sampler. */
function suggest(info: SweepInfo, grid: Record<string, unknown>[] | undefined, n: number): Record<string, unknown> {
  if (info.method === 'grid') return grid![n];
  if (info.method === 'random') return suggestRandom(info.space, info.sampler.seed, n);
  const finished: TpeTrial[] = info.trials
    .filter((t) => t.number < n && (t.status === 'completed' || t.status === 'pruned'))
    .map((t) => {
      const curve = t.status === 'pruned' ? pointsOf(info, t) : [];
      const last = curve[curve.length - 1];
      return t.status === 'completed'
        ? { params: t.params, state: 'complete', value: t.value ?? NaN }
        : { params: t.params, state: 'pruned', lastStep: last?.[0], lastValue: last?.[1] };
    });
  return suggestTpe(info.space, finished, info.mode, info.sampler.seed, n);
}

function pointsOf(info: SweepInfo, t: SweepTrial): Point[] {
  try {
    return curveOf(readMetrics(t.runDir), info.metric);
  } catch {
    return [];
  }
}

const bestOf = (points: Point[], mode: 'max' | 'min'): number | undefined => {
  const v = points.map(([, x]) => x).filter((x) => !Number.isNaN(x));
  return v.length ? (mode === 'max' ? Math.max(...v) : Math.min(...v)) : undefined;
};

/** The other trials as early termination sees them. */
function othersOf(info: SweepInfo, self: SweepTrial): TrialCurve[] {
  return info.trials
    .filter((t) => t !== self)
    .map((t) => ({
      state: t.status === 'completed' ? 'complete' : t.status === 'pruned' ? 'pruned' : t.status === 'running' ? 'running' : 'failed',
      points: pointsOf(info, t),
      prunedRung: t.pruned?.rung,
    }));
}

export async function runSweep(o: SweepOptions): Promise<number> {
  let dir: string;
  let info: SweepInfo;
  let config: ResolvedConfig;
  try {
    if (o.resume) {
      dir = path.resolve(o.resume);
      info = readSweep(dir);
      config = loadConfigWithWarnings(info.configPath, info.overrides).config;
    } else {
      if (!o.configPath) throw new Error('sweep needs a config file: finetune sweep <config>');
      const loaded = loadConfigWithWarnings(o.configPath, o.overrides);
      config = loaded.config;
      for (const w of loaded.warnings) console.error(formatConfigError(w));
      if (!config.sweep) throw new Error(`${o.configPath} has no sweep: block: train it with \`finetune train ${o.configPath}\``);
      const s = config.sweep;
      const total = s.method === 'grid' ? expandSweep(config, config.configPath).length : s.budget!;
      ({ dir } = createRunFolder(defaultSweepsFolder(config.baseDir), config.name));
      const now = new Date().toISOString();
      info = {
        version: 1,
        id: path.basename(dir),
        name: config.name,
        configPath: config.configPath,
        overrides: o.overrides,
        method: s.method,
        space: s.parameters,
        metric: s.metric,
        mode: s.mode,
        total,
        ...(s.earlyTermination ? { earlyTermination: s.earlyTermination } : {}),
        concurrency: s.concurrency ?? 1,
        sampler: { kind: s.method, seed: s.seed },
        executor: o.executor ?? s.executor ?? 'local',
        status: 'running',
        createdAt: now,
        updatedAt: now,
        trials: [],
      };
    }
  } catch (e) {
    if (e instanceof ConfigValidationError) {
      for (const err of e.errors) console.error(formatConfigError(err));
      return 2;
    }
    console.error(`finetune: ${(e as Error).message}`);
    return 2;
  }
  // Forked by the extension, whose window may reload and close our pipes: a failed write (EPIPE) must not end the sweep.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const concurrency = o.concurrency ?? info.concurrency ?? 1;
  info = { ...info, status: 'running', pid: process.pid, host: os.hostname(), executor: o.executor ?? info.executor ?? 'local', concurrency };
  const save = () => writeSweep(dir, info);
  save();
  log(`${info.method} sweep of ${info.total} trials by ${info.metric} (${info.mode})${concurrency > 1 ? `, ${concurrency} at a time,` : ''} in ${dir}`);
  const grid = info.method === 'grid' ? expandSweep(config, info.configPath).map((r) => r.overrides) : undefined;
  const runsDir = defaultRunsFolder(config.baseDir);

  let stopping = false;
  const children = new Set<ReturnType<typeof spawn>>();
  let executor: TrialExecutor | undefined;
  const onSignal = () => {
    if (stopping && !executor) process.exit(130);
    executor?.stop(stopping);
    if (stopping) return;
    stopping = true;
    log(`stopping: the running trial${children.size === 1 ? '' : 's'} checkpoint and the sweep stops (again to abort)…`);
    for (const c of children) c.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  /** Early termination's watch on a trial: its validation points, each decided on as it arrives. */
  const judge = (trial: SweepTrial): TrialJudge => {
    const tail = MetricsTail.of(trial.runDir);
    const j = {
      points: [] as Point[],
      poll: () => {
        const r = tail.read();
        if (r.reset) j.points = [];
        for (const p of curveOf(r.records, info.metric)) {
          j.points.push(p);
          if (!info.earlyTermination || trial.pruned || stopping) continue;
          const d = decide(info.earlyTermination, j.points, othersOf(info, trial), info.mode);
          if (d.prune) {
            trial.pruned = { step: p[0], ...(d.rung !== undefined ? { rung: d.rung } : {}) };
            save();
            log(`trial ${trial.number} pruned at step ${p[0]} (${info.metric} ${p[1]})`);
          }
        }
        return !!trial.pruned;
      },
    };
    return j;
  };

  /** A trial's end, from its run folder's status: a stopped run that was judged bad is pruned. */
  const settle = (trial: SweepTrial, points: Point[]) => {
    const status = readRun(trial.runDir)?.info.status;
    trial.value = bestOf(points, info.mode);
    trial.endedAt = new Date().toISOString();
    if (status === 'completed') trial.status = 'completed';
    else if (trial.pruned && (status === 'stopped' || status === 'pruned')) {
      trial.status = 'pruned';
      if (status !== 'pruned') updateRunInfo(trial.runDir, { status: 'pruned' });
    } else trial.status = status === 'stopped' ? 'stopped' : 'failed';
    save();
  };

  /** Runs one trainer process for the trial, watching its records; resolves with its final trial status. */
  const runTrial = (trial: SweepTrial, args: string[]): Promise<void> =>
    new Promise((resolve) => {
      const watch = judge(trial);
      // With an IPC channel: the trial waits after each validation evaluation for our decision
      // (stop when pruned, else continue), so pruning is exact and never races the training.
      // Several trials at once: their lines prefixed with the trial's number, so they can be told apart.
      const c = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args, ...o.trainerArgs], {
        stdio: ['ignore', concurrency > 1 ? 'pipe' : 'inherit', concurrency > 1 ? 'pipe' : 'inherit', 'ipc'],
        env: trainerEnv(),
      });
      children.add(c);
      prefixLines(c.stdout, process.stdout, `[${trial.number}] `);
      prefixLines(c.stderr, process.stderr, `[${trial.number}] `);
      c.on('message', (e: TrainerEvent) => {
        // launch.json once the trainer made its run.json: the trial's config is the file plus these
        // overrides (the extension's drift check and Rerun read it, as for a run it launched itself)
        if (e?.type === 'started' && !fs.existsSync(runPaths(trial.runDir).launch))
          writeLaunch(trial.runDir, { configPath: info.configPath, overrides: { ...info.overrides, ...trial.params, name: trialName(config, trial.params) } });
        if (e?.type !== 'eval' || e.split !== 'validation') return;
        watch.poll(); // the record is in metrics.jsonl before its event is sent
        if (c.connected) c.send({ type: trial.pruned || stopping ? 'stop' : 'continue' } satisfies TrainerCommand, () => {});
      });
      const timer = setInterval(watch.poll, o.pollMs ?? 250);
      c.on('exit', () => {
        clearInterval(timer);
        children.delete(c);
        watch.poll();
        settle(trial, watch.points);
        resolve();
      });
    });

  const trainArgs = (trial: SweepTrial) => [
    'train',
    info.configPath,
    '--sweep-trial',
    '--run-dir',
    trial.runDir,
    ...Object.entries({ ...info.overrides, ...trial.params }).flatMap(([k, v]) => ['--set', `${k}=${JSON.stringify(v)}`]),
    '--set',
    `name=${JSON.stringify(trialName(config, trial.params))}`,
  ];

  const restartIn = (trial: SweepTrial) => {
    trial.runDir = createRunFolder(runsDir, trialName(config, trial.params)).dir;
    trial.startedAt = new Date().toISOString();
  };
  /** The next new trial, recorded in sweep.json, or undefined when the budget is spent or the sweep stops. */
  const next = (): SweepTrial | undefined => {
    if (info.trials.length >= info.total || stopping) return undefined;
    const n = info.trials.length;
    const params = suggest(info, grid, n);
    const trial: SweepTrial = { number: n, params, runDir: '', status: 'running', startedAt: '' };
    restartIn(trial);
    info.trials.push(trial);
    save();
    log(`trial ${n + 1}/${info.total}: ${trialName(config, params)}`);
    return trial;
  };

  if (info.executor === 'slurm') {
    const driver: SweepDriver = {
      info,
      dir,
      config,
      trainerArgs: o.trainerArgs,
      save,
      log,
      next,
      restartIn,
      trainArgs,
      judge,
      settle,
      stopping: () => stopping,
    };
    executor = slurmExecutor(config.sweep?.slurm ?? slurmSettings(undefined), { pollMs: o.pollMs });
    await executor.run(driver);
  }

  // Up to `concurrency` trials at once.
  const pool = new TrialPool(concurrency, (e) => log(`a trial failed to run: ${(e as Error).message}`));

  // Trials a killed sweep left running (several, when it ran them at once): stop a trainer that
  // still lives, then resume each from its checkpoint, or restart it when it had none.
  const continueTrial = async (trial: SweepTrial) => {
    const run = readRun(trial.runDir)?.info;
    if (run?.pid && run.status === 'running' && (!run.host || run.host === os.hostname()) && isPidAlive(run.pid)) {
      log(`trial ${trial.number}: its trainer (pid ${run.pid}) still runs; stopping it to resume under this sweep`);
      process.kill(run.pid, 'SIGTERM');
      for (let i = 0; i < 600 && isPidAlive(run.pid); i++) await new Promise((r) => setTimeout(r, 100));
    }
    const now = readRun(trial.runDir)?.info;
    trial.status = 'running';
    delete trial.endedAt;
    if (now?.status === 'completed') {
      trial.status = 'completed';
      trial.value = bestOf(pointsOf(info, trial), info.mode);
    } else if (trial.pruned) {
      trial.status = 'pruned';
      trial.value = bestOf(pointsOf(info, trial), info.mode);
      if (now && now.status !== 'pruned') updateRunInfo(trial.runDir, { status: 'pruned' });
    } else if (hasResumeCheckpoint(trial.runDir)) {
      log(`trial ${trial.number}: resuming ${trial.runDir}`);
      save();
      await runTrial(trial, ['train', '--resume', trial.runDir]);
    } else {
      if (now)
        updateRunInfo(trial.runDir, {
          status: 'failed',
          endedAt: new Date().toISOString(),
          error: { message: 'interrupted before its first checkpoint; the sweep restarted this trial in a new run folder' },
        });
      restartIn(trial);
      log(`trial ${trial.number}: restarting in ${trial.runDir}`);
      save();
      await runTrial(trial, trainArgs(trial));
    }
    save();
  };
  for (const trial of info.executor === 'slurm' ? [] : info.trials.filter((t) => t.status === 'running' || t.status === 'stopped')) {
    await pool.slot();
    if (stopping) break;
    pool.launch(continueTrial(trial));
  }

  // Up to `concurrency` new trials at once (a Slurm sweep ran all of its trials above).
  if (info.executor !== 'slurm')
    while (!stopping) {
      await pool.slot();
      const trial = next(); // drawn now, from the trials finished so far (the ones still running are not known yet)
      if (!trial) break;
      pool.launch(runTrial(trial, trainArgs(trial)));
    }
  await pool.drain();

  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const done = info.trials.length >= info.total && info.trials.every((t) => t.status !== 'running' && t.status !== 'stopped');
  const anyGood = info.trials.some((t) => t.status === 'completed' || t.status === 'pruned');
  info.status = done ? (anyGood ? 'completed' : 'failed') : 'stopped';
  delete info.pid;
  save();
  printSummary(info, dir);
  return info.status === 'failed' ? 1 : 0;
}

function printSummary(info: SweepInfo, dir: string): void {
  const best = bestTrial(info);
  console.log(`sweep ${info.status}: ${info.trials.length}/${info.total} trials in ${dir}`);
  for (const t of info.trials)
    console.log(
      `  ${String(t.number).padStart(3)} ${t.status.padEnd(9)} ${t.value === undefined ? '     -' : t.value.toFixed(4)}  ${Object.entries(t.params)
        .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : JSON.stringify(v)}`)
        .join(' ')}${t === best ? '  ← best' : ''}`,
    );
  if (info.status === 'stopped') console.log(`continue it with: finetune sweep --resume ${dir}`);
}

/** Copies a child's output lines to ours with a prefix (concurrent trials). */
function prefixLines(from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream, prefix: string): void {
  if (!from) return;
  let buf = '';
  from.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) to.write(`${prefix}${l}\n`);
  });
  from.on('end', () => {
    if (buf) to.write(`${prefix}${buf}\n`);
  });
}
