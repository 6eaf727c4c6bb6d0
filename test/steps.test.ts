// Reproducible batching (training.shuffle) and every optimizer step's loss in metrics.jsonl
// (training.logging_steps) at any number of steps per ONNX Runtime call.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { planEpoch } from '../src/trainer/train/plan';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('batching: training.shuffle', () => {
  const lengths = Array.from({ length: 203 }, (_, i) => 3 + ((i * 37) % 61));

  it('shuffle on (the default) plans exactly the steps it planned before the key existed', () => {
    // Hashes of the plans that plan.ts produced before training.shuffle (commit c78a0c5).
    const pinned: [number, number, number, number, string][] = [
      [0, 42, 8, 1, '24fdc8b683ec8ca6'],
      [1, 7, 4, 2, '7343de9db4f49803'],
      [2, 3, 16, 1, '42bb68a6d995f423'],
    ];
    for (const [epoch, seed, B, A, hash] of pinned) {
      const plan = planEpoch(lengths, epoch, seed, B, A, 64);
      assert.equal(createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16), hash, `epoch ${epoch} seed ${seed}`);
      assert.deepEqual(planEpoch(lengths, epoch, seed, B, A, 64, true), plan);
    }
  });

  it('shuffle off: file order, batch after batch, no length grouping, the last batch short, the same every epoch', () => {
    const plan = planEpoch(lengths.slice(0, 21), 0, 42, 4, 2, 64, false);
    assert.deepEqual(
      plan.map((s) => s.micro),
      [
        [
          [0, 1, 2, 3],
          [4, 5, 6, 7],
        ],
        [
          [8, 9, 10, 11],
          [12, 13, 14, 15],
        ],
        [[16, 17, 18, 19], [20]],
      ],
    );
    // Each step pads to the bucket of its own longest example.
    assert.deepEqual(
      plan.map((s) => s.length),
      [64, 64, 64],
    );
    const single = planEpoch(lengths, 3, 9, 8, 1, 64, false);
    assert.deepEqual(
      single.flatMap((s) => s.micro.flat()),
      range(0, 202),
    );
    assert.deepEqual(
      single.map((s) => s.length),
      single.map((s) => [16, 32, 64].find((b) => b >= Math.max(...s.micro[0].map((i) => lengths[i])))),
    );
    assert.deepEqual(planEpoch(lengths, 0, 1, 8, 1, 64, false), single, 'independent of seed and epoch');
  });
});
