// The run directory: the contract between the trainer, the extension, the webview and other
// tools. run.json is replaced atomically; metrics.jsonl is append-only and read tolerantly.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeviceInfo, EvalRecord, RunStatus, TrainRecord } from '../../shared/protocol';

export interface RunInfo {
  id: string;
  name: string;
  configPath: string;
  configHash: string;
  /** The resolved config (every default filled). */
  config: unknown;
  status: RunStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  pid?: number;
  host: string;
  device?: DeviceInfo;
  versions: Record<string, string>;
  step: number;
  totalSteps?: number;
  epoch: number;
  best?: { metric: string; value: number; step: number; checkpoint: string };
  final?: Record<string, number>;
  error?: { message: string; node?: string; op?: string; step?: number };
  resumedFrom?: string;
  notes?: string;
  tags?: string[];
}

/** Writes a file atomically: temp file in the same folder, fsync, rename, fsync the folder. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // some file systems do not allow fsync on a folder
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'run';
}

/** A new run folder <runsDir>/<yyyymmdd-hhmmss>-<name>[-n]. */
export function createRunDir(runsDir: string, name: string, now = new Date()): { id: string; dir: string } {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  fs.mkdirSync(runsDir, { recursive: true });
  for (let n = 0; ; n++) {
    const id = `${stamp}-${slug(name)}${n ? `-${n}` : ''}`;
    const dir = path.join(runsDir, id);
    try {
      fs.mkdirSync(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

export class RunDir {
  readonly metricsFile: string;
  readonly runFile: string;

  constructor(readonly dir: string, public info: RunInfo) {
    this.metricsFile = path.join(dir, 'metrics.jsonl');
    this.runFile = path.join(dir, 'run.json');
  }

  static hostName(): string {
    return os.hostname();
  }

  /**
   * Merges fields into run.json and writes it atomically. The user's own fields (name, notes,
   * tags), which the editor may change while the run is going, are taken from the file first.
   */
  update(fields: Partial<RunInfo>): void {
    try {
      const onDisk = JSON.parse(fs.readFileSync(this.runFile, 'utf8')) as Partial<RunInfo>;
      for (const k of ['name', 'notes', 'tags'] as const) if (onDisk[k] !== undefined) (this.info as unknown as Record<string, unknown>)[k] = onDisk[k];
    } catch {
      // not written yet, or unreadable: keep what we have
    }
    this.info = { ...this.info, ...fields };
    writeJsonAtomic(this.runFile, this.info);
  }

  append(record: TrainRecord | EvalRecord): void {
    fs.appendFileSync(this.metricsFile, JSON.stringify(record) + '\n');
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }
}

export function readRunInfo(dir: string): RunInfo {
  return JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunInfo;
}

/** metrics.jsonl records; a torn or unparsable last line (a writer mid-append) is skipped. */
export function readMetrics(dir: string): (TrainRecord | EvalRecord)[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const out: (TrainRecord | EvalRecord)[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim())) {
        throw new Error(`${path.join(dir, 'metrics.jsonl')}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    }
  });
  return out;
}
