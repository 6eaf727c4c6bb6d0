// How `finetune sweep` (./sweep.ts) hands its trials to an executor: the sweep keeps the sampler,
// early termination and sweep.json; an executor runs trials and reports their ends. `local` runs
// each trial as a child process of the sweep (in sweep.ts); `slurm` (./slurm/executor.ts) submits
// each as a batch job and watches it through the run folder and squeue/scontrol.

import type { ResolvedConfig } from '../shared/config/config';
import type { Point } from '../shared/sweep/prune';
import type { SweepInfo, SweepTrial } from '../shared/sweep/folder';

export type ExecutorKind = 'local' | 'slurm';
export const EXECUTORS: readonly ExecutorKind[] = ['local', 'slurm'];

/** Early termination's watch on one trial. */
export interface TrialJudge {
  /** Reads the trial's new validation records and decides on each; true once the trial is pruned. */
  poll(): boolean;
  /** The trial's (step, value) points so far. */
  readonly points: Point[];
}

/** What the sweep gives the executor that runs its trials. */
export interface SweepDriver {
  readonly info: SweepInfo;
  /** The sweep folder. */
  readonly dir: string;
  readonly config: ResolvedConfig;
  /** Passed on to every trial's trainer (--device, --threads). */
  readonly trainerArgs: string[];
  /** Writes sweep.json (atomically). */
  save(): void;
  log(msg: string): void;
  /** Suggests, records and returns the next trial (its run folder created), or undefined when the budget is spent or the sweep is stopping. */
  next(): SweepTrial | undefined;
  /** Gives a trial that must start over a new run folder. */
  restartIn(trial: SweepTrial): void;
  /** The `finetune train` arguments (after the program) that start a trial in its run folder. */
  trainArgs(trial: SweepTrial): string[];
  judge(trial: SweepTrial): TrialJudge;
  /** Records a trial's end from its run folder: completed, pruned (when judged so), stopped or failed. */
  settle(trial: SweepTrial, points: Point[]): void;
  /** Whether a stop was requested (Ctrl-C, SIGTERM). */
  stopping(): boolean;
}

/** An executor: runs the sweep's trials until the budget is spent or a stop; `stop` is what a stop request does (again: `hard`). */
export interface TrialExecutor {
  run(d: SweepDriver): Promise<void>;
  stop(hard: boolean): void;
}
