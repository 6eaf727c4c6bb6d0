// The order of training examples: per epoch a seeded shuffle, then, within chunks, examples of
// similar length are batched together (as the Hugging Face Trainer's group_by_length does) so that
// batches pad to short length buckets. With shuffle off (training.shuffle: false) the steps take
// the examples in file order, batch after batch, with no length grouping, for step-by-step
// comparison with another framework. The plan depends only on (seed, epoch, shuffle), so a resumed
// run replays exactly the steps an uninterrupted one would take. fillStep packs a planned step into
// the [K, A, B, T] feeds of a training program.

import { seededShuffle } from '../data/split';
import type { RunData } from './dataset';

export interface PlannedStep {
  /** Example indices of each micro-batch (A micro-batches of up to B examples). */
  micro: number[][];
  /** Padded sequence length of this step (a bucket). */
  length: number;
}

/** Length buckets: powers of two from 16 up to maxLength, and maxLength itself. */
export function buckets(maxLength: number): number[] {
  const out: number[] = [];
  for (let b = 16; b < maxLength; b *= 2) out.push(b);
  out.push(maxLength);
  return out;
}

export function bucketFor(length: number, bs: number[]): number {
  for (const b of bs) if (length <= b) return b;
  throw new Error(`sequence of ${length} tokens is longer than the largest bucket ${bs[bs.length - 1]}`);
}

/** Optimizer steps per epoch for n examples. */
export function stepsPerEpoch(n: number, batchSize: number, accumulation: number): number {
  return Math.ceil(n / (batchSize * accumulation));
}

export function planEpoch(
  lengths: number[],
  epoch: number,
  seed: number,
  batchSize: number,
  accumulation: number,
  maxLength: number,
  shuffle = true,
): PlannedStep[] {
  const all = lengths.map((_, i) => i);
  const order = shuffle ? seededShuffle(all, seed * 1000003 + epoch) : all;
  const perStep = batchSize * accumulation;
  // Unshuffled: one chunk that is not sorted, so the steps take the examples in file order.
  const chunk = shuffle ? perStep * 16 : Math.max(1, order.length);
  const bs = buckets(maxLength);
  const steps: PlannedStep[] = [];
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk);
    if (shuffle) part.sort((a, b) => lengths[b] - lengths[a] || a - b);
    for (let s = 0; s < part.length; s += perStep) {
      const ids = part.slice(s, s + perStep);
      const micro: number[][] = [];
      for (let m = 0; m < accumulation; m++) micro.push(ids.slice(m * batchSize, (m + 1) * batchSize));
      steps.push({ micro, length: bucketFor(Math.max(...ids.map((i) => lengths[i])), bs) });
    }
  }
  // Shuffle the steps so that lengths do not go long-to-short within each chunk.
  return shuffle ? seededShuffle(steps, seed * 7919 + epoch) : steps;
}

/** What a training example's features have in common across tasks. */
export interface Features {
  inputIds: number[];
  attentionMask: number[];
}

/** Pads a step's micro-batches to its bucket length into [A, B, T] feeds (appended at `offset` steps). */
export function fillStep(
  data: RunData,
  step: PlannedStep,
  B: number,
  T: number,
  out: { ids: BigInt64Array; mask: BigInt64Array; labels: BigInt64Array },
  slot: number,
) {
  const A = step.micro.length;
  const perStep = A * B * T;
  const labelsPer = data.task === 'token-classification' ? A * B * T : A * B;
  step.micro.forEach((ids, a) => {
    for (let r = 0; r < B; r++) {
      const base = slot * perStep + (a * B + r) * T;
      const i = ids[r];
      if (i === undefined) {
        // A short last batch: padding rows, every label ignored.
        if (data.task === 'token-classification') out.labels.fill(-100n, base, base + T);
        else out.labels[slot * labelsPer + a * B + r] = -100n;
        continue;
      }
      const f = data.train.features[i] as Features & { labels?: number[]; label?: number };
      for (let t = 0; t < T; t++) {
        const inside = t < f.inputIds.length;
        out.ids[base + t] = inside ? BigInt(f.inputIds[t]) : 0n;
        out.mask[base + t] = inside ? BigInt(f.attentionMask[t]) : 0n;
        if (data.task === 'token-classification') out.labels[base + t] = inside ? BigInt(f.labels![t]) : -100n;
      }
      if (data.task === 'sequence-classification') out.labels[slot * labelsPer + a * B + r] = BigInt(f.label!);
    }
  });
}
