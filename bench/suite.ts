// `npm run bench`: the engine beside PyTorch (and a plain-Python data peer) in one run, one table.
// Every measurement runs in its own process (so that its peak RSS is its own), interleaved in
// rounds (so that machine noise hits both sides alike); the table shows medians over the rounds.
//
//   npm run bench [-- --model mini|base --threads 2 --rounds 3 --k 8 --eval-batch 32 --only train-full,eval,... --quiet-wait 120 --markdown --tsx]
//
// The peer is the current PyTorch (2.x) in the bench's own virtual environment (bench/pyenv.ts,
// .cache/bench-py from bench/requirements.txt); Debian's PyTorch 1.x (/usr/bin/python3), when
// installed, is a second column only.
//
// Workers run bundled (esbuild, node_modules/.cache/finetune-bench) under plain node unless --tsx.
// Experiments: FINETUNE_ORT_EXTRA (JSON ORT config entries), FINETUNE_ORT_OPT, FINETUNE_PROFILE (ORT profile prefix).
//
// Rows: BERT-mini (--model base: BERT-base sizes) token classification training (full fine-tuning,
// head-only with the encoder frozen, LoRA r=8 alpha=16 on query+value), evaluation throughput of
// the inference graph against torch.no_grad(), reading + tokenizing a 200,000-token CoNLL file,
// training end to end on real-length sentences (bench/reallength.ts), and a matrix-multiply
// microbench that the rows' effective GFLOP/s are read against (bench/flops.ts).

import { execFileSync } from 'node:child_process';
import { trainerEnv } from '../src/shared/trainerEnv';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TypedData } from '../src/trainer/engine/ir';
import { TrainProgram, type ParamDef, type ProgramSpec } from '../src/trainer/engine/program';
import { Session, ortVersion, type HostTensor } from '../src/trainer/engine/session';
import { serializeModel } from '../src/trainer/engine/onnx';
import { bertParamShapes, bertSized, initParams, tokenClassificationLoss, type BertConfig } from '../src/trainer/models/bert';
import { inferenceGraph, type ModelSetup } from '../src/trainer/train/model';
import { rng } from '../src/shared/rng';
import { forwardFlops, trainFlops, workMatmul } from './flops';
import { benchPython, systemPython, type PyPeer } from './pyenv';
import { REAL, makeRealData, workReal } from './reallength';

// bench/gpu.sh runs this file bundled (FINETUNE_BENCH_SELF) from a temporary prefix that holds its
// own onnxruntime-node, with the repository as FINETUNE_BENCH_ROOT and a CUDA PyTorch as FINETUNE_BENCH_PYTHON.
const ROOT = process.env.FINETUNE_BENCH_ROOT || path.resolve(path.dirname(__filename), '..');
let SELF = process.env.FINETUNE_BENCH_SELF;

/**
 * Workers run bundled under plain node, as the shipped trainer does (dist/trainer.js), not under
 * the tsx loader, which alone adds ~35 MB to every process's RSS. The bundle lives under
 * node_modules/.cache so that `onnxruntime-node` resolves to the project's copy.
 */
async function bundleSelf(): Promise<string> {
  const esbuild = await import('esbuild');
  const out = path.join(ROOT, 'node_modules', '.cache', 'finetune-bench', 'suite.cjs');
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'bench', 'suite.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node', 'esbuild'],
    outfile: out,
    logLevel: 'warning',
  });
  return out;
}

// Mirrors bench/bench_configs.py (checked at start-up). FINETUNE_BENCH_MODEL picks one (bench/gpu.sh
// uses encoder-base); FINETUNE_BENCH_DEVICE is cpu (default) or cuda.
const MODELS = {
  encoder: {
    batch: 16,
    seq: 128,
    model: bertSized(4, 256, 4), // as bench_configs.py
  },
  'encoder-base': {
    batch: 32,
    seq: 128,
    model: bertSized(12, 768, 12), // as bench_configs.py
  },
};
// --model mini|base (workers inherit it as FINETUNE_BENCH_MODEL).
const modelArg = process.argv.includes('--model') ? process.argv[process.argv.indexOf('--model') + 1] : undefined;
if (modelArg && !['mini', 'base'].includes(modelArg)) throw new Error(`--model must be mini or base, got '${modelArg}'`);
if (modelArg) process.env.FINETUNE_BENCH_MODEL = modelArg === 'base' ? 'encoder-base' : 'encoder';
const MODEL = (process.env.FINETUNE_BENCH_MODEL || 'encoder') as keyof typeof MODELS;
if (!MODELS[MODEL]) throw new Error(`FINETUNE_BENCH_MODEL: unknown model ${MODEL}`);
const ENC = MODELS[MODEL];
const DEVICE = (process.env.FINETUNE_BENCH_DEVICE || 'cpu') as 'cpu' | 'cuda';
// FINETUNE_BENCH_PRECISION=fp16|bf16: the training rows in mixed precision (training.mixed_precision;
// the PyTorch side under torch.autocast, with a GradScaler for fp16). For CUDA (bench/gpu.sh).
const PRECISION = process.env.FINETUNE_BENCH_PRECISION || 'no';
if (!['no', 'fp16', 'bf16'].includes(PRECISION)) throw new Error(`FINETUNE_BENCH_PRECISION must be no, fp16 or bf16, got '${PRECISION}'`);
const COMPUTE = PRECISION === 'fp16' ? ('float16' as const) : PRECISION === 'bf16' ? ('bfloat16' as const) : undefined;
const LORA = { rank: 8, alpha: 16, targets: ['attention.self.query', 'attention.self.value'] };
const DATA_TOKENS = 200_000;
const MAX_LENGTH = 128;

type TrainMode = 'full' | 'head' | 'lora';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Session options for experiments: FINETUNE_ORT_EXTRA='{"session.x":"1"}', FINETUNE_ORT_OPT=basic|extended|all. */
const sessionOpts = (threads: number) => ({
  threads,
  device: DEVICE,
  profilePrefix: process.env.FINETUNE_PROFILE || undefined,
  extra: process.env.FINETUNE_ORT_EXTRA ? (JSON.parse(process.env.FINETUNE_ORT_EXTRA) as Record<string, string>) : undefined,
  optimization: (process.env.FINETUNE_ORT_OPT || undefined) as 'basic' | 'extended' | 'all' | undefined,
});

const rssMb = () => process.resourceUsage().maxRSS / 1024;

function encoderBatch(K: number, B: number, T: number, c: BertConfig, fullMask: boolean, r: () => number) {
  const ids = BigInt64Array.from({ length: K * B * T }, () => BigInt(1 + Math.floor(r() * (c.vocabSize - 1))));
  const mask = BigInt64Array.from({ length: K * B * T }, (_, i) => {
    const b = Math.floor(i / T) % B;
    return !fullMask && b % 2 === 0 && i % T >= (T * 3) / 4 ? 0n : 1n;
  });
  const labels = BigInt64Array.from({ length: K * B * T }, (_, i) => (mask[i] ? BigInt(Math.floor(r() * c.numLabels)) : -100n));
  return { input_ids: ids, attention_mask: mask, labels };
}

/** The training program of one mode: trained parameters are inputs, frozen ones initializers. */
function trainSpec(mode: TrainMode, r: () => number): ProgramSpec {
  const c = ENC.model;
  const all = initParams(bertParamShapes(c), r);
  const isHead = (n: string) => n.startsWith('classifier.');
  let params: ParamDef[] = all;
  let frozen: ParamDef[] = [];
  let loraScale: number | undefined;
  if (mode !== 'full') {
    params = all.filter((p) => isHead(p.name));
    frozen = all.filter((p) => !isHead(p.name));
  }
  if (mode === 'lora') {
    loraScale = LORA.alpha / LORA.rank;
    const H = c.hidden;
    for (let i = 0; i < c.layers; i++) {
      for (const t of LORA.targets) {
        const prefix = `bert.encoder.layer.${i}.${t}`;
        params.push({
          name: `${prefix}.lora_A.weight`,
          shape: [LORA.rank, H],
          data: Float32Array.from({ length: LORA.rank * H }, () => (r() * 2 - 1) / Math.sqrt(H)),
        });
        params.push({ name: `${prefix}.lora_B.weight`, shape: [H, LORA.rank], data: new Float32Array(H * LORA.rank) });
      }
    }
  }
  return {
    params,
    frozen,
    batch: ['input_ids', 'attention_mask', 'labels'].map((n) => ({ name: n, dtype: 'int64' as const, shape: [ENC.batch, ENC.seq] })),
    loss: (b, P, batch, random) =>
      tokenClassificationLoss(b, P, c, { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! }, batch.get('labels')!, {
        training: true,
        random,
        loraScale,
        compute: COMPUTE,
      }).loss,
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
    lossScaling: COMPUTE === 'float16' ? {} : undefined,
  };
}

async function workTrain(mode: TrainMode, K: number, threads: number, runs: number) {
  const r = rng(1);
  const spec = trainSpec(mode, r);
  const batches = encoderBatch(K, ENC.batch, ENC.seq, ENC.model, false, r) as Record<string, TypedData>;
  const prog = await TrainProgram.create(spec, sessionOpts(threads));
  const lrs = new Array(K).fill(1e-4);
  // Warm-up with one step (K is the leading axis of the feeds, not fixed by the graph): a BERT-base step takes seconds.
  const one = Object.fromEntries(Object.entries(batches).map(([k, v]) => [k, v.slice(0, v.length / K)])) as Record<string, TypedData>;
  await prog.run(one, [1e-4]);
  const perStep: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await prog.run(batches, lrs);
    perStep.push((performance.now() - t) / K);
  }
  const profile = prog.endProfiling();
  if (profile) console.error(`ORT profile: ${profile}`);
  console.log(JSON.stringify({ ms_per_step: median(perStep), peak_rss_mb: rssMb(), device_used: prog.device.used, device_reason: prog.device.reason }));
}

/** The evaluation graph exactly as training evaluates (weights fed as inputs), or the exported model (initializers). */
async function workEval(threads: number, B: number, runs: number, exported: boolean) {
  const r = rng(1);
  const c = ENC.model;
  const shapes = bertParamShapes(c);
  const params = new Map(initParams(shapes, r).map((p) => [p.name, p.data] as const));
  const m: ModelSetup = {
    config: c,
    head: 'token',
    params,
    shapes: new Map(shapes.map((s) => [s.name, s.shape] as const)),
    trained: [...params.keys()],
    frozen: [],
    decay: new Map(),
    labels: Array.from({ length: c.numLabels }, (_, i) => `L${i}`),
    notes: [],
    warnings: [],
  };
  const g = inferenceGraph(m, !exported);
  const session = await Session.create(serializeModel(g), g.inputs, sessionOpts(threads), 'evaluation graph');
  const T = ENC.seq;
  const batch = encoderBatch(1, B, T, c, true, r);
  const feeds: Record<string, HostTensor> = {
    input_ids: { dtype: 'int64', shape: [B, T], data: batch.input_ids },
    attention_mask: { dtype: 'int64', shape: [B, T], data: batch.attention_mask },
  };
  if (!exported) for (const [name, data] of params) feeds[name] = { dtype: 'float32', shape: m.shapes.get(name)!, data };
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    if (i > 0) times.push((performance.now() - t) / 1000);
  }
  const profile = session.endProfiling();
  if (profile) console.error(`ORT profile: ${profile}`);
  const sec = median(times);
  console.log(
    JSON.stringify({
      tokens_per_s: (B * T) / sec,
      ms_per_batch: sec * 1000,
      peak_rss_mb: rssMb(),
      device_used: session.device.used,
      device_reason: session.device.reason,
    }),
  );
}

async function workData(file: string, vocabFile: string) {
  const { readConll } = await import('../src/trainer/data/conll');
  const { tokenizerFromVocab } = await import('../src/trainer/tokenize');
  const { encodeTokenSentences } = await import('../src/trainer/encode');
  const t0 = performance.now();
  const vocab = fs.readFileSync(vocabFile, 'utf8').split('\n');
  if (vocab[vocab.length - 1] === '') vocab.pop();
  const tok = tokenizerFromVocab(vocab, { lowercase: true });
  const t1 = performance.now();
  const conll = await readConll(file);
  const labelIds = new Map<string, number>();
  const sentences = conll.sentences.map((s) => ({
    words: s.words,
    labels: s.tags.map((t) => labelIds.get(t) ?? (labelIds.set(t, labelIds.size), labelIds.size - 1)),
  }));
  const { features } = encodeTokenSentences(tok, sentences, { maxLength: MAX_LENGTH, overflow: 'window', stride: 32 });
  const t2 = performance.now();
  let checksum = 0;
  for (const f of features) for (const id of f.inputIds) checksum = (checksum * 31 + id) % 1000000007;
  const seconds = (t2 - t1) / 1000;
  console.log(
    JSON.stringify({
      tokens: conll.tokens,
      sentences: conll.sentences.length,
      features: features.length,
      seconds,
      tokens_per_s: conll.tokens / seconds,
      vocab_s: (t1 - t0) / 1000,
      peak_rss_mb: rssMb(),
      checksum,
    }),
  );
}

/** A deterministic CoNLL file: Zipf-distributed invented words (some unseen by the vocabulary), IOB2 tags. */
async function makeData(dir: string): Promise<{ conll: string; vocab: string }> {
  const conll = path.join(dir, 'bench.conll');
  const vocabFile = path.join(dir, 'vocab.txt');
  if (fs.existsSync(conll) && fs.existsSync(vocabFile)) return { conll, vocab: vocabFile };
  const r = rng(7);
  const syl = ['ka', 'lo', 'mer', 'tin', 'sa', 'ber', 'gu', 'ri', 'on', 'del', 'fa', 'zu', 'pre', 'st', 'ia', 'nor'];
  const lexicon = Array.from({ length: 20000 }, (_, i) => {
    let w = '';
    for (let n = 1 + (i % 4); n > 0; n--) w += syl[Math.floor(r() * syl.length)];
    return i % 7 === 0 ? w[0].toUpperCase() + w.slice(1) : w;
  });
  const punct = [',', '.', '(', ')', "'s", '-'];
  const types = ['PER', 'ORG', 'LOC', 'MISC'];
  const lines: string[] = ['-DOCSTART- O', ''];
  const trainWords: string[] = [];
  let tokens = 0;
  while (tokens < DATA_TOKENS) {
    const len = 5 + Math.floor(r() * 25);
    for (let i = 0; i < len && tokens < DATA_TOKENS; i++, tokens++) {
      const word = r() < 0.1 ? punct[Math.floor(r() * punct.length)] : lexicon[Math.floor(lexicon.length * Math.pow(r(), 3))];
      const tag = r() < 0.15 ? `${r() < 0.6 ? 'B' : 'I'}-${types[Math.floor(r() * types.length)]}` : 'O';
      lines.push(`${word} NN O ${tag}`);
      if (tokens % 2 === 0) trainWords.push(word); // the vocabulary sees half the words
    }
    lines.push('');
  }
  fs.writeFileSync(conll, lines.join('\n') + '\n');
  const { buildWordPieceVocab } = await import('../src/trainer/tokenize');
  const vocab = buildWordPieceVocab(trainWords, { minFrequency: 3, lowercase: true, maxSize: 8000 });
  fs.writeFileSync(vocabFile, vocab.join('\n') + '\n');
  return { conll, vocab: vocabFile };
}

/** Fraction of all CPUs busy over `ms` (from /proc/stat). */
function busy(ms: number): number {
  const read = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * The machine may be shared (tests, other benchmarks): before each measurement wait, up to
 * `maxWaitS`, until the CPUs have been mostly idle for a second; count the ones that ran busy.
 */
let busyStarts = 0;
function waitQuiet(maxWaitS: number) {
  const until = Date.now() + maxWaitS * 1000;
  while (busy(1000) > 0.15) {
    if (Date.now() > until) {
      busyStarts++;
      return;
    }
  }
}

// Every worker, ours and the peer's, starts with the environment the extension gives trainers
// (transparent huge pages for malloc, src/shared/trainerEnv.ts), so that both sides page-fault alike;
// --no-hugepages runs both with glibc's default instead.
const HUGEPAGES = !process.argv.includes('--no-hugepages');

function run(cmd: string, args: string[], env: Record<string, string> = {}): Record<string, number> {
  const merged: NodeJS.ProcessEnv = HUGEPAGES ? trainerEnv({ ...process.env, ...env }) : { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === '') delete merged[k]; // '' means unset
  const out = execFileSync(cmd, args, { cwd: ROOT, env: merged, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function machine(threads: number, peers: PyPeer[]): string {
  const cpu = (execFileSync('lscpu', { encoding: 'utf8' }).match(/Model name:\s*(.*)/) ?? [])[1]?.trim() ?? os.cpus()[0]?.model;
  const pyVersion = (py: string) => execFileSync(py, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim();
  return (
    `${cpu}, ${os.cpus().length} logical CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM; Node ${process.version}, onnxruntime-node ${ortVersion()}; ` +
    peers.map((p) => `torch ${p.torch} (${path.relative(ROOT, p.python) || p.python}, Python ${pyVersion(p.python)})`).join(', ') +
    `; ${threads} threads each side`
  );
}

type Result = Record<string, number>;
interface Item {
  ours: () => Result;
  /** One per peer: the current PyTorch, then Debian's when installed; undefined where a peer has no such row. */
  peers: (() => Result)[];
}

// Issue 13's targets: training ≤ 0.8× PyTorch 2.x's step time at BERT-mini and ≤ 1.0× at BERT-base, evaluation ≥ 1.2×.
const TRAIN_TARGET = MODEL === 'encoder' ? 0.8 : 1.0;
const EVAL_TARGET = 1.2;

async function main() {
  const args = process.argv.slice(2);
  const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
  if (args[0] === '--worker') {
    const [kind, a, b, c2, d, e] = args.slice(1);
    if (kind === 'train') return workTrain(a as TrainMode, Number(b), Number(c2), Number(d));
    if (kind === 'eval') return workEval(Number(a), Number(b), Number(c2), d === 'exported');
    if (kind === 'data') return workData(a, b);
    if (kind === 'matmul') return workMatmul(Number(a), Number(b), Number(c2), Number(d), Number(e));
    if (kind === 'real') return workReal(a, b);
    throw new Error(`unknown worker ${kind}`);
  }
  const base = MODEL === 'encoder-base';
  const threads = Number(opt('threads', '2'));
  const rounds = Number(opt('rounds', '3'));
  // At BERT-base a step takes seconds, so the trainer's steps_per_run 'auto' (about one call per
  // second) runs one step per call: K=1 there, three timed calls per process (a round near 10
  // minutes). A K-step Loop holds one more copy of the state between its iterations (docs/benchmarks.md).
  const K = Number(opt('k', base ? '1' : '8'));
  const evalBatch = Number(opt('eval-batch', '32'));
  const quietS = Number(opt('quiet-wait', '120'));
  const all = base
    ? ['train-full', 'train-lora', 'eval', 'matmul']
    : ['train-full', 'train-head', 'train-lora', 'eval', 'eval-exported', 'data', 'real', 'matmul'];
  const only = opt('only', '') ? opt('only', '').split(',') : all;
  const log = (s: string) => process.stderr.write(s + '\n');
  const peer = benchPython(ROOT, log);
  const second = DEVICE === 'cpu' ? systemPython(peer) : undefined; // Debian's torch is CPU-only
  const peers = second ? [peer, second] : [peer];
  const pyCfg = run(peer.python, [
    '-c',
    `import sys,json; sys.path.insert(0,'bench'); from bench_configs import CONFIGS; print(json.dumps(CONFIGS['${MODEL}']))`,
  ]);
  if (JSON.stringify(pyCfg) !== JSON.stringify(ENC)) throw new Error(`bench/bench_configs.py and bench/suite.ts disagree on ${MODEL}`);
  if (!SELF && !args.includes('--tsx')) SELF = await bundleSelf();
  process.env.FINETUNE_BENCH_ROOT = ROOT;
  const dataDir = path.join(os.tmpdir(), 'finetune-bench-data');
  fs.mkdirSync(dataDir, { recursive: true });
  const data = await makeData(dataDir);
  const real = makeRealData(path.join(dataDir, 'real'), threads);
  // The torch side runs without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE overrides (some machines set
  // them for old OpenBLAS builds; they would slow it down), with the same thread count as ORT.
  const pyEnv = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_CORETYPE: '', OPENBLAS_L2_SIZE: '' };
  const node =
    (...w: string[]) =>
    () =>
      run(process.execPath, [...(SELF ? [SELF] : ['--import', 'tsx', 'bench/suite.ts']), '--worker', ...w]);
  const py =
    (...w: string[]) =>
    (p: PyPeer) =>
    () =>
      run(p.python, [path.join(ROOT, 'bench/suite_py.py'), ...w], pyEnv);
  const t = String(threads);
  const runs = base ? (K === 1 ? '3' : '1') : '3';
  const steps = base ? '3' : '6';
  const evalRuns = base ? '3' : '5';
  // The matrix-multiply peak: BERT's feed-forward product at this batch (tokens × hidden by hidden × intermediate).
  const mm = [String(ENC.batch * ENC.seq), String(ENC.model.hidden), String(ENC.model.intermediate), '10'];
  const torchRows = (w: ReturnType<typeof py>): Item['peers'] => peers.map((p) => w(p));
  const items: Record<string, Item> = {
    'train-full': { ours: node('train', 'full', String(K), t, runs), peers: torchRows(py('train', 'full', t, steps)) },
    'train-head': { ours: node('train', 'head', String(K), t, runs), peers: torchRows(py('train', 'head', t, steps)) },
    'train-lora': { ours: node('train', 'lora', String(K), t, runs), peers: torchRows(py('train', 'lora', t, steps)) },
    eval: { ours: node('eval', t, String(evalBatch), evalRuns, 'inputs'), peers: torchRows(py('eval', t, String(evalBatch), evalRuns)) },
    'eval-exported': { ours: node('eval', t, String(evalBatch), evalRuns, 'exported'), peers: torchRows(py('eval', t, String(evalBatch), evalRuns)) },
    // The data peer is plain Python (no torch): the bench's Python only.
    data: { ours: node('data', data.conll, data.vocab), peers: [py('data', data.conll, data.vocab, String(MAX_LENGTH))(peer)] },
    real: { ours: node('real', real.config, path.join(dataDir, 'real', 'run')), peers: torchRows(py('real', real.conll, real.meta, t)) },
    matmul: { ours: node('matmul', t, ...mm), peers: torchRows(py('matmul', t, ...mm)) },
  };
  const names = only.filter((n) => items[n]);
  const m: Record<string, { ours: Result[]; peers: Result[][] }> = {};
  for (const n of names) m[n] = { ours: [], peers: items[n].peers.map(() => []) };
  let measurements = 0;
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      // Every side once per round, starting with a different one each round.
      const sides: (() => void)[] = [() => m[n].ours.push(items[n].ours()), ...items[n].peers.map((f, i) => () => m[n].peers[i].push(f()))];
      for (let i = 0; i < sides.length; i++) {
        waitQuiet(quietS);
        sides[(i + r) % sides.length]();
        measurements++;
      }
      log(`round ${r + 1}/${rounds} ${n} done`);
    }
  }
  printTable({ names, m, K, evalBatch, threads, rounds, quietS, measurements, peers, markdown: args.includes('--markdown') });
}

function printTable(o: {
  names: string[];
  m: Record<string, { ours: Result[]; peers: Result[][] }>;
  K: number;
  evalBatch: number;
  threads: number;
  rounds: number;
  quietS: number;
  measurements: number;
  peers: PyPeer[];
  markdown: boolean;
}) {
  const { names, m, K, evalBatch, peers } = o;
  const c = ENC.model;
  const B = ENC.batch;
  const T = ENC.seq;
  const med = (xs: Result[], f: string) => median(xs.map((x) => x[f]));
  const fmt = (x: number, d = 1) => (x >= 1000 ? x.toFixed(0) : x.toFixed(d));
  const label: Record<string, string> = {
    'train-full': 'train: full fine-tuning',
    'train-head': 'train: head only (encoder frozen)',
    'train-lora': 'train: LoRA r8 q+v',
    eval: `eval (weights as inputs), batch ${evalBatch}`,
    'eval-exported': `eval (exported model), batch ${evalBatch}`,
    data: 'data: read + tokenize CoNLL',
    real: `train: real-length sentences, end to end (BERT-mini)`,
    matmul: `matmul ${B * T}x${c.hidden} by ${c.hidden}x${c.intermediate}`,
  };
  // Per row: how a measurement reads (value, unit, GFLOP/s), and which way is better.
  const read = (n: string, x: Result[]): { v: number; text: string; gflops?: number } => {
    if (n.startsWith('train-')) {
      const ms = med(x, 'ms_per_step');
      return { v: ms, text: `${fmt(ms)} ms/step`, gflops: trainFlops(c, B * T, T, n.slice(6) as TrainMode) / ms / 1e6 };
    }
    if (n === 'matmul') {
      const g = med(x, 'gflops');
      return { v: g, text: `${fmt(g)} GFLOP/s`, gflops: g };
    }
    const tps = med(x, 'tokens_per_s');
    const pad = n === 'real' ? `, ${(100 * med(x, 'padding')).toFixed(0)}% padding` : '';
    return { v: tps, text: `${fmt(tps, 0)} tokens/s${pad}`, gflops: n.startsWith('eval') ? (forwardFlops(c, B * T, T) * tps) / (B * T) / 1e9 : undefined };
  };
  const head = ['measurement', 'ours', peers[0].label, 'ratio', 'target', 'GFLOP/s ours / peer', 'ours RSS MB', 'peer RSS MB', 'RSS ratio'];
  if (peers[1]) head.push(peers[1].label, `${peers[1].label} RSS MB`);
  const rows: string[][] = [];
  for (const n of names) {
    const ours = read(n, m[n].ours);
    const p = read(n, m[n].peers[0]);
    const timeRow = n.startsWith('train-');
    const ratio = ours.v / p.v;
    let target = '';
    if (timeRow && n !== 'train-head') target = ratio <= TRAIN_TARGET ? `<= ${TRAIN_TARGET}x met` : `> ${TRAIN_TARGET}x MISSED`;
    if (n.startsWith('eval')) target = ratio >= EVAL_TARGET ? `>= ${EVAL_TARGET}x met` : `< ${EVAL_TARGET}x MISSED`;
    if (n === 'data') target = m[n].ours[0].checksum === m[n].peers[0][0].checksum ? 'same ids' : 'ids DIFFER';
    const rssO = med(m[n].ours, 'peak_rss_mb');
    const rssP = med(m[n].peers[0], 'peak_rss_mb');
    const g = ours.gflops !== undefined && p.gflops !== undefined ? `${fmt(ours.gflops)} / ${fmt(p.gflops)}` : '';
    const row = [
      label[n],
      `${ours.text}${timeRow ? ` (K=${K})` : ''}`,
      p.text,
      `${ratio.toFixed(2)}x ${timeRow ? 'time' : 'speed'}`,
      target,
      g,
      fmt(rssO, 0),
      fmt(rssP, 0),
      (rssO / rssP).toFixed(2),
    ];
    if (peers[1]) {
      const q = m[n].peers[1];
      row.push(q?.length ? read(n, q).text : '', q?.length ? fmt(med(q, 'peak_rss_mb'), 0) : '');
    }
    rows.push(row);
  }
  console.log(`Fine-tune benchmark (npm run bench): ${o.rounds} interleaved rounds, medians; one process per measurement`);
  console.log(`machine: ${machine(o.threads, peers)}${process.env.FINETUNE_BENCH_GPU ? `; GPU: ${process.env.FINETUNE_BENCH_GPU}` : ''}`);
  console.log(
    `malloc: ${HUGEPAGES ? `GLIBC_TUNABLES=${trainerEnv({}).GLIBC_TUNABLES} for both sides (as the extension starts trainers)` : "glibc's default for both sides (--no-hugepages)"}`,
  );
  if (!peers[1]) console.log(`no second PyTorch column: /usr/bin/python3 has no torch (Debian's python3-torch), or the same version`);
  console.log(`${busyStarts} of ${o.measurements} measurements started on a busy machine (other processes using > 15% CPU after ${o.quietS} s of waiting)`);
  if (DEVICE !== 'cpu') {
    for (const n of names) {
      for (const x of m[n].ours as Record<string, unknown>[])
        if (x.device_used) console.log(`device used: ours ${n}: ${x.device_used}${x.device_reason ? ` (${x.device_reason})` : ''}`);
    }
  }
  console.log(
    `model: ${MODEL === 'encoder' ? 'BERT-mini' : 'BERT-base sizes (from scratch)'} token classification (${c.layers} layers, hidden ${c.hidden}, ${c.heads} heads, seq ${T}, ` +
      `train batch ${B}, vocab ${c.vocabSize}, dropout ${c.hiddenDropout}); training = AdamW + clipping${PRECISION === 'no' ? '' : `, mixed precision ${PRECISION} (torch.autocast${PRECISION === 'fp16' ? ' + GradScaler' : ''} on the PyTorch side)`}, K=${K} steps per run; ` +
      `GFLOP/s: matrix products only (3x forward for full training, 2x for LoRA), against the matmul row's peak`,
  );
  if (names.includes('data')) console.log(`data: ${DATA_TOKENS} tokens, plain-Python peer of the same algorithm (not HF tokenizers)`);
  if (names.includes('real'))
    console.log(
      `real-length: ${REAL.sentences} CoNLL-like sentences (log-normal, median 12 words, max ${REAL.maxLength - 2}), batch ${REAL.batch}, one epoch; ours: the trainer (length-grouped buckets, ` +
        `programs built on first use), peer: shuffled batches padded to their longest (DataCollatorForTokenClassification); tokens = non-padding positions`,
    );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  if (o.markdown) {
    // the same table for docs/benchmarks.md
    console.log(`\n| ${head.join(' | ')} |`);
    console.log(`|${head.map(() => '---').join('|')}|`);
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  }
}

void main();
