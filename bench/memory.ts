// Memory probe for one training program (docs/benchmarks.md, "Memory at BERT-base"): builds the
// bench's full fine-tuning program (BERT token classification, AdamW + clipping, dropout 0.1) at
// the given sizes, runs it, and prints the process's resident memory (VmRSS) and peak (VmHWM,
// from /proc/self/status) after each stage, as JSON lines.
//
//   node --expose-gc --import tsx bench/memory.ts [--model mini|base|large] [--layers 12 --hidden 768 --heads 12]
//        [--batch 32 --seq 128 --k 1 --runs 2 --threads 2] [--arena | --no-arena] [--no-pattern] [--opt basic|extended|all]
//        [--checkpointing] [--trace FILE]
//
// The arena follows the training programs' default (off from 50M trained parameters) unless --arena / --no-arena.
//
// FINETUNE_ORT_EXTRA (JSON ORT config entries) passes further session config entries through.

import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { TrainProgram, buildGradientGraph, randomBytes, type ProgramSpec } from '../src/trainer/engine/program';
import { Session, type HostTensor, type SessionOptions } from '../src/trainer/engine/session';
import { serializeModel } from '../src/trainer/engine/onnx';
import { numel, type TypedData } from '../src/trainer/engine/ir';
import { bertParamShapes, bertSized, initParams, tokenClassificationLoss, type BertConfig } from '../src/trainer/models/bert';
import { rng } from '../src/shared/rng';

const args = process.argv.slice(2);
const num = (n: string, d: number) => (args.includes(`--${n}`) ? Number(args[args.indexOf(`--${n}`) + 1]) : d);
const str = (n: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : undefined);
const flag = (n: string) => args.includes(`--${n}`);

function status(): { rss: number; hwm: number } {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number((s.match(new RegExp(`${k}:\\s*(\\d+)`)) ?? [])[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}

/**
 * --trace FILE: a worker thread samples VmRSS every 50 ms into FILE ("seconds rss_mb" lines) while
 * the main thread is blocked inside session.run, so the shape of a call (forward, backward, the
 * state copies at its end) shows, not only its high-water mark.
 */
function startTrace(file: string): Worker {
  const code = `
    const fs = require('node:fs');
    const { workerData } = require('node:worker_threads');
    const fd = fs.openSync(workerData.file, 'w');
    const t0 = Date.now();
    setInterval(() => {
      const m = fs.readFileSync('/proc/self/status', 'utf8').match(/VmRSS:\\s*(\\d+)/);
      fs.writeSync(fd, ((Date.now() - t0) / 1000).toFixed(2) + ' ' + Math.round(Number(m[1]) / 1024) + '\\n');
    }, 50);`;
  const w = new Worker(code, { eval: true, workerData: { file } });
  w.unref();
  return w;
}

const t0 = performance.now();
function stage(name: string, extra: Record<string, unknown> = {}) {
  (globalThis as { gc?: () => void }).gc?.();
  console.log(JSON.stringify({ stage: name, ...status(), s: Math.round((performance.now() - t0) / 100) / 10, ...extra }));
}

/** --model: BERT sizes as (layers, hidden, heads); --layers/--hidden/--heads override one. */
const MODELS: Record<string, [number, number, number]> = { mini: [4, 256, 4], base: [12, 768, 12], large: [24, 1024, 16] };

async function main() {
  const preset = MODELS[str('model') ?? 'base'];
  if (!preset) throw new Error(`--model: one of ${Object.keys(MODELS).join(', ')}`);
  const c: BertConfig = bertSized(num('layers', preset[0]), num('hidden', preset[1]), num('heads', preset[2]));
  const B = num('batch', 32);
  const T = num('seq', 128);
  const K = num('k', 1);
  const runs = num('runs', 2);
  const trace = str('trace');
  const tracer = trace ? startTrace(trace) : undefined;
  stage('start');
  const r = rng(1);
  const count = bertParamShapes(c).reduce((a, p) => a + numel(p.shape), 0);
  const opts: SessionOptions = {
    threads: num('threads', 2),
    device: 'cpu',
    memArena: flag('arena') ? true : flag('no-arena') ? false : undefined,
    memPattern: !flag('no-pattern'),
    profilePrefix: process.env.FINETUNE_PROFILE || undefined,
    optimization: str('opt') as 'basic' | 'extended' | 'all' | undefined,
    extra: process.env.FINETUNE_ORT_EXTRA ? (JSON.parse(process.env.FINETUNE_ORT_EXTRA) as Record<string, string>) : undefined,
  };
  if (flag('gradients-only')) return gradientsOnly(specFor(c, B, T, r), opts, B, T, c, r, runs);
  // The spec (and its initial weights) is not kept here: the program holds what it needs, as in the trainer.
  const prog = await TrainProgram.create(specFor(c, B, T, r), opts);
  // Zero-filled arrays are not resident until written: touch the optimizer state so that the first
  // call already holds it, as every later call does (its peak is then the steady one).
  for (const slots of prog.state.values()) for (const a of slots) a.fill(0);
  stage('params and session', { params: count, param_mb: Math.round((count * 4) / 2 ** 20) });
  const ids = BigInt64Array.from({ length: K * B * T }, () => BigInt(1 + Math.floor(r() * (c.vocabSize - 1))));
  const mask = BigInt64Array.from({ length: K * B * T }, (_, i) => (Math.floor(i / T) % 2 === 0 && i % T >= (T * 3) / 4 ? 0n : 1n));
  const labels = BigInt64Array.from({ length: K * B * T }, (_, i) => (mask[i] ? BigInt(Math.floor(r() * c.numLabels)) : -100n));
  const batches: Record<string, TypedData> = { input_ids: ids, attention_mask: mask, labels };
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const res = await prog.run(batches, new Array<number>(K).fill(1e-4));
    stage(`run ${i + 1}`, { ms_per_step: Math.round((performance.now() - t) / K), losses: Array.from(res.losses) });
  }
  const profile = prog.endProfiling();
  if (profile) console.error(`ORT profile: ${profile}`);
  await prog.release();
  await tracer?.terminate();
}

/** The bench's full fine-tuning program at the given sizes, with fresh random weights. */
function specFor(c: BertConfig, B: number, T: number, r: () => number): ProgramSpec {
  return {
    params: initParams(bertParamShapes(c), r),
    batch: ['input_ids', 'attention_mask', 'labels'].map((n) => ({ name: n, dtype: 'int64' as const, shape: [B, T] })),
    loss: (b, P, batch, random) =>
      tokenClassificationLoss(b, P, c, { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! }, batch.get('labels')!, {
        training: true,
        random,
        checkpointing: flag('checkpointing'),
      }).loss,
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
  };
}

/** The loss and gradients of one micro-batch only (buildGradientGraph: no Loop, no optimizer, state not fed back). */
async function gradientsOnly(spec: ProgramSpec, opts: SessionOptions, B: number, T: number, c: BertConfig, r: () => number, runs: number) {
  const g = buildGradientGraph(spec);
  const session = await Session.create(serializeModel(g), g.inputs, opts, 'gradients');
  stage('session');
  const feeds: Record<string, HostTensor> = {};
  for (const t of g.inputs) {
    const shape = t.shape as number[];
    const n = shape.reduce((a, d) => a * d, 1);
    if (t.name.startsWith('param.')) feeds[t.name] = { dtype: 'float32', shape, data: spec.params.find((p) => `param.${p.name}` === t.name)!.data };
    else if (t.name.startsWith('batch.')) {
      const data =
        t.name === 'batch.input_ids' ? BigInt64Array.from({ length: n }, () => BigInt(1 + Math.floor(r() * (c.vocabSize - 1)))) : new BigInt64Array(n).fill(1n);
      feeds[t.name] = { dtype: 'int64', shape, data };
    } else feeds[t.name] = { dtype: 'uint8', shape, data: randomBytes(1, 1, Number(t.name.slice('random.'.length)), n) };
  }
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const out = await session.run(feeds);
    stage(`gradients ${i + 1} (B=${B}, T=${T})`, { ms: Math.round(performance.now() - t), loss: (out.loss.data as Float32Array)[0] });
  }
  await session.release();
}

void main();
