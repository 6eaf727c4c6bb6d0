// ONNX ModelProto serialization: the only module that writes ONNX protobuf messages (with the
// wire-format writer in protowire.ts). Field numbers follow onnx/onnx.proto3.

import type { Attr, Graph, Initializer, Tensor, TypedData } from './ir';
import { GraphError } from './ir';
import { ONNX_DTYPE } from './shapes';
import { Writer } from './protowire';

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

function writeGraph(w: Writer, g: Graph) {
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
export function removeOutputIdentities(g: Graph): void {
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

function renameEverywhere(g: Graph, from: string, to: string) {
  for (const n of g.nodes) {
    const m = n as { inputs: string[]; outputs: string[] };
    m.inputs = m.inputs.map((x) => (x === from ? to : x));
    m.outputs = m.outputs.map((x) => (x === from ? to : x));
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') renameEverywhere(a.v, from, to);
  }
}

export function serializeModel(g: Graph, producer = 'finetune'): Uint8Array {
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
  return w.finish();
}
