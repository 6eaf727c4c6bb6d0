// A run's metrics.jsonl: one `train` or `eval` record per line, appended by the trainer. Read whole
// (readMetrics), or incrementally (MetricsTail: only the bytes appended since the last call, a torn
// last line held back until its newline arrives, starting over when the file shrank or was
// replaced by another inode).

import * as fs from 'node:fs';
import type { MetricsRecord } from '../protocol';
import { runPaths, writeFileAtomic } from './folder';

/** metrics.jsonl records of a run folder; a torn or unparsable last line (a writer mid-append) is skipped, an unparsable line before others is an error naming file:line. */
export function readMetrics(dir: string): MetricsRecord[] {
  const file = runPaths(dir).metrics;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: MetricsRecord[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch (e) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim())) {
        throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    }
  });
  return out;
}

/** Replaces metrics.jsonl with the given records (a resumed run drops what came after its checkpoint). */
export function rewriteMetrics(dir: string, records: MetricsRecord[]): void {
  writeFileAtomic(runPaths(dir).metrics, records.map((r) => JSON.stringify(r) + '\n').join(''));
}

export interface TailRead {
  records: MetricsRecord[];
  /** The file was truncated, replaced or removed: `records` start from its beginning (drop what you had). */
  reset: boolean;
  /** Complete lines that were not valid JSON records (skipped). */
  skipped: number;
}

export class MetricsTail {
  /** Bytes consumed (up to and including the last complete line). */
  offset = 0;
  private ino: number | undefined;

  /** Tails the metrics.jsonl of the run folder `runDir`. */
  static of(runDir: string, chunkBytes?: number): MetricsTail {
    return new MetricsTail(runPaths(runDir).metrics, chunkBytes);
  }

  constructor(
    readonly file: string,
    private readonly chunkBytes = 1 << 20,
  ) {}

  /** The records appended since the last call. */
  read(): TailRead {
    const records: MetricsRecord[] = [];
    const it = this.steps((r) => {
      records.push(...r);
    });
    let step = it.next();
    while (!step.done) step = it.next();
    return { records, reset: step.value.reset, skipped: step.value.skipped };
  }

  /**
   * The same as read(), delivering records chunk by chunk and yielding to the event loop between
   * chunks, so a history of a million lines never blocks the extension host for long.
   */
  async readAsync(onRecords: (records: MetricsRecord[]) => void): Promise<{ reset: boolean; skipped: number }> {
    const it = this.steps(onRecords);
    let step = it.next();
    while (!step.done) {
      await new Promise((resolve) => setImmediate(resolve));
      step = it.next();
    }
    return step.value;
  }

  /** Reads chunk by chunk; yields after each chunk's records were delivered. */
  private *steps(onRecords: (records: MetricsRecord[]) => void): Generator<void, { reset: boolean; skipped: number }> {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      const reset = this.offset > 0;
      this.offset = 0;
      this.ino = undefined;
      return { reset, skipped: 0 };
    }
    let reset = false;
    if ((this.ino !== undefined && st.ino !== this.ino) || st.size < this.offset) {
      reset = this.offset > 0 || this.ino !== undefined;
      this.offset = 0;
    }
    this.ino = st.ino;
    let skipped = 0;
    if (st.size <= this.offset) return { reset, skipped };
    const fd = fs.openSync(this.file, 'r');
    try {
      let carry = Buffer.alloc(0);
      let pos = this.offset;
      while (pos < st.size) {
        const buf = Buffer.allocUnsafe(Math.min(this.chunkBytes, st.size - pos));
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        const dataStart = pos - carry.length;
        pos += n;
        const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
        const last = data.lastIndexOf(0x0a);
        if (last < 0) {
          carry = Buffer.from(data);
          continue;
        }
        const records: MetricsRecord[] = [];
        for (const line of data.subarray(0, last).toString('utf8').split('\n')) {
          if (!line.trim()) continue;
          try {
            const rec = JSON.parse(line) as MetricsRecord;
            if (rec && (rec.type === 'train' || rec.type === 'eval')) records.push(rec);
            else skipped++;
          } catch {
            skipped++;
          }
        }
        this.offset = dataStart + last + 1;
        carry = Buffer.from(data.subarray(last + 1));
        if (records.length) onRecords(records);
        yield;
      }
    } finally {
      fs.closeSync(fd);
    }
    return { reset, skipped };
  }
}
