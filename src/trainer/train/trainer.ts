// A whole fine-tuning run from a resolved config: data, tokenizer, model, K-step training
// programs per length bucket, warmup + decay, evaluation, early stopping, best/last checkpoints,
// exact resume, the final test evaluation and the exported ONNX model — all recorded in the run
// directory as it happens.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeviceInfo, EvalRecord, TrainerEvent } from '../../shared/protocol';
import { configHash, type ResolvedConfig } from '../../shared/config/config';
import { GraphError } from '../engine/ir';
import { serializeModel } from '../engine/onnx';
import { stateSlots, type OptimizerConfig } from '../engine/optim';
import { NonFiniteError, TrainProgram } from '../engine/program';
import { ortVersion, type SessionOptions } from '../engine/session';
import { TensorBoardWriter } from '../run/tensorboard';
import { RunDir, createRunDir, readMetrics, readRunInfo, writeFileAtomic, writeJsonAtomic, type RunInfo } from '../run/rundir';
import { writeTokenizerFolder } from '../tokenize';
import { loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint';
import { loadRunData, type RunData } from './dataset';
import { Evaluator } from './evaluate';
import { batchFeeds, inferenceGraph, lossFn, paramDefs, setupModel, type ModelSetup } from './model';
import { planEpoch, stepsPerEpoch, type PlannedStep } from './plan';
import { lrAt, warmupSteps, type Schedule } from './schedule';

export const VERSION = '0.1.0';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TrainOptions {
  config: ResolvedConfig;
  /** Folder holding run folders (default <config folder>/.finetune/runs). */
  runsDir?: string;
  /** Use this run folder (created if missing). */
  runDir?: string;
  /** Resume the run in this folder from its last checkpoint. */
  resume?: string;
  emit: (e: TrainerEvent) => void;
  /** Polled between K-step blocks: finish the block, checkpoint, stop. */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  runDir: string;
  status: RunInfo['status'];
  final?: Record<string, number>;
}

interface Features { inputIds: number[]; attentionMask: number[] }

/** Pads a step's micro-batches to its bucket length into [A, B, T] feeds (appended at `offset` steps). */
function fillStep(data: RunData, step: PlannedStep, B: number, T: number, out: { ids: BigInt64Array; mask: BigInt64Array; labels: BigInt64Array }, slot: number) {
  const A = step.micro.length;
  const perStep = A * B * T;
  const labelsPer = data.task === 'token-classification' ? A * B * T : A * B;
  step.micro.forEach((ids, a) => {
    for (let r = 0; r < B; r++) {
      const base = slot * perStep + (a * B + r) * T;
      const i = ids[r];
      if (i === undefined) {
        // A short last batch: padding rows, every label ignored.
        if (data.task === 'token-classification') out.labels.fill(-100n, base, base + T);
        else out.labels[slot * labelsPer + a * B + r] = -100n;
        continue;
      }
      const f = data.train.features[i] as Features & { labels?: number[]; label?: number };
      for (let t = 0; t < T; t++) {
        const inside = t < f.inputIds.length;
        out.ids[base + t] = inside ? BigInt(f.inputIds[t]) : 0n;
        out.mask[base + t] = inside ? BigInt(f.attentionMask[t]) : 0n;
        if (data.task === 'token-classification') out.labels[base + t] = inside ? BigInt(f.labels![t]) : -100n;
      }
      if (data.task === 'sequence-classification') out.labels[slot * labelsPer + a * B + r] = BigInt(f.label!);
    }
  });
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

export async function train(o: TrainOptions): Promise<TrainResult> {
  const cfg = o.config;
  const t0 = Date.now();
  const emit = o.emit;
  const log = (message: string, level: 'info' | 'warn' | 'error' = 'info') => emit({ type: 'log', level, message });

  // 1. The run folder (new, given, or the one being resumed).
  let run: RunDir;
  let resumeFrom: string | undefined;
  if (o.resume) {
    const dir = path.resolve(o.resume);
    const info = readRunInfo(dir);
    if (info.status === 'running' && info.pid && info.pid !== process.pid && info.host === os.hostname() && processAlive(info.pid)) {
      throw new Error(`${dir} is still running (pid ${info.pid}); stop it before resuming`);
    }
    resumeFrom = path.join(dir, 'checkpoints', 'last');
    if (!fs.existsSync(resumeFrom)) throw new Error(`${dir} has no checkpoint to resume from (checkpoints/last is missing)`);
    run = new RunDir(dir, info);
  } else {
    let dir = o.runDir ? path.resolve(o.runDir) : undefined;
    let id: string;
    if (dir) {
      fs.mkdirSync(dir, { recursive: true });
      id = path.basename(dir);
    } else ({ id, dir } = createRunDir(o.runsDir ?? path.join(cfg.baseDir, '.finetune', 'runs'), cfg.name));
    run = new RunDir(dir, {
      id, name: cfg.name, configPath: cfg.configPath, configHash: configHash(cfg), config: cfg, status: 'queued',
      createdAt: new Date().toISOString(), host: os.hostname(), step: 0, epoch: 0,
      versions: { finetune: VERSION, onnxruntime: ortVersion(), node: process.version },
    });
  }
  run.update({ status: 'running', startedAt: new Date().toISOString(), pid: process.pid, endedAt: undefined, error: undefined, resumedFrom: resumeFrom });
  const logFile = run.path('train.log');
  const logLine = (s: string) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${s}\n`);
  const emitLogged = (e: TrainerEvent) => {
    if (e.type === 'log') logLine(`${e.level}: ${e.message}`);
    emit(e);
  };

  let tb: TensorBoardWriter | undefined;
  let programs = new Map<number, TrainProgram>();
  let evaluator: Evaluator | undefined;
  const state: TrainerState = { version: 1, step: 0, epoch: 0, stepInEpoch: 0, totalSteps: 0, badEvals: 0, labels: [] };
  let m: ModelSetup | undefined;
  let data: RunData | undefined;
  let slots: string[] = [];
  let optimizer = new Map<string, Float32Array[]>();
  try {
    // 2. Data and tokenizer (a resumed run uses the tokenizer saved with its checkpoint).
    data = await loadRunData(cfg, resumeFrom);
    for (const line of data.log) emitLogged({ type: 'log', level: 'info', message: line });
    state.labels = data.labels;

    // 3. Model and optimizer state.
    m = setupModel(cfg, data.tokenizer.info.vocabSize, data.labels.length);
    for (const n of m.notes) emitLogged({ type: 'log', level: 'info', message: n });
    slots = stateSlots(optimizerOf(cfg));
    for (const name of m.trained) optimizer.set(name, slots.map(() => new Float32Array(m!.params.get(name)!.length)));
    if (resumeFrom) {
      const restored = loadCheckpoint(resumeFrom, m, slots);
      Object.assign(state, restored.state);
      optimizer = restored.optimizer;
      // Steps after the checkpoint (a run killed mid-block) are done again: drop their records so
      // the history has each step once; every evaluation up to the checkpoint stays.
      const kept = readMetrics(run.dir).filter((r) => r.step <= state.step);
      writeFileAtomic(run.metricsFile, kept.map((r) => JSON.stringify(r) + '\n').join(''));
      emitLogged({ type: 'log', level: 'info', message: `resumed from ${resumeFrom} at step ${state.step} (epoch ${state.epoch + 1}, step ${state.stepInEpoch} of the epoch)` });
    }

    const t = cfg.training;
    const B = t.batchSize;
    const A = t.gradientAccumulation;
    const lengths = (data.train.features as Features[]).map((f) => f.inputIds.length);
    const perEpoch = stepsPerEpoch(lengths.length, B, A);
    const total = t.maxSteps ?? perEpoch * t.epochs;
    state.totalSteps = total;
    const schedule: Schedule = { base: t.lr, kind: t.schedule, warmup: warmupSteps(total, t.warmupRatio, t.warmupSteps), total };
    const threads = cfg.threads || os.availableParallelism();
    const sessionOpts: SessionOptions = { device: cfg.device, threads };
    const trainedCount = m.trained.reduce((a, n) => a + m!.params.get(n)!.length, 0);
    const allCount = [...m.params.values()].reduce((a, p) => a + p.length, 0);

    const programFor = async (T: number): Promise<TrainProgram> => {
      let p = programs.get(T);
      if (!p) {
        p = await TrainProgram.create({
          params: paramDefs(m!, m!.trained), frozen: paramDefs(m!, m!.frozen), batch: batchFeeds(m!, B, T), loss: lossFn(m!),
          optimizer: optimizerOf(cfg), clipNorm: t.gradClip ?? undefined, accumulation: A, seed: cfg.seed,
        }, sessionOpts);
        programs.set(T, p);
      }
      // All programs share one set of host arrays: hand over the current state.
      p.step = state.step;
      for (const n of m!.trained) {
        p.params.set(n, m!.params.get(n)!);
        p.state.set(n, optimizer.get(n)!);
      }
      return p;
    };
    const first = await programFor(lengths.length ? Math.min(cfg.data.maxLength, 16) : 16);
    const device: DeviceInfo = { ...first.device, threads, onnxruntime: ortVersion() };
    run.update({ device, totalSteps: total });
    if (device.reason && cfg.device !== 'cpu') emitLogged({ type: 'log', level: cfg.device === 'cuda' ? 'warn' : 'info', message: `device: ${device.used} (${device.reason})` });
    emitLogged({ type: 'started', runId: run.info.id, runDir: run.dir, device, params: allCount, trainable: trainedCount, totalSteps: total, time: new Date().toISOString() });
    logLine(`started: ${allCount} parameters (${trainedCount} trained), ${total} steps, device ${device.used}`);
    evaluator = await Evaluator.create(m, sessionOpts);
    tb = new TensorBoardWriter(run.path('tensorboard'));

    const evalEvery = cfg.evaluation.every === 'epoch' ? perEpoch : cfg.evaluation.every;
    const hasValidation = !!data.validation;
    const metric = cfg.evaluation.metric;
    const es = t.earlyStopping;
    const mode: 'max' | 'min' = es?.mode ?? (metric === 'loss' ? 'min' : 'max');
    let stopReason: 'stopped' | 'early' | undefined;
    let K = typeof t.stepsPerRun === 'number' ? t.stepsPerRun : 4;
    const saveLast = () => saveCheckpoint(run.path('checkpoints', 'last'), m!, slots, optimizer, { ...state }, data!.tokenizer);

    const evaluateNow = async () => {
      const { record, misclassified } = await evaluator!.evaluate(data!, 'validation', m!.params,
        { step: state.step, epoch: state.epoch, mode: cfg.evaluation.mode, maxMisclassified: cfg.evaluation.maxMisclassified });
      run.append(record);
      emitLogged(record);
      writeJsonAtomic(run.path('misclassified-validation.json'), { step: state.step, examples: misclassified });
      tb!.scalars(state.step, Object.fromEntries(Object.entries(record.metrics).map(([k, v]) => [`eval/${k}`, v])));
      const value = record.metrics[metric];
      if (value === undefined) throw new Error(`evaluation.metric '${metric}' is not one of ${Object.keys(record.metrics).join(', ')}`);
      if (better(mode, value, state.best?.value, es?.minDelta ?? 0)) {
        state.best = { metric, value, step: state.step };
        state.badEvals = 0;
        saveCheckpoint(run.path('checkpoints', 'best'), m!, slots, optimizer, { ...state }, data!.tokenizer);
        run.update({ best: { metric, value, step: state.step, checkpoint: run.path('checkpoints', 'best') } });
        emit({ type: 'checkpoint', step: state.step, dir: run.path('checkpoints', 'best'), best: true });
      } else state.badEvals++;
      if (es && state.badEvals >= es.patience) {
        stopReason = 'early';
        emitLogged({ type: 'log', level: 'info', message: `early stopping: ${metric} has not improved for ${state.badEvals} evaluations (best ${state.best?.value.toFixed(4)} at step ${state.best?.step})` });
      }
    };

    // 4. The training loop: epochs of planned steps, run in blocks of up to K steps of one length bucket.
    training: while (state.step < total && !stopReason) {
      const plan = planEpoch(lengths, state.epoch, cfg.seed, B, A, cfg.data.maxLength);
      while (state.stepInEpoch < plan.length && state.step < total) {
        if (o.shouldStop?.()) {
          stopReason = 'stopped';
          break training;
        }
        const T = plan[state.stepInEpoch].length;
        let k = 1;
        const nextEval = hasValidation ? (Math.floor(state.step / evalEvery) + 1) * evalEvery : Infinity;
        const limit = Math.min(K, total - state.step, plan.length - state.stepInEpoch, nextEval - state.step);
        while (k < limit && plan[state.stepInEpoch + k].length === T) k++;
        const prog = await programFor(T);
        const perStepTokens = A * B * T;
        const labelsPer = data.task === 'token-classification' ? perStepTokens : A * B;
        const feeds = { ids: new BigInt64Array(k * perStepTokens), mask: new BigInt64Array(k * perStepTokens), labels: new BigInt64Array(k * labelsPer) };
        for (let s = 0; s < k; s++) fillStep(data, plan[state.stepInEpoch + s], B, T, feeds, s);
        const lrs = Array.from({ length: k }, (_, s) => lrAt(schedule, state.step + s));
        const tb0 = performance.now();
        let res;
        try {
          res = await prog.run({ input_ids: feeds.ids, attention_mask: feeds.mask, labels: feeds.labels }, lrs);
        } catch (e) {
          if (e instanceof NonFiniteError) saveLast(); // the state before the block is the last good one
          throw e;
        }
        const secs = (performance.now() - tb0) / 1000;
        for (const n of m.trained) {
          m.params.set(n, prog.params.get(n)!);
          optimizer.set(n, prog.state.get(n)!);
        }
        state.step += k;
        state.stepInEpoch += k;
        // Aim for about one block per second: progress reports stay live and runs stay long enough to amortize.
        if (t.stepsPerRun === 'auto') K = Math.max(1, Math.min(64, Math.round((k / secs) * 1)));
        const realTokens = feeds.mask.reduce((a, v) => a + Number(v), 0);
        const rec = {
          type: 'train' as const, step: state.step, epoch: state.epoch + state.stepInEpoch / plan.length, loss: res.losses[k - 1],
          lr: lrs[k - 1], gradNorm: res.gradNorms[k - 1], stepsPerSec: k / secs, samplesPerSec: (k * A * B) / secs, tokensPerSec: realTokens / secs, time: Date.now(),
        };
        run.append(rec);
        emit(rec);
        tb.scalars(state.step, { 'train/loss': rec.loss, 'train/lr': rec.lr, 'train/grad_norm': rec.gradNorm, 'train/tokens_per_sec': rec.tokensPerSec });
        run.update({ step: state.step, epoch: rec.epoch });
        if (hasValidation && state.step % evalEvery === 0) {
          await evaluateNow();
          saveLast();
          if (stopReason) break training;
        }
      }
      if (state.stepInEpoch >= plan.length) {
        state.epoch++;
        state.stepInEpoch = 0;
        if (!hasValidation) saveLast();
      }
    }
    if (hasValidation && state.step % evalEvery !== 0 && !stopReason) await evaluateNow();
    saveLast();
    if (stopReason === 'stopped') {
      run.update({ status: 'stopped', endedAt: new Date().toISOString(), step: state.step });
      emitLogged({ type: 'stopped', step: state.step, checkpoint: run.path('checkpoints', 'last') });
      return { runDir: run.dir, status: 'stopped' };
    }

    // 5. Final evaluation on the test split with the best weights, and the exported model.
    const bestDir = run.path('checkpoints', 'best');
    if (fs.existsSync(bestDir)) loadCheckpoint(bestDir, m, slots);
    const final: Record<string, number> = {};
    if (data.test) {
      const { record, misclassified } = await evaluator.evaluate(data, 'test', m.params,
        { step: state.step, epoch: state.epoch, mode: cfg.evaluation.mode, maxMisclassified: cfg.evaluation.maxMisclassified });
      run.append(record);
      emitLogged(record);
      writeJsonAtomic(run.path('misclassified-test.json'), { step: state.step, examples: misclassified });
      for (const [k, v] of Object.entries(record.metrics)) final[`test_${k}`] = v;
    }
    if (state.best) final[`best_${state.best.metric}`] = state.best.value;
    exportModel(run.dir, m, data);
    run.update({ status: 'completed', endedAt: new Date().toISOString(), final, step: state.step });
    emitLogged({ type: 'completed', step: state.step, metrics: final, seconds: (Date.now() - t0) / 1000 });
    return { runDir: run.dir, status: 'completed', final };
  } catch (e) {
    const err = e as Error;
    const g = err instanceof GraphError ? err : undefined;
    try {
      run.update({ status: 'failed', endedAt: new Date().toISOString(), step: state.step,
        error: { message: err.message, node: g?.node, op: g?.op, step: (err as NonFiniteError).step } });
      logLine(`failed: ${err.message}`);
    } catch {
      // a full disk may refuse even this; the previous run.json is intact (atomic writes)
    }
    throw err;
  } finally {
    tb?.close();
    for (const p of programs.values()) await p.release();
    programs = new Map();
    await evaluator?.release();
  }
}

/** model.onnx (any batch and length), labels.json and the tokenizer files in the run folder. */
export function exportModel(dir: string, m: ModelSetup, data: RunData): void {
  const g = inferenceGraph(m, false);
  writeFileAtomic(path.join(dir, 'model.onnx'), serializeModel(g));
  writeJsonAtomic(path.join(dir, 'labels.json'), { task: data.task, labels: data.labels, maxLength: m.config.maxPositions });
  writeTokenizerFolder(path.join(dir, 'tokenizer'), data.tokenizer);
}

export type { EvalRecord };
