// The `finetune train | eval | predict` commands: wiring between the CLI, the trainer, run
// folders and the exported model.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EvalRecord, TrainerCommand, TrainerEvent } from '../shared/protocol';
import { ConfigValidationError, defaultRunName, loadConfigWithWarnings, formatConfigError, type ResolvedConfig } from '../shared/config/config';
import { Session, type Device } from './engine/session';
import { lengthSettings, predictText, readExported } from './predict';
import { loadRunData } from './train/dataset';
import { Evaluator } from './train/evaluate';
import { VERSION, train } from './train/trainer';
import { defaultRunsFolder, newRunInfo, openRunFolder, readRunInfo, writeRunInfo } from '../shared/run';

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

/** A one-line progress bar on a terminal; plain lines otherwise. */
function progress(total: () => number | undefined): (e: TrainerEvent) => boolean {
  const tty = process.stderr.isTTY;
  const t0 = Date.now();
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
    const eta = frac > 0 ? (((Date.now() - t0) / 1000) * (1 - frac)) / frac : 0;
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

export async function runTrain(o: {
  configPath?: string;
  runDir?: string;
  resume?: string;
  overrides: Record<string, unknown>;
  json: boolean;
  device?: Device;
  threads?: number;
  emit: Emit;
}): Promise<number> {
  let config: ResolvedConfig;
  if (o.resume) {
    config = readRunInfo(path.resolve(o.resume)).config as ResolvedConfig;
  } else {
    if (!o.configPath) throw new Error('train needs a config file: finetune train <config>');
    try {
      const loaded = loadConfigWithWarnings(o.configPath, o.overrides);
      config = loaded.config;
      for (const w of loaded.warnings) o.emit({ type: 'log', level: 'warn', message: formatConfigError(w) });
    } catch (e) {
      if (e instanceof ConfigValidationError) {
        for (const err of e.errors) console.error(formatConfigError(err));
        recordConfigFailure(o.configPath, o.runDir, e);
        return 2;
      }
      throw e;
    }
  }
  if (o.device) config = { ...config, device: o.device };
  if (o.threads) config = { ...config, threads: o.threads };

  // Stop requests: Ctrl-C / SIGTERM on a terminal or a scheduler, {type:'stop'} over IPC when forked.
  let stop = false;
  const requestStop = () => {
    if (stop) process.exit(130);
    stop = true;
    o.emit({ type: 'log', level: 'info', message: 'stopping after the current block (again to abort)…' });
  };
  process.on('SIGINT', requestStop);
  process.on('SIGTERM', requestStop);
  process.on('message', (m: TrainerCommand) => {
    if (m?.type === 'stop') requestStop();
  });
  let total: number | undefined;
  const bar = o.json ? undefined : progress(() => total);
  // The extension that forked this process may reload and go away: send only while connected, and
  // never let a closed channel or pipe (EPIPE) end the run.
  const send = process.send
    ? (e: TrainerEvent) => {
        if (process.connected) process.send!(e, undefined, undefined, () => {});
      }
    : undefined;
  process.on('disconnect', () => o.emit({ type: 'log', level: 'info', message: 'the extension disconnected; training continues' }));
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
    const res = await train({ config, runDir: o.runDir, resume: o.resume, emit, shouldStop: () => stop });
    return res.status === 'completed' || res.status === 'stopped' ? 0 : 1;
  } finally {
    process.off('SIGINT', requestStop);
    process.off('SIGTERM', requestStop);
  }
}

/** A config that does not validate still leaves a run folder saying why (status failed). */
function recordConfigFailure(configPath: string, runDir: string | undefined, e: ConfigValidationError) {
  const abs = path.resolve(configPath);
  const name = defaultRunName(abs);
  const { id, dir } = openRunFolder({ runDir, runsDir: defaultRunsFolder(path.dirname(abs)), name });
  const now = new Date();
  writeRunInfo(
    dir,
    newRunInfo({
      id,
      name,
      configPath: abs,
      configHash: '',
      config: null,
      status: 'failed',
      now,
      endedAt: now.toISOString(),
      versions: { finetune: VERSION, node: process.version },
      error: {
        message: e.errors
          .filter((x) => x.severity === 'error')
          .map(formatConfigError)
          .join('\n'),
      },
    }),
  );
}

export async function runEval(o: { runDir: string; split: 'test' | 'validation' | 'train'; json: boolean; emit: Emit }): Promise<number> {
  if (!o.runDir) throw new Error('eval needs a run folder: finetune eval <run-dir>');
  const x = readExported(o.runDir);
  const runCfg = readRunInfo(x.dir).config as ResolvedConfig;
  // The run's max_length, overflow and stride, never beyond the model's positions.
  const s = lengthSettings(runCfg, x.labels.maxLength);
  // What was capped, windowed or cut goes to stderr (stdout keeps the record, JSON with --json).
  if (s.note) console.error(`note: ${s.note}`);
  const config: ResolvedConfig = { ...runCfg, data: { ...runCfg.data, maxLength: s.maxLength, stride: s.stride } };
  const data = await loadRunData(config, x.tokenizerDir, x.labels.labels);
  for (const line of data.log) if (line.startsWith(`${o.split}: `)) console.error(`note: ${line}`);
  const bytes = fs.readFileSync(x.model);
  const session = await Session.create(
    bytes,
    [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'sequence'] },
    ],
    { device: config.device },
    x.model,
  );
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

export async function runPredict(o: { runDir: string; text: string; json: boolean; threads?: number }): Promise<number> {
  if (!o.runDir || !o.text) throw new Error('predict needs a run folder and text: finetune predict <run-dir> "some text"');
  const p = await predictText(o.runDir, o.text, { threads: o.threads });
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
