// Protocol-buffers wire format, written directly: varints, fixed32/fixed64 and length-delimited
// fields are all the ONNX model and TensorBoard event messages need, so no protobuf runtime.

export class Writer {
  private buf = new Uint8Array(256);
  private pos = 0;

  private ensure(n: number) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(v: number | bigint) {
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  private tag(field: number, wire: number) {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint) {
    this.tag(field, 0);
    this.varint(v);
  }

  double(field: number, v: number) {
    this.tag(field, 1);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, v, true);
    this.pos += 8;
  }

  float(field: number, v: number) {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
  }

  bytes(field: number, data: Uint8Array) {
    this.tag(field, 2);
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  string(field: number, s: string) {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, write: (w: Writer) => void) {
    const w = new Writer();
    write(w);
    this.bytes(field, w.finish());
  }

  packedInts(field: number, vs: number[]) {
    const w = new Writer();
    for (const v of vs) w.varint(v);
    this.bytes(field, w.finish());
  }

  packedFloats(field: number, vs: number[]) {
    const f = new Float32Array(vs);
    this.bytes(field, new Uint8Array(f.buffer));
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** One field of a message as read: a varint (as bigint), a fixed32/fixed64 as bytes, or length-delimited bytes. */
export interface Field {
  field: number;
  wire: 0 | 1 | 2 | 5;
  varint?: bigint;
  bytes: Uint8Array;
}

/** The fields of one message in order (the reading counterpart of Writer, for the same wire types). */
export function readFields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let x = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[pos++];
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return x;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    const take = (n: number) => {
      if (pos + n > buf.length) throw new Error(`protobuf: field ${field} runs past the end`);
      const b = buf.subarray(pos, pos + n);
      pos += n;
      return b;
    };
    if (wire === 0) {
      const v = varint();
      out.push({ field, wire, varint: v, bytes: new Uint8Array(0) });
    } else if (wire === 1) out.push({ field, wire, bytes: take(8) });
    else if (wire === 5) out.push({ field, wire, bytes: take(4) });
    else if (wire === 2) out.push({ field, wire, bytes: take(Number(varint())) });
    else throw new Error(`protobuf: unsupported wire type ${wire} (field ${field})`);
  }
  return out;
}

/** Packed or repeated varints of one field, as signed 64-bit numbers. */
export function readInts(fields: Field[], field: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === 0) out.push(Number(BigInt.asIntN(64, f.varint!)));
    else for (const g of readPackedVarints(f.bytes)) out.push(g);
  }
  return out;
}

function readPackedVarints(buf: Uint8Array): number[] {
  const out: number[] = [];
  let x = 0n;
  let shift = 0n;
  for (const b of buf) {
    x |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      out.push(Number(BigInt.asIntN(64, x)));
      x = 0n;
      shift = 0n;
    } else shift += 7n;
  }
  return out;
}
