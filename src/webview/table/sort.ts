// Multi-column sort of the experiments table: a list of keys, the first deciding most. A click on a
// header sorts by that column alone (again: the other way, a third time: unsorted); shift-click adds
// it as the next key (or turns it round, or drops it). Missing values sort last either way.

import type { TableRow } from '../../shared/protocol';
import { statusRank, type CellValue, type Column } from './columns';

export type SortDir = 'asc' | 'desc';
export interface SortKey {
  key: string;
  dir: SortDir;
}

/** The sort after a click on column `key` (`add`: shift held); `first` is the direction a new key starts with. */
export function toggleSort(keys: readonly SortKey[], key: string, add: boolean, first: SortDir = 'asc'): SortKey[] {
  const i = keys.findIndex((k) => k.key === key);
  const other: SortDir = first === 'asc' ? 'desc' : 'asc';
  if (!add) {
    if (keys.length === 1 && i === 0) return keys[0].dir === first ? [{ key, dir: other }] : [];
    return [{ key, dir: first }];
  }
  if (i < 0) return [...keys, { key, dir: first }];
  if (keys[i].dir === first) return keys.map((k, j) => (j === i ? { key, dir: other } : k));
  return keys.filter((_, j) => j !== i);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** -1/0/1 for two present values: numbers by value, booleans as 0/1, text in natural order. */
function cmp(a: CellValue, b: CellValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'number' || typeof a === 'boolean') return -1; // numbers before text in a mixed column
  if (typeof b === 'number' || typeof b === 'boolean') return 1;
  return collator.compare(String(a), String(b));
}

const missing = (v: CellValue) => v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v));

/** The rows in sorted order (a new array; stable: equal rows keep their order). */
export function sortRows(rows: readonly TableRow[], keys: readonly SortKey[], columns: ReadonlyMap<string, Column>, now = Date.now()): TableRow[] {
  const used = keys.filter((k) => columns.has(k.key));
  if (!used.length) return [...rows];
  // each value computed once (a comparator calls its arguments ~n log n times)
  const getters = used.map((k) => {
    const c = columns.get(k.key)!;
    return k.key === 'status' ? (r: TableRow) => statusRank(r.status) : (r: TableRow) => c.value(r, now);
  });
  const values = rows.map((r) => getters.map((g) => g(r)));
  const sign = used.map((k) => (k.dir === 'asc' ? 1 : -1));
  const idx = rows.map((_, i) => i);
  idx.sort((x, y) => {
    const vx = values[x];
    const vy = values[y];
    for (let k = 0; k < sign.length; k++) {
      const a = vx[k];
      const b = vy[k];
      const ma = missing(a);
      const mb = missing(b);
      if (ma || mb) {
        if (ma && mb) continue;
        return ma ? 1 : -1;
      }
      const c = cmp(a, b);
      if (c) return c * sign[k];
    }
    return x - y;
  });
  return idx.map((i) => rows[i]);
}
