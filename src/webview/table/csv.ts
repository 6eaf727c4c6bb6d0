// The table as CSV: the rows as shown (filtered, sorted, pinned first) and the chosen columns, with
// raw values (full precision, ISO times, seconds) so a spreadsheet can compute with them.

import type { TableRow } from '../../shared/protocol';
import type { Column } from './columns';

export function csvCell(v: unknown): string {
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`; // no formulas in spreadsheets
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const HEADS: Record<string, string> = { label: 'run', started: 'started', duration: 'duration_s' };

export function tableCsv(rows: readonly TableRow[], columns: readonly Column[], now = Date.now()): string {
  const cols = columns.filter((c) => c.key !== 'label');
  const head = ['id', 'run', ...cols.map((c) => HEADS[c.key] ?? c.key)];
  const lines = [head.map(csvCell).join(',')];
  for (const r of rows) lines.push([r.id, r.label, ...cols.map((c) => c.value(r, now))].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}
