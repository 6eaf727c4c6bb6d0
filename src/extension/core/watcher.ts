// Watches runs folders with chokidar: a run.json that appears or
// changes, a metrics.jsonl that grows, a run folder that goes; and sweeps folders the same way (a
// sweep folder's sweep.json, `sweep`). Events are coalesced per run
// folder (at most one per interval, reading the latest state), so a trainer rewriting run.json
// every block costs one read per interval. Native fs.watch events do not cross machines, so a runs
// folder on a network filesystem (NFS, Lustre, GPFS, SMB… — a cluster's shared disk, where Slurm
// jobs write) is polled instead (`finetune.watch.polling`: auto, always, never).

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { RUN_SUBFOLDERS, runFileKind } from '../../shared/run';
import { SWEEP_FILE } from '../../shared/sweep/folder';

const SKIP_DIRS = new Set([...RUN_SUBFOLDERS, 'node_modules', '.git']);

/** statfs `f_type` magic numbers of filesystems written from other machines (linux/magic.h and the projects' own). */
const NETWORK_FS = new Map<number, string>([
  [0x6969, 'nfs'],
  [0x0bd00bd0, 'lustre'],
  [0x47504653, 'gpfs'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x517b, 'smb'],
  [0x19830326, 'beegfs'],
  [0x00c36400, 'ceph'],
  [0x65735546, 'fuse'],
  [0x5346414f, 'afs'],
]);

export type PollingMode = 'auto' | 'always' | 'never';

/** The network filesystem a folder (or its nearest existing ancestor) is on, or undefined for a local one. */
export function networkFs(folder: string, typeOf: (p: string) => number = (p) => fs.statfsSync(p).type): string | undefined {
  let p = path.resolve(folder);
  while (!fs.existsSync(p) && path.dirname(p) !== p) p = path.dirname(p);
  try {
    return NETWORK_FS.get(typeOf(p));
  } catch {
    return undefined;
  }
}

/** Whether a runs folder is watched by polling: `auto` polls network filesystems only. */
export function needsPolling(folder: string, mode: PollingMode, typeOf?: (p: string) => number): boolean {
  return mode === 'always' || (mode === 'auto' && networkFs(folder, typeOf) !== undefined);
}

/** How often a polled folder is looked at, ms (chokidar's interval; run.json is rewritten every block). */
const POLL_MS = 1000;

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
  /** The watcher of folders on network filesystems (made on first use). */
  private poller: FSWatcher | undefined;
  private readonly polled = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly roots = new Set<string>();
  /** Runs folders that do not exist yet → a shallow watcher on their nearest existing ancestor. */
  private readonly waiting = new Map<string, FSWatcher>();

  constructor(
    folders: string[] = [],
    private readonly debounceMs = 150,
    /** Whether a runs folder is polled (see needsPolling). */
    private readonly polling: (folder: string) => boolean = () => false,
  ) {
    super();
    this.watcher = this.makeWatcher(false);
    for (const f of folders) this.add(f);
  }

  private makeWatcher(usePolling: boolean): FSWatcher {
    const w = watch([], {
      ignoreInitial: true,
      depth: 1,
      usePolling,
      interval: POLL_MS,
      ignored: (p, stats) => {
        const base = path.basename(p);
        if (SKIP_DIRS.has(base)) return true;
        if (stats?.isFile()) return runFileKind(base) === undefined && base !== SWEEP_FILE;
        return false;
      },
    });
    this.listen(w, !usePolling); // `ready`: the native watcher's (the one every caller has)
    return w;
  }

  /** The runs folders watched by polling. */
  pollingFolders(): string[] {
    return [...this.polled];
  }

  private listen(w: FSWatcher, emitReady: boolean): void {
    w.on('add', (p) => this.file(p));
    w.on('change', (p) => this.file(p));
    w.on('unlink', (p) => this.file(p));
    w.on('unlinkDir', (p) => {
      if (this.roots.has(path.dirname(p)))
        this.later(`rm:${p}`, () => {
          this.emit('removed', p);
          this.emit('sweep', p); // a sweep folder that went: its readers find no sweep.json
        });
    });
    if (emitReady) w.on('ready', () => this.emit('ready'));
    w.on('error', (e) => this.emit('error', e instanceof Error ? e : new Error(String(e))));
  }

  /** Watches another runs folder. One that does not exist yet is waited for (a shallow watch on its nearest existing ancestor); `folder` fires when it appears. */
  add(folder: string): void {
    const f = path.resolve(folder);
    if (this.roots.has(f) || this.waiting.has(f)) return;
    if (fs.existsSync(f)) {
      this.roots.add(f);
      if (this.polling(f)) {
        this.polled.add(f);
        (this.poller ??= this.makeWatcher(true)).add(f);
      } else this.watcher.add(f);
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
    await Promise.all([this.watcher.close(), this.poller?.close()]);
  }
}
