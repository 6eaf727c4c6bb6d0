// The config module's shared types: what callers get (ResolvedConfig, ConfigError) and what the
// concern modules pass between them (Issue: a message at a document path, positioned at the end).

import type { MetricName } from '../metrics';

export type Task = 'token-classification' | 'sequence-classification';

export interface ConfigError {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  severity: 'error' | 'warning';
  /** Where the error comes from when not the file: the command-line argument (`--set KEY=VALUE`). */
  source?: string;
}

export type PeftConfig = { kind: 'none' } | { kind: 'head-only' } | { kind: 'lora'; rank: number; alpha: number; dropout: number; targets: string[] };

export interface ResolvedConfig {
  name: string;
  task: Task;
  /** Absolute path of the config file. */
  configPath: string;
  /** Folder of the config; relative data/model paths resolve against it. */
  baseDir: string;
  model: {
    /** An absolute folder, or a Hub id (`org/name`; see hubid.ts). */
    pretrained?: string;
    /** The Hub revision (branch, tag or commit) of a Hub id; absent: `main`. */
    revision?: string;
    fromScratch?: { layers: number; hidden: number; heads: number; intermediate: number; maxPositions: number; minFrequency: number; lowercase: boolean };
    dropout: number;
    attentionDropout: number;
    peft: PeftConfig;
  };
  data: {
    format: 'conll' | 'jsonl' | 'csv' | 'parquet';
    /** A Hub dataset id: train, validation and test are then split names of its Parquet conversion. */
    hub?: string;
    hubConfig: string;
    hubRevision: string;
    /** Absolute, like validation and test (with hub: split names). */
    train: string;
    validation?: string;
    test?: string;
    validationSplit?: number;
    tagColumn: number;
    scheme: 'auto' | 'IOB1' | 'IOB2' | 'BIOES';
    textField: string;
    labelField: string;
    tokensField: string;
    tagsField: string;
    delimiter: string;
    maxLength: number;
    overflow: 'window' | 'truncate';
    stride: number;
  };
  /** `labels:` as written: the label set and order of the classifier. */
  labels?: string[];
  training: {
    epochs: number;
    maxSteps?: number;
    batchSize: number;
    gradientAccumulation: number;
    optimizer: 'adamw' | 'sgd';
    lr: number;
    weightDecay: number;
    adamBeta1: number;
    adamBeta2: number;
    adamEps: number;
    momentum: number;
    noDecay: string[];
    warmupRatio: number;
    warmupSteps?: number;
    schedule: 'linear' | 'cosine' | 'constant';
    gradClip: number | null;
    stepsPerRun: 'auto' | number;
    /** Recompute each encoder layer in the backward pass (runs recorded before this key: false). */
    gradientCheckpointing: boolean;
    /** Mixed precision on CUDA (absent: 'no'; optional so that older configs keep their hash). */
    mixedPrecision?: 'no' | 'fp16' | 'bf16';
    /** Memory check before training (absent: 'error'; optional so that older configs keep their hash). */
    memoryCheck?: 'error' | 'warn' | 'off';
    /** false: file order, no length grouping (runs recorded before this key existed lack it: true). */
    shuffle: boolean;
    /** A train record every this many steps, with the mean loss over them (older runs: 1). */
    loggingSteps: number;
    earlyStopping?: { metric: MetricName; mode: 'max' | 'min'; patience: number; minDelta: number };
  };
  evaluation: { every: 'epoch' | number; metric: MetricName; mode: 'default' | 'strict'; maxMisclassified: number };
  device: 'auto' | 'cpu' | 'cuda';
  threads: number;
  seed: number;
  /** The `sweep:` block, both of its written shapes resolved (see sweep.ts). */
  sweep?: SweepSpec;
}

/** How one swept key is drawn: a list of values (a grid's values, or a choice), or a range. */
export type Distribution =
  | { kind: 'choice'; values: unknown[] }
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'loguniform'; low: number; high: number }
  | { kind: 'int'; low: number; high: number; log: boolean };

/** Stopping bad trials early from their evaluation records (see src/shared/sweep/prune.ts). */
export type EarlyTermination =
  | { type: 'asha'; minSteps: number; reductionFactor: number; minEarlyStoppingRate: number; bootstrapCount: number }
  | { type: 'median'; startupTrials: number; warmupSteps: number; intervalSteps: number; minTrials: number };

export interface SweepSpec {
  method: 'grid' | 'random' | 'tpe';
  /** Dotted snake_case config key (as written, e.g. "training.lr") → how its values are drawn, in written order. */
  parameters: Record<string, Distribution>;
  /** Most trials (random and tpe need it; a grid runs at most this many of its combinations). */
  budget?: number;
  /** The validation metric a trial is judged by (default evaluation.metric) and which way is better. */
  metric: MetricName;
  mode: 'max' | 'min';
  /** The sampler's seed (default: the config's seed). */
  seed: number;
  earlyTermination?: EarlyTermination;
  /** How many trials `finetune sweep` runs at once on this machine (absent: 1). */
  concurrency?: number;
  /** Where `finetune sweep` runs the trials (unset: local). */
  executor?: 'local' | 'slurm';
  /** The Slurm job of each trial (when written; defaults filled), for executor slurm. */
  slurm?: SlurmSettings;
}

/** `sweep.slurm`: what each trial's sbatch job asks for (see src/trainer/slurm/). */
export interface SlurmSettings {
  partition?: string;
  time?: string;
  cpus: number;
  mem?: string;
  gpus: number;
  /** Trials queued or running at once. */
  parallel: number;
  pollSeconds: number;
  /** Extra sbatch options, one per `#SBATCH` line. */
  extra: string[];
  /** Shell lines run before the trainer. */
  setup: string[];
}

export function formatConfigError(e: ConfigError): string {
  const where = e.source ?? `${e.file}:${e.line}:${e.column}`;
  return `${where}: ${e.severity === 'warning' ? 'warning: ' : ''}${e.message}`;
}

export class ConfigValidationError extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map(formatConfigError).join('\n') || 'invalid config');
    this.name = 'ConfigValidationError';
  }
}

export type Seg = string | number;
export type JPath = Seg[];
export type Obj = Record<string, unknown>;
export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** A problem at a path of the config; turned into a positioned ConfigError at the end (validate.ts). */
export interface Issue {
  path: JPath;
  at: 'value' | 'key';
  message: string;
  severity: 'error' | 'warning';
  /** Where to point instead when `path` is not written in the text (e.g. a default value). */
  fallback?: JPath;
  /** See ConfigError.source. */
  source?: string;
}

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
export const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
