// Seeded draws for the samplers: a generator per (sweep seed, trial number) so that a trial's
// parameters depend only on the seed, its number and the trials before it — a sweep resumed after
// a crash draws the same values again. Browser-safe (no Node built-in): the extension uses it too.

import type { Distribution } from '../config/types';
import { rng } from '../rng';

export type Random = () => number;

/** mulberry32 over a seed mixed from the parts (uniform in [0, 1)). */
export function seeded(...parts: number[]): Random {
  let s = 0x9e3779b9;
  for (const p of parts) {
    s = Math.imul(s ^ (p >>> 0), 0x85ebca6b);
    s ^= s >>> 13;
    s = Math.imul(s ^ Math.floor(p / 4294967296), 0xc2b2ae35);
    s ^= s >>> 16;
  }
  return rng(s >>> 0);
}

/** A uniform integer in [0, n). */
export const randomIndex = (r: Random, n: number) => Math.min(n - 1, Math.floor(r() * n));

/** One draw from the distribution's prior (what random search and TPE's first trials do). */
export function drawPrior(d: Distribution, r: Random): unknown {
  switch (d.kind) {
    case 'choice':
      return d.values[randomIndex(r, d.values.length)];
    case 'uniform':
      return d.low + r() * (d.high - d.low);
    case 'loguniform':
      return Math.exp(Math.log(d.low) + r() * (Math.log(d.high) - Math.log(d.low)));
    case 'int':
      if (d.log) {
        // As Optuna: uniform in log space over [low - 0.5, high + 0.5], then rounded.
        const x = Math.exp(Math.log(d.low - 0.5) + r() * (Math.log(d.high + 0.5) - Math.log(d.low - 0.5)));
        return Math.min(d.high, Math.max(d.low, Math.round(x)));
      }
      return d.low + randomIndex(r, d.high - d.low + 1);
  }
}
