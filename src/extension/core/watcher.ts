// Watches runs folders with chokidar (native fs.watch, no polling): a run.json that appears or
// changes, a metrics.jsonl that grows, a run folder that goes; and sweeps folders the same way (a
// sweep folder's sweep.json, `sweep`). Events are coalesced per run
// folder (at most one per interval, reading the latest state), so a trainer rewriting run.json
// every block costs one read per interval.

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { RUN_SUBFOLDERS, runFileKind } from '../../shared/run';
import { SWEEP_FILE } from '../../shared/sweep/folder';

const SKIP_DIRS = new Set([...RUN_SUBFOLDERS, 'node_modules', '.git']);

export class RunsWatcher extends EventEmitter<{
  run: [dir: string];
  metrics: [dir: string];
  sweep: [dir: string];
  removed: [dir: string];
  folder: [runsDir: string];
  ready: [];
  error: [Error];
}> {
  private readonly watcher: FSWatcher;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly roots = new Set<string>();
  /** Runs folders that do not exist yet → a shallow watcher on their nearest existing ancestor. */
  private readonly waiting = new Map<string, FSWatcher>();

  constructor(
    folders: string[] = [],
    private readonly debounceMs = 150,
  ) {
    super();
    this.watcher = watch([], {
      ignoreInitial: true,
      depth: 1,
      ignored: (p, stats) => {
        const base = path.basename(p);
        if (SKIP_DIRS.has(base)) return true;
        if (stats?.isFile()) return runFileKind(base) === undefined && base !== SWEEP_FILE;
        return false;
      },
    });
    this.watcher.on('add', (p) => this.file(p));
    this.watcher.on('change', (p) => this.file(p));
    this.watcher.on('unlink', (p) => this.file(p));
    this.watcher.on('unlinkDir', (p) => {
      if (this.roots.has(path.dirname(p)))
        this.later(`rm:${p}`, () => {
          this.emit('removed', p);
          this.emit('sweep', p); // a sweep folder that went: its readers find no sweep.json
        });
    });
    this.watcher.on('ready', () => this.emit('ready'));
    this.watcher.on('error', (e) => this.emit('error', e instanceof Error ? e : new Error(String(e))));
    for (const f of folders) this.add(f);
  }

  /** Watches another runs folder. One that does not exist yet is waited for (a shallow watch on its nearest existing ancestor); `folder` fires when it appears. */
  add(folder: string): void {
    const f = path.resolve(folder);
    if (this.roots.has(f) || this.waiting.has(f)) return;
    if (fs.existsSync(f)) {
      this.roots.add(f);
      this.watcher.add(f);
      return;
    }
    let anc = path.dirname(f);
    while (!fs.existsSync(anc) && path.dirname(anc) !== anc) anc = path.dirname(anc);
    const next = path.join(anc, path.relative(anc, f).split(path.sep)[0]);
    const w = watch(anc, { ignoreInitial: true, depth: 0, ignored: (p) => p !== anc && p !== next });
    this.waiting.set(f, w);
    const check = () => {
      if (!fs.existsSync(next)) return;
      this.waiting.delete(f);
      void w.close();
      this.add(f);
      if (this.roots.has(f)) this.emit('folder', f);
    };
    w.on('addDir', check);
    w.on('ready', check); // created meanwhile
    w.on('error', (e) => this.emit('error', e instanceof Error ? e : new Error(String(e))));
  }

  private file(p: string): void {
    const dir = path.dirname(p);
    if (!this.roots.has(path.dirname(dir))) return;
    if (path.basename(p) === SWEEP_FILE) return this.later(`sweep:${dir}`, () => this.emit('sweep', dir));
    const kind = runFileKind(p);
    if (kind === 'info') this.later(`run:${dir}`, () => this.emit('run', dir));
    else if (kind === 'metrics') this.later(`metrics:${dir}`, () => this.emit('metrics', dir));
  }

  private later(key: string, f: () => void): void {
    if (this.timers.has(key)) return; // already due: it reads the latest state when it fires
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        f();
      }, this.debounceMs),
    );
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.waiting.values()].map((w) => w.close()));
    this.waiting.clear();
    await this.watcher.close();
  }
}
