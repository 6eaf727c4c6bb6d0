// Messages between processes (trainer <-> extension host, over IPC and as `--json` lines) and
// between the extension host and the webview. One module, discriminated unions, exhaustive
// switches at every receiver. Imported by all three bundles, so it imports nothing but the
// metric-name table (./metrics, which imports nothing).

import type { EvalMetrics, FinalMetrics, MetricName } from './metrics';

/** Events the trainer emits (IPC messages when forked, JSON lines with --json). The `train` and
 *  `eval` events are also the lines of a run's metrics.jsonl. */
export type TrainerEvent =
  | { type: 'started'; runId: string; runDir?: string; device: DeviceInfo; params: number; trainable?: number; totalSteps?: number; time: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | DownloadEvent
  | TrainRecord
  | EvalRecord
  | { type: 'checkpoint'; step: number; dir: string; best: boolean }
  | { type: 'completed'; step: number; metrics: FinalMetrics & EvalMetrics; seconds: number }
  | { type: 'stopped'; step: number; checkpoint?: string }
  | { type: 'failed'; error: string; node?: string; op?: string; step?: number };

/** A Hub model file downloading into the Hugging Face cache (at most once a second per file, and
 *  once with `done` when it has all its bytes). The same progress also goes out as a `log` line. */
export interface DownloadEvent {
  type: 'download';
  /** The Hub id. */
  model: string;
  file: string;
  /** Bytes in the cache so far (a resumed download counts what it had). */
  bytes: number;
  total: number;
  /** Bytes per second over this attempt. */
  rate: number;
  done: boolean;
}

export interface TrainRecord {
  type: 'train';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  stepsPerSec: number;
  samplesPerSec: number;
  tokensPerSec?: number;
  time?: number; // ms since the epoch
  /** fp16 mixed precision: the loss scale after this step, and the steps since the last record skipped because their gradients overflowed. */
  lossScale?: number;
  skipped?: number;
}

export interface PrfJson {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvalRecord {
  type: 'eval';
  split: 'validation' | 'test';
  step: number;
  epoch: number;
  /** Headline numbers: loss, accuracy, f1, precision, recall (entity-level for NER), token_f1. */
  metrics: EvalMetrics;
  /** Entity-level (NER) or per-class (classification) report. */
  perClass?: Record<string, PrfJson>;
  /** Averages of perClass: micro, macro and weighted (seqeval's for NER, scikit-learn's otherwise). */
  averages?: { micro: PrfJson; macro: PrfJson; weighted: PrfJson };
  /** Token-level report for NER: scikit-learn's classification_report over every tag. */
  tokenReport?: Record<string, PrfJson>;
  confusion?: { labels: string[]; matrix: number[][] };
  /** The step whose weights were evaluated, when not `step`'s: the test split is evaluated on the
   *  best checkpoint (its step here) after training ends at `step`. */
  checkpointStep?: number;
  time?: number;
}

/** `pruned`: a sweep's early termination stopped it (it keeps its checkpoint and can be resumed). */
export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'stopped' | 'pruned';

/** Commands the extension host sends to a forked trainer. */
/** Exit codes of `finetune train` (README "Exit codes"): what a parent process (the extension, a
 *  scheduler, a shell script) learns when it has no event to go on. */
export const TRAINER_EXIT = {
  completed: 0,
  failed: 1,
  /** Bad arguments, an invalid config, a refused `--resume`: nothing was started, no run folder written. */
  usage: 2,
  /** Stopped on request (Ctrl-C, SIGTERM, the extension's Stop) with a checkpoint: `--resume` continues it. */
  stopped: 3,
  /** A second Ctrl-C/SIGTERM: aborted at once (recorded as stopped when a checkpoint exists). */
  aborted: 130,
} as const;

export type TrainerCommand =
  | { type: 'stop' } // finish the current K-step block, checkpoint, exit
  | { type: 'continue' } // a sweep's go-ahead after a validation evaluation (a trial run with --sweep-trial waits for it or for stop)
  | { type: 'ping' };

export interface DeviceInfo {
  requested: 'auto' | 'cpu' | 'cuda';
  used: 'cpu' | 'cuda';
  /** Why CUDA was not used, when it was asked for or `auto`. */
  reason?: string;
  threads: number;
  onnxruntime: string;
  /** training.mixed_precision in effect (absent: float32). */
  precision?: 'fp16' | 'bf16';
}

/** Why and when early stopping ended a run (run.json `earlyStop`). */
export interface EarlyStop {
  step: number;
  /** e.g. "f1 has not improved for 3 evaluations (best 0.9887 at step 114)". */
  reason: string;
}

/** What the dashboard and the run history show of a run (from its run.json). */
export interface RunSummary {
  id: string;
  name: string;
  /** Short stable id shown beside the label (run identity, issue 16). */
  shortId?: string;
  /** What sets this run apart from its siblings (e.g. `lr=3e-4 · bs=32`), or the user's rename. */
  label?: string;
  dir: string;
  status: RunStatus;
  configPath: string;
  task?: 'token-classification' | 'sequence-classification';
  step: number;
  totalSteps?: number;
  epoch?: number;
  startedAt?: string;
  endedAt?: string;
  device?: DeviceInfo;
  best?: { metric: MetricName; value: number; step: number };
  final?: FinalMetrics & EvalMetrics;
  error?: { message: string; node?: string; op?: string; step?: number };
  earlyStop?: EarlyStop;
  /** The resolved config in the keys a config file is written with (`configAsWritten`). */
  config?: unknown;
  notes?: string;
  tags?: string[];
}

/** An example the model got wrong (misclassified-<split>.json in the run folder). */
export interface MisclassifiedExample {
  file: string;
  line: number;
  /** NER: the sentence and the word's position; classification: the text. */
  words?: string[];
  position?: number;
  text?: string;
  gold: string;
  pred: string;
}

export type MetricsRecord = TrainRecord | EvalRecord;

/** Messages from the extension host to the dashboard webview. */
export type HostToWebview =
  /** First message after `ready`: which runs this panel shows (one: a run view; several: compare). */
  | { type: 'init'; mode: 'run' | 'compare'; runs: RunSummary[] }
  /** A run's recorded metrics, sent in chunks after `init`; `done` marks the last chunk. */
  | { type: 'history'; runId: string; records: MetricsRecord[]; done: boolean }
  /** New metrics lines of a live run. */
  | { type: 'append'; runId: string; records: MetricsRecord[] }
  /** A run's status changed (progress, completion, failure). */
  | { type: 'status'; run: RunSummary; etaSeconds?: number }
  /** Misclassified examples of a run's latest evaluation of a split. */
  | { type: 'misclassified'; runId: string; split: 'validation' | 'test'; examples: MisclassifiedExample[] };

/** Messages from the dashboard webview to the extension host. */
export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'stop'; runId: string }
  /** Open a data file at a line in the editor (a misclassified example). */
  | { type: 'openFile'; file: string; line: number }
  | { type: 'requestMisclassified'; runId: string; split: 'validation' | 'test' }
  /** Save an export; `data` is text (CSV, SVG) or base64 (PNG). */
  | { type: 'export'; format: 'csv' | 'png' | 'svg'; suggestedName: string; data: string; base64?: boolean }
  | { type: 'error'; message: string };

/** One run as a row of the experiments table: its parameters (dotted config keys as a config
 *  writes them, e.g. `training.lr`) and metrics (`final` keys: `best_f1`, `test_f1`, …). */
export interface TableRow {
  id: string;
  shortId: string;
  label: string;
  name: string;
  status: RunStatus;
  /** Config path relative to the workspace (the group), and the sweep it belongs to, if any. */
  config: string;
  sweep?: string;
  startedAt?: string;
  endedAt?: string;
  step: number;
  totalSteps?: number;
  params: Record<string, string | number | boolean | null>;
  metrics: Record<string, number>;
  tags: string[];
  notes?: string;
  pinned?: boolean;
}

/** Messages from the extension host to the experiments table webview. */
export type HostToTable =
  /** Every row (first message after `ready`, and after a bulk change). */
  | { type: 'rows'; rows: TableRow[] }
  /** Rows added or changed (a live run's progress, a rename, a pin). */
  | { type: 'upsert'; rows: TableRow[] }
  | { type: 'remove'; ids: string[] };

/** Messages from the experiments table webview to the extension host. */
export type TableToHost =
  | { type: 'ready' }
  /** An action on the selected rows. */
  | { type: 'action'; action: 'open' | 'compare' | 'diff' | 'delete' | 'pin' | 'unpin'; ids: string[] }
  | { type: 'export'; format: 'csv' | 'png' | 'svg'; suggestedName: string; data: string; base64?: boolean }
  | { type: 'error'; message: string };

const HOST_TO_WEBVIEW = new Set(['init', 'history', 'append', 'status', 'misclassified']);
const WEBVIEW_TO_HOST = new Set(['ready', 'stop', 'openFile', 'requestMisclassified', 'export', 'error']);

/** Shallow validation of a message from the host (the webview trusts nothing it receives). */
export function isHostToWebview(x: unknown): x is HostToWebview {
  return typeof x === 'object' && x !== null && HOST_TO_WEBVIEW.has((x as { type?: string }).type ?? '');
}

/** Shallow validation of a message from the webview (the host trusts nothing it receives). */
export function isWebviewToHost(x: unknown): x is WebviewToHost {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (!WEBVIEW_TO_HOST.has(String(m.type))) return false;
  switch (m.type) {
    case 'stop':
      return typeof m.runId === 'string';
    case 'openFile':
      return typeof m.file === 'string' && Number.isInteger(m.line);
    case 'requestMisclassified':
      return typeof m.runId === 'string' && (m.split === 'validation' || m.split === 'test');
    case 'export':
      return ['csv', 'png', 'svg'].includes(String(m.format)) && typeof m.suggestedName === 'string' && typeof m.data === 'string';
    case 'error':
      return typeof m.message === 'string';
    default:
      return true;
  }
}

/** Shallow validation of a message from the host to the experiments table (rows are checked one by one in the webview). */
export function isHostToTable(x: unknown): x is HostToTable {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (m.type === 'rows' || m.type === 'upsert') return Array.isArray(m.rows);
  if (m.type === 'remove') return Array.isArray(m.ids);
  return false;
}

export const TABLE_ACTIONS = ['open', 'compare', 'diff', 'delete', 'pin', 'unpin'] as const;

/** Validation of a message from the experiments table (the host trusts nothing it receives). */
export function isTableToHost(x: unknown): x is TableToHost {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return true;
    case 'action':
      return (TABLE_ACTIONS as readonly string[]).includes(String(m.action)) && Array.isArray(m.ids) && m.ids.every((id) => typeof id === 'string');
    case 'export':
      return ['csv', 'png', 'svg'].includes(String(m.format)) && typeof m.suggestedName === 'string' && typeof m.data === 'string';
    case 'error':
      return typeof m.message === 'string';
    default:
      return false;
  }
}

export function isTrainerEvent(x: unknown): x is TrainerEvent {
  if (typeof x !== 'object' || x === null) return false;
  const t = (x as { type?: unknown }).type;
  return (
    t === 'started' ||
    t === 'log' ||
    t === 'download' ||
    t === 'train' ||
    t === 'eval' ||
    t === 'checkpoint' ||
    t === 'completed' ||
    t === 'stopped' ||
    t === 'failed'
  );
}
