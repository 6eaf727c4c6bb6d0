// Messages between processes (trainer <-> extension host, over IPC and as `--json` lines) and
// between the extension host and the webview. One module, discriminated unions, exhaustive
// switches at every receiver. Imported by all three bundles, so it imports nothing itself.

/** Events the trainer emits (IPC messages when forked, JSON lines with --json). */
export type TrainerEvent =
  | { type: 'started'; runId: string; device: DeviceInfo; params: number; time: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'train'; step: number; epoch: number; loss: number; lr: number; gradNorm: number; stepsPerSec: number; samplesPerSec: number }
  | { type: 'eval'; step: number; epoch: number; metrics: Record<string, number> }
  | { type: 'completed'; step: number; metrics: Record<string, number>; seconds: number }
  | { type: 'failed'; error: string; node?: string; op?: string; step?: number };

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
  return t === 'started' || t === 'log' || t === 'train' || t === 'eval' || t === 'completed' || t === 'failed';
}
