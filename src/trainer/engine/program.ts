// Long file: the K-step graph, its gradient and debug variants, and the TrainProgram that runs them share one spec.
// A training program: forward, loss, backward, clipping and the optimizer update compiled into one
// ONNX graph, with K steps per session.run through an ONNX Loop whose loop-carried values are the
// parameters and optimizer state. Inputs are [K, ...] micro-batches and [K] learning rates and step
// numbers; outputs are [K] losses and gradient norms and the state after K steps.

import { gradients } from './autodiff';
import { Builder } from './builder';
import type { DType, Graph, Tensor, TypedData } from './ir';
import { Graph as G, GraphError, fmtShape, isFloat, numel } from './ir';
import { serializeModel } from './onnx';
import { clipFromNorm, globalNorm, optimizerUpdate, stateSlots, type OptimizerConfig } from './optim';
import { Session, type DeviceChoice, type HostTensor, type SessionOptions } from './session';
import { hugePagesActive } from '../../shared/trainerEnv';

export interface ParamDef {
  name: string;
  shape: number[];
  data: Float32Array;
  /** Weight decay applies (default true; set false for biases and LayerNorm weights). */
  decay?: boolean;
}

export interface FeedDef {
  name: string;
  dtype: DType;
  /** Shape of one micro-batch (the program adds the leading K axis). */
  shape: number[];
}

/**
 * Uniform random bytes of a given shape for one micro-batch (dropout masks). The program feeds
 * them from a generator keyed by (seed, step, site), so runs are reproducible and resumable.
 */
export type RandomSource = (shape: number[]) => Tensor;

/** Builds the scalar training loss of one micro-batch from parameters (trained and frozen) and the batch. */
export type LossFn = (b: Builder, params: Map<string, Tensor>, batch: Map<string, Tensor>, random: RandomSource) => Tensor;

export interface ProgramSpec {
  params: ParamDef[];
  /** Frozen weights: graph initializers, no gradient, no optimizer state. */
  frozen?: ParamDef[];
  batch: FeedDef[];
  loss: LossFn;
  optimizer: OptimizerConfig;
  /** Clip gradients to this global L2 norm (PyTorch clip_grad_norm_); omit for none. */
  clipNorm?: number;
  /** Micro-batches per optimizer step (gradient accumulation; default 1). Feeds get an [A] axis after [K]. */
  accumulation?: number;
  /** Seed of the random bytes behind dropout masks. */
  seed?: number;
  /**
   * Dynamic loss scaling for float16 mixed precision, as torch.amp.GradScaler: the loss is
   * multiplied by a scale before the backward pass and the gradients divided by it; a step whose
   * gradients are not finite is skipped (parameters, optimizer state and AdamW's step count
   * unchanged) and the scale multiplied by `backoffFactor`; after `growthInterval` finite steps in a
   * row it is multiplied by `growthFactor`. The Loop then stops only on a non-finite loss.
   */
  lossScaling?: LossScaling;
}

export interface LossScaling {
  init?: number; // 65536, as GradScaler
  growthFactor?: number; // 2
  backoffFactor?: number; // 0.5
  growthInterval?: number; // 2000
}

export interface StepIO {
  params: Map<string, Tensor>;
  states: Map<string, Tensor[]>;
  lr: Tensor;
  step: Tensor;
  /** One micro-batch, or with accumulation A > 1 the A micro-batches stacked ([A, ...]). */
  batch: Map<string, Tensor>;
  /** Random bytes for this step: declares a feed and returns this step's slice ([A, ...shape] with accumulation). */
  random: RandomSource;
  /** The loss scale (spec.lossScaling): gradients are taken of loss × scale, then divided by it. */
  lossScale?: Tensor;
}

export interface StepOut {
  params: Map<string, Tensor>;
  states: Map<string, Tensor[]>;
  loss: Tensor;
  gradNorm: Tensor;
  /** Bool scalar: the loss and gradient norm are finite; when false the update was skipped (state unchanged). */
  ok: Tensor;
  /** Bool scalar: training may go on (ok; with loss scaling: the loss is finite, a skipped overflow is not an end). */
  go: Tensor;
}

function checkLoss(loss: Tensor) {
  if (loss.shape.length !== 0 || !isFloat(loss.dtype)) {
    throw new GraphError(`the loss must be a float scalar, got ${loss.dtype}${fmtShape(loss.shape)}`);
  }
}

/**
 * Loss and gradients over A micro-batches: an inner Loop accumulates each micro-batch's loss and
 * gradients; their mean over the micro-batches that hold any labelled example is returned (as the
 * Hugging Face Trainer averages micro-batch losses). A micro-batch of padding only (the end of an
 * epoch) has an undefined mean loss and a zero gradient; it is left out of both means.
 */
function accumulate(b: Builder, spec: ProgramSpec, all: Map<string, Tensor>, trained: Tensor[], io: StepIO, A: number): { loss: Tensor; grads: Tensor[] } {
  const inner = b.g.subgraph('accumulate');
  const ib = b.into(inner);
  const j = inner.input('micro', 'int64', []);
  const cond = inner.input('acc_cond', 'bool', []);
  const accLoss = inner.input('acc_loss', 'float32', []);
  const accCount = inner.input('acc_count', 'float32', []);
  const accGrads = trained.map((t) => inner.input(`acc_grad.${t.name}`, 'float32', t.shape));
  const micro = new Map([...io.batch].map(([n, t]) => [n, ib.gather(t, j, 0)] as const));
  const random: RandomSource = (shape) => ib.gather(io.random(shape), j, 0);
  const loss = spec.loss(ib, all, micro, random);
  checkLoss(loss);
  const gmap = gradients(inner, io.lossScale ? ib.mul(loss, io.lossScale) : loss, trained);
  const empty = inner.op('IsNaN', [loss]);
  inner.output(cond);
  inner.output(ib.add(accLoss, ib.where(empty, ib.scalar(0, loss), loss)), 'acc_loss_next');
  inner.output(ib.add(accCount, ib.where(empty, ib.scalar(0, loss), ib.scalar(1, loss))), 'acc_count_next');
  trained.forEach((t, k) => inner.output(ib.add(accGrads[k], gmap.get(t.name)!), `acc_grad_next.${t.name}`));
  const zeros = trained.map((t) => b.full(t.shape, 0, 'float32'));
  const zero = b.scalar(0, 'float32');
  const outs = b.g.add(
    'Loop',
    [b.g.constant('int64', [], [A]), b.g.constant('bool', [], [1]), zero, zero, ...zeros],
    { body: inner },
    { outputs: 2 + trained.length },
  );
  const inv = b.div(b.scalar(1, 'float32'), b.max(outs[1], b.scalar(1, 'float32')));
  return { loss: b.mul(outs[0], inv), grads: outs.slice(2).map((g) => b.mul(g, inv)) };
}

/** Emits one whole training step into the builder's graph. */
export function emitStep(b: Builder, spec: ProgramSpec, io: StepIO): StepOut {
  const all = new Map(io.params);
  for (const f of spec.frozen ?? []) all.set(f.name, b.g.info(f.name));
  const trained = spec.params.map((p) => io.params.get(p.name)!);
  const A = spec.accumulation ?? 1;
  let loss: Tensor;
  let grads: Tensor[];
  if (A > 1) ({ loss, grads } = accumulate(b, spec, all, trained, io, A));
  else {
    loss = spec.loss(b, all, io.batch, io.random);
    checkLoss(loss);
    const gmap = gradients(b.g, io.lossScale ? b.mul(loss, io.lossScale) : loss, trained);
    grads = trained.map((t) => gmap.get(t.name)!);
  }
  // With loss scaling the gradients are the scale's multiple: their norm is divided by it, and the
  // division is folded into the coefficient every gradient is multiplied by (GradScaler.unscale_).
  const unscale = io.lossScale ? b.div(b.scalar(1, io.lossScale), io.lossScale) : undefined;
  const gradNorm = unscale ? b.mul(globalNorm(b, grads), unscale) : globalNorm(b, grads);
  let gradScale: Tensor | undefined = unscale;
  if (spec.clipNorm !== undefined) {
    const coef = clipFromNorm(b, gradNorm, spec.clipNorm);
    gradScale = unscale ? b.mul(coef, unscale) : coef;
  }
  // x - x is NaN exactly when x is NaN or infinite: one test for both scalars.
  const bad = (x: Tensor) => b.g.op('IsNaN', [b.sub(x, x)]);
  const lossOk = b.not(bad(loss));
  const ok = b.g.op('And', [lossOk, b.not(bad(gradNorm))]);
  const params = new Map<string, Tensor>();
  const states = new Map<string, Tensor[]>();
  spec.params.forEach((p, i) => {
    const u = optimizerUpdate(b, spec.optimizer, trained[i], grads[i], io.states.get(p.name)!, { lr: io.lr, step: io.step, gradScale, ok }, p.decay ?? true);
    params.set(p.name, u.param);
    states.set(p.name, u.state);
  });
  return { params, states, loss, gradNorm, ok, go: io.lossScale ? lossOk : ok };
}

const PARAM = (n: string) => `param.${n}`;
const RANDOM = (i: number) => `random.${i}`;
const STATE = (slot: string, n: string) => `${slot}.${n}`;
const BATCH = (n: string) => `batch.${n}`;
const OUT = (n: string) => `next.${n}`;

function addFrozen(g: Graph, spec: ProgramSpec) {
  for (const f of spec.frozen ?? []) g.initializer(f.name, 'float32', f.shape, f.data);
}

/** The K-step program graph: Loop over micro-batches with parameters and optimizer state carried. */
export function buildProgramGraph(spec: ProgramSpec): Graph {
  const g = new G('train_program');
  const b = new Builder(g);
  const slots = stateSlots(spec.optimizer);
  addFrozen(g, spec);
  const trip = g.input('steps', 'int64', []);
  const lrs = g.input('lr', 'float32', ['K']);
  const scaling = spec.lossScaling;
  // With loss scaling a step may be skipped, so AdamW's step count is carried, not fed.
  const stepNums = scaling ? undefined : g.input('step', 'float32', ['K']);
  const carriedOuter: Tensor[] = [];
  for (const p of spec.params) carriedOuter.push(g.input(PARAM(p.name), 'float32', p.shape));
  for (const slot of slots) for (const p of spec.params) carriedOuter.push(g.input(STATE(slot, p.name), 'float32', p.shape));
  if (scaling) for (const n of SCALER) carriedOuter.push(g.input(n, 'float32', []));
  const A = spec.accumulation ?? 1;
  const micro = A > 1 ? [A] : [];
  const batchOuter = spec.batch.map((f) => g.input(BATCH(f.name), f.dtype, ['K', ...micro, ...f.shape]));

  const body = g.subgraph('train_step');
  const bb = b.into(body);
  const iter = body.input('iter', 'int64', []);
  body.input('cond_in', 'bool', []);
  const params = new Map<string, Tensor>();
  const states = new Map<string, Tensor[]>(spec.params.map((p) => [p.name, []]));
  for (const p of spec.params) params.set(p.name, body.input(`cur.${p.name}`, 'float32', p.shape));
  for (const slot of slots) for (const p of spec.params) states.get(p.name)!.push(body.input(`cur.${slot}.${p.name}`, 'float32', p.shape));
  const scaler = scaling ? SCALER.map((n) => body.input(`cur.${n}`, 'float32', [])) : [];
  const batch = new Map(spec.batch.map((f, i) => [f.name, bb.gather(batchOuter[i], iter, 0)] as const));
  let sites = 0;
  const random: RandomSource = (shape) => bb.gather(g.input(RANDOM(sites++), 'uint8', ['K', ...micro, ...shape]), iter, 0);
  const [optStep, lossScale, growth] = scaler;
  const step = stepNums ? bb.gather(stepNums, iter, 0) : bb.addScalar(optStep, 1);
  const out = emitStep(bb, spec, { params, states, lr: bb.gather(lrs, iter, 0), step, batch, random, lossScale });

  // The Loop stops after a non-finite step, whose update was skipped: the state it returns is that
  // of the last finite step, and the losses it returns end with the bad one. With loss scaling it
  // stops on a non-finite loss only: gradients that overflowed skip the step and shrink the scale.
  body.output(out.go, 'cond_out');
  for (const p of spec.params) body.output(out.params.get(p.name)!, `upd.${p.name}`);
  slots.forEach((slot, k) => {
    for (const p of spec.params) body.output(out.states.get(p.name)![k], `upd.${slot}.${p.name}`);
  });
  if (scaling) updateScaler(bb, scaling, out.ok, optStep, lossScale, growth).forEach((t, i) => body.output(t, `upd.${SCALER[i]}`));
  body.output(out.loss, 'step_loss');
  body.output(out.gradNorm, 'step_grad_norm');

  const names = [
    ...spec.params.map((p) => OUT(PARAM(p.name))),
    ...slots.flatMap((slot) => spec.params.map((p) => OUT(STATE(slot, p.name)))),
    ...(scaling ? SCALER.map(OUT) : []),
    'losses',
    'grad_norms',
  ];
  const outs = g.add('Loop', [trip, g.constant('bool', [], [1]), ...carriedOuter], { body }, { names, name: 'k_steps' });
  for (const o of outs) g.output(o);
  return g;
}

/** The loss scaler's carried scalars: AdamW's step count, the scale, finite steps in a row since it last changed. */
const SCALER = ['opt_step', 'loss_scale', 'scale_growth'] as const;

/** GradScaler.update: back off on a skipped step, grow after growthInterval finite steps in a row. */
function updateScaler(b: Builder, s: LossScaling, ok: Tensor, optStep: Tensor, scale: Tensor, growth: Tensor): Tensor[] {
  const next = b.addScalar(growth, 1);
  const grow = b.g.op('GreaterOrEqual', [next, b.scalar(s.growthInterval ?? 2000, next)]);
  return [
    b.where(ok, b.addScalar(optStep, 1), optStep),
    b.where(ok, b.where(grow, b.mulScalar(scale, s.growthFactor ?? 2), scale), b.mulScalar(scale, s.backoffFactor ?? 0.5)),
    b.where(ok, b.where(grow, b.scalar(0, growth), next), b.scalar(0, growth)),
  ];
}

/** Loss and gradients of one micro-batch, without an optimizer: outputs `loss` and `grad.<param>`. */
export function buildGradientGraph(spec: ProgramSpec): Graph {
  const g = new G('gradients');
  const b = new Builder(g);
  addFrozen(g, spec);
  const params = new Map(spec.params.map((p) => [p.name, g.input(PARAM(p.name), 'float32', p.shape)] as const));
  const batch = new Map(spec.batch.map((f) => [f.name, g.input(BATCH(f.name), f.dtype, f.shape)] as const));
  const all = new Map(params);
  for (const f of spec.frozen ?? []) all.set(f.name, g.info(f.name));
  let sites = 0;
  const loss = spec.loss(b, all, batch, (shape) => g.input(RANDOM(sites++), 'uint8', shape));
  const grads = gradients(g, loss, [...params.values()]);
  g.output(loss, 'loss');
  for (const p of spec.params) g.output(grads.get(PARAM(p.name))!, `grad.${p.name}`);
  return g;
}

/** A plain single-step graph exposing every intermediate value: used to find where a NaN starts. */
export function buildDebugStepGraph(spec: ProgramSpec): { g: Graph; out: StepOut } {
  const g = new G('debug_step');
  const b = new Builder(g);
  const slots = stateSlots(spec.optimizer);
  addFrozen(g, spec);
  const params = new Map(spec.params.map((p) => [p.name, g.input(PARAM(p.name), 'float32', p.shape)] as const));
  const states = new Map<string, Tensor[]>(spec.params.map((p) => [p.name, []]));
  for (const slot of slots) for (const p of spec.params) states.get(p.name)!.push(g.input(STATE(slot, p.name), 'float32', p.shape));
  const lr = g.input('lr', 'float32', []);
  const step = g.input('step', 'float32', []);
  const micro = (spec.accumulation ?? 1) > 1 ? [spec.accumulation!] : [];
  const batch = new Map(spec.batch.map((f) => [f.name, g.input(BATCH(f.name), f.dtype, [...micro, ...f.shape])] as const));
  let sites = 0;
  const random: RandomSource = (shape) => g.input(RANDOM(sites++), 'uint8', [...micro, ...shape]);
  const lossScale = spec.lossScaling ? g.input('loss_scale', 'float32', []) : undefined;
  const out = emitStep(b, spec, { params, states, lr, step, batch, random, lossScale });
  const seen = new Set<string>();
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      const t = g.info(o);
      if (isFloat(t.dtype) && !seen.has(o)) {
        seen.add(o);
        g.output(t);
      }
    }
  }
  return { g, out };
}

/** A NaN or infinity appeared in a training step. */
export class NonFiniteError extends GraphError {
  constructor(
    message: string,
    node?: string,
    op?: string,
    shapes?: string,
    readonly step?: number,
  ) {
    super(message, node, op, shapes);
    this.name = 'NonFiniteError';
  }
}

/**
 * Uniform random bytes for (seed, step, site): a splitmix64-seeded xorshift128 stream, so the
 * bytes of a step do not depend on how steps were grouped into runs or whether the run resumed.
 */
export function randomBytes(seed: number, step: number, site: number, n: number, out?: Uint8Array): Uint8Array {
  const bytes = out ?? new Uint8Array(n);
  let z = BigInt.asUintN(64, (BigInt(seed) << 40n) ^ (BigInt(step) << 12n) ^ BigInt(site) ^ 0x9e3779b97f4a7c15n);
  const next64 = () => {
    z = BigInt.asUintN(64, z + 0x9e3779b97f4a7c15n);
    let x = z;
    x = BigInt.asUintN(64, (x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n);
    x = BigInt.asUintN(64, (x ^ (x >> 27n)) * 0x94d049bb133111ebn);
    return x ^ (x >> 31n);
  };
  const a = next64(),
    b = next64();
  let x = Number(a & 0xffffffffn) | 1,
    y = Number(a >> 32n) | 0,
    zz = Number(b & 0xffffffffn) | 0,
    w = Number(b >> 32n) | 0;
  const words = Math.floor(n / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = zz;
    zz = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) | 0;
    view.setInt32(i * 4, w, true);
  }
  for (let i = words * 4; i < n; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = zz;
    zz = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) | 0;
    bytes[i] = w & 0xff;
  }
  return bytes;
}

function allFinite(d: TypedData): boolean {
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

export interface RunResult {
  losses: Float32Array;
  /** Per step; with loss scaling a non-finite one marks a step skipped for overflow. */
  gradNorms: Float32Array;
}

/** Host arrays holding training state that a program may overwrite in place (it allocated them). */
const ownedState = new WeakSet<Float32Array>();
const EMPTY = new Float32Array(0);
/** Trained parameters from which a training program runs without ORT's CPU memory arena by default. */
export const ARENA_OFF_FROM = 50e6;

/**
 * Whether a training program keeps ORT's CPU memory arena by default. The arena keeps every chunk
 * it grew, per program: at BERT-base its high-water mark grows from call to call, and with
 * length buckets every bucket's program keeps its own (real-length BERT-mini: 1.9 GB with arenas,
 * 0.8–1.3 GB without). Without it every tensor is a fresh allocation, which costs page faults:
 * with 4 KB pages BERT-mini's fixed-shape step took 3.5× as long, with huge pages (hugePagesActive)
 * the same time (docs/benchmarks.md, "Memory arena"). So it is off with huge pages, and else only
 * for large models.
 */
export function arenaByDefault(trained: number, hugePages = hugePagesActive()): boolean {
  return trained < ARENA_OFF_FROM && !hugePages;
}
function own(a: Float32Array): Float32Array {
  ownedState.add(a);
  return a;
}

/** Runs a program: holds parameters and optimizer state on the host between runs. */
export class TrainProgram {
  /** Completed steps (with loss scaling, skipped ones included: the schedule and dropout masks follow it). */
  step = 0;
  /** With loss scaling (spec.lossScaling): the scaler's state, as GradScaler's, and AdamW's step count (steps applied). */
  scaler?: { scale: number; growth: number; optimizerSteps: number };
  readonly params = new Map<string, Float32Array>();
  /** Per parameter, one array per optimizer state slot. */
  readonly state = new Map<string, Float32Array[]>();
  private readonly slots: string[];

  /** The program's spec, without the initial values of the trained parameters (`params` holds the current ones). */
  readonly spec: ProgramSpec;

  private constructor(
    spec: ProgramSpec,
    private readonly session: Session,
    private readonly sessionOpts: SessionOptions,
    /** Per random site: the shape of one step's bytes. */
    private readonly randomShapes: number[][],
  ) {
    this.slots = stateSlots(spec.optimizer);
    for (const p of spec.params) {
      this.params.set(p.name, p.data);
      this.state.set(
        p.name,
        this.slots.map(() => own(new Float32Array(p.data.length))),
      );
    }
    // Keeping the initial arrays would hold a second copy of the weights once the first call has
    // moved the state into arrays of the program's own (415 MB at BERT-base).
    this.spec = { ...spec, params: spec.params.map((p) => ({ ...p, data: EMPTY })) };
    if (spec.lossScaling) this.scaler = { scale: spec.lossScaling.init ?? 65536, growth: 0, optimizerSteps: 0 };
  }

  static async create(spec: ProgramSpec, opts: SessionOptions = {}): Promise<TrainProgram> {
    const seen = new Set<string>();
    for (const p of [...spec.params, ...(spec.frozen ?? [])]) {
      if (seen.has(p.name)) throw new GraphError(`parameter '${p.name}' is listed twice`);
      seen.add(p.name);
      if (p.data.length !== numel(p.shape)) {
        throw new GraphError(`parameter '${p.name}' has ${p.data.length} values for shape ${fmtShape(p.shape)}`);
      }
    }
    const g = buildProgramGraph(spec);
    const randomShapes = g.inputs.filter((t) => t.name.startsWith('random.')).map((t) => t.shape.slice(1) as number[]);
    const trained = spec.params.reduce((a, p) => a + p.data.length, 0);
    // ORT's CPU arena keeps every chunk it grew, so its high-water mark grows from call to call (at
    // BERT-base, batch 32: 6.3 GB in call 1, 11.3 GB in call 2, against 5.0 and 6.7 GB without it,
    // docs/benchmarks.md). See arenaByDefault.
    const memArena = opts.memArena ?? arenaByDefault(trained);
    const session = await Session.create(serializeModel(g), g.inputs, { ...opts, memArena }, 'training program');
    return new TrainProgram(spec, session, opts, randomShapes);
  }

  get device(): DeviceChoice {
    return this.session.device;
  }

  private stateFeeds(prefix: (slot: string, n: string) => string): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {};
    for (const p of this.spec.params) {
      feeds[PARAM(p.name)] = { dtype: 'float32', shape: p.shape, data: this.params.get(p.name)! };
      this.slots.forEach((slot, k) => {
        feeds[prefix(slot, p.name)] = { dtype: 'float32', shape: p.shape, data: this.state.get(p.name)![k] };
      });
    }
    return feeds;
  }

  /**
   * Runs k = lrs.length steps. `batches` holds, per batch feed, k micro-batches stacked ([k, ...]).
   * The state is updated in place: ONNX Runtime writes the new parameters and optimizer state into
   * the host arrays they were fed from (arrays this module allocated; the caller's initial arrays
   * are never written, the first call moves the state into arrays of its own), so that a call holds
   * one copy of the state instead of three (docs/benchmarks.md, "Memory at BERT-base"). On a NaN
   * or infinity the Loop stops after the bad step, whose update is skipped: the state is that of
   * the last finite step (`step` counts the steps applied) and a NonFiniteError names the first
   * node that produced the bad value.
   */
  async run(batches: Record<string, TypedData>, lrs: ArrayLike<number>): Promise<RunResult> {
    const k = lrs.length;
    if (k < 1) throw new GraphError('run needs at least one step');
    const feeds = this.stateFeeds(STATE);
    feeds.steps = { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(k)) };
    feeds.lr = { dtype: 'float32', shape: [k], data: Float32Array.from(lrs) };
    const sc = this.scaler;
    const scalar = (v: number): HostTensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });
    if (sc) [feeds.opt_step, feeds.loss_scale, feeds.scale_growth] = [scalar(sc.optimizerSteps), scalar(sc.scale), scalar(sc.growth)];
    else feeds.step = { dtype: 'float32', shape: [k], data: Float32Array.from({ length: k }, (_, i) => this.step + i + 1) };
    const micro = (this.spec.accumulation ?? 1) > 1 ? [this.spec.accumulation!] : [];
    for (const f of this.spec.batch) {
      const data = batches[f.name];
      if (!data) throw new GraphError(`batch feed '${f.name}' is missing`);
      feeds[BATCH(f.name)] = { dtype: f.dtype, shape: [k, ...micro, ...f.shape], data };
    }
    Object.assign(feeds, this.randomFeeds(k, this.step, true));
    // Where each new state tensor goes: into the array it was fed from when that array is ours.
    const fetches: Record<string, HostTensor | null> = { losses: null, grad_norms: null };
    if (sc) for (const n of SCALER) fetches[OUT(n)] = null;
    const target = (fed: Float32Array) => (ownedState.has(fed) ? fed : own(new Float32Array(fed.length)));
    const next = new Map<string, { param: Float32Array; state: Float32Array[] }>();
    for (const p of this.spec.params) {
      const param = target(this.params.get(p.name)!);
      const state = this.state.get(p.name)!.map(target);
      next.set(p.name, { param, state });
      fetches[OUT(PARAM(p.name))] = { dtype: 'float32', shape: p.shape, data: param };
      this.slots.forEach((slot, s) => (fetches[OUT(STATE(slot, p.name))] = { dtype: 'float32', shape: p.shape, data: state[s] }));
    }
    const out = await this.session.run(feeds, fetches);
    const losses = out.losses.data as Float32Array;
    const gradNorms = out.grad_norms.data as Float32Array;
    for (const p of this.spec.params) {
      this.params.set(p.name, next.get(p.name)!.param);
      this.state.set(p.name, next.get(p.name)!.state);
    }
    if (sc) {
      const v = (n: string) => (out[OUT(n)].data as Float32Array)[0];
      this.scaler = { optimizerSteps: v('opt_step'), scale: v('loss_scale'), growth: v('scale_growth') };
    }
    // With loss scaling a non-finite gradient norm is a skipped step, not an end.
    const bad = Array.from(losses).findIndex((l, i) => !Number.isFinite(l) || (!sc && !Number.isFinite(gradNorms[i])));
    if (bad >= 0) {
      this.step += bad;
      await this.diagnose(batches, lrs, bad);
    }
    this.step += k;
    return { losses, gradNorms };
  }

  /** The random bytes of steps [from+1, from+k] for every site, stacked ([k, ...]) or for one step. */
  private randomFeeds(k: number, from: number, stacked: boolean): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {};
    this.randomShapes.forEach((shape, site) => {
      const n = numel(shape);
      const data = new Uint8Array(k * n);
      for (let i = 0; i < k; i++) randomBytes(this.spec.seed ?? 0, from + i + 1, site, n, data.subarray(i * n, (i + 1) * n));
      feeds[RANDOM(site)] = { dtype: 'uint8', shape: stacked ? [k, ...shape] : [...shape], data };
    });
    return feeds;
  }

  /**
   * Replays the block's step `bad` (the first non-finite one; the program's state is that before
   * it) on a graph exposing every value; throws naming the first bad node.
   */
  private async diagnose(batches: Record<string, TypedData>, lrs: ArrayLike<number>, bad: number): Promise<never> {
    const base = this.step - bad; // the step count before the block
    const { g, out } = buildDebugStepGraph(this.spec);
    const session = await Session.create(serializeModel(g), g.inputs, this.sessionOpts, 'debug step');
    try {
      let params: Map<string, Float32Array> = new Map(this.params);
      let state: Map<string, Float32Array[]> = new Map(this.state);
      for (let i = bad; i <= bad; i++) {
        const feeds: Record<string, HostTensor> = {};
        for (const p of this.spec.params) {
          feeds[PARAM(p.name)] = { dtype: 'float32', shape: p.shape, data: params.get(p.name)! };
          this.slots.forEach((slot, s) => (feeds[STATE(slot, p.name)] = { dtype: 'float32', shape: p.shape, data: state.get(p.name)![s] }));
        }
        Object.assign(feeds, this.randomFeeds(1, base + i, false));
        feeds.lr = { dtype: 'float32', shape: [], data: Float32Array.of(lrs[i]) };
        feeds.step = { dtype: 'float32', shape: [], data: Float32Array.of(this.scaler ? this.scaler.optimizerSteps + 1 : base + i + 1) };
        // The scale the bad step ran with: the scaler backed off after it.
        if (this.scaler)
          feeds.loss_scale = { dtype: 'float32', shape: [], data: Float32Array.of(this.scaler.scale / (this.spec.lossScaling?.backoffFactor ?? 0.5)) };
        const micro = (this.spec.accumulation ?? 1) > 1 ? [this.spec.accumulation!] : [];
        for (const f of this.spec.batch) {
          const shape = [...micro, ...f.shape];
          const n = numel(shape);
          const all = batches[f.name];
          feeds[BATCH(f.name)] = { dtype: f.dtype, shape, data: all.subarray(i * n, (i + 1) * n) };
        }
        const vals = await session.run(feeds);
        for (const node of g.nodes) {
          const badOut = node.outputs.find((o) => vals[o] && !allFinite(vals[o].data));
          if (!badOut) continue;
          const inputs = node.inputs.filter(Boolean).map((n) => {
            const v = vals[n] ?? feeds[n];
            const shape = fmtShape(v?.shape ?? g.lookup(n)?.shape);
            const finite = v ? (allFinite(v.data) ? 'finite' : 'non-finite') : 'constant';
            return `${n}${shape} ${finite}`;
          });
          throw new NonFiniteError(
            `non-finite value in output '${badOut}'${fmtShape(vals[badOut].shape)} at step ${base + i + 1}`,
            node.name,
            node.op,
            `inputs ${inputs.join(', ')}`,
            base + i + 1,
          );
        }
        params = new Map(this.spec.params.map((p) => [p.name, vals[out.params.get(p.name)!.name].data as Float32Array]));
        state = new Map(this.spec.params.map((p) => [p.name, out.states.get(p.name)!.map((t) => vals[t.name].data as Float32Array)]));
      }
      throw new NonFiniteError(`non-finite loss or gradient norm at step ${base + bad + 1}`, undefined, undefined, undefined, base + bad + 1);
    } finally {
      await session.release();
    }
  }

  /** Ends ORT profiling (when the session was created with profilePrefix); returns the file. */
  endProfiling(): string | undefined {
    return this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
