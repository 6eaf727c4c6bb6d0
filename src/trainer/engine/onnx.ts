// ONNX ModelProto serialization: the only module that writes ONNX protobuf messages (with the
// wire-format writer in protowire.ts), and reads back the models it wrote (parseModel, for
// passes over an exported model such as int8 quantization). Field numbers follow onnx/onnx.proto3.

import type { Attr, DType, Graph as GraphT, Initializer, Shape, Tensor, TypedData } from './ir';
import { Graph, GraphError } from './ir';
import { DTYPE_CODES, ONNX_DTYPE } from './shapes';
import { readFields, readInts, Writer, type Field } from './protowire';

export const OPSET = 20;
const IR_VERSION = 9;

function rawBytes(data: TypedData): Uint8Array {
  // ONNX raw_data is little-endian, like every platform Node runs on.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function writeTensor(w: Writer, t: Initializer) {
  for (const d of t.shape) w.int(1, d as number);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, t.name);
  w.bytes(9, rawBytes(t.data));
}

function writeValueInfo(w: Writer, t: Tensor) {
  w.string(1, t.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, ONNX_DTYPE[t.dtype]);
      tt.message(2, (shape) => {
        for (const d of t.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

// AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7 } as const;

function writeAttr(w: Writer, name: string, a: Attr) {
  w.string(1, name);
  w.int(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case 'float':
      w.float(2, a.v);
      break;
    case 'int':
      w.int(3, a.v);
      break;
    case 'string':
      w.string(4, a.v);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.v));
      break;
    case 'graph':
      w.message(6, (g) => writeGraph(g, a.v));
      break;
    case 'floats':
      w.packedFloats(7, a.v);
      break;
    case 'ints':
      w.packedInts(8, a.v);
      break;
  }
}

function writeGraph(w: Writer, g: GraphT) {
  for (const n of g.nodes) {
    w.message(1, (nw) => {
      for (const i of n.inputs) nw.string(1, i);
      for (const o of n.outputs) nw.string(2, o);
      nw.string(3, n.name);
      nw.string(4, n.op);
      for (const [k, v] of Object.entries(n.attrs)) nw.message(5, (aw) => writeAttr(aw, k, v));
      if (n.domain) nw.string(7, n.domain);
    });
  }
  w.string(2, g.name);
  for (const t of g.initializers.values()) w.message(5, (tw) => writeTensor(tw, t));
  for (const t of g.inputs) w.message(11, (vw) => writeValueInfo(vw, t));
  for (const t of g.outputs) w.message(12, (vw) => writeValueInfo(vw, t));
}

/**
 * Removes Identity nodes whose output is a graph output by renaming their input in place:
 * ORT executes such an Identity as a real copy. An Identity over a graph input or initializer,
 * or over a value that is itself an output, is kept (the value must appear under two names).
 */
export function removeOutputIdentities(g: GraphT): void {
  for (const n of g.nodes) for (const a of Object.values(n.attrs)) if (a.kind === 'graph') removeOutputIdentities(a.v);
  const outNames = new Set(g.outputs.map((o) => o.name));
  const protectedNames = new Set([...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  for (let idx = g.nodes.length - 1; idx >= 0; idx--) {
    const n = g.nodes[idx];
    if (n.op !== 'Identity' || !outNames.has(n.outputs[0])) continue;
    const src = n.inputs[0];
    if (protectedNames.has(src) || outNames.has(src) || !g.producer(src)) continue;
    const dst = n.outputs[0];
    g.nodes.splice(idx, 1);
    renameEverywhere(g, src, dst);
  }
}

function renameEverywhere(g: GraphT, from: string, to: string) {
  for (const n of g.nodes) {
    const m = n as { inputs: string[]; outputs: string[] };
    m.inputs = m.inputs.map((x) => (x === from ? to : x));
    m.outputs = m.outputs.map((x) => (x === from ? to : x));
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') renameEverywhere(a.v, from, to);
  }
}

/** Opset versions of the non-default domains the engine emits (ONNX Runtime's contrib ops). */
const DOMAIN_OPSET: Record<string, number> = { 'com.microsoft': 1 };

function domainsOf(g: GraphT, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    if (n.domain) into.add(n.domain);
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') domainsOf(a.v, into);
  }
  return into;
}

export function serializeModel(g: GraphT, producer = 'finetune'): Uint8Array {
  if (g.outputs.length === 0) throw new GraphError(`graph '${g.name}' has no outputs`);
  removeOutputIdentities(g);
  const w = new Writer();
  w.int(1, IR_VERSION);
  w.string(2, producer);
  w.message(7, (gw) => writeGraph(gw, g));
  w.message(8, (ow) => {
    ow.string(1, '');
    ow.int(2, OPSET);
  });
  for (const d of domainsOf(g)) {
    const version = DOMAIN_OPSET[d];
    if (version === undefined) throw new GraphError(`graph '${g.name}' uses domain '${d}', which has no opset version here`);
    w.message(8, (ow) => {
      ow.string(1, d);
      ow.int(2, version);
    });
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Reading a model back (the subset serializeModel writes: raw_data tensors, no subgraphs)

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const one = (fs: Field[], field: number) => fs.find((f) => f.field === field);
const str = (fs: Field[], field: number) => {
  const f = one(fs, field);
  return f ? text(f.bytes) : '';
};
const int = (fs: Field[], field: number) => readInts(fs, field)[0] ?? 0;

function dtypeOf(code: number, what: string): DType {
  const d = DTYPE_CODES[code];
  if (!d) throw new GraphError(`${what}: ONNX data type ${code} is not supported`);
  return d;
}

/** A copy of raw little-endian bytes as the typed array of `dtype` (copied: raw_data is not aligned). */
function typedFromRaw(dtype: DType, raw: Uint8Array): TypedData {
  // Uint8Array.from, not slice: for a Node Buffer, slice is a view into a shared pool.
  const buf = Uint8Array.from(raw).buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buf);
    case 'bool':
    case 'uint8':
      return new Uint8Array(buf);
  }
}

function readTensor(buf: Uint8Array): Initializer {
  const fs = readFields(buf);
  const name = str(fs, 8);
  const dtype = dtypeOf(int(fs, 2), `tensor '${name}'`);
  const raw = one(fs, 9);
  const shape = readInts(fs, 1);
  const n = shape.reduce((a, b) => a * b, 1);
  if (!raw && n > 0) throw new GraphError(`tensor '${name}' has no raw_data (only raw_data tensors are read)`);
  return { name, dtype, shape, data: typedFromRaw(dtype, raw?.bytes ?? new Uint8Array(0)) };
}

function readValueInfo(buf: Uint8Array): Tensor {
  const fs = readFields(buf);
  const name = str(fs, 1);
  const tt = one(readFields(one(fs, 2)?.bytes ?? new Uint8Array(0)), 1);
  if (!tt) throw new GraphError(`value '${name}' is not a tensor`);
  const ttf = readFields(tt.bytes);
  const shape: Shape = readFields(one(ttf, 2)?.bytes ?? new Uint8Array(0))
    .filter((f) => f.field === 1)
    .map((d) => {
      const df = readFields(d.bytes);
      return one(df, 2) ? str(df, 2) : int(df, 1);
    });
  return { name, dtype: dtypeOf(int(ttf, 1), `value '${name}'`), shape };
}

function readAttr(buf: Uint8Array, node: string): [string, Attr] {
  const fs = readFields(buf);
  const name = str(fs, 1);
  const type = int(fs, 20);
  const floatAt = (b: Uint8Array, i: number) => new DataView(b.buffer, b.byteOffset + 4 * i, 4).getFloat32(0, true);
  switch (type) {
    case ATTR_TYPE.float:
      return [name, { kind: 'float', v: floatAt(one(fs, 2)!.bytes, 0) }];
    case ATTR_TYPE.int:
      return [name, { kind: 'int', v: int(fs, 3) }];
    case ATTR_TYPE.string:
      return [name, { kind: 'string', v: str(fs, 4) }];
    case ATTR_TYPE.tensor:
      return [name, { kind: 'tensor', v: readTensor(one(fs, 5)!.bytes) }];
    case ATTR_TYPE.ints:
      return [name, { kind: 'ints', v: readInts(fs, 8) }];
    case ATTR_TYPE.floats:
      return [
        name,
        { kind: 'floats', v: fs.filter((f) => f.field === 7).flatMap((f) => Array.from({ length: f.bytes.length / 4 }, (_, i) => floatAt(f.bytes, i))) },
      ];
    default:
      throw new GraphError(`attribute '${name}' of node '${node}' has type ${type}, which is not read (subgraphs are not)`);
  }
}

/**
 * A model written by serializeModel, as a Graph: inputs, initializers, then every node re-added
 * (so each is shape-checked again) under its own names, and the outputs.
 */
export function parseModel(bytes: Uint8Array): Graph {
  const model = readFields(bytes);
  const gf = one(model, 7);
  if (!gf) throw new GraphError('not an ONNX model: no graph');
  const fs = readFields(gf.bytes);
  const g = new Graph(str(fs, 2) || 'graph');
  for (const f of fs.filter((f) => f.field === 11)) {
    const t = readValueInfo(f.bytes);
    g.input(t.name, t.dtype, t.shape);
  }
  for (const f of fs.filter((f) => f.field === 5)) {
    const t = readTensor(f.bytes);
    g.initializer(t.name, t.dtype, t.shape, t.data);
  }
  for (const f of fs.filter((f) => f.field === 1)) {
    const nf = readFields(f.bytes);
    const name = str(nf, 3);
    const strs = (field: number) => nf.filter((x) => x.field === field).map((x) => text(x.bytes));
    const attrs = Object.fromEntries(nf.filter((x) => x.field === 5).map((x) => readAttr(x.bytes, name)));
    g.add(str(nf, 4), strs(1), attrs, { name, names: strs(2), domain: str(nf, 7) });
  }
  for (const f of fs.filter((f) => f.field === 12)) g.output(g.info(readValueInfo(f.bytes).name));
  return g;
}
