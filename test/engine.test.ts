// The engine's contracts: build-time errors name node, op and shapes; feeds are checked; a NaN in a
// step is traced to the node that produced it without losing the state; output Identity nodes
// are removed; frozen weights get no gradient and no optimizer state; K can vary per run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gradients } from '../src/trainer/engine/autodiff';
import { Builder } from '../src/trainer/engine/builder';
import { registerGradient } from '../src/trainer/engine/gradients';
import { Graph, GraphError } from '../src/trainer/engine/ir';
import { serializeModel } from '../src/trainer/engine/onnx';
import { NonFiniteError, TrainProgram, type ProgramSpec } from '../src/trainer/engine/program';
import { Session } from '../src/trainer/engine/session';

const graph = () => {
  const g = new Graph('t');
  return { g, b: new Builder(g) };
};

describe('build-time errors name the node, op and shapes', () => {
  it('shape mismatch in MatMul', () => {
    const { g, b } = graph();
    const a = g.input('a', 'float32', [2, 3]);
    const w = g.input('w', 'float32', [4, 5]);
    assert.throws(
      () => b.matmul(a, w),
      (e: GraphError) => {
        assert.ok(e instanceof GraphError);
        assert.equal(e.op, 'MatMul');
        assert.match(e.node!, /^MatMul_/);
        assert.match(e.message, /inner dimensions differ: 3 vs 4/);
        assert.match(e.message, /a\[2,3\].*w\[4,5\]/);
        return true;
      },
    );
  });

  it('broadcast mismatch in Add', () => {
    const { g, b } = graph();
    assert.throws(() => b.add(g.input('a', 'float32', [2, 3]), g.input('c', 'float32', [4])), /Add node 'Add_\d+': shapes \[2,3\] and \[4\] do not broadcast/);
  });

  it('dtype mismatch', () => {
    const { g, b } = graph();
    assert.throws(
      () => b.mul(g.input('a', 'float32', [2]), g.input('d', 'float64', [2])),
      /Mul node .*dtype mismatch: float32 vs float64.*a\[2\]:float32 d\[2\]:float64/,
    );
  });

  it('reshape to an incompatible size', () => {
    const { g, b } = graph();
    assert.throws(() => b.reshape(g.input('a', 'float32', [2, 3]), [4, 2]), /Reshape node .*cannot reshape \[2,3\] \(6 values\) to \[4,2\]/);
  });

  it('an op on the loss path without a gradient rule', () => {
    const { g, b } = graph();
    const w = g.input('w', 'float32', [3]);
    const x = g.input('x', 'float32', [3]);
    const loss = b.reduceSum(b.max(w, x), [0]);
    assert.throws(
      () => gradients(g, loss, [w]),
      (e: GraphError) => {
        assert.equal(e.op, 'Max');
        assert.match(e.message, /no gradient rule for this op/);
        assert.match(e.message, /w\[3\] x\[3\]/);
        return true;
      },
    );
  });

  it('the gradient registry refuses a second rule for an op', () => {
    assert.throws(() => registerGradient('Add', () => []), /registered twice/);
    assert.throws(() => registerGradient('Equal', () => []), /non-differentiable/);
  });

  it('symbolic dimensions flow through shape inference', () => {
    const { g, b } = graph();
    const x = g.input('x', 'float32', ['batch', 3]);
    const y = b.matmul(x, g.input('w', 'float32', [3, 4]));
    assert.deepEqual(y.shape, ['batch', 4]);
    assert.deepEqual(b.reshapeLike(b.relu(y), y).shape, ['batch', 4]);
  });
});

describe('serialization', () => {
  it('removes output Identity nodes and keeps the output name', async () => {
    const { g, b } = graph();
    const x = g.input('x', 'float32', [2]);
    g.output(b.exp(x), 'y');
    assert.equal(g.nodes.filter((n) => n.op === 'Identity').length, 1);
    const model = serializeModel(g);
    assert.equal(g.nodes.filter((n) => n.op === 'Identity').length, 0);
    const s = await Session.create(model, g.inputs, { threads: 1 });
    const out = await s.run({ x: { dtype: 'float32', shape: [2], data: Float32Array.of(0, 1) } });
    assert.deepEqual(Array.from(out.y.data as Float32Array), [1, Math.fround(Math.E)]);
  });

  it('checks feeds against declared inputs', async () => {
    const { g, b } = graph();
    const x = g.input('x', 'float32', ['n', 2]);
    g.output(b.exp(x), 'y');
    const s = await Session.create(serializeModel(g), g.inputs, { threads: 1 }, 'probe');
    await assert.rejects(
      s.run({ x: { dtype: 'float32', shape: [3], data: new Float32Array(3) } }),
      /probe: input 'x' has the wrong rank: expected float32\[n,2\], got float32\[3\]/,
    );
    await assert.rejects(s.run({ x: { dtype: 'int64', shape: [1, 2], data: new BigInt64Array(2) } }), /wrong dtype/);
    await assert.rejects(s.run({}), /input 'x' was not fed/);
  });

  it('records why CUDA was not used; with CUDA, auto uses it and computes the same', async () => {
    const { g, b } = graph();
    g.output(b.exp(g.input('x', 'float32', [1])), 'y');
    const s = await Session.create(serializeModel(g), g.inputs, { device: 'cpu' });
    assert.equal(s.device.used, 'cpu');
    assert.equal(s.device.requested, 'cpu');
    const auto = await Session.create(serializeModel(g), g.inputs, { device: 'auto' });
    assert.equal(auto.device.requested, 'auto');
    if (auto.device.used === 'cpu') {
      assert.ok(auto.device.reason && auto.device.reason.length > 10, `a reason: ${auto.device.reason}`);
    } else {
      // a machine with a GPU: CUDA was taken, so there is no reason to record, and it computes what the CPU does
      assert.equal(auto.device.used, 'cuda');
      assert.equal(auto.device.reason, undefined);
      const x = { x: { dtype: 'float32' as const, shape: [1], data: Float32Array.of(1) } };
      const [onCpu, onCuda] = [(await s.run(x)).y.data as Float32Array, (await auto.run(x)).y.data as Float32Array];
      assert.ok(Math.abs(onCpu[0] - onCuda[0]) < 1e-6, `cpu ${onCpu[0]}, cuda ${onCuda[0]}`);
    }
  });
});

function linearSpec(overrides: Partial<ProgramSpec> = {}): ProgramSpec {
  return {
    params: [
      { name: 'w', shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => (i % 5) * 0.1 - 0.2) },
      { name: 'b', shape: [3], data: new Float32Array(3), decay: false },
    ],
    batch: [
      { name: 'x', dtype: 'float32', shape: [2, 4] },
      { name: 'y', dtype: 'int64', shape: [2] },
    ],
    loss: (b, P, batch) => b.softmaxCrossEntropy(b.add(b.matmul(batch.get('x')!, P.get('w')!), P.get('b')!), batch.get('y')!)[0],
    optimizer: { kind: 'adamw' },
    ...overrides,
  };
}
const feedsFor = (k: number) => ({
  x: Float32Array.from({ length: k * 8 }, (_, i) => Math.sin(i)),
  y: BigInt64Array.from({ length: k * 2 }, (_, i) => BigInt(i % 3)),
});

describe('training programs', () => {
  it('a NaN in a step names the node that produced it and keeps the state', async () => {
    // log(x . w) goes NaN as soon as the dot product is negative.
    const spec = linearSpec({
      loss: (b, P, batch) => b.reduceSum(b.log(b.matmul(batch.get('x')!, P.get('w')!)), [0, 1]),
    });
    const prog = await TrainProgram.create(spec, { threads: 1 });
    const before = prog.params.get('w')!.slice();
    await assert.rejects(prog.run(feedsFor(2), [0.1, 0.1]), (e: NonFiniteError) => {
      assert.ok(e instanceof NonFiniteError);
      assert.equal(e.op, 'Log');
      assert.equal(e.step, 1);
      assert.match(e.message, /Log node 'Log_\d+': non-finite value in output '.*'\[2,3\] at step 1 \(inputs MatMul_\d+_out\[2,3\] finite\)/);
      return true;
    });
    assert.equal(prog.step, 0);
    assert.deepEqual(prog.params.get('w'), before);
  });

  it('a NaN at step 2 of 3 stops there and keeps the state of step 1 (state updated in place)', async () => {
    const feeds = feedsFor(3);
    feeds.x[8 + 5] = NaN; // micro-batch 2
    const prog = await TrainProgram.create(linearSpec(), { threads: 1 });
    await assert.rejects(prog.run(feeds, [0.1, 0.1, 0.1]), (e: NonFiniteError) => e instanceof NonFiniteError && e.step === 2);
    assert.equal(prog.step, 1);
    const one = await TrainProgram.create(linearSpec(), { threads: 1 });
    await one.run({ x: feeds.x.subarray(0, 8), y: feeds.y.subarray(0, 2) }, [0.1]);
    for (const n of ['w', 'b']) {
      assert.deepEqual(prog.params.get(n), one.params.get(n), n);
      assert.deepEqual(prog.state.get(n), one.state.get(n), `${n} m, v`);
    }
  });

  it('writes the new state into its own host arrays, never into the caller’s', async () => {
    const spec = linearSpec();
    const initial = spec.params.map((p) => p.data.slice());
    const prog = await TrainProgram.create(spec, { threads: 1 });
    await prog.run(feedsFor(2), [0.1, 0.1]);
    spec.params.forEach((p, i) => assert.deepEqual(p.data, initial[i], `${p.name}: the caller's array is untouched`));
    const w = prog.params.get('w')!;
    const m = prog.state.get('w')![0];
    const w1 = w.slice();
    await prog.run(feedsFor(1), [0.1]);
    assert.equal(prog.params.get('w'), w, 'the same array, written in place');
    assert.equal(prog.state.get('w')![0], m);
    assert.notDeepEqual(w, w1, 'with the new values');
  });

  it('runs any number of steps per call with one program', async () => {
    const prog = await TrainProgram.create(linearSpec(), { threads: 1 });
    assert.equal((await prog.run(feedsFor(3), [0.1, 0.1, 0.1])).losses.length, 3);
    assert.equal((await prog.run(feedsFor(8), new Array(8).fill(0.1))).losses.length, 8);
    assert.equal(prog.step, 11);
  });

  it('frozen weights are initializers: no gradient, no optimizer state, unchanged', async () => {
    const frozen = { name: 'f', shape: [4, 4], data: Float32Array.from({ length: 16 }, (_, i) => (i % 4 === Math.floor(i / 4) ? 1 : 0)) };
    const spec = linearSpec({
      frozen: [frozen],
      loss: (b, P, batch) => b.softmaxCrossEntropy(b.add(b.matmul(b.matmul(batch.get('x')!, P.get('f')!), P.get('w')!), P.get('b')!), batch.get('y')!)[0],
    });
    const prog = await TrainProgram.create(spec, { threads: 1 });
    const w0 = prog.params.get('w')!.slice();
    const r = await prog.run(feedsFor(4), [0.05, 0.05, 0.05, 0.05]);
    assert.ok(r.losses[3] < r.losses[0], 'loss decreases');
    assert.notDeepEqual(prog.params.get('w'), w0);
    assert.deepEqual([...prog.params.keys()], ['w', 'b']);
    assert.deepEqual([...prog.state.keys()], ['w', 'b']);
  });

  it('dropout in training mode trains and stays finite', async () => {
    const spec = linearSpec({
      loss: (b, P, batch) => b.softmaxCrossEntropy(b.add(b.matmul(b.dropout(batch.get('x')!, 0.1)[0], P.get('w')!), P.get('b')!), batch.get('y')!)[0],
    });
    const prog = await TrainProgram.create(spec, { threads: 1 });
    const r = await prog.run(feedsFor(4), [0.05, 0.05, 0.05, 0.05]);
    assert.ok(Array.from(r.losses).every(Number.isFinite));
  });

  it('rejects a parameter listed twice and data of the wrong size', async () => {
    const spec = linearSpec();
    await assert.rejects(TrainProgram.create({ ...spec, params: [...spec.params, spec.params[0]] }), /parameter 'w' is listed twice/);
    await assert.rejects(
      TrainProgram.create({ ...spec, params: [{ name: 'w', shape: [4, 3], data: new Float32Array(5) }] }),
      /parameter 'w' has 5 values for shape \[4,3\]/,
    );
  });
});

describe('embedding gradients with repeated indices', () => {
  it('sum every repeated row exactly, with several threads, run after run', async () => {
    // ORT's ScatterND with reduction=add races on repeated indices when multi-threaded (updates
    // are lost); the Gather rule uses ScatterElements, which adds them all.
    const N = 4096,
      H = 64,
      V = 300;
    const g = new Graph('embedding');
    const b = new Builder(g);
    const table = g.input('table', 'float32', [V, H]);
    const ids = g.input('ids', 'int64', [N]);
    const proj = g.input('proj', 'float32', [N, H]);
    const loss = b.reduceSum(b.mul(b.gather(table, ids), proj), [0, 1]);
    g.output(gradients(g, loss, [table]).get('table')!, 'grad');
    const s = await Session.create(serializeModel(g), g.inputs, { threads: 2 });
    const idv = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7919) % V));
    const pv = Float32Array.from({ length: N * H }, (_, i) => Math.sin(i));
    const exact = new Float64Array(V * H);
    for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) exact[Number(idv[n]) * H + h] += pv[n * H + h];
    let first: Float32Array | undefined;
    for (let k = 0; k < 8; k++) {
      const out = (
        await s.run({
          table: { dtype: 'float32', shape: [V, H], data: new Float32Array(V * H) },
          ids: { dtype: 'int64', shape: [N], data: idv },
          proj: { dtype: 'float32', shape: [N, H], data: pv },
        })
      ).grad.data as Float32Array;
      let err = 0;
      for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - exact[i]));
      assert.ok(err < 1e-4, `max error ${err}`);
      if (first) assert.deepEqual(out, first);
      else first = out;
    }
  });
});
