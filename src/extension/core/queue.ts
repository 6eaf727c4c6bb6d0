// Queued runs executed with a concurrency limit (finetune.concurrency, read at each start so a
// changed setting applies to the next run). A job is a function that resolves when its run ends.

import { EventEmitter } from 'node:events';

export interface QueueJob {
  /** The run folder (unique). */
  id: string;
  run: () => Promise<unknown>;
}

export class RunQueue extends EventEmitter<{ change: []; error: [id: string, error: unknown] }> {
  private readonly waiting: QueueJob[] = [];
  private readonly active = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly concurrency: () => number = () => 1) {
    super();
  }

  get pending(): string[] {
    return this.waiting.map((j) => j.id);
  }

  get running(): string[] {
    return [...this.active];
  }

  has(id: string): boolean {
    return this.active.has(id) || this.waiting.some((j) => j.id === id);
  }

  enqueue(...jobs: QueueJob[]): void {
    for (const j of jobs) if (!this.has(j.id)) this.waiting.push(j);
    this.pump();
    this.emit('change');
  }

  /** Removes a job that has not started; false when it is running or unknown. */
  cancel(id: string): boolean {
    const i = this.waiting.findIndex((j) => j.id === id);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    this.emit('change');
    this.settleIdle();
    return true;
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (!this.active.size && !this.waiting.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private limit(): number {
    const n = Math.floor(Number(this.concurrency()));
    return Number.isFinite(n) && n >= 1 ? n : 1;
  }

  private pump(): void {
    while (this.waiting.length && this.active.size < this.limit()) {
      const job = this.waiting.shift()!;
      this.active.add(job.id);
      let p: Promise<unknown>;
      try {
        p = Promise.resolve(job.run());
      } catch (e) {
        p = Promise.reject(e);
      }
      p.catch((e) => this.emit('error', job.id, e)).finally(() => {
        this.active.delete(job.id);
        this.pump();
        this.emit('change');
        this.settleIdle();
      });
    }
  }

  private settleIdle(): void {
    if (this.active.size || this.waiting.length) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
