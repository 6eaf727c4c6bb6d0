// Synthetic experiments-table rows for the browser tests and bench/table.ts: deterministic (a
// seeded generator), three configs, some runs in sweeps, learning rates spread over two decades.

import type { TableRow } from '../../src/shared/protocol';

/** mulberry32: a small seeded generator, so every run of a test sees the same rows. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONFIGS = ['examples/ner/ner.finetune.yaml', 'examples/textcls/textcls.finetune.yaml', 'tune/lr.finetune.yaml'];
const STATUSES: TableRow['status'][] = ['completed', 'completed', 'completed', 'completed', 'failed', 'stopped', 'pruned'];

export function synthRows(n: number, seed = 1): TableRow[] {
  const r = rng(seed);
  const t0 = Date.UTC(2026, 9, 1);
  return Array.from({ length: n }, (_, i) => {
    const config = CONFIGS[i % CONFIGS.length];
    const lr = Number((10 ** (-5 + 2 * r())).toPrecision(2));
    const bs = [16, 32, 64][Math.floor(r() * 3)];
    const f1 = Number((0.6 + 0.39 * r()).toFixed(4));
    const id = `2026${String(1000000 + i).slice(1)}-run-${i}`;
    const status = STATUSES[Math.floor(r() * STATUSES.length)];
    const started = t0 + i * 60_000;
    return {
      id,
      shortId: id.slice(-6),
      label: `lr=${lr} · bs=${bs}`,
      name: `run ${i}`,
      status,
      config,
      ...(i % 5 === 0 ? { sweep: `sweep-${i % 3}` } : {}),
      startedAt: new Date(started).toISOString(),
      endedAt: new Date(started + 30_000 + Math.floor(r() * 600_000)).toISOString(),
      step: 1000,
      totalSteps: 1000,
      params: { task: 'token-classification', 'training.lr': lr, 'training.batch_size': bs, 'training.epochs': 3, seed: i % 4 },
      metrics: { best_f1: f1, test_f1: Number((f1 - 0.02 * r()).toFixed(4)), test_loss: Number((1 - f1 + 0.1 * r()).toFixed(4)) },
      tags: i % 7 === 0 ? ['baseline'] : [],
      ...(i % 11 === 0 ? { notes: `note for run ${i}` } : {}),
    };
  });
}
