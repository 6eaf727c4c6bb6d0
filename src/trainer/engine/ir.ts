// The graph IR: named tensors with dtype and shape, nodes with attributes, initializers,
// graph inputs/outputs and subgraphs (for Loop). Every op is shape-checked when it is added
// (see shapes.ts), so a mistake is reported where the graph is built, naming node, op and shapes.

import { inferShapes } from './shapes';
import type { AttrOf, DType, Initializer, NodeOf, Shape, Tensor, TypedData } from './types';
import { GraphError, fmtShape } from './types';

export type { DType, Dim, Initializer, Shape, Tensor, TypedData } from './types';
export { GraphError, fmtShape } from './types';

/** Attribute values. Plain numbers: integers become INT, others FLOAT; use `A.f` to force FLOAT. */
export type Attr = AttrOf<Graph>;

export type AttrInput = number | string | number[] | Attr | Graph;

export const A = {
  i: (v: number): Attr => ({ kind: 'int', v }),
  f: (v: number): Attr => ({ kind: 'float', v }),
  s: (v: string): Attr => ({ kind: 'string', v }),
  ints: (v: number[]): Attr => ({ kind: 'ints', v }),
  floats: (v: number[]): Attr => ({ kind: 'floats', v }),
};

export type Node = NodeOf<Graph>;

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') throw new GraphError(`numel of symbolic shape ${fmtShape(shape)}`);
    n *= d;
  }
  return n;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

function toAttr(v: AttrInput): Attr {
  if (v instanceof Graph) return { kind: 'graph', v };
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', v } : { kind: 'float', v };
  if (typeof v === 'string') return { kind: 'string', v };
  if (Array.isArray(v)) return v.every(Number.isInteger) ? { kind: 'ints', v } : { kind: 'floats', v };
  return v;
}

export function typedArrayFor(dtype: DType, values: ArrayLike<number> | number[]): TypedData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(Array.from(values, (x) => BigInt(Math.trunc(x))));
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'float16':
      return Uint16Array.from(values, toFloat16);
    case 'bfloat16':
      return Uint16Array.from(values, toBfloat16);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of x, rounded to nearest even (overflow to ±infinity, subnormals kept). */
export function toFloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // infinity, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half of the smallest subnormal
    const m = mant | 0x800000; // implicit bit
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && out & 1)) out++;
    return sign | out;
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++; // may carry into the exponent: still right
  return sign | out;
}

/** bfloat16 bits of x: the top half of its float32 bits, rounded to nearest even. */
export function toBfloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if (Number.isNaN(x)) return (bits >>> 16) | 0x40;
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  readonly initializers = new Map<string, Initializer>();
  private readonly values = new Map<string, Tensor>();
  private readonly producers = new Map<string, Node>();
  private readonly constCache = new Map<string, Tensor>();
  private counter = 0;
  /** Nodes added while this is set belong to this recomputation segment (see `segment()`). */
  private currentSegment: string | undefined;

  constructor(
    readonly name = 'graph',
    /** The enclosing graph, for a Loop body: its values are visible here (outer scope). */
    readonly parent?: Graph,
  ) {}

  /** The root graph: constants and frozen weights live there, visible to every subgraph. */
  get root(): Graph {
    return this.parent ? this.parent.root : this;
  }

  /** A unique name; names are unique across a graph and its subgraphs (they share the root's counter). */
  fresh(base: string): string {
    const root = this.root;
    let name: string;
    do name = `${base}_${root.counter++}`;
    while (this.lookup(name) || root.hasDescendantValue(name));
    return name;
  }

  private readonly children: Graph[] = [];
  subgraph(name: string): Graph {
    const g = new Graph(name, this);
    this.children.push(g);
    return g;
  }
  private hasDescendantValue(name: string): boolean {
    return this.values.has(name) || this.children.some((c) => c.hasDescendantValue(name));
  }

  /** Tensor info by name, searching enclosing graphs. */
  lookup(name: string): Tensor | undefined {
    return this.values.get(name) ?? this.parent?.lookup(name);
  }

  info(name: string): Tensor {
    const t = this.lookup(name);
    if (!t) throw new GraphError(`unknown tensor '${name}' in graph '${this.name}'`);
    return t;
  }

  producer(name: string): Node | undefined {
    return this.producers.get(name);
  }

  /** The constant value of a tensor (an initializer anywhere up the chain), if it has one. */
  constValue(name: string): TypedData | undefined {
    return this.initializers.get(name)?.data ?? this.parent?.constValue(name);
  }

  /** Constant integer values (for shape/axes inputs) or undefined. */
  constInts(name: string): number[] | undefined {
    const d = this.constValue(name);
    if (!d) return undefined;
    return Array.from(d as ArrayLike<number | bigint>, (x) => Number(x));
  }

  private declare(t: Tensor): Tensor {
    if (this.lookup(t.name)) throw new GraphError(`tensor name '${t.name}' is already used in graph '${this.name}'`);
    const info: Tensor = { name: t.name, dtype: t.dtype, shape: [...t.shape] };
    this.values.set(t.name, info);
    return info;
  }

  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = this.declare({ name, dtype, shape });
    this.inputs.push(t);
    return t;
  }

  /** An initializer: a weight (frozen unless also listed as something to train) or a constant. */
  initializer(name: string, dtype: DType, shape: Shape, data: TypedData): Tensor {
    const n = numel(shape);
    if (data.length !== n) {
      throw new GraphError(`initializer '${name}' has ${data.length} values but shape ${fmtShape(shape)} needs ${n}`);
    }
    const t = this.declare({ name, dtype, shape });
    this.initializers.set(name, { ...t, data });
    return t;
  }

  /** A constant (deduplicated, stored as an initializer of the root graph). */
  constant(dtype: DType, shape: Shape, values: ArrayLike<number>): Tensor {
    const root = this.root;
    const key = `${dtype}|${shape.join(',')}|${Array.from(values).join(',')}`;
    const hit = root.constCache.get(key);
    if (hit) return hit;
    const short =
      values.length <= 4
        ? Array.from(values)
            .join('_')
            .replace(/[^0-9a-zA-Z_]/g, 'm')
        : `${values.length}`;
    const t = root.initializer(root.fresh(`c_${dtype}_${short}`), dtype, shape, typedArrayFor(dtype, values));
    root.constCache.set(key, t);
    return t;
  }

  /** Adds a node; returns its output tensors with inferred dtypes and shapes. */
  add(
    op: string,
    inputs: (Tensor | string | null)[],
    attrs: Record<string, AttrInput> = {},
    opts: { outputs?: number; names?: string[]; name?: string; domain?: string } = {},
  ): Tensor[] {
    const name = opts.name ?? this.fresh(op);
    const inNames = inputs.map((t) => (t === null ? '' : typeof t === 'string' ? t : t.name));
    for (const n of inNames) {
      if (n && !this.lookup(n)) throw new GraphError(`input '${n}' does not exist`, name, op);
    }
    const nOut = opts.names?.length ?? opts.outputs ?? 1;
    const outNames = opts.names ?? Array.from({ length: nOut }, (_, i) => (nOut === 1 ? `${name}_out` : `${name}_out${i}`));
    const node: Node = {
      name,
      op,
      domain: opts.domain ?? '',
      inputs: inNames,
      outputs: outNames,
      attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, toAttr(v)])),
      ...(this.currentSegment === undefined ? {} : { segment: this.currentSegment }),
    };
    const inInfos = inNames.map((n) => (n ? this.info(n) : undefined));
    const outInfos = inferShapes(node, inInfos, this);
    if (outInfos.length < nOut) {
      throw new GraphError(`shape inference produced ${outInfos.length} outputs, ${nOut} requested`, name, op);
    }
    const outs = outNames.map((n, i) => this.declare({ name: n, dtype: outInfos[i].dtype, shape: outInfos[i].shape }));
    this.nodes.push(node);
    for (const o of outNames) this.producers.set(o, node);
    return outs;
  }

  /**
   * Emits `fn`'s nodes as one recomputation segment: the backward pass recomputes them from the
   * segment's inputs instead of keeping their activations (gradient checkpointing).
   */
  segment<T>(name: string, fn: () => T): T {
    if (this.currentSegment !== undefined) throw new GraphError(`segment '${name}' inside segment '${this.currentSegment}'`);
    this.currentSegment = name;
    try {
      return fn();
    } finally {
      this.currentSegment = undefined;
    }
  }

  /** Adds a node with one output. */
  op(op: string, inputs: (Tensor | string | null)[], attrs: Record<string, AttrInput> = {}, name?: string): Tensor {
    return this.add(op, inputs, attrs, { name })[0];
  }

  output(t: Tensor, name?: string): Tensor {
    let out = t;
    if (name && name !== t.name) out = this.add('Identity', [t], {}, { names: [name] })[0];
    this.outputs.push(out);
    return out;
  }
}

/** Shape as used in error messages: "a[2,3] b[3,4]". */
export function describeInputs(names: string[], g: Graph): string {
  return names.map((n) => (n ? `${n}${fmtShape(g.lookup(n)?.shape)}` : '-')).join(' ');
}
