// TensorBoard scalar event files (events.out.tfevents.*): TFRecord framing (length, masked
// CRC-32C of the length, Event proto, masked CRC-32C of the data) around Event messages
// (tensorflow/core/util/event.proto: wall_time=1 double, step=2 int64, file_version=3,
// summary=5 { value=1 { tag=1, simple_value=2 float } }).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writer } from '../engine/protowire';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; // Castagnoli polynomial
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function masked(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function record(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(masked(crc32c(out.subarray(0, 8))), 8);
  out.set(data, 12);
  out.writeUInt32LE(masked(crc32c(data)), 12 + data.length);
  return out;
}

export class TensorBoardWriter {
  readonly file: string;
  private fd: number;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${os.hostname()}.${process.pid}`);
    this.fd = fs.openSync(this.file, 'a');
    const w = new Writer();
    w.double(1, Date.now() / 1000);
    w.string(3, 'brain.Event:2');
    fs.writeSync(this.fd, record(w.finish()));
  }

  /** Writes scalars for one step (tags like "train/loss", "eval/f1"). */
  scalars(step: number, values: Record<string, number>): void {
    const w = new Writer();
    w.double(1, Date.now() / 1000);
    w.int(2, step);
    w.message(5, (summary) => {
      for (const [tag, v] of Object.entries(values)) {
        if (!Number.isFinite(v)) continue;
        summary.message(1, (value) => {
          value.string(1, tag);
          value.float(2, v);
        });
      }
    });
    fs.writeSync(this.fd, record(w.finish()));
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
