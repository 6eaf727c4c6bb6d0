// The experiments table's rows, without VS Code: a run (RunRecord) as a TableRow — its resolved
// config flattened to dotted keys as the config writes them (`training.batch_size`), its final
// metrics (`best_f1`, `test_f1`, …), its sweep — and the host side of the table panel (TableSession):
// nothing is posted before `ready`, then every row, then upserts and removals as the store changes;
// every message from the webview is validated and handled by one exhaustive switch.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { configAsWritten } from '../../shared/config/config';
import { isTableToHost, type HostToTable, type TableRow, type TableToHost } from '../../shared/protocol';
import type { RunRecord } from '../../shared/run';
import type { RunIdentity } from '../../shared/run/identity';
import { identityAlone } from './runs';
import { defaultSweepsFolder, readSweep } from '../../shared/sweep/folder';
import { MAX_EXPORT_CHARS } from './dashboardCore';
import { safeExportName } from './webviewGuard';

type Param = TableRow['params'][string];

/** A run's label and short id; the table passes the store's (`RunStore.identity`: among all runs of its config). */
export function rowIdentity(r: RunRecord, identity?: (r: RunRecord) => RunIdentity): RunIdentity {
  return identity ? identity(r) : identityAlone(r);
}

/** A config as flat dotted keys in its own snake_case (`training.lr`); lists as JSON text. */
export function flattenConfig(config: unknown): Record<string, Param> {
  const out: Record<string, Param> = {};
  const walk = (v: unknown, key: string) => {
    if (v === undefined) return;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      if (key) out[key] = v;
      return;
    }
    if (Array.isArray(v)) {
      out[key] = JSON.stringify(v);
      return;
    }
    if (typeof v === 'object') for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, key ? `${key}.${k}` : k);
  };
  walk(configAsWritten(config), '');
  return out;
}

/** The finite numbers of a run's `final` (test_… and best_… keys) and its best validation value. */
function metricsOf(r: RunRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.info.final ?? {})) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  // a running run has no `final` yet, but its best validation value so far
  const b = r.info.best;
  if (b && Number.isFinite(b.value) && out[`best_${b.metric}`] === undefined) out[`best_${b.metric}`] = b.value;
  return out;
}

export interface RowContext {
  /** The config path as shown (relative to the workspace). */
  relative(file: string): string;
  /** The sweep a run folder is a trial of. */
  sweepOf(dir: string): string | undefined;
  /** The run's identity among all runs (labels depend on the other runs of the same config). */
  identity?(r: RunRecord): RunIdentity;
}

export function toTableRow(r: RunRecord, ctx: RowContext): TableRow {
  const i = r.info;
  const row: TableRow = {
    id: i.id,
    ...rowIdentity(r, ctx.identity?.bind(ctx)),
    name: i.name,
    status: i.status,
    config: i.configPath ? ctx.relative(i.configPath) : '',
    step: Number.isFinite(i.step) ? i.step : 0,
    params: i.config ? flattenConfig(i.config) : {},
    metrics: metricsOf(r),
    tags: Array.isArray(i.tags) ? i.tags.filter((t) => typeof t === 'string') : [],
  };
  const sweep = ctx.sweepOf(r.dir);
  if (sweep !== undefined) row.sweep = sweep;
  if (i.startedAt) row.startedAt = i.startedAt;
  if (i.endedAt) row.endedAt = i.endedAt;
  if (i.totalSteps !== undefined) row.totalSteps = i.totalSteps;
  if (i.notes) row.notes = i.notes;
  if (i.pinned) row.pinned = true;
  return row;
}

/**
 * Which sweep each trial run folder belongs to, from the sweep folders beside the configs
 * (`.finetune/sweeps/<id>/sweep.json`): run folder → the sweep's name and id. A sweep folder that
 * cannot be read is skipped (the runs show ungrouped).
 */
export function sweepIndex(configPaths: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const cfg of configPaths) {
    const folder = defaultSweepsFolder(path.dirname(cfg));
    if (seen.has(folder)) continue;
    seen.add(folder);
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        const s = readSweep(path.join(folder, n));
        for (const t of s.trials) out.set(path.resolve(t.runDir), `${s.name} (${s.id.slice(-6)})`);
      } catch {
        // not a sweep folder, or one being written: its runs show ungrouped
      }
    }
  }
  return out;
}

export interface TableHost {
  post(m: HostToTable): unknown;
  runs(): RunRecord[];
  get(dir: string): RunRecord | undefined;
  byId(id: string): RunRecord | undefined;
  row(r: RunRecord): TableRow;
  /** An action on run folders: open, compare, diff, delete (the existing commands), pin/unpin (run.json). */
  act(action: 'open' | 'compare' | 'diff' | 'delete' | 'pin' | 'unpin', dirs: string[]): Promise<void> | void;
  save(suggestedName: string, data: string): Promise<void> | void;
  log(message: string): void;
}

/** Most ids one action may name (a webview cannot make the host loop over millions). */
export const MAX_ACTION_IDS = 100_000;

export class TableSession {
  private ready = false;
  /** Run folder → the id its row was sent with (a removed folder's run.json is gone). */
  private readonly sent = new Map<string, string>();

  constructor(private readonly host: TableHost) {}

  get isReady(): boolean {
    return this.ready;
  }

  async receive(raw: unknown): Promise<void> {
    if (!isTableToHost(raw)) {
      this.host.log(`table: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const m: TableToHost = raw;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sendAll();
        return;
      case 'action': {
        if (m.ids.length > MAX_ACTION_IDS) {
          this.host.log(`table: refused an action on ${m.ids.length} runs`);
          return;
        }
        const dirs = m.ids.map((id) => this.host.byId(id)?.dir).filter((d): d is string => !!d);
        if (dirs.length) await this.host.act(m.action, dirs);
        return;
      }
      case 'export':
        if (m.format !== 'csv' || m.data.length > MAX_EXPORT_CHARS) {
          this.host.log(`table: refused an export (${m.format}, ${m.data.length} characters)`);
          return;
        }
        await this.host.save(safeExportName(m.suggestedName, 'csv'), m.data);
        return;
      case 'error':
        this.host.log(`table: ${m.message}`);
        return;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** Every row again (after a rescan, or the sweeps changed). */
  sendAll(): void {
    if (!this.ready) return;
    this.sent.clear();
    this.host.post({ type: 'rows', rows: this.host.runs().map((r) => this.rowOf(r)) });
  }

  /** Run folders changed in the store: upsert those that are there, remove those that are gone. */
  changed(dirs: Iterable<string>): void {
    if (!this.ready) return;
    const rows = new Map<string, TableRow>();
    const gone: string[] = [];
    const configs = new Set<string>();
    for (const d of new Set(dirs)) {
      const dir = path.resolve(d);
      const r = this.host.get(dir);
      if (r) {
        rows.set(dir, this.rowOf(r));
        if (r.info.configPath) configs.add(r.info.configPath);
      } else {
        const id = this.sent.get(dir);
        if (id === undefined) continue;
        this.sent.delete(dir);
        gone.push(id);
        configs.add('*');
      }
    }
    // a label says what sets a run apart from its siblings: a new, changed or removed run can relabel the others of its config
    if (configs.size)
      for (const r of this.host.runs())
        if ((configs.has('*') || configs.has(r.info.configPath)) && !rows.has(path.resolve(r.dir))) rows.set(path.resolve(r.dir), this.rowOf(r));
    if (rows.size) this.host.post({ type: 'upsert', rows: [...rows.values()] });
    if (gone.length) this.host.post({ type: 'remove', ids: gone });
  }

  private rowOf(r: RunRecord): TableRow {
    const row = this.host.row(r);
    this.sent.set(path.resolve(r.dir), row.id);
    return row;
  }
}
