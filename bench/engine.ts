// `npm run bench:engine`: ms per training step of the engine (K=1 and K=8 steps per run) beside
// PyTorch (same model, AdamW, clipping, thread count) in the same run, with the ratio and peak RSS.
// Each measurement runs in its own process so that peak RSS belongs to it alone.
//
//   npm run bench:engine [-- --threads 2 --rounds 3 --runs N --only mlp|encoder]

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Builder } from '../src/trainer/engine/builder';
import type { TypedData } from '../src/trainer/engine/ir';
import { TrainProgram, type ProgramSpec } from '../src/trainer/engine/program';
import { bertParamShapes, initParams, tokenClassificationLoss, type BertConfig } from '../src/trainer/models/bert';
import { emitMlp, mlpParamShapes } from '../src/trainer/models/mlp';
import { rng } from '../src/shared/rng';

const ROOT = path.resolve(path.dirname(__filename), '..');

// Mirrors bench/bench_configs.py (checked at start-up).
const CONFIGS = {
  mlp: { sizes: [784, 1024, 1024, 10], batch: 64 },
  encoder: {
    batch: 16,
    seq: 128,
    model: {
      vocabSize: 30522,
      hidden: 256,
      layers: 4,
      heads: 4,
      intermediate: 1024,
      maxPositions: 512,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
      numLabels: 9,
    } satisfies BertConfig,
  },
};
type Name = keyof typeof CONFIGS;

function programFor(name: Name, K: number): { spec: ProgramSpec; batches: Record<string, TypedData> } {
  const r = rng(1);
  if (name === 'mlp') {
    const { sizes, batch: B } = CONFIGS.mlp;
    const params = initParams(mlpParamShapes(sizes), r);
    const x = Float32Array.from({ length: K * B * sizes[0] }, () => r() * 2 - 1);
    const y = BigInt64Array.from({ length: K * B }, () => BigInt(Math.floor(r() * sizes[sizes.length - 1])));
    const spec: ProgramSpec = {
      params,
      batch: [
        { name: 'x', dtype: 'float32', shape: [B, sizes[0]] },
        { name: 'y', dtype: 'int64', shape: [B] },
      ],
      loss: (b: Builder, P, batch) => b.softmaxCrossEntropy(emitMlp(b, P, sizes.length - 1, batch.get('x')!), batch.get('y')!)[0],
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      clipNorm: 1,
    };
    return { spec, batches: { x, y } };
  }
  const { batch: B, seq: T, model: c } = CONFIGS.encoder;
  const params = initParams(bertParamShapes(c), r);
  const ids = BigInt64Array.from({ length: K * B * T }, () => BigInt(1 + Math.floor(r() * (c.vocabSize - 1))));
  const mask = BigInt64Array.from({ length: K * B * T }, (_, i) => {
    const b = Math.floor(i / T) % B;
    return b % 2 === 0 && i % T >= (T * 3) / 4 ? 0n : 1n;
  });
  const labels = BigInt64Array.from({ length: K * B * T }, (_, i) => (mask[i] ? BigInt(Math.floor(r() * c.numLabels)) : -100n));
  const spec: ProgramSpec = {
    params,
    batch: ['input_ids', 'attention_mask', 'labels'].map((n) => ({ name: n, dtype: 'int64' as const, shape: [B, T] })),
    loss: (b, P, batch, random) =>
      tokenClassificationLoss(b, P, c, { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! }, batch.get('labels')!, {
        training: true,
        random,
      }).loss,
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
  };
  return { spec, batches: { input_ids: ids, attention_mask: mask, labels } };
}

/** Real (unpadded) tokens per encoder step: every row of 128 but half the rows padded from 3/4. */
function tokensPerStep(name: Name): number {
  if (name !== 'encoder') return 0;
  const { batch: B, seq: T } = CONFIGS.encoder;
  return (B / 2) * T + (B / 2) * ((T * 3) / 4);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function worker(name: Name, K: number, threads: number, runs: number) {
  const { spec, batches } = programFor(name, K);
  const t0 = performance.now();
  const prog = await TrainProgram.create(spec, { threads, device: 'cpu', profilePrefix: process.env.FINETUNE_PROFILE || undefined });
  const buildMs = performance.now() - t0;
  const lrs = new Array(K).fill(1e-4);
  await prog.run(batches, lrs); // warm-up
  const perStep: number[] = [];
  let loss = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await prog.run(batches, lrs);
    perStep.push((performance.now() - t) / K);
    loss = r.losses[K - 1];
  }
  const profile = prog.endProfiling();
  if (profile) console.error(`ORT profile: ${profile}`);
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ ms_per_step: median(perStep), peak_rss_mb: rss, build_ms: buildMs, loss }));
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Record<string, number> {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === '') delete merged[k]; // '' means unset
  const out = execFileSync(cmd, args, { cwd: ROOT, env: merged, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function main() {
  const args = process.argv.slice(2);
  const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
  if (args[0] === '--worker') return worker(args[1] as Name, Number(args[2]), Number(args[3]), Number(args[4]));
  const threads = Number(opt('threads', '2'));
  const only = opt('only', '');
  const names = (Object.keys(CONFIGS) as Name[]).filter((n) => !only || n === only);
  const pyCfg = run('/usr/bin/python3', [
    '-c',
    `import sys,json; sys.path.insert(0,'bench'); from bench_configs import CONFIGS; print(json.dumps({k: CONFIGS[k] for k in ('mlp', 'encoder')}))`,
  ]);
  if (JSON.stringify(pyCfg) !== JSON.stringify(CONFIGS)) throw new Error('bench/bench_configs.py and bench/engine.ts disagree on model sizes');
  const rows: string[][] = [];
  // Issue targets at K=8: MLP <= 0.6x PyTorch; the encoder (BERT-mini) <= 0.7x (0.8x for the engine alone).
  const targets: Record<Name, number> = { mlp: 0.6, encoder: 0.7 };
  const rounds = Number(opt('rounds', '3'));
  // The torch side runs without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE overrides, which some machines
  // set for old OpenBLAS builds and which would slow it down (an unfair comparison).
  const torchEnv = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_CORETYPE: '', OPENBLAS_L2_SIZE: '' };
  for (const name of names) {
    const runs = Number(opt('runs', name === 'mlp' ? '20' : '3'));
    const torchSteps = name === 'mlp' ? 40 : 6;
    // Interleave the measurements in rounds so that machine noise hits both sides alike.
    const m: Record<string, Record<string, number>[]> = { torch: [], k1: [], k8: [] };
    for (let r = 0; r < rounds; r++) {
      m.torch.push(run('/usr/bin/python3', ['bench/engine_torch.py', name, String(threads), String(torchSteps)], torchEnv));
      for (const K of [1, 8]) {
        m[`k${K}`].push(run(process.execPath, ['--import', 'tsx', 'bench/engine.ts', '--worker', name, String(K), String(threads), String(runs)]));
      }
    }
    const med = (key: string, field: string) => median(m[key].map((x) => x[field]));
    const torchMs = med('torch', 'ms_per_step');
    const torchRss = med('torch', 'peak_rss_mb');
    for (const K of [1, 8]) {
      const ms = med(`k${K}`, 'ms_per_step');
      const rss = med(`k${K}`, 'peak_rss_mb');
      const ratio = ms / torchMs;
      const steps = 1000 / ms;
      rows.push([
        name,
        String(K),
        ms.toFixed(1),
        torchMs.toFixed(1),
        ratio.toFixed(2),
        K === 8 ? (ratio <= targets[name] ? `<= ${targets[name]} met` : `> ${targets[name]} MISSED`) : '',
        steps.toFixed(2),
        (1000 / torchMs).toFixed(2),
        tokensPerStep(name) ? (steps * tokensPerStep(name)).toFixed(0) : '-',
        tokensPerStep(name) ? ((1000 / torchMs) * tokensPerStep(name)).toFixed(0) : '-',
        rss.toFixed(0),
        torchRss.toFixed(0),
        (rss / torchRss).toFixed(2),
      ]);
    }
  }
  const head = [
    'model',
    'K',
    'ours ms/step',
    'torch ms/step',
    'ratio',
    'target',
    'ours steps/s',
    'torch steps/s',
    'ours tokens/s',
    'torch tokens/s',
    'ours RSS MB',
    'torch RSS MB',
    'RSS ratio',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(
    `engine benchmark: ${threads} threads, ${rounds} interleaved rounds; median ms per optimizer step (AdamW + clipping) and median peak RSS per process`,
  );
  console.log(
    `mlp: ${CONFIGS.mlp.sizes.join('-')} batch ${CONFIGS.mlp.batch}; encoder: ${CONFIGS.encoder.model.layers} layers, hidden ${CONFIGS.encoder.model.hidden}, ${CONFIGS.encoder.model.heads} heads, seq ${CONFIGS.encoder.seq}, batch ${CONFIGS.encoder.batch}, vocab ${CONFIGS.encoder.model.vocabSize}, dropout ${CONFIGS.encoder.model.hiddenDropout}`,
  );
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

void main();
