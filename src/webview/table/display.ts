// What the table draws, top to bottom: pinned runs first, then (grouped) one group per config in
// the order its best-sorted run comes, a sweep's runs in a sub-group of their config; or (flat) the
// runs in sorted order. Rows inside a collapsed group are left out.

import type { TableRow } from '../../shared/protocol';

export type Item =
  { kind: 'group'; key: string; label: string; depth: number; count: number; collapsed: boolean } | { kind: 'row'; row: TableRow; depth: number };

export const PINNED_GROUP = 'pinned';
export const groupKey = (config: string, sweep?: string) => (sweep === undefined ? `config:${config}` : `sweep:${config}\u0000${sweep}`);

interface Bucket {
  key: string;
  label: string;
  rows: TableRow[];
  /** Direct rows and sweep sub-groups, in order of first appearance. */
  entries: (TableRow | Bucket)[];
}

function newBucket(key: string, label: string): Bucket {
  return { key, label, rows: [], entries: [] };
}

export function buildDisplay(sorted: readonly TableRow[], o: { grouped: boolean; collapsed: ReadonlySet<string> }): Item[] {
  const pinned = sorted.filter((r) => r.pinned);
  const rest = sorted.filter((r) => !r.pinned);
  const out: Item[] = [];
  if (!o.grouped) {
    for (const row of pinned) out.push({ kind: 'row', row, depth: 0 });
    for (const row of rest) out.push({ kind: 'row', row, depth: 0 });
    return out;
  }
  const emit = (b: Bucket, depth: number) => {
    const collapsed = o.collapsed.has(b.key);
    out.push({ kind: 'group', key: b.key, label: b.label, depth, count: b.rows.length, collapsed });
    if (collapsed) return;
    for (const e of b.entries) {
      if ('entries' in e) emit(e, depth + 1);
      else out.push({ kind: 'row', row: e, depth: depth + 1 });
    }
  };
  if (pinned.length) {
    const p = newBucket(PINNED_GROUP, 'Pinned');
    p.rows = pinned;
    p.entries = pinned;
    emit(p, 0);
  }
  const configs = new Map<string, Bucket>();
  const sweeps = new Map<string, Bucket>();
  for (const r of rest) {
    const ck = groupKey(r.config);
    let c = configs.get(ck);
    if (!c) configs.set(ck, (c = newBucket(ck, r.config || '(no config)')));
    c.rows.push(r);
    if (r.sweep === undefined) {
      c.entries.push(r);
      continue;
    }
    const sk = groupKey(r.config, r.sweep);
    let s = sweeps.get(sk);
    if (!s) {
      sweeps.set(sk, (s = newBucket(sk, `sweep ${r.sweep}`)));
      c.entries.push(s);
    }
    s.rows.push(r);
    s.entries.push(r);
  }
  for (const c of configs.values()) emit(c, 0);
  return out;
}
