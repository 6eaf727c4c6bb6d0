// At most `limit` trials at once: `slot()` waits until fewer run, `launch()` adds one, `drain()`
// waits for all. The sweep driver's scheduling (src/trainer/sweep.ts); a failed trial is reported
// to `onError` and frees its slot like any other.

export class TrialPool {
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly limit: number,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  get size(): number {
    return this.active.size;
  }

  /** Resolves once a trial may start (fewer than `limit` run). */
  async slot(): Promise<void> {
    while (this.active.size >= Math.max(1, this.limit)) await Promise.race(this.active);
  }

  launch(trial: Promise<unknown>): void {
    const p: Promise<void> = trial.then(
      () => {},
      (e: unknown) => this.onError(e),
    );
    const q = p.finally(() => this.active.delete(q));
    this.active.add(q);
  }

  /** Resolves when every launched trial has ended. */
  async drain(): Promise<void> {
    while (this.active.size) await Promise.race(this.active);
  }
}
