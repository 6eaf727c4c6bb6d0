// Gradient checkpointing (training.gradient_checkpointing): each encoder layer is recomputed in
// the backward pass from its input. The gradients and the losses of a training run must be those
// of the plain graph, and the backward pass must read no activation from inside a layer.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializeModel } from '../src/trainer/engine/onnx';
import { TrainProgram, buildGradientGraph, randomBytes, type ProgramSpec } from '../src/trainer/engine/program';
import { Session, type HostTensor } from '../src/trainer/engine/session';
import type { BertConfig } from '../src/trainer/models/bert';
import { tinyBatches, tinyBert, tinyTrainSpec } from './helpers/tinybert';

const C: BertConfig = tinyBert(3);
const B = 3;
const T = 8;

const spec = (checkpointing: boolean): ProgramSpec => tinyTrainSpec(C, B, T, { checkpointing });

const batches = (K: number) => tinyBatches(C, B, T, K);

async function gradientsOf(checkpointing: boolean): Promise<Record<string, HostTensor>> {
  const s = spec(checkpointing);
  const g = buildGradientGraph(s);
  const session = await Session.create(serializeModel(g), g.inputs, { device: 'cpu', threads: 1 });
  const feeds: Record<string, HostTensor> = {};
  const data = batches(1);
  for (const t of g.inputs) {
    const shape = t.shape as number[];
    if (t.name.startsWith('param.')) feeds[t.name] = { dtype: 'float32', shape, data: s.params.find((p) => `param.${p.name}` === t.name)!.data };
    else if (t.name.startsWith('batch.')) feeds[t.name] = { dtype: 'int64', shape, data: data[t.name.slice('batch.'.length)] };
    else {
      const site = Number(t.name.slice('random.'.length));
      feeds[t.name] = {
        dtype: 'uint8',
        shape,
        data: randomBytes(
          5,
          1,
          site,
          shape.reduce((a, d) => a * d, 1),
        ),
      };
    }
  }
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('gradient checkpointing', () => {
  it('gives the gradients of the plain graph (within 1e-6) with dropout on', async () => {
    const plain = await gradientsOf(false);
    const ckpt = await gradientsOf(true);
    assert.deepEqual(Object.keys(ckpt).sort(), Object.keys(plain).sort());
    assert.equal((ckpt.loss.data as Float32Array)[0], (plain.loss.data as Float32Array)[0]);
    let worst = 0;
    let nonzero = 0;
    for (const [name, t] of Object.entries(plain)) {
      const a = t.data as Float32Array;
      const c = ckpt[name].data as Float32Array;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - c[i]));
        if (a[i] !== 0) nonzero++;
      }
    }
    assert.ok(nonzero > 1000, `the gradients are not trivially zero (${nonzero} nonzero)`);
    assert.ok(worst <= 1e-6, `max |difference| ${worst}`);
  });

  it('the backward pass reads no value from inside a layer: it reads the recomputed copies', () => {
    const g = buildGradientGraph(spec(true));
    const inSegment = new Map<string, string>();
    for (const n of g.nodes) if (n.segment) for (const o of n.outputs) inSegment.set(o, n.segment);
    assert.equal(new Set(inSegment.values()).size, C.layers);
    const readers = g.nodes.filter((n) => n.inputs.some((i) => inSegment.has(i)));
    const outside = readers.filter((n) => n.inputs.some((i) => inSegment.has(i) && inSegment.get(i) !== n.segment && !isLayerOutput(i)));
    assert.deepEqual(
      outside.map((n) => `${n.op} ${n.name}`),
      [],
    );
    // Each layer is computed twice: once forward, once for its backward pass.
    const plain = buildGradientGraph(spec(false));
    const count = (op: string, gr: typeof g) => gr.nodes.filter((n) => n.op === op).length;
    assert.equal(count('Softmax', g), 2 * count('Softmax', plain));

    // A layer's output (the next layer's input) is the checkpoint the recomputation starts from.
    function isLayerOutput(name: string): boolean {
      const seg = inSegment.get(name)!;
      const last = g.nodes.filter((n) => n.segment === seg).pop()!;
      return last.outputs[0] === name;
    }
  });

  it('a training run with it has the losses and weights of one without (K=3 steps per call, two calls)', async () => {
    const results: { losses: number[]; weights: Float32Array }[] = [];
    for (const checkpointing of [false, true]) {
      const prog = await TrainProgram.create(spec(checkpointing), { device: 'cpu', threads: 1 });
      const losses: number[] = [];
      try {
        for (let call = 0; call < 2; call++) {
          const res = await prog.run(batches(3), [1e-3, 1e-3, 1e-3]);
          losses.push(...res.losses);
        }
        results.push({ losses, weights: prog.params.get('bert.encoder.layer.0.attention.self.query.weight')! });
      } finally {
        await prog.release();
      }
    }
    const [plain, ckpt] = results;
    assert.equal(ckpt.losses.length, 6);
    assert.ok(new Set(plain.losses).size > 1, 'the loss changes as the model trains');
    ckpt.losses.forEach((l, i) => assert.ok(Math.abs(l - plain.losses[i]) <= 1e-6, `step ${i + 1}: ${l} vs ${plain.losses[i]}`));
    let worst = 0;
    for (let i = 0; i < plain.weights.length; i++) worst = Math.max(worst, Math.abs(plain.weights[i] - ckpt.weights[i]));
    assert.ok(worst <= 1e-6, `weights differ by ${worst}`);
  });
});
