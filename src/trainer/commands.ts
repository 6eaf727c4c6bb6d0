// The `finetune train | eval | predict | export` commands: wiring between the CLI, the trainer, run
// folders and the exported model.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TRAINER_EXIT, type EvalRecord, type TrainerCommand, type TrainerEvent } from '../shared/protocol';
import { ConfigValidationError, loadConfigWithWarnings, formatConfigError, type ResolvedConfig } from '../shared/config/config';
import { Session, type Device } from './engine/session';
import { lengthSettings, predictText, readExported } from './predict';
import { loadRunData } from './train/dataset';
import { Evaluator } from './train/evaluate';
import { exportInt8 } from './train/export';
import { endActiveRuns, markDeadRun, train } from './train/trainer';
import { readRunInfo } from '../shared/run';

type Emit = (e: TrainerEvent) => void;

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : 'nan';
}

/** A per-class table of an evaluation record (entity types for NER, classes for classification). */
export function formatEvalRecord(r: EvalRecord): string {
  const rows = Object.entries(r.perClass ?? {});
  const w = Math.max(12, ...rows.map(([k]) => k.length));
  const lines = [`${''.padStart(w)}  precision     recall   f1-score    support`];
  const row = (k: string, v: { precision: number; recall: number; f1: number; support: number }) =>
    `${k.padStart(w)}  ${fmt(v.precision).padStart(9)}  ${fmt(v.recall).padStart(9)}  ${fmt(v.f1).padStart(9)}  ${String(v.support).padStart(9)}`;
  for (const [k, v] of rows) lines.push(row(k, v));
  if (r.averages) {
    lines.push('');
    for (const [k, v] of Object.entries(r.averages)) lines.push(row(`${k} avg`, v));
  }
  lines.push(
    '',
    Object.entries(r.metrics)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join('   '),
  );
  return lines.join('\n');
}

/**
 * Seconds left, from the rate of the steps this process has taken: since the first step it saw
 * (a resumed run starts counting at its checkpoint, not at step 0, whose time was another
 * process's), else the trainer's own steps/s for that first block.
 */
export function etaSeconds(first: { step: number; time: number }, now: { step: number; time: number }, total: number, stepsPerSec: number): number {
  const left = Math.max(0, total - now.step);
  const dt = (now.time - first.time) / 1000;
  const rate = now.step > first.step && dt > 0 ? (now.step - first.step) / dt : stepsPerSec;
  return rate > 0 ? left / rate : 0;
}

/** A one-line progress bar on a terminal; plain lines otherwise. */
function progress(total: () => number | undefined): (e: TrainerEvent) => boolean {
  const tty = process.stderr.isTTY;
  let first: { step: number; time: number } | undefined;
  let lastPlain = 0;
  let lastDrawn = 0;
  return (e) => {
    if (e.type !== 'train') {
      if (tty) process.stderr.write('\r\x1b[K');
      return false;
    }
    const n = total() ?? 0;
    // A call of K steps brings K records at once (training.logging_steps: 1): redraw at most 10 times a second.
    if (tty && Date.now() - lastDrawn < 100 && e.step !== n) return true;
    lastDrawn = Date.now();
    const frac = n ? e.step / n : 0;
    first ??= { step: e.step, time: Date.now() };
    const eta = etaSeconds(first, { step: e.step, time: Date.now() }, n, e.stepsPerSec);
    const text = `step ${e.step}/${n} ${(100 * frac).toFixed(0)}% loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(1)} ${e.stepsPerSec.toFixed(1)} steps/s ETA ${Math.round(eta)}s`;
    if (tty) {
      const width = 24;
      const filled = Math.round(width * frac);
      process.stderr.write(`\r\x1b[K[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${text}`);
    } else if (Date.now() - lastPlain > 5000 || e.step === n) {
      lastPlain = Date.now();
      console.log(text);
    }
    return true;
  };
}

/** Exit codes of `finetune train` (shared with the extension). */
const EXIT = TRAINER_EXIT;

export async function runTrain(o: {
  configPath?: string;
  runDir?: string;
  resume?: string;
  overrides: Record<string, unknown>;
  /** With resume: accept a config file, --set overrides and changed data files. */
  allowChanges?: boolean;
  /** Forked by `finetune sweep` (--sweep-trial): wait for its continue/stop after each validation evaluation. */
  sweepTrial?: boolean;
  json: boolean;
  device?: Device;
  threads?: number;
  emit: Emit;
}): Promise<number> {
  const config = loadTrainConfig(o);
  if (typeof config === 'number') return config;
  return trainWithSignals(o, config);
}

/** The config a train command runs: the config file's, or the resumed run's own; a number is the exit code of a refusal. */
function loadTrainConfig(o: Parameters<typeof runTrain>[0]): ResolvedConfig | number {
  let config: ResolvedConfig;
  const changes = [...(o.configPath ? [`the config file ${o.configPath}`] : []), ...Object.keys(o.overrides).map((k) => `--set ${k}`)];
  // A run whose trainer died says `running`: whatever happens next, it says failed from now on.
  if (o.resume) markDeadRun(path.resolve(o.resume));
  if (o.resume && changes.length && !o.allowChanges) {
    console.error(
      `finetune: --resume continues ${o.resume} with the config it was started with; ${changes.join(', ')} would change the run. ` +
        'Start a new run with them, or pass --allow-changes to resume with the changed config.',
    );
    return EXIT.usage;
  }
  const configPath = o.resume && o.allowChanges && changes.length ? (o.configPath ?? readRunInfo(path.resolve(o.resume)).configPath) : o.configPath;
  if (o.resume && configPath === undefined) config = readRunInfo(path.resolve(o.resume)).config as ResolvedConfig;
  else {
    if (!configPath) throw new Error('train needs a config file: finetune train <config>');
    try {
      const loaded = loadConfigWithWarnings(configPath, o.overrides);
      config = loaded.config;
      for (const w of loaded.warnings) o.emit({ type: 'log', level: 'warn', message: formatConfigError(w) });
    } catch (e) {
      // Found before training: the errors go to the terminal (and to the extension's problems), no run folder is written.
      if (e instanceof ConfigValidationError) {
        for (const err of e.errors) console.error(formatConfigError(err));
        return EXIT.usage;
      }
      throw e;
    }
  }
  if (o.device) config = { ...config, device: o.device };
  if (o.threads) config = { ...config, threads: o.threads };
  return config;
}

async function trainWithSignals(o: Parameters<typeof runTrain>[0], config: ResolvedConfig): Promise<number> {
  // Stop requests: Ctrl-C / SIGTERM / SIGHUP on a terminal or from a scheduler, {type:'stop'} over
  // IPC when forked. A second one aborts at once; the run is then recorded as stopped (resumable
  // from its last checkpoint) by the crash handler, never left `running`.
  let stop = false;
  // A sweep trial (--sweep-trial, forked by `finetune sweep`) waits after each validation
  // evaluation for the sweep's continue or stop, so its pruning does not race the training.
  let gate: (() => void) | undefined;
  const release = () => {
    gate?.();
    gate = undefined;
  };
  const afterValidation =
    o.sweepTrial && process.send
      ? () =>
          new Promise<void>((resolve) => {
            if (stop || !process.connected) return resolve();
            gate = resolve;
          })
      : undefined;
  const requestStop = (signal?: NodeJS.Signals) => {
    release();
    if (stop) {
      endActiveRuns({ status: 'stopped', message: `aborted by ${signal ?? 'a second stop request'} before the block ended` });
      process.exit(EXIT.aborted);
    }
    stop = true;
    o.emit({ type: 'log', level: 'info', message: 'stopping after the current block (again to abort)…' });
  };
  const crash = installCrashHandlers();
  for (const sig of STOP_SIGNALS) process.on(sig, requestStop);
  const onMessage = (m: TrainerCommand) => {
    if (m?.type === 'stop') requestStop();
    if (m?.type === 'continue') release();
  };
  process.on('message', onMessage);
  let total: number | undefined;
  const bar = o.json ? undefined : progress(() => total);
  // The extension that forked this process may reload and go away: send only while connected, and
  // never let a closed channel or pipe (EPIPE) end the run.
  const send = process.send
    ? (e: TrainerEvent) => {
        if (process.connected) process.send!(e, undefined, undefined, () => {});
      }
    : undefined;
  process.on('disconnect', () => {
    release();
    o.emit({ type: 'log', level: 'info', message: 'the extension disconnected; training continues' });
  });
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const emit: Emit = (e) => {
    if (e.type === 'started') total = e.totalSteps;
    send?.(e);
    if (bar?.(e)) return;
    if (!o.json && e.type === 'eval') {
      console.log(
        `${e.split} at step ${e.checkpointStep ?? e.step}${e.checkpointStep !== undefined ? ' (best checkpoint)' : ''}: ${Object.entries(e.metrics)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join('  ')}`,
      );
      if (e.split === 'test') console.log(formatEvalRecord(e));
      return;
    }
    if (!o.json && e.type === 'started')
      console.log(`run ${e.runDir}\ndevice: ${e.device.used}; ${e.params} parameters (${e.trainable} trained); ${e.totalSteps} steps`);
    else o.emit(e);
  };
  try {
    const res = await train({ config, runDir: o.runDir, resume: o.resume, allowChanges: o.allowChanges, emit, shouldStop: () => stop, afterValidation });
    return res.status === 'completed' ? EXIT.completed : res.status === 'stopped' ? EXIT.stopped : EXIT.failed;
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, requestStop);
    process.off('message', onMessage);
    crash.dispose();
  }
}

/** Signals that ask a run to stop (SIGHUP: the terminal closed). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The trainer's crash handler: an uncaught exception or unhandled rejection anywhere (a callback
 * outside the run's promise chain, a native binding) records the runs of this process as failed
 * with the error before the process exits, and an exit while a run is still going (an event loop
 * that ran dry, a process.exit elsewhere) does too. Only a SIGKILL or a native crash escapes it;
 * `--resume` and the extension mark those (their pid is gone).
 */
function installCrashHandlers(): { dispose(): void } {
  const onFatal = (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    endActiveRuns({ status: 'failed', message: `the trainer crashed: ${message}` });
    console.error(`finetune: the trainer crashed: ${e instanceof Error ? (e.stack ?? message) : message}`);
    process.exit(EXIT.failed);
  };
  const onExit = (code: number) => {
    if (endActiveRuns({ status: 'failed', message: `the trainer process exited (code ${code}) before the run ended` })) process.exitCode = EXIT.failed;
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  process.on('exit', onExit);
  return {
    dispose() {
      process.off('uncaughtException', onFatal);
      process.off('unhandledRejection', onFatal);
      process.off('exit', onExit);
    },
  };
}

export async function runEval(o: {
  runDir: string;
  split: 'test' | 'validation' | 'train';
  json: boolean;
  emit: Emit;
  int8?: boolean;
  /** Intra-op threads (`--threads`); else the run's `threads`, else one per core, as training does. */
  threads?: number;
}): Promise<number> {
  if (!o.runDir) throw new Error('eval needs a run folder: finetune eval <run-dir>');
  const x = readExported(o.runDir, { int8: o.int8 });
  const runCfg = readRunInfo(x.dir).config as ResolvedConfig;
  // The run's max_length, overflow and stride, never beyond the model's positions.
  const s = lengthSettings(runCfg, x.labels.maxLength);
  // What was capped, windowed or cut goes to stderr (stdout keeps the record, JSON with --json).
  if (s.note) console.error(`note: ${s.note}`);
  const config: ResolvedConfig = { ...runCfg, data: { ...runCfg.data, maxLength: s.maxLength, stride: s.stride } };
  const data = await loadRunData(config, x.tokenizerDir, x.labels.labels);
  for (const line of data.log) if (line.startsWith(`${o.split}: `)) console.error(`note: ${line}`);
  const bytes = fs.readFileSync(x.model);
  const threads = o.threads ?? (config.threads || os.availableParallelism());
  const session = await Session.create(
    bytes,
    [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'sequence'] },
    ],
    { device: config.device, threads },
    x.model,
  );
  console.error(`eval: ${path.basename(x.model)} on ${session.device.used}, ${threads} thread${threads === 1 ? '' : 's'}`);
  const ev = new Evaluator(session, { head: config.task === 'token-classification' ? 'token' : 'sequence', numLabels: x.labels.labels.length });
  // The training split is evaluated in the test slot (EvalRecord names only validation and test); its record says 'train'.
  const target = (o.split === 'train' ? { ...data, test: data.train } : data) as typeof data;
  const { record } = await ev.evaluate(target, o.split === 'train' ? 'test' : o.split, undefined, {
    step: 0,
    epoch: 0,
    mode: config.evaluation.mode,
    maxMisclassified: 0,
  });
  await ev.release();
  if (o.json) console.log(JSON.stringify({ ...record, split: o.split }));
  else console.log(formatEvalRecord(record));
  return 0;
}

export async function runPredict(o: { runDir: string; text: string; json: boolean; threads?: number; int8?: boolean }): Promise<number> {
  if (!o.runDir || !o.text) throw new Error('predict needs a run folder and text: finetune predict <run-dir> "some text"');
  const p = await predictText(o.runDir, o.text, { threads: o.threads, int8: o.int8 });
  // What was windowed, cut or capped goes to stderr (never silent); stdout keeps the answer.
  if (p.note) console.error(`note: ${p.note}`);
  if (p.truncated) console.error(`note: ${p.truncated}`);
  else if (p.windows > 1 && !o.json)
    console.error(
      `note: ${p.subTokens} sub-tokens read in ${p.windows} windows of up to ${p.maxLength} (stride ${p.stride})${p.task === 'sequence-classification' ? ', their logits averaged' : ''}`,
    );
  if (p.task === 'token-classification') {
    const { words, tags, entities } = p;
    if (o.json) console.log(JSON.stringify({ words, tags, entities, windows: p.windows, ...(p.truncated ? { truncated: p.truncated } : {}) }));
    else if (entities.length === 0) console.log('no entities');
    else for (const e of entities) console.log(`${e.type.padEnd(6)} ${e.text}`);
  } else {
    const { label, probs } = p;
    if (o.json) console.log(JSON.stringify({ label, probs, windows: p.windows, ...(p.truncated ? { truncated: p.truncated } : {}) }));
    else
      console.log(
        `${label}  (${Object.entries(probs)
          .map(([l, v]) => `${l} ${v.toFixed(3)}`)
          .join(', ')})`,
      );
  }
  return 0;
}

/** `finetune export --int8 RUN_DIR`: model.int8.onnx beside model.onnx (ONNX Runtime-style dynamic quantization). */
export async function runExport(o: { runDir: string; int8: boolean; perChannel: boolean; json: boolean }): Promise<number> {
  if (!o.runDir) throw new Error('export needs a run folder: finetune export --int8 <run-dir>');
  if (!o.int8) throw new Error(`export makes the int8 model (--int8); model.onnx itself is written when a run completes`);
  const x = readExported(o.runDir); // says why there is no model.onnx, when there is none
  const r = exportInt8(x.dir, { perChannel: o.perChannel });
  if (o.json) console.log(JSON.stringify({ model: r.path, bytes: r.bytes, matmuls: r.report.matmuls.length, embeddings: r.report.embeddings.length }));
  else {
    const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
    console.log(
      `wrote ${r.path}: ${mb(r.bytes.int8)} (model.onnx ${mb(r.bytes.fp32)}); int8 weights in ${r.report.matmuls.length} MatMuls, ${r.report.embeddings.length} uint8 embedding tables (${mb(r.report.floatBytes)} of float32 weights -> ${mb(r.report.quantizedBytes)})`,
    );
  }
  return 0;
}
