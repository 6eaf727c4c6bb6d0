// The order of training examples: per epoch a seeded shuffle, then, within chunks, examples of
// similar length are batched together (as the Hugging Face Trainer's group_by_length does) so that
// batches pad to short length buckets. The plan depends only on (seed, epoch), so a resumed run
// replays exactly the steps an uninterrupted one would take.

import { seededShuffle } from '../data/split';

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

export function planEpoch(lengths: number[], epoch: number, seed: number, batchSize: number, accumulation: number, maxLength: number): PlannedStep[] {
  const order = seededShuffle(lengths.map((_, i) => i), seed * 1000003 + epoch);
  const perStep = batchSize * accumulation;
  const chunk = perStep * 16;
  const bs = buckets(maxLength);
  const steps: PlannedStep[] = [];
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk).sort((a, b) => lengths[b] - lengths[a] || a - b);
    for (let s = 0; s < part.length; s += perStep) {
      const ids = part.slice(s, s + perStep);
      const micro: number[][] = [];
      for (let m = 0; m < accumulation; m++) micro.push(ids.slice(m * batchSize, (m + 1) * batchSize));
      steps.push({ micro, length: bucketFor(Math.max(...ids.map((i) => lengths[i])), bs) });
    }
  }
  // Shuffle the steps so that lengths do not go long-to-short within each chunk.
  return seededShuffle(steps, seed * 7919 + epoch);
}
