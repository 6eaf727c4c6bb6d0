// A Hub model's download as a progress notification shows it: the trainer's `download` events
// (one file at a time, about once a second, and once when the file is complete) become the
// message (file, bytes of total, percent, rate, ETA) and the bar's increments. The bar follows one
// file: a file that needs more than one report opens its own notification, so the bar never has
// to go back.

import { formatBytes } from '../../shared/hfCache';
import type { DownloadEvent } from '../../shared/protocol';
import { formatEta } from './eta';

/** Seconds left at the current rate, undefined when unknown (no rate yet) or done. */
export function downloadEtaSeconds(e: Pick<DownloadEvent, 'bytes' | 'total' | 'rate' | 'done'>): number | undefined {
  if (e.done || e.bytes >= e.total) return 0;
  return e.rate > 0 ? (e.total - e.bytes) / e.rate : undefined;
}

export function downloadPercent(e: Pick<DownloadEvent, 'bytes' | 'total'>): number {
  return e.total > 0 ? Math.min(100, (100 * e.bytes) / e.total) : 100;
}

/** `model.safetensors: 120.0 MB of 438.0 MB (27%) · 12.3 MB/s · ETA 26s` */
export function downloadMessage(e: DownloadEvent): string {
  const eta = downloadEtaSeconds(e);
  const tail = e.done ? 'done' : `ETA ${eta === undefined ? '?' : formatEta(eta)}`;
  return `${e.file}: ${formatBytes(e.bytes)} of ${formatBytes(e.total)} (${Math.floor(downloadPercent(e))}%) · ${formatBytes(Math.round(e.rate))}/s · ${tail}`;
}

export interface DownloadUpdate {
  /** A new file: close the notification of the previous one and open one for this file. */
  fresh: boolean;
  message: string;
  /** Percent to add to the bar (VS Code's increments are relative). */
  increment: number;
  /** The file is complete: close its notification. */
  done: boolean;
}

/** The notification state of one run's downloads. */
export class DownloadTracker {
  private file: string | undefined;
  private shown = 0;

  update(e: DownloadEvent): DownloadUpdate {
    const fresh = e.file !== this.file;
    if (fresh) {
      this.file = e.file;
      this.shown = 0;
    }
    const pct = downloadPercent(e);
    const increment = Math.max(0, pct - this.shown);
    this.shown = Math.max(this.shown, pct);
    if (e.done) this.file = undefined;
    return { fresh, message: downloadMessage(e), increment, done: e.done };
  }
}
