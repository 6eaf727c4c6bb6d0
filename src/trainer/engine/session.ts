// The session module: the only module that imports onnxruntime-node. It chooses the execution
// provider (CUDA when asked for and available, else CPU, with the reason recorded), sets threads,
// the graph optimization level and optional profiling, checks feeds against the graph's declared
// inputs, and turns ORT failures into errors that name what was run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DType, Shape, Tensor as TensorInfo, TypedData } from './ir';
import { GraphError, fmtShape } from './ir';

export type Device = 'auto' | 'cpu' | 'cuda';

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads; 0 lets ORT choose (one per physical core). */
  threads?: number;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write an ORT profile (chrome://tracing JSON) with this file prefix. */
  profilePrefix?: string;
  /** Extra ORT session config entries (e.g. { 'session.intra_op.allow_spinning': '0' }). */
  extra?: Record<string, string>;
  /** ORT's CPU memory arena (default on): off, freed activations go back to the system allocator. */
  memArena?: boolean;
  /** ORT's memory pattern (default on): one pre-planned block per input shape for the activations. */
  memPattern?: boolean;
}

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: TypedData;
}

export interface DeviceChoice {
  requested: Device;
  used: 'cpu' | 'cuda';
  /** Why CUDA was not used, when it was requested or `auto`. */
  reason?: string;
}

// bfloat16 lives inside graphs only (mixed precision): onnxruntime-node has no bfloat16 tensor.
const ORT_TYPE: Record<Exclude<DType, 'bfloat16'>, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
  int8: 'int8',
};

function ortType(dtype: DType): ort.Tensor.Type {
  if (dtype === 'bfloat16') throw new GraphError('bfloat16 tensors cannot be fed to or fetched from ONNX Runtime in Node (keep them inside the graph)');
  return ORT_TYPE[dtype];
}

export function ortVersion(): string {
  return ort.env.versions?.common ?? 'unknown';
}

/**
 * Whether the CUDA execution provider can be loaded. onnxruntime-node lists `cuda` as a backend
 * on Linux x64 even when its provider library was never installed (the install script that
 * fetches it is skipped, ONNXRUNTIME_NODE_INSTALL=skip, see README), so look for the library next to the native binding.
 */
export function cudaAvailability(): { available: boolean; reason?: string } {
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda) return { available: false, reason: `onnxruntime-node on ${process.platform}-${process.arch} has no CUDA execution provider` };
  if (cuda.bundled) return { available: true };
  let dir: string;
  try {
    dir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return { available: false, reason: 'onnxruntime-node package folder not found' };
  }
  const lib = path.join(dir, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  if (!fs.existsSync(lib)) {
    return {
      available: false,
      reason: 'the CUDA provider library is not installed (onnxruntime-node was installed with its CUDA download skipped; see README "GPU (CUDA)")',
    };
  }
  return { available: true };
}

export class Session {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly device: DeviceChoice,
    private readonly declared: Map<string, TensorInfo>,
    readonly label: string,
  ) {}

  static async create(model: Uint8Array, inputs: TensorInfo[], opts: SessionOptions = {}, label = 'model'): Promise<Session> {
    const requested = opts.device ?? 'auto';
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: opts.optimization ?? 'all',
      intraOpNumThreads: opts.threads ?? 0,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableCpuMemArena: opts.memArena ?? true,
      enableMemPattern: opts.memPattern ?? true,
      enableProfiling: !!opts.profilePrefix,
      profileFilePrefix: opts.profilePrefix,
      logSeverityLevel: 3,
      ...(opts.extra ? { extra: configEntries(opts.extra) } : {}),
    };
    const declared = new Map(inputs.map((t) => [t.name, t]));
    let reason: string | undefined;
    if (requested !== 'cpu') {
      const avail = cudaAvailability();
      if (avail.available) {
        try {
          const s = await ort.InferenceSession.create(model, { ...base, executionProviders: ['cuda', 'cpu'] });
          return new Session(s, { requested, used: 'cuda' }, declared, label);
        } catch (e) {
          reason = `CUDA execution provider failed to start: ${(e as Error).message.split('\n')[0]}`;
        }
      } else reason = avail.reason;
      if (requested === 'cuda') reason = `cuda requested but not used: ${reason}`;
    }
    try {
      const s = await ort.InferenceSession.create(model, { ...base, executionProviders: ['cpu'] });
      return new Session(s, { requested, used: 'cpu', reason }, declared, label);
    } catch (e) {
      throw new GraphError(`ONNX Runtime rejected ${label}: ${(e as Error).message}`);
    }
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Runs the graph; feeds are checked against the declared input shapes first. `fetches`: the
   * outputs wanted, as names, or as a map whose tensors are written into (ORT's pre-allocated
   * outputs; null lets ORT allocate). A written-into output is left out of the result: the Node
   * binding returns a fresh copy of every fetched output, which is dropped here at once.
   */
  async run(feeds: Record<string, HostTensor>, fetches?: string[] | Record<string, HostTensor | null>): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const d = this.declared.get(name);
      if (!d) throw new GraphError(`${this.label}: unknown input '${name}'`);
      checkFeed(this.label, d, t);
      ortFeeds[name] = new ort.Tensor(ortType(t.dtype), t.data as never, t.shape);
    }
    for (const name of this.declared.keys()) {
      if (!(name in feeds)) throw new GraphError(`${this.label}: input '${name}' was not fed`);
    }
    let ortFetches: string[] | Record<string, ort.Tensor | null> | undefined;
    if (Array.isArray(fetches) || !fetches) ortFetches = fetches;
    else {
      ortFetches = {};
      for (const [name, t] of Object.entries(fetches)) ortFetches[name] = t ? new ort.Tensor(ortType(t.dtype), t.data as never, t.shape) : null;
    }
    let out: ort.InferenceSession.ReturnType;
    try {
      out = ortFetches ? await this.session.run(ortFeeds, ortFetches) : await this.session.run(ortFeeds);
    } catch (e) {
      const shapes = Object.entries(feeds)
        .map(([n, t]) => `${n}${fmtShape(t.shape)}`)
        .join(' ');
      throw new GraphError(`${this.label}: ONNX Runtime failed: ${(e as Error).message} (feeds ${shapes})`);
    }
    const res: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(out)) {
      if (fetches && !Array.isArray(fetches) && fetches[name]) continue;
      res[name] = { dtype: t.type as DType, shape: t.dims.map(Number), data: t.data as TypedData };
    }
    return res;
  }

  /** Ends profiling (if on) and returns the profile file name. */
  endProfiling(): string | undefined {
    const s = this.session as unknown as { endProfiling?: () => string | undefined };
    return s.endProfiling?.();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** 'a.b.c': 'v' entries as the nested object onnxruntime-node flattens back into config keys. */
function configEntries(flat: Record<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let o = root;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]] = value;
  }
  return root;
}

function checkFeed(label: string, d: TensorInfo, t: HostTensor) {
  const bad = (why: string) =>
    new GraphError(`${label}: input '${d.name}' ${why}: expected ${d.dtype}${fmtShape(d.shape)}, got ${t.dtype}${fmtShape(t.shape)}`);
  if (d.dtype !== t.dtype) throw bad('has the wrong dtype');
  if (d.shape.length !== t.shape.length) throw bad('has the wrong rank');
  const sym = new Map<string, number>();
  d.shape.forEach((dim: Shape[number], i) => {
    if (typeof dim === 'number' && dim !== t.shape[i]) throw bad(`has the wrong size on axis ${i}`);
    if (typeof dim === 'string') {
      if (sym.has(dim) && sym.get(dim) !== t.shape[i]) throw bad(`disagrees on symbolic size '${dim}'`);
      sym.set(dim, t.shape[i]);
    }
  });
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw bad(`has ${t.data.length} values for ${n} elements`);
}
