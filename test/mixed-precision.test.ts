// Mixed precision (training.mixed_precision, issue 13): float16/bfloat16 matrix products from
// float32 master weights, and dynamic loss scaling with torch.amp.GradScaler's rules. It is for
// CUDA; these are the graph-level checks the CPU allows. ONNX Runtime's CPU provider runs a
// float16 product by casting to float32 and back (so a float16 program trains here, slowly, with
// float16 rounding at every product's output), and has no bfloat16 MatMul (so bfloat16 graphs are
// checked for structure only).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toBfloat16, toFloat16 } from '../src/trainer/engine/ir';
import { TrainProgram, buildProgramGraph, type LossScaling, type ProgramSpec } from '../src/trainer/engine/program';
import type { BertConfig, EmitOptions } from '../src/trainer/models/bert';
import { resolvePrecision } from '../src/trainer/train/model';
import { train as trainRun } from '../src/trainer/train/trainer';
import { loadConfig } from '../src/shared/config/config';
import { readMetrics, readRunInfo } from '../src/shared/run';
import type { TrainerEvent } from '../src/shared/protocol';
import { tinyWorkspace } from './helpers/tinyrun';
import * as path from 'node:path';
import { tinyBatches, tinyBert, tinyTrainSpec } from './helpers/tinybert';
import type { Graph } from '../src/trainer/engine/ir';

const C: BertConfig = tinyBert(2);
const B = 3;
const T = 8;

function spec(o: { compute?: EmitOptions['compute']; scaling?: LossScaling; dropout?: boolean } = {}): ProgramSpec {
  const c = o.dropout === false ? { ...C, hiddenDropout: 0, attentionDropout: 0 } : C;
  return tinyTrainSpec(c, B, T, { compute: o.compute }, { lossScaling: o.scaling });
}

const batches = (K: number, from = 0) => tinyBatches(C, B, T, K, from);

async function train(s: ProgramSpec, steps: number, from = 0, lr = 1e-3) {
  const prog = await TrainProgram.create(s, { device: 'cpu', threads: 1 });
  try {
    const res = await prog.run(batches(steps, from), new Array(steps).fill(lr));
    return { prog, res, params: new Map(prog.params) };
  } finally {
    await prog.release();
  }
}

function maxRelDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [n, x] of a) {
    const y = b.get(n)!;
    let num = 0;
    let den = 0;
    for (let i = 0; i < x.length; i++) {
      num = Math.max(num, Math.abs(x[i] - y[i]));
      den = Math.max(den, Math.abs(x[i]));
    }
    worst = Math.max(worst, den ? num / den : num);
  }
  return worst;
}

/** Every node's input dtypes by op, through the Loop body. */
function dtypesByOp(g: Graph): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const walk = (h: Graph) => {
    for (const n of h.nodes) {
      const set = out.get(n.op) ?? new Set<string>();
      for (const i of n.inputs) if (i) set.add(h.info(i).dtype);
      out.set(n.op, set);
      for (const a of Object.values(n.attrs)) if (a.kind === 'graph') walk(a.v);
    }
  };
  walk(g);
  return out;
}

describe('mixed precision: float16 and bfloat16 constants', () => {
  it('rounds float32 values to half precision to nearest even, with infinities and subnormals', () => {
    assert.equal(toFloat16(1), 0x3c00);
    assert.equal(toFloat16(-2), 0xc000);
    assert.equal(toFloat16(65504), 0x7bff); // the largest half
    assert.equal(toFloat16(65520), 0x7c00); // rounds up past it: infinity
    assert.equal(toFloat16(1 / 3), 0x3555);
    assert.equal(toFloat16(2 ** -24), 0x0001); // the smallest subnormal
    assert.equal(toFloat16(2 ** -26), 0x0000);
    assert.equal(toFloat16(1 + 2 ** -11), 0x3c00); // a tie: to even
    assert.equal(toFloat16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(toFloat16(Infinity), 0x7c00);
    assert.equal(toFloat16(NaN) & 0x7e00, 0x7e00);
    assert.equal(toFloat16(-10000), 0xf0e2);
  });

  it('rounds float32 values to bfloat16 to nearest even', () => {
    assert.equal(toBfloat16(1), 0x3f80);
    assert.equal(toBfloat16(-2), 0xc000);
    assert.equal(toBfloat16(1 + 2 ** -8), 0x3f80); // a tie: to even
    assert.equal(toBfloat16(1 + 3 * 2 ** -8), 0x3f82);
    assert.equal(toBfloat16(Infinity), 0x7f80);
  });
});

describe('mixed precision: the graph', () => {
  it('float16: every matrix product in float16; LayerNorm, softmax, loss and the update in float32', () => {
    const ops = dtypesByOp(buildProgramGraph(spec({ compute: 'float16', scaling: {} })));
    for (const op of ['MatMul', 'Gemm']) assert.deepEqual([...ops.get(op)!], ['float16'], `${op} inputs`);
    for (const op of ['LayerNormalization', 'Softmax', 'SoftmaxCrossEntropyLoss', 'Sqrt']) assert.ok(!ops.get(op)!.has('float16'), `${op} has float16 inputs`);
    // The master weights, optimizer state and scaler are float32 program inputs.
    const g = buildProgramGraph(spec({ compute: 'float16', scaling: {} }));
    assert.deepEqual(
      [...new Set(g.inputs.filter((t) => !t.name.startsWith('batch.') && !t.name.startsWith('random.') && t.name !== 'steps').map((t) => t.dtype))],
      ['float32'],
    );
    assert.ok(['opt_step', 'loss_scale', 'scale_growth'].every((n) => g.inputs.some((t) => t.name === n)));
    assert.ok(!g.inputs.some((t) => t.name === 'step'), 'AdamW step count is carried, not fed');
  });

  it('bfloat16: the same placement, and no loss scaling needed', () => {
    const ops = dtypesByOp(buildProgramGraph(spec({ compute: 'bfloat16' })));
    for (const op of ['MatMul', 'Gemm']) assert.deepEqual([...ops.get(op)!], ['bfloat16'], `${op} inputs`);
    assert.ok(!ops.get('LayerNormalization')!.has('bfloat16'));
  });

  it('without mixed precision, no cast to a half type anywhere', () => {
    const ops = dtypesByOp(buildProgramGraph(spec()));
    for (const [op, set] of ops) assert.ok(!set.has('float16') && !set.has('bfloat16'), op);
  });
});

describe('mixed precision: training', () => {
  it('float16 training follows float32 training (dropout on): losses within 1%, weights within 2% of their size', async () => {
    const f32 = await train(spec(), 6);
    const f16 = await train(spec({ compute: 'float16', scaling: {} }), 6);
    for (let i = 0; i < 6; i++) {
      const [a, b] = [f32.res.losses[i], f16.res.losses[i]];
      assert.ok(Math.abs(a - b) <= 0.01 * Math.abs(a), `step ${i + 1}: loss ${b} vs ${a}`);
    }
    const start = new Map(spec().params.map((p) => [p.name, p.data]));
    // The weights moved (lr 1e-3 × 6 steps), and moved alike.
    assert.ok(maxRelDiff(start, f32.params) > 1e-3);
    // The key bias is left out: its gradient is zero in exact arithmetic (softmax ignores a constant
    // added to a query's scores), so AdamW turns rounding noise into steps of size lr on both sides.
    const noKeyBias = (m: Map<string, Float32Array>) => new Map([...m].filter(([n]) => !n.endsWith('attention.self.key.bias')));
    const worst = maxRelDiff(noKeyBias(f32.params), noKeyBias(f16.params));
    assert.ok(worst < 0.02, `max relative difference ${worst}`);
    assert.equal(f16.prog.scaler!.optimizerSteps, 6);
    assert.equal(f16.prog.scaler!.scale, 65536, 'no overflow at the default scale');
    for (const [, p] of f16.params) assert.ok(p instanceof Float32Array);
  });

  it('loss scaling by a power of two leaves float32 training bit for bit as it was (GradScaler.unscale_ folded in exactly)', async () => {
    const plain = await train(spec(), 4);
    const scaled = await train(spec({ scaling: { init: 1024 } }), 4);
    assert.deepEqual(Array.from(scaled.res.losses), Array.from(plain.res.losses));
    assert.deepEqual(Array.from(scaled.res.gradNorms), Array.from(plain.res.gradNorms));
    for (const [n, p] of plain.params) assert.deepEqual(scaled.params.get(n), p, n);
  });

  it('an overflowing scale skips the step (weights, state and AdamW step count unchanged) and halves, as GradScaler; training goes on', async () => {
    // float16's largest value is 65504: a loss scaled by 2^24 overflows in the backward pass.
    const K = 12;
    const hot = await train(spec({ compute: 'float16', scaling: { init: 2 ** 24 }, dropout: false }), K);
    const skipped = Array.from(hot.res.gradNorms).findIndex((g) => Number.isFinite(g));
    assert.ok(skipped > 0 && skipped < K, `some steps were skipped, then training went on (first finite step ${skipped})`);
    assert.ok(Array.from(hot.res.gradNorms).slice(skipped).every(Number.isFinite));
    assert.ok(Array.from(hot.res.losses).every(Number.isFinite));
    const sc = hot.prog.scaler!;
    assert.equal(sc.scale, 2 ** (24 - skipped));
    assert.equal(sc.optimizerSteps, K - skipped);
    assert.equal(sc.growth, K - skipped);
    // The steps after the skipped ones are those of a run that started at the backed-off scale on
    // the same batches (no dropout, so masks do not depend on the step number): bit for bit.
    const cool = await train(spec({ compute: 'float16', scaling: { init: 2 ** (24 - skipped) }, dropout: false }), K - skipped, skipped);
    assert.deepEqual(Array.from(cool.res.losses), Array.from(hot.res.losses).slice(skipped));
    for (const [n, p] of cool.params) assert.deepEqual(hot.params.get(n), p, n);
  });

  it('the scale grows by growthFactor after growthInterval finite steps in a row', async () => {
    const r = await train(spec({ compute: 'float16', scaling: { init: 4, growthInterval: 2 } }), 5);
    assert.deepEqual(r.prog.scaler, { scale: 16, growth: 1, optimizerSteps: 5 });
  });
});

describe('mixed precision: what a run uses', () => {
  const cuda = { available: true };
  const noCuda = { available: false, reason: 'the CUDA provider library is not installed' };
  it('fp16 and bf16 on CUDA; float32 with the reason on the CPU', () => {
    assert.deepEqual(resolvePrecision('fp16', 'auto', cuda), { compute: 'float16' });
    assert.deepEqual(resolvePrecision('bf16', 'cuda', cuda), { compute: 'bfloat16' });
    assert.deepEqual(resolvePrecision(undefined, 'cuda', cuda), {});
    assert.deepEqual(resolvePrecision('no', 'cuda', cuda), {});
    assert.match(
      resolvePrecision('fp16', 'cpu', cuda).reason!,
      /training\.mixed_precision: fp16 applies on CUDA; device is cpu, so this run trains in float32/,
    );
    const r = resolvePrecision('bf16', 'auto', noCuda);
    assert.equal(r.compute, undefined);
    assert.match(r.reason!, /CUDA is not available: the CUDA provider library is not installed/);
  });

  it('a run asking for fp16 on the CPU says so, trains in float32 (the same losses as without it) and records no precision', async () => {
    const ws = tinyWorkspace();
    const events: TrainerEvent[] = [];
    const losses = (dir: string) => readMetrics(dir).flatMap((r) => (r.type === 'train' ? [r.loss] : []));
    const overrides = { 'training.max_steps': 6 };
    const plain = await trainRun({ config: loadConfig(ws.config, overrides), runDir: path.join(ws.dir, 'plain'), emit: () => {} });
    const fp16 = await trainRun({
      config: loadConfig(ws.config, { ...overrides, 'training.mixed_precision': 'fp16' }),
      runDir: path.join(ws.dir, 'fp16'),
      emit: (e) => events.push(e),
    });
    assert.equal(fp16.status, 'completed');
    const warning = events.find((e) => e.type === 'log' && e.level === 'warn' && /mixed_precision/.test(e.message));
    assert.ok(warning, 'a warning about mixed precision');
    assert.match((warning as { message: string }).message, /fp16 applies on CUDA; (device is cpu|CUDA is not available: .*), so this run trains in float32/);
    assert.deepEqual(losses(fp16.runDir), losses(plain.runDir));
    assert.equal(readRunInfo(fp16.runDir).device?.precision, undefined);
  });
});
