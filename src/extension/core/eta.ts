// Time left of a run from its recent progress: steps per second of wall time over a sliding
// window of train records (so time spent in evaluations counts), falling back to the trainer's
// own steps/s, then to the average since the start.

import type { TrainRecord } from '../../shared/protocol';

export interface Sample {
  step: number;
  time: number;
}

/** Seconds left at `now` (ms), or undefined when there is nothing to go on. */
export function estimateEta(o: {
  step: number;
  totalSteps?: number;
  samples?: Sample[];
  stepsPerSec?: number;
  startedAt?: number;
  now?: number;
  windowMs?: number;
}): number | undefined {
  const total = o.totalSteps;
  if (!total || total <= 0) return undefined;
  const left = Math.max(0, total - o.step);
  if (left === 0) return 0;
  const now = o.now ?? Date.now();
  const windowMs = o.windowMs ?? 120_000;
  const s = (o.samples ?? []).filter((x) => Number.isFinite(x.time) && Number.isFinite(x.step));
  if (s.length >= 2) {
    const last = s[s.length - 1];
    let first = s[0];
    for (const x of s)
      if (last.time - x.time <= windowMs) {
        first = x;
        break;
      }
    if (first === last) first = s[s.length - 2];
    const dt = (last.time - first.time) / 1000;
    const ds = last.step - first.step;
    if (dt > 0 && ds > 0) return Math.max(0, left / (ds / dt) - Math.max(0, (now - last.time) / 1000));
  }
  if (o.stepsPerSec && o.stepsPerSec > 0) return left / o.stepsPerSec;
  if (o.startedAt !== undefined && o.step > 0 && now > o.startedAt) return left / (o.step / ((now - o.startedAt) / 1000));
  return undefined;
}

/** Keeps the recent train records of one run and answers ETA and throughput questions. */
export class EtaTracker {
  private samples: Sample[] = [];
  last: TrainRecord | undefined;

  /**
   * @param keep samples kept
   * @param minGapMs a sample less than this after the one before the latest replaces the latest:
   *   a call of K steps brings K records at once, and the kept samples must still span the window
   */
  constructor(
    private readonly keep = 256,
    private readonly minGapMs = 500,
  ) {}

  /** Adds train records (IPC and file records may both arrive: older or equal steps are ignored). */
  add(records: Iterable<{ type: string }>): void {
    for (const r of records) {
      if (r.type !== 'train') continue;
      const t = r as TrainRecord;
      if (this.last && t.step <= this.last.step) continue;
      this.last = t;
      const sample = { step: t.step, time: t.time ?? Date.now() };
      const n = this.samples.length;
      if (n >= 2 && this.samples[n - 1].time - this.samples[n - 2].time < this.minGapMs) this.samples[n - 1] = sample;
      else this.samples.push(sample);
      if (this.samples.length > this.keep) this.samples.splice(0, this.samples.length - this.keep);
    }
  }

  reset(): void {
    this.samples = [];
    this.last = undefined;
  }

  eta(totalSteps: number | undefined, step?: number, now = Date.now()): number | undefined {
    return estimateEta({ step: step ?? this.last?.step ?? 0, totalSteps, samples: this.samples, stepsPerSec: this.last?.stepsPerSec, now });
  }
}

/** "45 s", "12 min", "1 h 05 min". */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
}
