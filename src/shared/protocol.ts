// Messages between processes (trainer <-> extension host, over IPC and as `--json` lines) and
// between the extension host and the webview. One module, discriminated unions, exhaustive
// switches at every receiver. Imported by all three bundles, so it imports nothing itself.

/** Events the trainer emits (IPC messages when forked, JSON lines with --json). The `train` and
 *  `eval` events are also the lines of a run's metrics.jsonl. */
export type TrainerEvent =
  | { type: 'started'; runId: string; runDir?: string; device: DeviceInfo; params: number; trainable?: number; totalSteps?: number; time: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | TrainRecord
  | EvalRecord
  | { type: 'checkpoint'; step: number; dir: string; best: boolean }
  | { type: 'completed'; step: number; metrics: Record<string, number>; seconds: number }
  | { type: 'stopped'; step: number; checkpoint?: string }
  | { type: 'failed'; error: string; node?: string; op?: string; step?: number };

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
}

export interface PrfJson { precision: number; recall: number; f1: number; support: number }

export interface EvalRecord {
  type: 'eval';
  split: 'validation' | 'test';
  step: number;
  epoch: number;
  /** Headline numbers: loss, accuracy, f1, precision, recall (entity-level for NER), token_f1. */
  metrics: Record<string, number>;
  /** Entity-level (NER) or per-class (classification) report. */
  perClass?: Record<string, PrfJson>;
  /** Token-level report for NER (sklearn classification_report over tags, 'O' excluded). */
  tokenReport?: Record<string, PrfJson>;
  confusion?: { labels: string[]; matrix: number[][] };
  time?: number;
}

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'stopped';

/** Commands the extension host sends to a forked trainer. */
export type TrainerCommand =
  | { type: 'stop' } // finish the current K-step block, checkpoint, exit
  | { type: 'ping' };

export interface DeviceInfo {
  requested: 'auto' | 'cpu' | 'cuda';
  used: 'cpu' | 'cuda';
  /** Why CUDA was not used, when it was asked for or `auto`. */
  reason?: string;
  threads: number;
  onnxruntime: string;
}

/** Messages from the extension host to the dashboard webview. */
export type HostToWebview =
  | { type: 'init'; runId: string; title: string }
  | { type: 'events'; runId: string; events: TrainerEvent[] };

/** Messages from the dashboard webview to the extension host. */
export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'stop'; runId: string };

export function isTrainerEvent(x: unknown): x is TrainerEvent {
  if (typeof x !== 'object' || x === null) return false;
  const t = (x as { type?: unknown }).type;
  return t === 'started' || t === 'log' || t === 'train' || t === 'eval' || t === 'checkpoint' || t === 'completed'
    || t === 'stopped' || t === 'failed';
}
