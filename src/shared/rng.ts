// The project's two small seeded generators, both uniform in [0, 1), shared by the trainer, the
// sweep samplers, benchmarks and tests. There are two because each already fixes recorded
// results, and changing either would change them:
// - rng (mulberry32): weight initialization, example data, test inputs, benchmarks.
// - shuffleRandom (a Weyl sequence through a 32-bit avalanche mix): the order of seededShuffle
//   (data/split.ts), hence every train/validation split and every epoch's batch order.
// Anything new that needs seeded numbers uses rng.

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The shuffling generator: a Weyl sequence passed through a 32-bit avalanche mix. Unlike rng it
 * uses the whole integer part of the seed (seeds such as seed × 1000003 + epoch exceed 32 bits)
 * and rejects a non-finite seed.
 */
export function shuffleRandom(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const whole = Math.trunc(seed);
  const lo = whole >>> 0;
  const hi = Math.floor(whole / 4294967296) >>> 0;
  let state = (lo ^ Math.imul(hi, 0x27d4eb2d) ^ 0x6a09e667) | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}
