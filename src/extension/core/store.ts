// All known runs, kept current from the run folders (scans and watcher events). Emits `change`
// with the folders that changed so the tree, CodeLens and dashboards refresh what they show. Each
// run's identity (short id and label, shared/run/identity.ts) is computed over all known runs, so
// that a label says what sets a run apart from every other run of its config.

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  inspectRun,
  runIdentities,
  scanRunsFolderDetailed,
  shortRunIds,
  type RunIdentity,
  type RunInfo,
  type RunRecord,
  type UnreadableRun,
} from '../../shared/run';

export class RunStore extends EventEmitter<{ change: [dirs: string[]] }> {
  private readonly runs = new Map<string, RunRecord>();
  /** Run folders whose run.json exists but cannot be used (garbage, empty, a folder), with why. */
  private readonly bad = new Map<string, string>();
  private readonly folders = new Set<string>();
  /** Identities by run id, computed on first use after a change (a live run changes run.json every block). */
  private identities: Map<string, RunIdentity> | undefined;
  /** Short ids over all runs, kept while the set of run ids is the same. */
  private shortIds: { key: string; ids: Map<string, string> } | undefined;
  /** Each config's identities, kept while its runs' ids, short ids, names, renames and config hashes are the same (a live run's progress changes none). */
  private readonly groupIdentities = new Map<string, { key: string; ids: Map<string, RunIdentity> }>();

  constructor() {
    super();
    // first, so that every other listener already sees the new labels
    this.on('change', () => (this.identities = undefined));
  }

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

  /**
   * The same as addFolder, reading run.json files in batches across event-loop turns (emitting
   * `change` per batch), so a history of thousands of runs never blocks the extension host.
   */
  async addFolderAsync(dir: string, batch = 200): Promise<boolean> {
    const d = path.resolve(dir);
    if (this.folders.has(d)) return false;
    this.folders.add(d);
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return true;
    }
    const dirs = names.filter((n) => n.isDirectory()).map((n) => path.join(d, n.name));
    for (let i = 0; i < dirs.length; i += batch) {
      const changed: string[] = [];
      for (const runDir of dirs.slice(i, i + batch)) {
        const r = inspectRun(runDir);
        if (!r) continue;
        if ('info' in r) this.runs.set(r.dir, r);
        else this.bad.set(r.dir, r.reason);
        changed.push(r.dir);
      }
      if (changed.length) this.emit('change', changed);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return true;
  }

  /** Re-reads every runs folder (Refresh). */
  rescan(): void {
    const before = new Set(this.runs.keys());
    const changed: string[] = [...this.bad.keys()];
    const seen = new Set<string>();
    this.bad.clear();
    for (const f of this.folders) {
      const { runs, unreadable } = scanRunsFolderDetailed(f);
      for (const r of runs) {
        seen.add(r.dir);
        this.runs.set(r.dir, r);
        changed.push(r.dir);
      }
      for (const u of unreadable) {
        this.bad.set(u.dir, u.reason);
        changed.push(u.dir);
      }
    }
    for (const d of before)
      if (!seen.has(d)) {
        this.runs.delete(d);
        changed.push(d);
      }
    this.emit('change', changed);
  }

  private scanFolder(f: string): void {
    const changed: string[] = [];
    const { runs, unreadable } = scanRunsFolderDetailed(f);
    for (const r of runs) {
      this.runs.set(r.dir, r);
      changed.push(r.dir);
    }
    for (const u of unreadable) {
      this.bad.set(u.dir, u.reason);
      changed.push(u.dir);
    }
    if (changed.length) this.emit('change', changed);
  }

  /**
   * Re-reads one run.json; a run folder without one (deleted) is dropped. An unreadable file keeps
   * the last good state of a known run (mid-write); a folder never read well is listed as unreadable.
   */
  refresh(dir: string): RunRecord | undefined {
    const d = path.resolve(dir);
    const r = inspectRun(d);
    if (r && 'info' in r) {
      this.runs.set(d, r);
      this.bad.delete(d);
      this.emit('change', [d]);
      return r;
    }
    if (r && !this.runs.has(d)) {
      if (this.bad.get(d) !== r.reason) {
        this.bad.set(d, r.reason);
        this.emit('change', [d]);
      }
      return undefined;
    }
    if (!r) {
      const had = this.runs.delete(d);
      if (this.bad.delete(d) || had) this.emit('change', [d]);
    }
    return this.runs.get(d);
  }

  remove(dir: string): void {
    const d = path.resolve(dir);
    const had = this.runs.delete(d);
    if (this.bad.delete(d) || had) this.emit('change', [d]);
  }

  /** Run folders whose run.json cannot be read, with the reason (for the run history to show). */
  unreadable(): UnreadableRun[] {
    return [...this.bad].map(([dir, reason]) => ({ dir, reason }));
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

  /** A run's short id and label among all known runs (see shared/run/identity.ts). */
  identity(r: RunRecord): RunIdentity {
    this.identities ??= this.computeIdentities();
    return this.identities.get(r.info.id) ?? runIdentities([r.info]).get(r.info.id)!;
  }

  /** runIdentities over all runs, recomputing only the configs whose runs changed in what a label depends on. */
  private computeIdentities(): Map<string, RunIdentity> {
    const infos = this.all().map((x) => x.info);
    const idsKey = infos
      .map((i) => i.id)
      .sort()
      .join('\n');
    if (this.shortIds?.key !== idsKey) this.shortIds = { key: idsKey, ids: shortRunIds(infos.map((i) => i.id)) };
    const short = this.shortIds.ids;
    const groups = new Map<string, RunInfo[]>();
    for (const i of infos) {
      const g = groups.get(i.configPath ?? '');
      if (g) g.push(i);
      else groups.set(i.configPath ?? '', [i]);
    }
    const out = new Map<string, RunIdentity>();
    for (const [configPath, runs] of groups) {
      // a config hash stands for the config (the trainer and the extension write it with the config)
      const key = runs.map((i) => [i.id, short.get(i.id), i.name, i.renamed, i.configHash, i.config ? 1 : 0].join('\u0001')).join('\n');
      let cached = this.groupIdentities.get(configPath);
      if (cached?.key !== key) this.groupIdentities.set(configPath, (cached = { key, ids: runIdentities(runs, short) }));
      for (const [id, x] of cached.ids) out.set(id, x);
    }
    for (const configPath of this.groupIdentities.keys()) if (!groups.has(configPath)) this.groupIdentities.delete(configPath);
    return out;
  }

  /** What a run is called wherever it is shown: its label. */
  label(r: RunRecord): string {
    return this.identity(r).label;
  }
}
