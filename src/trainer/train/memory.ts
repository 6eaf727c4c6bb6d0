// Before a run allocates anything: how much memory its training will need, from the model's sizes,
// the batch and the sequence lengths, and whether that fits in what the machine has — so that a
// run that cannot fit is refused with the numbers instead of being killed by the kernel halfway.
// The estimate is a sum of named terms (docs/benchmarks.md, "Memory estimate", has the
// calibration against measured peaks); activations are one term, switched by gradient checkpointing.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ResolvedConfig } from '../../shared/config/config';
import { bertParamShapes, type BertConfig } from '../models/bert';
import { architectureOf, bertConfigFromHf } from '../models/hfConfig';
import { arenaByDefault } from '../engine/program';
import { planEpoch } from './plan';

const F32 = 4;

/** What the estimate needs: sizes only, nothing allocated. */
export interface MemoryPlan {
  model: Pick<BertConfig, 'hidden' | 'layers' | 'heads' | 'intermediate'>;
  /** Every parameter (elements), trained and frozen. */
  params: number;
  /** Trained parameters (elements): gradients and optimizer state are kept for these. */
  trained: number;
  /** Optimizer state tensors per trained parameter (AdamW 2, SGD with momentum 1). */
  slots: number;
  /** Sequences per micro-batch. */
  batch: number;
  /** Sequence lengths the training programs are built for (the buckets an epoch's steps pad to): one ORT session each. */
  lengths: number[];
  /** Evaluation batch and its longest sequence. */
  evalBatch: number;
  evalLength: number;
  /** Keep only each layer's input and recompute the rest in the backward pass (training.gradient_checkpointing). */
  gradientCheckpointing?: boolean;
  /** Whether the training programs use ORT's CPU arena (engine/program.ts: not for large models); default true. */
  arena?: boolean;
}

export interface MemoryEstimate {
  /** Bytes, the sum of `parts`. */
  total: number;
  parts: { name: string; bytes: number }[];
}

/**
 * Calibrated on measured peaks (docs/benchmarks.md, "Memory estimate"): Node, ONNX Runtime and the
 * run's data and tokenizer before any session exists, and how many bytes ONNX Runtime and the
 * allocator hold per analytical byte of activations.
 */
export const CALIBRATION = {
  runtimeBytes: 160 * 2 ** 20,
  /** ORT's arena and the tensors it keeps alive beyond the saved-for-backward count. */
  activationFactor: 3.1,
  /**
   * The same without the arena (large models), with the huge pages trainers start with
   * (shared/trainerEnv.ts): BERT-base batch 32 peaks at 7.15 GB plain and 3.78 GB checkpointed,
   * estimated 7.0 and 3.6 (with 4 KB pages it peaked at 5.6 and 3.6 GB: factor 1 fitted).
   */
  activationFactorNoArena: 1.3,
};

/**
 * Float32 values saved for the backward pass per token and layer: the layer input, Q, K, V, the
 * attention context, the attention output's LayerNorm input and output, the output's LayerNorm
 * input (8 × hidden), the intermediate before and after GELU (2 × intermediate), the attention
 * scores and dropped probabilities (2 × heads × length), and the dropout masks (bytes: a quarter
 * of a float each, on 2 hidden-sized and one scores-sized tensor).
 */
export function savedPerToken(m: MemoryPlan['model'], length: number): number {
  return 8.5 * m.hidden + 2 * m.intermediate + 2.25 * m.heads * length;
}

/** Bytes of activations a training program keeps for one micro-batch of `length`. */
export function activationBytes(p: MemoryPlan, length: number): number {
  const m = p.model;
  const tokens = p.batch * length;
  const layer = tokens * savedPerToken(m, length) * F32;
  // With checkpointing only each layer's input is kept; one layer's activations are rebuilt at a time.
  const kept = p.gradientCheckpointing ? m.layers * tokens * m.hidden * F32 + layer : m.layers * layer;
  return kept * (p.arena === false ? CALIBRATION.activationFactorNoArena : CALIBRATION.activationFactor);
}

/**
 * The estimated peak resident memory of a training run, by part. The weights and optimizer state
 * live once on the host and are updated in place; each call holds a second copy of them for a while
 * (the new state its Loop builds before writing it back, then the copy onnxruntime-node makes of
 * every output it returns).
 */
export function estimateMemory(p: MemoryPlan): MemoryEstimate {
  const m = p.model;
  const frozen = p.params - p.trained;
  const evalTokens = p.evalBatch * p.evalLength;
  const perProgram = p.lengths.map((T) => activationBytes(p, T));
  const parts = [
    { name: 'runtime, data and tokenizer', bytes: CALIBRATION.runtimeBytes },
    { name: 'weights', bytes: p.trained * F32 },
    // Frozen weights are initializers of every training program (one per length) and inputs of evaluation.
    { name: 'frozen weights', bytes: frozen * F32 * (p.lengths.length + 2) },
    { name: 'gradients', bytes: p.trained * F32 },
    { name: 'optimizer state', bytes: p.trained * p.slots * F32 },
    { name: 'state copy during a call', bytes: p.trained * (1 + p.slots) * F32 },
    {
      name: `activations${p.gradientCheckpointing ? ' (checkpointed)' : ''}`,
      // Over a run the bucket programs' activations add up: with ORT's arena each program keeps its
      // own once built; without it (huge pages or large models, engine/program.ts) the allocator
      // does not give all of one bucket's blocks back before the next one's (real-length BERT-mini,
      // 4 buckets: 0.81-1.23 GB measured, 1.0 estimated; the largest bucket alone gave 0.68).
      bytes: perProgram.reduce((a, b) => a + b, 0),
    },
    // Forward only: the widest tensors of one layer at a time.
    { name: 'evaluation', bytes: evalTokens * (m.intermediate + m.heads * p.evalLength + 4 * m.hidden) * F32 * 2 },
  ];
  return { total: parts.reduce((a, x) => a + x.bytes, 0), parts };
}

const gb = (b: number) => `${(b / 2 ** 30).toFixed(2)} GB`;

export function formatEstimate(e: MemoryEstimate): string {
  return `${gb(e.total)} (${e.parts
    .filter((x) => x.bytes > 0)
    .map((x) => `${x.name} ${gb(x.bytes)}`)
    .join(', ')})`;
}

/** A cgroup's memory limit and usage (v2, then v1), where the process runs in one with a limit. */
function cgroupRoom(): number | undefined {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  for (const [limitFile, usageFile] of [
    ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.current'],
    ['/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory/memory.usage_in_bytes'],
  ]) {
    const limit = Number(read(limitFile));
    const usage = Number(read(usageFile));
    // v1 reports "no limit" as a huge number; anything above the machine's memory is no limit.
    if (Number.isFinite(limit) && limit > 0 && limit < os.totalmem() && Number.isFinite(usage)) return Math.max(0, limit - usage);
  }
  return undefined;
}

/** Memory this process could still take: MemAvailable (page cache counts as free), or a tighter cgroup limit. */
export function availableMemory(): { bytes: number; source: string } {
  let bytes = os.freemem();
  let source = 'free memory';
  const m = /MemAvailable:\s+(\d+) kB/.exec(
    (() => {
      try {
        return fs.readFileSync('/proc/meminfo', 'utf8');
      } catch {
        return '';
      }
    })(),
  );
  if (m) {
    bytes = Number(m[1]) * 1024;
    source = 'available memory';
  }
  const room = cgroupRoom();
  if (room !== undefined && room < bytes) {
    bytes = room;
    source = 'room under the cgroup memory limit';
  }
  return { bytes, source };
}

export type MemoryVerdict = { kind: 'fits' } | { kind: 'warn' | 'refuse'; message: string };

/**
 * Does the estimate fit? `have` is what is available now plus what this process already holds
 * (its data and runtime are part of the estimate). Over it: refuse; over 85% of it: warn.
 */
export function judgeMemory(e: MemoryEstimate, have: { bytes: number; source: string }, total = os.totalmem()): MemoryVerdict {
  const what = `estimated peak memory ${formatEstimate(e)}; ${have.source} ${gb(have.bytes)} of ${gb(total)}`;
  if (e.total > have.bytes)
    return {
      kind: 'refuse',
      message: `this run will not fit in memory: ${what}. Lower training.batch_size (raising training.gradient_accumulation keeps the effective batch) or data.max_length, train LoRA or head-only, or set training.memory_check: warn (--force) to run anyway`,
    };
  if (e.total > 0.85 * have.bytes) return { kind: 'warn', message: `this run may not fit in memory: ${what}` };
  return { kind: 'fits' };
}

/** The model's sizes from the config (from_scratch) or the pretrained folder's config.json, without loading weights. */
export function modelSizes(cfg: ResolvedConfig, vocabSize: number, numLabels: number): BertConfig {
  const pre = cfg.model.pretrained;
  if (pre) {
    const file = path.join(pre, 'config.json');
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    return bertConfigFromHf(raw, architectureOf(raw, file), numLabels);
  }
  const s = cfg.model.fromScratch!;
  return { ...s, vocabSize, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0, attentionDropout: 0, numLabels };
}

// The LoRA target modules' (out, in) sizes, as model.ts names them.
const loraShape = (c: BertConfig, t: string): [number, number] =>
  t === 'intermediate' ? [c.intermediate, c.hidden] : t === 'output' ? [c.hidden, c.intermediate] : [c.hidden, c.hidden];

/** The memory plan of a run: its model's sizes, what trains, and the lengths its batches pad to. */
export function memoryPlanOf(cfg: ResolvedConfig, c: BertConfig, trainLengths: number[], evalLengths: number[], evalBatch: number): MemoryPlan {
  const head = cfg.task === 'token-classification' ? 'token' : 'sequence';
  const shapes = bertParamShapes(c, head);
  const size = (s: number[]) => s.reduce((a, x) => a * x, 1);
  const params = shapes.reduce((a, p) => a + size(p.shape), 0);
  const isHead = (n: string) => n.startsWith('classifier.') || n.startsWith('bert.pooler.');
  const headCount = shapes.filter((p) => isHead(p.name)).reduce((a, p) => a + size(p.shape), 0);
  const peft = cfg.model.peft;
  let trained = params;
  let lora = 0;
  if (peft.kind === 'head-only') trained = headCount;
  if (peft.kind === 'lora') {
    for (const t of peft.targets) {
      const [o, i] = loraShape(c, t);
      lora += c.layers * peft.rank * (o + i);
    }
    trained = headCount + lora;
  }
  // The lengths the steps of an epoch pad to: one training program (and arena) each.
  const t = cfg.training;
  const steps = planEpoch(trainLengths, 0, cfg.seed, t.batchSize, t.gradientAccumulation, cfg.data.maxLength, t.shuffle ?? true);
  const lengths = [...new Set(steps.map((s) => s.length))].sort((a, b) => a - b);
  return {
    model: c,
    params: params + lora,
    trained,
    slots: cfg.training.optimizer === 'adamw' ? 2 : 1,
    batch: cfg.training.batchSize,
    lengths: lengths.length ? lengths : [16],
    evalBatch,
    evalLength: Math.max(1, ...evalLengths),
    gradientCheckpointing: (cfg.training as { gradientCheckpointing?: boolean }).gradientCheckpointing === true,
    arena: arenaByDefault(trained),
  };
}
