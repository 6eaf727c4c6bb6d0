// The table's UI state (sort keys, chosen columns, filter text, grouping, collapsed groups), kept in
// the webview state so a reload restores it, and the check of rows the host sends (the webview
// trusts nothing it receives: a bad row is dropped, not drawn).

import { isHostToTable, type HostToTable, type TableRow } from '../../shared/protocol';
import type { SortKey } from './sort';

export interface TableUi {
  sort: SortKey[];
  /** Columns the user showed (true) or hid (false); others follow the defaults. */
  chosen: Record<string, boolean>;
  filter: string;
  grouped: boolean;
  collapsed: string[];
}

export const defaultUi = (): TableUi => ({ sort: [{ key: 'started', dir: 'desc' }], chosen: {}, filter: '', grouped: true, collapsed: [] });

export function restoreUi(x: unknown): TableUi {
  const s = defaultUi();
  if (typeof x !== 'object' || x === null) return s;
  const o = x as Record<string, unknown>;
  if (Array.isArray(o.sort))
    s.sort = o.sort
      .filter((k): k is SortKey => !!k && typeof (k as SortKey).key === 'string' && ((k as SortKey).dir === 'asc' || (k as SortKey).dir === 'desc'))
      .map((k) => ({ key: k.key, dir: k.dir }));
  if (typeof o.chosen === 'object' && o.chosen !== null)
    for (const [k, v] of Object.entries(o.chosen as Record<string, unknown>)) if (typeof v === 'boolean') s.chosen[k] = v;
  if (typeof o.filter === 'string') s.filter = o.filter.slice(0, 2000);
  if (typeof o.grouped === 'boolean') s.grouped = o.grouped;
  if (Array.isArray(o.collapsed)) s.collapsed = o.collapsed.filter((k): k is string => typeof k === 'string');
  return s;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const optStr = (x: unknown) => x === undefined || isStr(x);
const STATUSES = new Set(['queued', 'running', 'completed', 'failed', 'stopped', 'pruned']);
const isParam = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

export function isTableRow(x: unknown): x is TableRow {
  if (!isObj(x)) return false;
  if (!isStr(x.id) || !isStr(x.shortId) || !isStr(x.label) || !isStr(x.name) || !isStr(x.config)) return false;
  if (!STATUSES.has(x.status as string) || typeof x.step !== 'number' || !Number.isFinite(x.step)) return false;
  if (!optStr(x.sweep) || !optStr(x.startedAt) || !optStr(x.endedAt) || !optStr(x.notes)) return false;
  if (x.totalSteps !== undefined && typeof x.totalSteps !== 'number') return false;
  if (x.pinned !== undefined && typeof x.pinned !== 'boolean') return false;
  if (!Array.isArray(x.tags) || !x.tags.every(isStr)) return false;
  if (!isObj(x.params) || !Object.values(x.params).every(isParam)) return false;
  if (!isObj(x.metrics) || !Object.values(x.metrics).every((v) => typeof v === 'number')) return false;
  return true;
}

/** A host message with its bad rows dropped, or undefined when the message itself is bad. */
export function checkTableMessage(x: unknown): HostToTable | undefined {
  if (!isHostToTable(x)) return undefined;
  if (x.type === 'remove') return { type: 'remove', ids: x.ids.filter(isStr) };
  return { type: x.type, rows: x.rows.filter(isTableRow) };
}
