// `finetune check`: trains a small MLP on a generated, learnable classification problem with the
// real engine (K-step Loop programs, AdamW, clipping) and evaluates it on held-out samples. It shows
// that the install works end to end and which device ONNX Runtime actually used.

import type { TrainerEvent } from '../shared/protocol';
import { Builder } from './engine/builder';
import { Graph } from './engine/ir';
import { serializeModel } from './engine/onnx';
import { TrainProgram } from './engine/program';
import { Session, ortVersion, type Device } from './engine/session';
import { initParams } from './models/bert';
import { emitMlp, mlpParamShapes } from './models/mlp';
import { rng } from '../shared/rng';

export interface CheckOptions {
  device: Device;
  threads: number;
  stepsPerRun: number;
  steps: number;
  emit: (e: TrainerEvent) => void;
}

/** Gaussian blobs: `classes` random centres in `dim` dimensions, unit noise. */
function blobs(n: number, dim: number, classes: number, r: () => number, centres?: number[][]) {
  const c = centres ?? Array.from({ length: classes }, () => Array.from({ length: dim }, () => (r() * 2 - 1) * 1.2));
  const x = new Float32Array(n * dim);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * classes);
    y[i] = BigInt(k);
    for (let d = 0; d < dim; d++) {
      const u = Math.max(r(), 1e-12);
      x[i * dim + d] = c[k][d] + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    }
  }
  return { x, y, centres: c };
}

export async function runCheck(o: CheckOptions): Promise<{ accuracy: number; firstLoss: number; lastLoss: number }> {
  const t0 = performance.now();
  const r = rng(42);
  const sizes = [16, 64, 64, 4];
  const B = 32;
  const K = o.stepsPerRun;
  const train = blobs(B * o.steps, sizes[0], sizes[3], r);
  const test = blobs(1000, sizes[0], sizes[3], r, train.centres);
  const layers = sizes.length - 1;
  const prog = await TrainProgram.create(
    {
      params: initParams(mlpParamShapes(sizes), r, 0.1),
      batch: [
        { name: 'x', dtype: 'float32', shape: [B, sizes[0]] },
        { name: 'y', dtype: 'int64', shape: [B] },
      ],
      loss: (b, P, batch) => b.softmaxCrossEntropy(emitMlp(b, P, layers, batch.get('x')!), batch.get('y')!)[0],
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      clipNorm: 1,
    },
    { device: o.device, threads: o.threads },
  );
  const params = sizes.slice(1).reduce((acc, n, i) => acc + n * sizes[i] + n, 0);
  o.emit({
    type: 'started',
    runId: 'check',
    time: new Date().toISOString(),
    params,
    device: { ...prog.device, threads: o.threads, onnxruntime: ortVersion() },
  });
  const warmup = Math.max(1, Math.floor(o.steps / 10));
  const lrAt = (s: number) => (s < warmup ? (3e-3 * (s + 1)) / warmup : (3e-3 * (o.steps - s)) / (o.steps - warmup)); // warmup, linear decay
  let firstLoss = NaN,
    lastLoss = NaN;
  for (let s = 0; s < o.steps; s += K) {
    const k = Math.min(K, o.steps - s);
    const tb = performance.now();
    const res = await prog.run(
      {
        x: train.x.subarray(s * B * sizes[0], (s + k) * B * sizes[0]),
        y: train.y.subarray(s * B, (s + k) * B),
      },
      Array.from({ length: k }, (_, i) => lrAt(s + i)),
    );
    const secs = (performance.now() - tb) / 1000;
    if (s === 0) firstLoss = res.losses[0];
    lastLoss = res.losses[k - 1];
    const every = Math.max(K, Math.ceil(o.steps / 10 / K) * K);
    if ((s + k) % every === 0 || s + k === o.steps)
      o.emit({
        type: 'train',
        step: s + k,
        epoch: 0,
        loss: lastLoss,
        lr: lrAt(s + k - 1),
        gradNorm: res.gradNorms[k - 1],
        stepsPerSec: k / secs,
        samplesPerSec: (k * B) / secs,
      });
  }
  // Evaluate with a forward-only graph on the trained weights.
  const g = new Graph('check_eval');
  const b = new Builder(g);
  const P = new Map(mlpParamShapes(sizes).map((p) => [p.name, g.initializer(p.name, 'float32', p.shape, prog.params.get(p.name)!)] as const));
  const x = g.input('x', 'float32', ['n', sizes[0]]);
  g.output(emitMlp(b, P, layers, x), 'logits');
  const session = await Session.create(serializeModel(g), g.inputs, { device: o.device, threads: o.threads }, 'check evaluation');
  const out = await session.run({ x: { dtype: 'float32', shape: [1000, sizes[0]], data: test.x } });
  await session.release();
  await prog.release();
  const logits = out.logits.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < 1000; i++) {
    let best = 0;
    for (let c = 1; c < sizes[3]; c++) if (logits[i * sizes[3] + c] > logits[i * sizes[3] + best]) best = c;
    if (BigInt(best) === test.y[i]) correct++;
  }
  const accuracy = correct / 1000;
  o.emit({ type: 'completed', step: o.steps, metrics: { accuracy, loss: lastLoss }, seconds: (performance.now() - t0) / 1000 });
  return { accuracy, firstLoss, lastLoss };
}
