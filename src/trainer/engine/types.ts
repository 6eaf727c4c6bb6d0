// The IR's plain types and its error, shared by ir.ts (the Graph) and shapes.ts (the shape rules
// the Graph runs as each node is added). They live here so that neither of those two modules
// imports the other's types: ir.ts imports shapes.ts, and shapes.ts only this module.

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';
/** A dimension: a fixed size, or a symbolic name such as 'batch'. */
export type Dim = number | string;
export type Shape = Dim[];

export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

export type TypedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;

export interface Initializer extends Tensor {
  data: TypedData;
}

/**
 * Attribute values, over the type G of a subgraph (ir.ts's `Attr` is `AttrOf<Graph>`).
 * Plain numbers: integers become INT, others FLOAT; use `A.f` to force FLOAT.
 */
export type AttrOf<G> =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'string'; v: string }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] }
  | { kind: 'graph'; v: G }
  | { kind: 'tensor'; v: Initializer };

/** A node, over the type G of its subgraph attributes (ir.ts's `Node` is `NodeOf<Graph>`). */
export interface NodeOf<G> {
  readonly name: string;
  readonly op: string;
  readonly domain: string;
  readonly inputs: string[]; // '' marks an omitted optional input
  readonly outputs: string[];
  readonly attrs: Record<string, AttrOf<G>>;
  /**
   * A recomputation segment (gradient checkpointing): the autodiff recomputes a segment's nodes
   * from its inputs in the backward pass instead of keeping their outputs (autodiff.ts).
   */
  readonly segment?: string;
}

/** What shape inference reads of a graph; ir.ts's Graph has all of it. */
export interface GraphView {
  readonly outputs: Tensor[];
  producer(name: string): NodeOf<GraphView> | undefined;
  info(name: string): Tensor;
  constInts(name: string): number[] | undefined;
}

/** An error found while building or running a graph; it names the node, op and shapes. */
export class GraphError extends Error {
  constructor(
    message: string,
    readonly node?: string,
    readonly op?: string,
    readonly shapes?: string,
  ) {
    super(node || op ? `${op ?? '?'} node '${node ?? '?'}': ${message}${shapes ? ` (${shapes})` : ''}` : message);
    this.name = 'GraphError';
  }
}

export function fmtShape(s: Shape | undefined): string {
  return s ? `[${s.join(',')}]` : '[?]';
}
