// A training program: forward, loss, backward, clipping and the optimizer update compiled into one
// ONNX graph, with K steps per session.run through an ONNX Loop whose loop-carried values are the
// parameters and optimizer state. Inputs are [K, ...] micro-batches and [K] learning rates and step
// numbers; outputs are [K] losses and gradient norms and the state after K steps.

import { gradients } from './autodiff';
import { Builder } from './builder';
import type { DType, Graph, Tensor, TypedData } from './ir';
import { Graph as G, GraphError, fmtShape, isFloat, numel } from './ir';
import { serializeModel } from './onnx';
import { clipCoefficient, globalNorm, optimizerUpdate, stateSlots, type OptimizerConfig } from './optim';
import { Session, type DeviceChoice, type HostTensor, type SessionOptions } from './session';

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

/** Builds the scalar training loss of one micro-batch from parameters (trained and frozen) and the batch. */
export type LossFn = (b: Builder, params: Map<string, Tensor>, batch: Map<string, Tensor>) => Tensor;

export interface ProgramSpec {
  params: ParamDef[];
  /** Frozen weights: graph initializers, no gradient, no optimizer state. */
  frozen?: ParamDef[];
  batch: FeedDef[];
  loss: LossFn;
  optimizer: OptimizerConfig;
  /** Clip gradients to this global L2 norm (PyTorch clip_grad_norm_); omit for none. */
  clipNorm?: number;
}

export interface StepIO {
  params: Map<string, Tensor>;
  states: Map<string, Tensor[]>;
  lr: Tensor;
  step: Tensor;
  batch: Map<string, Tensor>;
}

export interface StepOut {
  params: Map<string, Tensor>;
  states: Map<string, Tensor[]>;
  loss: Tensor;
  gradNorm: Tensor;
}

/** Emits one whole training step into the builder's graph. */
export function emitStep(b: Builder, spec: ProgramSpec, io: StepIO): StepOut {
  const all = new Map(io.params);
  for (const f of spec.frozen ?? []) all.set(f.name, b.g.info(f.name));
  const loss = spec.loss(b, all, io.batch);
  if (loss.shape.length !== 0 || !isFloat(loss.dtype)) {
    throw new GraphError(`the loss must be a float scalar, got ${loss.dtype}${fmtShape(loss.shape)}`);
  }
  const trained = spec.params.map((p) => io.params.get(p.name)!);
  const gmap = gradients(b.g, loss, trained);
  const grads = trained.map((t) => gmap.get(t.name)!);
  let gradNorm: Tensor;
  let gradScale: Tensor | undefined;
  if (spec.clipNorm !== undefined) ({ coef: gradScale, norm: gradNorm } = clipCoefficient(b, grads, spec.clipNorm));
  else gradNorm = globalNorm(b, grads);
  const params = new Map<string, Tensor>();
  const states = new Map<string, Tensor[]>();
  spec.params.forEach((p, i) => {
    const u = optimizerUpdate(b, spec.optimizer, trained[i], grads[i], io.states.get(p.name)!, { lr: io.lr, step: io.step, gradScale }, p.decay ?? true);
    params.set(p.name, u.param);
    states.set(p.name, u.state);
  });
  return { params, states, loss, gradNorm };
}

const PARAM = (n: string) => `param.${n}`;
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
  const stepNums = g.input('step', 'float32', ['K']);
  const carriedOuter: Tensor[] = [];
  for (const p of spec.params) carriedOuter.push(g.input(PARAM(p.name), 'float32', p.shape));
  for (const slot of slots) for (const p of spec.params) carriedOuter.push(g.input(STATE(slot, p.name), 'float32', p.shape));
  const batchOuter = spec.batch.map((f) => g.input(BATCH(f.name), f.dtype, ['K', ...f.shape]));

  const body = g.subgraph('train_step');
  const bb = b.into(body);
  const iter = body.input('iter', 'int64', []);
  const cond = body.input('cond_in', 'bool', []);
  const params = new Map<string, Tensor>();
  const states = new Map<string, Tensor[]>(spec.params.map((p) => [p.name, []]));
  for (const p of spec.params) params.set(p.name, body.input(`cur.${p.name}`, 'float32', p.shape));
  for (const slot of slots) for (const p of spec.params) states.get(p.name)!.push(body.input(`cur.${slot}.${p.name}`, 'float32', p.shape));
  const batch = new Map(spec.batch.map((f, i) => [f.name, bb.gather(batchOuter[i], iter, 0)] as const));
  const out = emitStep(bb, spec, { params, states, lr: bb.gather(lrs, iter, 0), step: bb.gather(stepNums, iter, 0), batch });

  body.output(cond);
  for (const p of spec.params) body.output(out.params.get(p.name)!, `upd.${p.name}`);
  slots.forEach((slot, k) => { for (const p of spec.params) body.output(out.states.get(p.name)![k], `upd.${slot}.${p.name}`); });
  body.output(out.loss, 'step_loss');
  body.output(out.gradNorm, 'step_grad_norm');

  const names = [
    ...spec.params.map((p) => OUT(PARAM(p.name))),
    ...slots.flatMap((slot) => spec.params.map((p) => OUT(STATE(slot, p.name)))),
    'losses', 'grad_norms',
  ];
  const outs = g.add('Loop', [trip, g.constant('bool', [], [1]), ...carriedOuter], { body }, { names, name: 'k_steps' });
  for (const o of outs) g.output(o);
  return g;
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
  const loss = spec.loss(b, all, batch);
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
  const batch = new Map(spec.batch.map((f) => [f.name, g.input(BATCH(f.name), f.dtype, f.shape)] as const));
  const out = emitStep(b, spec, { params, states, lr, step, batch });
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
  constructor(message: string, node?: string, op?: string, shapes?: string, readonly step?: number) {
    super(message, node, op, shapes);
    this.name = 'NonFiniteError';
  }
}

function allFinite(d: TypedData): boolean {
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i] as number)) return false;
  return true;
}

export interface RunResult {
  losses: Float32Array;
  gradNorms: Float32Array;
}

/** Runs a program: holds parameters and optimizer state on the host between runs. */
export class TrainProgram {
  /** Completed optimizer steps. */
  step = 0;
  readonly params = new Map<string, Float32Array>();
  /** Per parameter, one array per optimizer state slot. */
  readonly state = new Map<string, Float32Array[]>();
  private readonly slots: string[];

  private constructor(readonly spec: ProgramSpec, private readonly session: Session, private readonly sessionOpts: SessionOptions) {
    this.slots = stateSlots(spec.optimizer);
    for (const p of spec.params) {
      this.params.set(p.name, p.data);
      this.state.set(p.name, this.slots.map(() => new Float32Array(p.data.length)));
    }
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
    const session = await Session.create(serializeModel(g), g.inputs, opts, 'training program');
    return new TrainProgram(spec, session, opts);
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
   * On a NaN or infinity the state is left as it was before the call and a NonFiniteError names
   * the first node that produced it.
   */
  async run(batches: Record<string, TypedData>, lrs: ArrayLike<number>): Promise<RunResult> {
    const k = lrs.length;
    if (k < 1) throw new GraphError('run needs at least one step');
    const feeds = this.stateFeeds(STATE);
    feeds.steps = { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(k)) };
    feeds.lr = { dtype: 'float32', shape: [k], data: Float32Array.from(lrs) };
    feeds.step = { dtype: 'float32', shape: [k], data: Float32Array.from({ length: k }, (_, i) => this.step + i + 1) };
    for (const f of this.spec.batch) {
      const data = batches[f.name];
      if (!data) throw new GraphError(`batch feed '${f.name}' is missing`);
      feeds[BATCH(f.name)] = { dtype: f.dtype, shape: [k, ...f.shape], data };
    }
    const out = await this.session.run(feeds);
    const losses = out.losses.data as Float32Array;
    const gradNorms = out.grad_norms.data as Float32Array;
    if (!allFinite(losses) || !allFinite(gradNorms)) await this.diagnose(batches, lrs, losses, gradNorms);
    for (const p of this.spec.params) {
      this.params.set(p.name, out[OUT(PARAM(p.name))].data as Float32Array);
      this.state.set(p.name, this.slots.map((slot) => out[OUT(STATE(slot, p.name))].data as Float32Array));
    }
    this.step += k;
    return { losses, gradNorms };
  }

  /** Replays the block step by step on a graph exposing every value; throws naming the first bad node. */
  private async diagnose(batches: Record<string, TypedData>, lrs: ArrayLike<number>, losses: Float32Array, norms: Float32Array): Promise<never> {
    const bad = Array.from(losses).findIndex((l, i) => !Number.isFinite(l) || !Number.isFinite(norms[i]));
    const { g, out } = buildDebugStepGraph(this.spec);
    const session = await Session.create(serializeModel(g), g.inputs, this.sessionOpts, 'debug step');
    try {
      let params: Map<string, Float32Array> = new Map(this.params);
      let state: Map<string, Float32Array[]> = new Map(this.state);
      for (let i = 0; i <= bad; i++) {
        const feeds: Record<string, HostTensor> = {};
        for (const p of this.spec.params) {
          feeds[PARAM(p.name)] = { dtype: 'float32', shape: p.shape, data: params.get(p.name)! };
          this.slots.forEach((slot, s) => (feeds[STATE(slot, p.name)] = { dtype: 'float32', shape: p.shape, data: state.get(p.name)![s] }));
        }
        feeds.lr = { dtype: 'float32', shape: [], data: Float32Array.of(lrs[i]) };
        feeds.step = { dtype: 'float32', shape: [], data: Float32Array.of(this.step + i + 1) };
        for (const f of this.spec.batch) {
          const n = numel(f.shape);
          const all = batches[f.name];
          feeds[BATCH(f.name)] = { dtype: f.dtype, shape: f.shape, data: all.subarray(i * n, (i + 1) * n) as TypedData };
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
            `non-finite value in output '${badOut}'${fmtShape(vals[badOut].shape)} at step ${this.step + i + 1}`,
            node.name, node.op, `inputs ${inputs.join(', ')}`, this.step + i + 1);
        }
        params = new Map(this.spec.params.map((p) => [p.name, vals[out.params.get(p.name)!.name].data as Float32Array]));
        state = new Map(this.spec.params.map((p) => [p.name, out.states.get(p.name)!.map((t) => vals[t.name].data as Float32Array)]));
      }
      throw new NonFiniteError(`non-finite loss or gradient norm at step ${this.step + bad + 1}`, undefined, undefined, undefined, this.step + bad + 1);
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
