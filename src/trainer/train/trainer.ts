// Long file: a run's numbered steps share one context and are meant to be read in order, top to bottom.
// A whole fine-tuning run from a resolved config: data, tokenizer, model, K-step training
// programs per length bucket, warmup + decay, evaluation, early stopping, best/last checkpoints,
// exact resume, the final test evaluation and the exported ONNX model — all recorded in the run
// directory as it happens.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bestKey, directionOf, formatMetric, metricsIn, testKey, type FinalMetrics, type MetricName } from '../../shared/metrics';
import type { DeviceInfo, EvalRecord, TrainRecord, TrainerEvent } from '../../shared/protocol';
import { describeEvent } from '../../shared/events';
import {
  RunWriter,
  acquireRunLock,
  assertNewRunFolder,
  defaultRunsFolder,
  fileChange,
  fingerprintFile,
  isRunAlive,
  newRunInfo,
  openRunFolder as openRunDir,
  readMetrics,
  readRun,
  readRunInfo,
  rewriteMetrics,
  updateRunInfo,
  runPaths,
  writeJsonAtomic,
  type RunFingerprint,
  type RunInfo,
  type RunLock,
} from '../../shared/run';
import { checkResolvedModel, configHash, isHubId, type ResolvedConfig } from '../../shared/config/config';
import { HubStopped, resolveHubModel } from '../hub/resolve';
import { GraphError } from '../engine/ir';
import { stateSlots, type OptimizerConfig } from '../engine/optim';
import { ARENA_OFF_FROM, NonFiniteError, TrainProgram } from '../engine/program';
import { HUGEPAGE_TUNABLE, hasHugepageTunable } from '../../shared/trainerEnv';
import { cudaAvailability, ortVersion, type SessionOptions } from '../engine/session';
import { TensorBoardWriter } from '../run/tensorboard';
import { checkpointLabels, loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint';
import { loadRunData, type RunData } from './dataset';
import { EVAL_BATCH, Evaluator } from './evaluate';
import { availableMemory, estimateMemory, formatEstimate, judgeMemory, memoryPlanOf, modelSizes } from './memory';
import { batchFeeds, lossFn, paramDefs, resolvePrecision, setupModel, type ModelSetup } from './model';
import { exportModel } from './export';
import { fillStep, planEpoch, stepsPerEpoch, type Features, type PlannedStep } from './plan';
import { lrAt, warmupSteps, type Schedule } from './schedule';

export const VERSION = '0.1.0';

export interface TrainOptions {
  config: ResolvedConfig;
  /** Folder holding run folders (default: the default runs folder beside the config, see shared/run). */
  runsDir?: string;
  /** Use this run folder (created if missing). */
  runDir?: string;
  /** Resume the run in this folder from its last checkpoint. */
  resume?: string;
  /** Resume even though the data files changed, recording `config` as the run's config when it differs (`--allow-changes`). */
  allowChanges?: boolean;
  emit: (e: TrainerEvent) => void;
  /** Polled between K-step blocks: finish the block, checkpoint, stop. */
  shouldStop?: () => boolean;
  /** Awaited after each validation evaluation is recorded: a sweep trial waits here for its pruner's
   *  decision, so that a pruned trial stops exactly at the evaluation that pruned it. */
  afterValidation?: (record: EvalRecord) => Promise<void>;
}

export interface TrainResult {
  runDir: string;
  status: RunInfo['status'];
  final?: FinalMetrics;
}

function optimizerOf(cfg: ResolvedConfig): OptimizerConfig {
  const t = cfg.training;
  return t.optimizer === 'sgd'
    ? { kind: 'sgd', momentum: t.momentum, weightDecay: t.weightDecay }
    : { kind: 'adamw', beta1: t.adamBeta1, beta2: t.adamBeta2, eps: t.adamEps, weightDecay: t.weightDecay };
}

function better(mode: 'max' | 'min', value: number, best: number | undefined, minDelta = 0): boolean {
  if (best === undefined) return true;
  return mode === 'max' ? value > best + minDelta : value < best - minDelta;
}

/** What every step of a run shares: its options, its folder and log, and the trainer state. */
interface RunContext {
  o: TrainOptions;
  cfg: ResolvedConfig;
  t0: number;
  run: RunWriter;
  resumeFrom?: string;
  /** A resume: run.json's fields before it, put back when it fails before its first step. */
  before?: Partial<RunInfo>;
  /** The run folder's trainer.lock, released when the run ends. */
  lock: RunLock;
  logLine: (s: string) => void;
  /** Emits an event; log events also go to train.log. */
  emitLogged: (e: TrainerEvent) => void;
  state: TrainerState;
  // Released when the run ends, however it ends.
  programs: Map<number, TrainProgram>;
  evaluator?: Evaluator;
  tb?: TensorBoardWriter;
  /** Whether this process has taken a training step (a resume that fails before is undone). */
  stepsTaken?: boolean;
}

/** A run once its data and model are set up (steps 2 and 3). */
interface Prepared extends RunContext {
  data: RunData;
  m: ModelSetup;
  slots: string[];
  optimizer: Map<string, Float32Array[]>;
  /** training.mixed_precision as it applies to this run (absent: float32). */
  compute?: 'float16' | 'bfloat16';
}

/** A run ready to train (step 4): sizes, schedule, sessions, evaluation settings. */
interface Training extends Prepared {
  evaluator: Evaluator;
  tb: TensorBoardWriter;
  B: number;
  A: number;
  lengths: number[];
  total: number;
  schedule: Schedule;
  sessionOpts: SessionOptions;
  evalEvery: number;
  hasValidation: boolean;
  metric: MetricName;
  mode: 'max' | 'min';
  /** Steps per block; adapted between blocks when training.stepsPerRun is 'auto'. */
  K: number;
  stopReason?: 'stopped' | 'early';
  /** The latest step's record fields, for a record of the steps left at an early stop. */
  lastTrain?: TrainFields;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const t0 = Date.now();
  // 1. The run folder (new, given, or the one being resumed).
  const c = openRunFolder(o, t0);
  try {
    // 1b. A Hub id becomes its snapshot folder in the Hugging Face cache (downloaded when missing).
    if ((await resolvePretrained(c)) === 'stopped') return finishStoppedDownload(c);
    // 2. Data and tokenizer (a resumed run uses the tokenizer saved with its checkpoint).
    const withData = await prepareData(c);
    // 2b. Will it fit? Refused (or warned about) before the weights and sessions are allocated.
    checkMemory(withData);
    // 3. Model and optimizer state.
    const p = prepareModel(withData);
    // 4. Training programs, evaluator and TensorBoard writer; the 'started' event.
    const tr = await buildPrograms(p);
    // 5. The training loop: epochs of planned steps, run in blocks of up to K steps of one length bucket.
    await trainEpochs(tr);
    if (tr.hasValidation && tr.state.step % tr.evalEvery !== 0 && !tr.stopReason) await evaluateValidation(tr);
    saveLast(tr);
    if (tr.stopReason === 'stopped') return finishStopped(tr);
    // 6. Final evaluation on the test split with the best weights, and the exported model.
    return await testAndExport(tr);
  } catch (e) {
    fail(c, e as Error);
  } finally {
    await release(c);
  }
}

// 1. The run folder: locked, checked, and marked running; train.log is appended to from here on.
// Every refusal (a folder in use, a finished run, changed data, no checkpoint) comes before the
// first write, so a refused run leaves the folder as it was.
function openRunFolder(o: TrainOptions, t0: number): RunContext {
  const cfg = o.config;
  const dir = o.resume ? path.resolve(o.resume) : openRunDir({ runDir: o.runDir, runsDir: o.runsDir ?? defaultRunsFolder(cfg.baseDir), name: cfg.name }).dir;
  if (o.resume && !fs.existsSync(dir)) throw new Error(`--resume ${dir}: no such run folder`);
  const lock = acquireRunLock(dir);
  let run: RunWriter;
  let resumeFrom: string | undefined;
  let before: Partial<RunInfo> | undefined;
  const notes: string[] = [];
  try {
    if (o.resume) {
      const info = markDeadRun(dir) ?? readRunInfo(dir);
      ({ resumeFrom, before } = checkResumable(dir, info, o, notes));
      run = new RunWriter(dir, info);
      if (o.allowChanges && info.configHash !== configHash(cfg)) {
        notes.push('resumed with a changed config (--allow-changes)');
        run.update({ config: cfg, configHash: configHash(cfg), fingerprint: fingerprintRun(cfg) });
      }
    } else {
      assertNewRunFolder(dir);
      const queued = readRun(dir)?.info;
      run = new RunWriter(
        dir,
        newRunInfo({
          id: queued?.id ?? path.basename(dir),
          name: cfg.name,
          configPath: cfg.configPath,
          configHash: configHash(cfg),
          config: cfg,
          status: 'queued',
          now: queued ? new Date(queued.createdAt) : undefined,
          versions: { finetune: VERSION, onnxruntime: ortVersion(), node: process.version },
        }),
      );
      run.info.fingerprint = fingerprintRun(cfg);
    }
    run.update({ status: 'running', startedAt: new Date().toISOString(), pid: process.pid, endedAt: undefined, error: undefined, resumedFrom: resumeFrom });
  } catch (e) {
    lock.release();
    throw e;
  }
  const logFile = run.paths.log;
  const logLine = (s: string) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${s}\n`);
  // train.log gets the line the Output channel shows for every event (evaluations, checkpoints,
  // the stop or the result), not only the log messages.
  const emitLogged = (e: TrainerEvent) => {
    const line = e.type === 'log' ? `${e.level}: ${e.message}` : describeEvent(e);
    if (line !== undefined) logLine(line);
    o.emit(e);
  };
  for (const n of notes) emitLogged({ type: 'log', level: 'info', message: n });
  const state: TrainerState = { version: 1, step: 0, epoch: 0, stepInEpoch: 0, totalSteps: 0, badEvals: 0, labels: [] };
  const c: RunContext = { o, cfg, t0, run, resumeFrom, before, logLine, emitLogged, state, programs: new Map(), lock };
  active.add(c);
  return c;
}

/** 1a. Whether a run may be resumed as asked; throws saying why not. Returns its checkpoint and the run.json fields a failed attempt puts back. */
function checkResumable(dir: string, info: RunInfo, o: TrainOptions, notes: string[]): { resumeFrom: string; before: Partial<RunInfo> } {
  if (info.status === 'completed')
    throw new Error(
      `${dir} is a completed run (step ${info.step}${info.endedAt ? `, ended ${info.endedAt}` : ''}): there is nothing to resume; start a new run instead`,
    );
  if (isRunAlive(info)) throw new Error(`${dir} is still running (pid ${info.pid}); stop it before resuming`);
  if (info.status === 'failed' && info.error?.message.startsWith(DEAD)) notes.push(`${info.error.message}; resuming from its last checkpoint`);
  const resumeFrom = runPaths(dir).checkpoint('last');
  if (!fs.existsSync(resumeFrom)) throw new Error(`${dir} has no checkpoint to resume from (checkpoints/last is missing)`);
  const changed = (info.fingerprint?.files ?? []).map(fileChange).filter((x): x is string => !!x);
  if (changed.length && !o.allowChanges)
    throw new Error(
      `cannot resume ${dir}: ${changed.join('; ')}. Resuming would continue on other data than the run started with; start a new run, or pass --allow-changes to resume anyway`,
    );
  for (const ch of changed) notes.push(`resumed although ${ch} (--allow-changes)`);
  // A resume that fails before its first step leaves run.json as it was (a stopped run stays stopped at its step).
  const before: Partial<RunInfo> = {
    status: info.status,
    step: info.step,
    epoch: info.epoch,
    startedAt: info.startedAt,
    endedAt: info.endedAt,
    pid: info.pid,
    error: info.error,
    resumedFrom: info.resumedFrom,
  };
  return { resumeFrom, before };
}

const DEAD = 'the trainer process';

/**
 * A run that says `running` on this host while its process is gone (a SIGKILL, a native crash) is
 * recorded as failed, saying so; returns the new run.json, or undefined when there was nothing to mark.
 */
export function markDeadRun(dir: string): RunInfo | undefined {
  const r = readRun(dir);
  if (!r || r.info.status !== 'running' || isRunAlive(r.info) || (r.info.host && r.info.host !== os.hostname())) return undefined;
  return updateRunInfo(dir, {
    status: 'failed',
    endedAt: new Date().toISOString(),
    error: { message: `${DEAD} ${r.info.pid ?? '?'} ended without recording a result (killed, or out of memory)` },
  });
}

/** The config hash and the data files a run starts on (a Hub dataset's files are the cache's, checked there). */
function fingerprintRun(cfg: ResolvedConfig): RunFingerprint {
  const d = cfg.data;
  const files = d.hub
    ? []
    : (['train', 'validation', 'test'] as const).flatMap((k) => (d[k] && fs.existsSync(d[k]) ? [fingerprintFile(`data.${k}`, d[k])] : []));
  return { configHash: configHash(cfg), files };
}

// 1b. model.pretrained as a Hub id: resolved here, before anything reads the folder (run.json keeps the id).
// A stop request during the download ends the run as stopped (the partial file stays for a resume).
async function resolvePretrained(c: RunContext): Promise<'stopped' | undefined> {
  const pre = c.cfg.model.pretrained;
  if (pre === undefined || !isHubId(pre)) return;
  let folder: string;
  try {
    folder = await resolveHubModel(pre, {
      revision: c.cfg.model.revision,
      log: (level, message) => c.emitLogged({ type: 'log', level, message }),
      progress: (p) => c.o.emit({ type: 'download', model: pre, ...p }),
      shouldStop: c.o.shouldStop,
    });
  } catch (e) {
    if (!(e instanceof HubStopped)) throw e;
    c.emitLogged({ type: 'log', level: 'info', message: e.message });
    return 'stopped';
  }
  // The checks the config could not have had before the download (data.max_length against the
  // checkpoint's positions), at the config's lines.
  checkResolvedModel(c.cfg, folder);
  c.cfg = { ...c.cfg, model: { ...c.cfg.model, pretrained: folder } };
}

/** 1c. A run stopped while its model downloaded: stopped at step 0, no checkpoint. */
function finishStoppedDownload(c: RunContext): TrainResult {
  const step = c.before?.step ?? 0;
  c.run.update({ status: 'stopped', endedAt: new Date().toISOString(), step });
  c.emitLogged({ type: 'stopped', step });
  return { runDir: c.run.dir, status: 'stopped' };
}

// 2. Data and tokenizer (a resumed run uses the tokenizer and labels saved with its checkpoint).
async function prepareData(c: RunContext): Promise<RunContext & { data: RunData }> {
  const data = await loadRunData(c.cfg, c.resumeFrom, c.resumeFrom ? checkpointLabels(c.resumeFrom) : undefined, (level, message) =>
    c.emitLogged({ type: 'log', level, message }),
  );
  for (const line of data.log) c.emitLogged({ type: 'log', level: 'info', message: line });
  c.state.labels = data.labels;
  return Object.assign(c, { data });
}

// 2b. The memory estimate against what the machine has: a run that cannot fit is refused here
// (training.memory_check: error, the default), or goes on with a warning ('warn', --force).
function checkMemory(c: RunContext & { data: RunData }): void {
  const mode = c.cfg.training.memoryCheck ?? 'error';
  if (mode === 'off') return;
  const lengths = (split?: { features: unknown[] }) => ((split?.features ?? []) as Features[]).map((f) => f.inputIds.length);
  const { data, cfg } = c;
  const sizes = modelSizes(cfg, data.tokenizer.info.vocabSize, data.labels.length);
  const plan = memoryPlanOf(cfg, sizes, lengths(data.train), [...lengths(data.validation), ...lengths(data.test)], EVAL_BATCH);
  const estimate = estimateMemory(plan);
  const avail = availableMemory();
  // What this process holds now (runtime, data) is part of the estimate, so it counts as room.
  const verdict = judgeMemory(estimate, { bytes: avail.bytes + process.memoryUsage().rss, source: `${avail.source} + this process` });
  if (verdict.kind === 'fits') {
    c.emitLogged({ type: 'log', level: 'info', message: `memory: estimated peak ${formatEstimate(estimate)}` });
    return;
  }
  if (verdict.kind === 'refuse' && mode === 'error') throw new Error(verdict.message);
  c.emitLogged({
    type: 'log',
    level: 'warn',
    message: verdict.kind === 'refuse' ? `${verdict.message} (memory_check: warn — running anyway)` : verdict.message,
  });
}

// 3. Model and optimizer state; a resumed run restores both and trims metrics past its checkpoint.
function prepareModel(c: RunContext & { data: RunData }): Prepared {
  const { cfg, data, run, state, resumeFrom } = c;
  const m = setupModel(cfg, data.tokenizer.info.vocabSize, data.labels);
  for (const n of m.notes) c.emitLogged({ type: 'log', level: 'info', message: n });
  for (const n of m.warnings) c.emitLogged({ type: 'log', level: 'warn', message: n });
  const slots = stateSlots(optimizerOf(cfg));
  let optimizer = new Map<string, Float32Array[]>();
  for (const name of m.trained)
    optimizer.set(
      name,
      slots.map(() => new Float32Array(m.params.get(name)!.length)),
    );
  if (resumeFrom) {
    const restored = loadCheckpoint(resumeFrom, m, slots);
    Object.assign(state, restored.state);
    optimizer = restored.optimizer;
    // Steps after the checkpoint (a run killed mid-block) are done again: drop their records so
    // the history has each step once; every evaluation up to the checkpoint stays.
    const kept = readMetrics(run.dir).filter((r) => r.step <= state.step);
    rewriteMetrics(run.dir, kept);
    c.emitLogged({
      type: 'log',
      level: 'info',
      message: `resumed from ${resumeFrom} at step ${state.step} (epoch ${state.epoch + 1}, step ${state.stepInEpoch} of the epoch)`,
    });
  }
  return Object.assign(c, { m, slots, optimizer });
}

// 4. Sizes and schedule, the first training program (which fixes the device), the evaluator and
// the TensorBoard writer.
async function buildPrograms(p: Prepared): Promise<Training> {
  const { cfg, m, run, state } = p;
  const t = cfg.training;
  const B = t.batchSize;
  const A = t.gradientAccumulation;
  const lengths = (p.data.train.features as Features[]).map((f) => f.inputIds.length);
  const perEpoch = stepsPerEpoch(lengths.length, B, A);
  const total = t.maxSteps ?? perEpoch * t.epochs;
  state.totalSteps = total;
  const schedule: Schedule = { base: t.lr, kind: t.schedule, warmup: warmupSteps(total, t.warmupRatio, t.warmupSteps), total };
  // Not an error: the run trains, but never at training.lr (the config check sees this only with max_steps).
  if (schedule.warmup >= total && total > 0)
    p.emitLogged({
      type: 'log',
      level: 'warn',
      message: `warmup (${schedule.warmup} steps) is not shorter than the run (${total} steps): the learning rate never reaches training.lr ${t.lr} (at most ${((t.lr * total) / schedule.warmup).toExponential(2)})`,
    });
  const threads = cfg.threads || os.availableParallelism();
  const sessionOpts: SessionOptions = { device: cfg.device, threads };
  const trainedCount = m.trained.reduce((a, n) => a + m.params.get(n)!.length, 0);
  const allCount = [...m.params.values()].reduce((a, x) => a + x.length, 0);
  // Started from a terminal (the extension and `finetune sweep` set it): large tensors would fault in 4 KB pages.
  if (process.platform === 'linux' && trainedCount >= ARENA_OFF_FROM && !hasHugepageTunable())
    p.emitLogged({
      type: 'log',
      level: 'info',
      message: `memory: for a model this size, start the trainer with GLIBC_TUNABLES=${HUGEPAGE_TUNABLE} (as the extension does): large tensors then fault in 2 MB pages, not 4 KB ones (BERT-base steps ran 2–3× faster with it here; docs/benchmarks.md, "Page faults")`,
    });

  const precision = resolvePrecision(t.mixedPrecision, cfg.device, cfg.device === 'cpu' ? { available: false } : cudaAvailability());
  p.compute = precision.compute;
  if (precision.reason) p.emitLogged({ type: 'log', level: 'warn', message: precision.reason });
  const first = await programFor(p, B, A, sessionOpts, lengths.length ? Math.min(cfg.data.maxLength, 16) : 16);
  const device: DeviceInfo = {
    ...first.device,
    threads,
    onnxruntime: ortVersion(),
    ...(p.compute ? { precision: p.compute === 'float16' ? 'fp16' : 'bf16' } : {}),
  };
  run.update({ device, totalSteps: total });
  if (device.reason && cfg.device !== 'cpu')
    p.emitLogged({ type: 'log', level: cfg.device === 'cuda' ? 'warn' : 'info', message: `device: ${device.used} (${device.reason})` });
  p.emitLogged({
    type: 'started',
    runId: run.info.id,
    runDir: run.dir,
    device,
    params: allCount,
    trainable: trainedCount,
    totalSteps: total,
    time: new Date().toISOString(),
  });
  const evaluator = await Evaluator.create(m, sessionOpts);
  p.evaluator = evaluator;
  const tb = new TensorBoardWriter(run.paths.tensorboard);
  p.tb = tb;

  const metric = cfg.evaluation.metric;
  return Object.assign(p, {
    evaluator,
    tb,
    B,
    A,
    lengths,
    total,
    schedule,
    sessionOpts,
    evalEvery: cfg.evaluation.every === 'epoch' ? perEpoch : cfg.evaluation.every,
    hasValidation: !!p.data.validation,
    metric,
    mode: directionOf(metric),
    K: firstStepsPerRun(t.stepsPerRun, trainedCount),
  } as const);
}

/**
 * Steps in the first call: training.steps_per_run, or for 'auto' 4, and 1 for large models (50M
 * trained parameters and more): their steps take seconds, and a K-step Loop holds one more copy of
 * the parameters and optimizer state between its iterations (1.3 GB at BERT-base), which would set
 * the run's peak memory (docs/benchmarks.md, "BERT-base rows").
 */
export function firstStepsPerRun(stepsPerRun: 'auto' | number, trainedParams: number): number {
  return typeof stepsPerRun === 'number' ? stepsPerRun : trainedParams >= ARENA_OFF_FROM ? 1 : 4;
}

/** The training program for length T (built on first use), handed the current parameters and optimizer state. */
async function programFor(p: Prepared, B: number, A: number, sessionOpts: SessionOptions, T: number): Promise<TrainProgram> {
  const { cfg, m } = p;
  let prog = p.programs.get(T);
  if (!prog) {
    prog = await TrainProgram.create(
      {
        params: paramDefs(m, m.trained),
        frozen: paramDefs(m, m.frozen),
        batch: batchFeeds(m, B, T),
        loss: lossFn(m, cfg.training.gradientCheckpointing ?? false, p.compute),
        lossScaling: p.compute === 'float16' ? {} : undefined,
        optimizer: optimizerOf(cfg),
        clipNorm: cfg.training.gradClip ?? undefined,
        accumulation: A,
        seed: cfg.seed,
      },
      sessionOpts,
    );
    p.programs.set(T, prog);
  }
  // All programs share one set of host arrays: hand over the current state.
  prog.step = p.state.step;
  if (prog.scaler) prog.scaler = { ...(p.state.scaler ??= prog.scaler) };
  for (const n of m.trained) {
    prog.params.set(n, m.params.get(n)!);
    prog.state.set(n, p.optimizer.get(n)!);
  }
  return prog;
}

// 5. The training loop: epochs of planned steps, run in blocks of up to K steps of one length bucket;
// validation (and the last checkpoint) every evalEvery steps, or the last checkpoint each epoch
// when there is no validation split.
async function trainEpochs(c: Training): Promise<void> {
  const { cfg, state } = c;
  training: while (state.step < c.total && !c.stopReason) {
    // A run recorded before training.shuffle existed has no such key: it shuffled.
    const plan = planEpoch(c.lengths, state.epoch, cfg.seed, c.B, c.A, cfg.data.maxLength, cfg.training.shuffle ?? true);
    while (state.stepInEpoch < plan.length && state.step < c.total) {
      if (c.o.shouldStop?.()) {
        c.stopReason = 'stopped';
        break training;
      }
      await runBlock(c, plan);
      if (c.hasValidation && state.step % c.evalEvery === 0) {
        await evaluateValidation(c);
        saveLast(c);
        if (c.stopReason) break training;
      }
    }
    if (state.stepInEpoch >= plan.length) {
      state.epoch++;
      state.stepInEpoch = 0;
      if (!c.hasValidation) saveLast(c);
    }
  }
  // An early stop between logging steps: the steps since the last record get theirs.
  if (c.stopReason === 'early' && c.lastTrain) logTrain(c, c.lastTrain);
}

/** 5a. One block: up to K planned steps of one length, run by one call into its training program. */
async function runBlock(c: Training, plan: PlannedStep[]): Promise<void> {
  const { data, m, state, B, A } = c;
  const t = c.cfg.training;
  const T = plan[state.stepInEpoch].length;
  let k = 1;
  const nextEval = c.hasValidation ? (Math.floor(state.step / c.evalEvery) + 1) * c.evalEvery : Infinity;
  const limit = Math.min(c.K, c.total - state.step, plan.length - state.stepInEpoch, nextEval - state.step);
  while (k < limit && plan[state.stepInEpoch + k].length === T) k++;
  const prog = await programFor(c, B, A, c.sessionOpts, T);
  const perStepTokens = A * B * T;
  const labelsPer = data.task === 'token-classification' ? perStepTokens : A * B;
  const feeds = { ids: new BigInt64Array(k * perStepTokens), mask: new BigInt64Array(k * perStepTokens), labels: new BigInt64Array(k * labelsPer) };
  for (let s = 0; s < k; s++) fillStep(data, plan[state.stepInEpoch + s], B, T, feeds, s);
  const lrs = Array.from({ length: k }, (_, s) => lrAt(c.schedule, state.step + s));
  // The program's state (updated in place) becomes the run's.
  const takeState = () => {
    if (prog.scaler) state.scaler = { ...prog.scaler };
    for (const n of m.trained) {
      m.params.set(n, prog.params.get(n)!);
      c.optimizer.set(n, prog.state.get(n)!);
    }
  };
  const tb0 = performance.now();
  let res;
  try {
    res = await prog.run({ input_ids: feeds.ids, attention_mask: feeds.mask, labels: feeds.labels }, lrs);
  } catch (e) {
    if (e instanceof NonFiniteError) {
      // The program updates its state in place and applies the steps before the bad one: count
      // them, so that the last checkpoint's step matches its weights (the last good state).
      const applied = prog.step - state.step;
      takeState();
      state.step += applied;
      state.stepInEpoch += applied;
      saveLast(c);
    }
    throw e;
  }
  const secs = (performance.now() - tb0) / 1000;
  c.stepsTaken = true;
  takeState();
  // Aim for about one block per second: progress reports stay live and runs stay long enough to amortize.
  if (t.stepsPerRun === 'auto') c.K = Math.max(1, Math.min(64, Math.round((k / secs) * 1)));
  const realTokens = feeds.mask.reduce((a, v) => a + Number(v), 0);
  // Every step of the block counts: a record every loggingSteps steps (and at the last step) with
  // the mean loss since the previous one; the speeds are the whole call's.
  const every = Math.max(1, t.loggingSteps ?? 1); // runs recorded before training.logging_steps: 1
  const stepInEpoch0 = state.stepInEpoch;
  for (let s = 0; s < k; s++) {
    state.step++;
    state.stepInEpoch++;
    const pending = (state.pendingLoss ??= { sum: 0, steps: 0 });
    pending.sum += res.losses[s];
    pending.steps++;
    // fp16: a non-finite gradient norm is a step skipped for overflow (the loss scale backed off).
    if (prog.scaler && !Number.isFinite(res.gradNorms[s])) pending.skipped = (pending.skipped ?? 0) + 1;
    c.lastTrain = {
      epoch: state.epoch + (stepInEpoch0 + s + 1) / plan.length,
      lr: lrs[s],
      gradNorm: res.gradNorms[s],
      stepsPerSec: k / secs,
      samplesPerSec: (k * A * B) / secs,
      tokensPerSec: realTokens / secs,
      ...(prog.scaler ? { lossScale: prog.scaler.scale } : {}),
    };
    if (state.step % every === 0 || state.step === c.total) logTrain(c, c.lastTrain);
  }
  c.run.update({ step: state.step, epoch: state.epoch + state.stepInEpoch / plan.length });
}

/** What a train record says besides its step and loss. */
type TrainFields = Pick<TrainRecord, 'epoch' | 'lr' | 'gradNorm' | 'stepsPerSec' | 'samplesPerSec' | 'tokensPerSec' | 'lossScale'>;

/** 5a'. A train record at the current step, its loss the mean over the steps since the previous one. */
function logTrain(c: Training, f: TrainFields): void {
  const pending = c.state.pendingLoss;
  if (!pending?.steps) return;
  const rec: TrainRecord = { type: 'train', step: c.state.step, ...f, loss: pending.sum / pending.steps, time: Date.now() };
  if (f.lossScale !== undefined) rec.skipped = pending.skipped ?? 0;
  c.state.pendingLoss = undefined;
  c.run.append(rec);
  c.o.emit(rec);
  c.tb.scalars(rec.step, {
    'train/loss': rec.loss,
    'train/lr': rec.lr,
    'train/grad_norm': rec.gradNorm,
    'train/tokens_per_sec': rec.tokensPerSec ?? NaN,
    ...(rec.lossScale !== undefined ? { 'train/loss_scale': rec.lossScale } : {}),
  });
}

/** Evaluates the current weights on a split: the record goes to metrics.jsonl and the events, the misclassified examples to their file. */
async function evaluateSplit(c: Training, split: 'validation' | 'test', checkpointStep?: number): Promise<EvalRecord> {
  const { cfg, run, state } = c;
  const { record, misclassified } = await c.evaluator.evaluate(c.data, split, c.m.params, {
    step: state.step,
    epoch: state.epoch,
    mode: cfg.evaluation.mode,
    maxMisclassified: cfg.evaluation.maxMisclassified,
  });
  if (checkpointStep !== undefined && checkpointStep !== state.step) record.checkpointStep = checkpointStep;
  run.append(record);
  c.emitLogged(record);
  writeJsonAtomic(run.paths.misclassified(split), { step: state.step, examples: misclassified });
  return record;
}

/** 5b. Evaluation on the validation split: the best checkpoint when evaluation.metric improves; early stopping on its own metric. */
async function evaluateValidation(c: Training): Promise<void> {
  const { run, state, metric, mode } = c;
  const record = await evaluateSplit(c, 'validation');
  c.tb.scalars(state.step, Object.fromEntries(Object.entries(record.metrics).map(([k, v]) => [`eval/${k}`, v])));
  const value = record.metrics[metric];
  if (value === undefined) throw new Error(`evaluation.metric '${metric}' is not one of ${Object.keys(record.metrics).join(', ')}`);
  const bestBefore = state.best;
  if (better(mode, value, state.best?.value)) {
    state.best = { metric, value, step: state.step };
    saveCheckpoint(run.paths.checkpoint('best'), c.m, c.slots, c.optimizer, { ...state }, c.data.tokenizer);
    run.update({ best: { metric, value, step: state.step, checkpoint: run.paths.checkpoint('best') } });
    c.emitLogged({ type: 'checkpoint', step: state.step, dir: run.paths.checkpoint('best'), best: true });
  }
  earlyStopping(c, record.metrics, bestBefore);
  await c.o.afterValidation?.(record);
}

/**
 * 5b'. Early stopping watches training.early_stopping.metric in its mode (which may differ from
 * evaluation.metric, which picks the best checkpoint): `patience` evaluations without an
 * improvement of more than min_delta over its own best stop the run.
 */
function earlyStopping(c: Training, metrics: Record<string, number | undefined>, bestBefore: TrainerState['best']): void {
  const es = c.cfg.training.earlyStopping;
  const state = c.state;
  if (!es) return;
  const value = metrics[es.metric];
  if (value === undefined) throw new Error(`training.early_stopping.metric '${es.metric}' is not one of ${Object.keys(metrics).join(', ')}`);
  // A checkpoint from before early stopping kept its own best has only the selection metric's.
  // (Its best as it was before this evaluation: compared with the value just recorded it would never improve.)
  const prev = state.esBest ?? (bestBefore?.metric === es.metric ? { value: bestBefore.value, step: bestBefore.step } : undefined);
  if (better(es.mode, value, prev?.value, es.minDelta)) {
    state.esBest = { value, step: state.step };
    state.badEvals = 0;
  } else state.badEvals++;
  if (state.badEvals >= es.patience) {
    c.stopReason = 'early';
    const b = state.esBest ?? prev;
    const n = state.badEvals;
    const reason = `${es.metric} has not improved${es.minDelta ? ` by more than ${es.minDelta}` : ''} for ${n} evaluation${n === 1 ? '' : 's'} (best ${formatMetric(b?.value)} at step ${b?.step})`;
    c.run.update({ earlyStop: { step: state.step, reason } });
    c.emitLogged({ type: 'log', level: 'info', message: `early stopping: ${reason}` });
  }
}

/** 5c. The last checkpoint (what a resume starts from). */
function saveLast(c: Prepared): void {
  saveCheckpoint(c.run.paths.checkpoint('last'), c.m, c.slots, c.optimizer, { ...c.state }, c.data.tokenizer);
}

/** 5d. A run stopped on request: recorded as stopped, resumable from its last checkpoint. */
function finishStopped(c: Training): TrainResult {
  const { run, state } = c;
  run.update({ status: 'stopped', endedAt: new Date().toISOString(), step: state.step });
  c.emitLogged({ type: 'stopped', step: state.step, checkpoint: run.paths.checkpoint('last') });
  return { runDir: run.dir, status: 'stopped' };
}

// 6. Final evaluation on the test split with the best weights, and the exported model.
async function testAndExport(c: Training): Promise<TrainResult> {
  const { run, state, m, data } = c;
  const bestDir = run.paths.checkpoint('best');
  const fromBest = fs.existsSync(bestDir);
  if (fromBest) loadCheckpoint(bestDir, m, c.slots);
  const final: FinalMetrics = {};
  if (data.test) {
    const record = await evaluateSplit(c, 'test', fromBest ? state.best?.step : undefined);
    c.tb.scalars(state.step, Object.fromEntries(Object.entries(record.metrics).map(([k, v]) => [`test/${k}`, v])));
    for (const k of metricsIn(record.metrics)) final[testKey(k)] = record.metrics[k];
  }
  if (state.best) final[bestKey(state.best.metric)] = state.best.value;
  exportModel(run.dir, m, data);
  run.update({ status: 'completed', endedAt: new Date().toISOString(), final, step: state.step });
  c.emitLogged({ type: 'completed', step: state.step, metrics: final, seconds: (Date.now() - c.t0) / 1000 });
  return { runDir: run.dir, status: 'completed', final };
}

/**
 * A failed run: recorded as failed (with the node and op of a graph error) and the error rethrown.
 * A resume that fails before its first new step (a corrupt checkpoint, data that no longer
 * reads) puts run.json back as it was: the run is still what it was before the attempt.
 */
function fail(c: RunContext, err: Error): never {
  const g = err instanceof GraphError ? err : undefined;
  try {
    c.logLine(`failed: ${err.message}`);
    if (c.before && !c.stepsTaken) {
      c.run.update({ ...c.before, error: c.before.error });
      c.logLine(`the run is left as it was before the resume (${c.before.status}, step ${c.before.step})`);
    } else
      c.run.update({
        status: 'failed',
        endedAt: new Date().toISOString(),
        step: c.state.step,
        error: { message: err.message, node: g?.node, op: g?.op, step: (err as NonFiniteError).step },
      });
  } catch {
    // a full disk may refuse even this; the previous run.json is intact (atomic writes)
  }
  throw err;
}

/** The TensorBoard writer, the training programs' and the evaluator's sessions; the folder's lock. */
async function release(c: RunContext): Promise<void> {
  try {
    c.tb?.close();
    for (const p of c.programs.values()) await p.release();
    c.programs = new Map();
    await c.evaluator?.release();
  } finally {
    active.delete(c);
    c.lock.release();
  }
}

/** Runs in this process that have not ended (what a crash handler must record). */
const active = new Set<RunContext>();

/**
 * For a crash handler (an uncaught exception, a second Ctrl-C, an unexpected exit): records every
 * run of this process that has not ended as `failed` with the reason, or as `stopped` when it can
 * be resumed (asked: an abort by signal, and a checkpoint to resume from exists), and releases its
 * lock. Synchronous, so it can run in a process 'exit' handler. Returns how many it recorded.
 */
export function endActiveRuns(how: { status: 'failed' | 'stopped'; message: string }): number {
  let n = 0;
  for (const c of [...active]) {
    active.delete(c);
    try {
      const resumable = how.status === 'stopped' && fs.existsSync(c.run.paths.checkpoint('last'));
      const message =
        how.status === 'failed'
          ? how.message
          : `${how.message}; ${resumable ? '--resume continues from the last checkpoint' : 'there is no checkpoint to resume from yet'}`;
      c.logLine(`${resumable ? 'stopped' : 'failed'}: ${message}`);
      if (c.before && !c.stepsTaken) c.run.update({ ...c.before });
      else
        c.run.update({
          status: resumable ? 'stopped' : 'failed',
          endedAt: new Date().toISOString(),
          error: resumable ? undefined : { message },
        });
      n++;
    } catch {
      // nothing more can be done here (a full disk); readers see the pid is gone
    } finally {
      c.lock.release();
    }
  }
  return n;
}

export type { EvalRecord };
