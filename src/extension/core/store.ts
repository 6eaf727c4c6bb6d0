// All known runs, kept current from the run folders (scans and watcher events). Emits `change`
// with the folders that changed so the tree, CodeLens and dashboards refresh what they show.

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRun, scanRunsFolder, type RunRecord } from './runs';

export class RunStore extends EventEmitter<{ change: [dirs: string[]] }> {
  private readonly runs = new Map<string, RunRecord>();
  private readonly folders = new Set<string>();

  /** The runs folders scanned. */
  get runsFolders(): string[] {
    return [...this.folders];
  }

  addFolder(dir: string): boolean {
    const d = path.resolve(dir);
    if (this.folders.has(d)) return false;
    this.folders.add(d);
    this.scanFolder(d);
    return true;
  }

  /** Re-reads every runs folder (Refresh). */
  rescan(): void {
    const before = new Set(this.runs.keys());
    const changed: string[] = [];
    const seen = new Set<string>();
    for (const f of this.folders)
      for (const r of scanRunsFolder(f)) {
        seen.add(r.dir);
        this.runs.set(r.dir, r);
        changed.push(r.dir);
      }
    for (const d of before) if (!seen.has(d)) {
      this.runs.delete(d);
      changed.push(d);
    }
    this.emit('change', changed);
  }

  private scanFolder(f: string): void {
    const changed: string[] = [];
    for (const r of scanRunsFolder(f)) {
      this.runs.set(r.dir, r);
      changed.push(r.dir);
    }
    if (changed.length) this.emit('change', changed);
  }

  /** Re-reads one run.json; a run folder without one (deleted) is dropped. An unreadable file (mid-write) keeps the last good state. */
  refresh(dir: string): RunRecord | undefined {
    const d = path.resolve(dir);
    const r = readRun(d);
    if (r) {
      this.runs.set(d, r);
      this.emit('change', [d]);
      return r;
    }
    if (this.runs.has(d) && !fs.existsSync(path.join(d, 'run.json'))) {
      this.runs.delete(d);
      this.emit('change', [d]);
    }
    return this.runs.get(d);
  }

  remove(dir: string): void {
    if (this.runs.delete(path.resolve(dir))) this.emit('change', [path.resolve(dir)]);
  }

  get(dir: string): RunRecord | undefined {
    return this.runs.get(path.resolve(dir));
  }

  byId(id: string): RunRecord | undefined {
    for (const r of this.runs.values()) if (r.info.id === id) return r;
    return undefined;
  }

  all(): RunRecord[] {
    return [...this.runs.values()];
  }
}
