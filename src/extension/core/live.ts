// Runs in progress, followed through their files (and, for forked runs, IPC events too): the
// latest train record, throughput and ETA of each. Works the same for a run this window forked,
// one found running after a reload, and one started from a terminal.

import * as path from 'node:path';
import type { MetricsRecord, TrainRecord } from '../../shared/protocol';
import { EtaTracker } from './eta';
import { MetricsTail, type RunRecord } from '../../shared/run';

interface Followed {
  tail: MetricsTail;
  eta: EtaTracker;
}

export class LiveRuns {
  private readonly runs = new Map<string, Followed>();

  /** Follows every running run, forgets runs that stopped running; returns the folders now followed. */
  sync(all: RunRecord[]): string[] {
    const running = new Set(all.filter((r) => r.info.status === 'running').map((r) => path.resolve(r.dir)));
    for (const d of [...this.runs.keys()]) if (!running.has(d)) this.runs.delete(d);
    for (const d of running)
      if (!this.runs.has(d)) {
        const f: Followed = { tail: MetricsTail.of(d), eta: new EtaTracker() };
        this.runs.set(d, f);
        f.eta.add(f.tail.read().records);
      }
    return [...this.runs.keys()];
  }

  /** metrics.jsonl of a followed run grew: reads the new records. */
  metrics(dir: string): MetricsRecord[] {
    const f = this.runs.get(path.resolve(dir));
    if (!f) return [];
    const { records, reset } = f.tail.read();
    if (reset) f.eta.reset();
    f.eta.add(records);
    return records;
  }

  /** Records that arrived over IPC (sooner than the file). */
  add(dir: string, records: MetricsRecord[]): void {
    this.runs.get(path.resolve(dir))?.eta.add(records);
  }

  last(dir: string): TrainRecord | undefined {
    return this.runs.get(path.resolve(dir))?.eta.last;
  }

  eta(dir: string, totalSteps: number | undefined, step?: number, now?: number): number | undefined {
    return this.runs.get(path.resolve(dir))?.eta.eta(totalSteps, step, now);
  }

  get dirs(): string[] {
    return [...this.runs.keys()];
  }
}
