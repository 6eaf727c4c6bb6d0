// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors):
//
//   [8 bytes]  N, the header length, unsigned 64-bit little-endian
//   [N bytes]  UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
//                            "__metadata__"?: { "<key>": "<string value>" } }
//   [rest]     the byte buffer; offsets are relative to its start, tensors are little-endian,
//              row-major, must not overlap and must cover the buffer without holes.
//
// Every error names the file (or the given source) and, where there is one, the tensor.

import * as fs from 'node:fs';
import * as path from 'node:path';

export type StDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'U8' | 'BOOL';

export interface StTensor {
  dtype: StDtype;
  shape: number[];
  data: Uint8Array; // raw little-endian bytes (a view into the file's bytes, not a copy)
}

const ITEM_SIZE: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1 };
/** The reference implementation refuses headers over 100 MB; so do we (a corrupt length is far more likely). */
const MAX_HEADER = 100 * 1024 * 1024;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const fmtShape = (s: number[]) => `[${s.join(', ')}]`;

/** Reads a whole .safetensors file. */
export function readSafetensors(file: string): { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read safetensors file: ${(e as Error).message}`);
  }
  return parseSafetensors(buf, file);
}

/**
 * The tensor shapes of a .safetensors file, from its header only (the data is not read). Lenient:
 * readSafetensors checks the file in full.
 */
export function readSafetensorsShapes(file: string): Map<string, number[]> {
  const fd = fs.openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    if (fs.readSync(fd, len, 0, 8, 0) !== 8) throw new Error(`${file}: truncated safetensors file`);
    const n = Number(len.readBigUInt64LE(0));
    if (n < 2 || n > MAX_HEADER) throw new Error(`${file}: bad safetensors header length ${n}`);
    const text = Buffer.alloc(n);
    if (fs.readSync(fd, text, 0, n, 8) !== n) throw new Error(`${file}: truncated safetensors header`);
    const header = JSON.parse(text.toString('utf8')) as Record<string, { shape?: unknown }>;
    const out = new Map<string, number[]>();
    for (const [name, entry] of Object.entries(header)) if (name !== '__metadata__' && Array.isArray(entry?.shape)) out.set(name, entry.shape as number[]);
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** Parses safetensors bytes; `source` (a file path) prefixes every error message. */
export function parseSafetensors(buf: Uint8Array, source = '<safetensors>'): { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (buf.length < 8) fail(`truncated file: ${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(buf.length - 8))
    fail(`header length ${n64} goes beyond the end of the file (${buf.length - 8} bytes after the length field); the file is truncated or not safetensors`);
  const n = Number(n64);
  if (n > MAX_HEADER) fail(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  if (n < 2) fail(`header length ${n} is too short for a JSON object`);
  const headerText = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(8, 8 + n));
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    return fail(`invalid JSON header: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, StTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(`${where}: header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    // A missing field is named as missing, not printed as "undefined".
    for (const [k, v] of [
      ['dtype', dtype],
      ['shape', shape],
      ['data_offsets', offsets],
    ] as const)
      if (v === undefined) fail(`${where}: has no ${k}`);
    if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE))
      fail(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${where}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] are out of range: the data buffer has ${dataLen} bytes (truncated file?)`);
    const dt = dtype as StDtype;
    const expected = numel(shape as number[]) * ITEM_SIZE[dt];
    if (end - begin !== expected) {
      fail(
        `${where}: byte count ${end - begin} does not match shape ${fmtShape(shape as number[])} of ${dt} (${numel(shape as number[])} elements x ${ITEM_SIZE[dt]} bytes = ${expected})`,
      );
    }
    spans.push({ name, begin, end });
    tensors.set(name, { dtype: dt, shape: (shape as number[]).slice(), data: new Uint8Array(buf.buffer, buf.byteOffset + dataStart + begin, end - begin) }); // a plain view (not a Buffer, whose slice() would not copy)
  }

  // No overlaps and no holes: sorted by start, each tensor begins where the previous one ends.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: string | undefined;
  for (const s of spans) {
    if (s.begin < pos) fail(`tensor "${s.name}": data_offsets [${s.begin}, ${s.end}] overlap tensor "${prev}" (which ends at ${pos})`);
    if (s.begin > pos) fail(`tensor "${s.name}": bytes ${pos}..${s.begin} of the data buffer before it belong to no tensor`);
    pos = s.end;
    prev = s.name;
  }
  if (pos !== dataLen) fail(`bytes ${pos}..${dataLen} at the end of the data buffer belong to no tensor${prev ? ` (last tensor "${prev}")` : ''}`);
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------
// Conversion to float32.

let HALF_TABLE: Float32Array | undefined;

/** IEEE 754 binary16 -> number, including subnormals, infinities and NaN. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) HALF_TABLE[i] = halfToFloat(i);
  }
  return HALF_TABLE;
}

/** Reads `count` little-endian 16-bit values from raw bytes. */
function u16s(data: Uint8Array, count: number): Uint16Array {
  if (LITTLE_ENDIAN) {
    const copy = new Uint8Array(count * 2);
    copy.set(data);
    return new Uint16Array(copy.buffer);
  }
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = data[2 * i] | (data[2 * i + 1] << 8);
  return out;
}

/**
 * A tensor's values as a new Float32Array: F32 copied (so always aligned and owned), F16, BF16
 * and F64 converted; integer and boolean dtypes throw (they are not model weights).
 */
export function toFloat32(t: StTensor, name = 'tensor'): Float32Array {
  const n = numel(t.shape);
  const bytes = n * (ITEM_SIZE[t.dtype] ?? NaN);
  if (t.data.byteLength !== bytes) throw new Error(`${name}: ${t.data.byteLength} bytes for shape ${fmtShape(t.shape)} of ${t.dtype} (expected ${bytes})`);
  switch (t.dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN) {
        const copy = new Uint8Array(bytes);
        copy.set(t.data);
        return new Float32Array(copy.buffer);
      }
      const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true));
    }
    case 'F64': {
      const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      const table = halfTable();
      const h = u16s(t.data, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[h[i]];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const h = u16s(t.data, n);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new Error(`${name}: dtype ${t.dtype} cannot be read as float32 weights (expected F32, F16, BF16 or F64)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

export type StWritable = { dtype: 'F32' | 'I64'; shape: number[]; data: Float32Array | BigInt64Array };

function rawBytes(a: Float32Array | BigInt64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  if (a instanceof Float32Array) a.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  else a.forEach((v, i) => dv.setBigInt64(8 * i, v, true));
  return out;
}

/**
 * Writes a .safetensors file atomically: a temporary file in the same folder is written, fsynced
 * and renamed over `file`, so readers never see a half-written file. Tensors are laid out I64
 * first, then F32, each group by name, so every tensor is aligned to its item size (the header is
 * padded with spaces to a multiple of 8 bytes).
 */
export function writeSafetensors(file: string, tensors: Record<string, StWritable>, metadata?: Record<string, string>): void {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    const where = `${file}: tensor "${name}"`;
    if (name === '__metadata__') throw new Error(`${file}: "__metadata__" is reserved and cannot name a tensor`);
    if (t.dtype !== 'F32' && t.dtype !== 'I64') throw new Error(`${where}: cannot write dtype ${String(t.dtype)} (F32 or I64)`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new Error(`${where}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    const wantArray = t.dtype === 'F32' ? Float32Array : BigInt64Array;
    if (!(t.data instanceof wantArray)) throw new Error(`${where}: dtype ${t.dtype} needs a ${wantArray.name}, got ${(t.data as object)?.constructor?.name}`);
    if (t.data.length !== numel(t.shape)) throw new Error(`${where}: ${t.data.length} values for shape ${fmtShape(t.shape)} (${numel(t.shape)} elements)`);
  }
  if (metadata) for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new Error(`${file}: metadata "${k}" is not a string`);

  entries.sort(([na, a], [nb, b]) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || (na < nb ? -1 : na > nb ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const size = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const lenField = Buffer.alloc(8);
  lenField.writeBigUInt64LE(BigInt(json.length));

  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w');
    const writeAll = (bytes: Uint8Array) => {
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(fd!, bytes, done, Math.min(bytes.length - done, 1 << 30));
    };
    writeAll(lenField);
    writeAll(json);
    for (const [, t] of entries) writeAll(rawBytes(t.data));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw new Error(`${file}: cannot write safetensors file: ${(e as Error).message}`);
  }
  // Make the rename itself durable where the platform allows syncing a directory.
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Not supported (e.g. Windows); the file itself is already synced.
  }
}
