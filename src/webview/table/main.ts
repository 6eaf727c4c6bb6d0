// Experiments table webview entry (dist/table.js): every run as a row, parameters and metrics as
// columns; filter, multi-column sort, column chooser, grouping by config and sweep, pins, selection
// → actions, CSV export. The host sends rows after `ready` and upserts as runs change. The pure
// parts (filter, sort, columns, display list, selection, virtual window, CSV) are modules of their
// own; this file holds the state and the events, grid.ts the drawing.

import { lowerIsBetter, parseFinalKey } from '../../shared/metrics';
import type { TableRow, TableToHost } from '../../shared/protocol';
import { buildColumns, isShown, shownColumns, type Column, type ColumnSet } from './columns';
import { tableCsv } from './csv';
import { buildDisplay, type Item } from './display';
import { compileFilter, fieldsOf, type Filter } from './filter';
import { Grid } from './grid';
import { PlotsPane } from './plotsPane';
import { clickSelect, rangeIds, selectedInOrder, type Selection } from './selection';
import { sortRows, toggleSort, type SortDir } from './sort';
import { checkTableMessage, restoreUi } from './state';
import { el } from '../dom';

interface VsCodeApi {
  postMessage(msg: TableToHost): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const ui = restoreUi(vscode.getState());
const save = () => vscode.setState(ui);
const post = (m: TableToHost) => vscode.postMessage(m);

// ---- data --------------------------------------------------------------------------------------
const rows = new Map<string, TableRow>();
let columnSet: ColumnSet = buildColumns([]);
let columnsByKey = new Map<string, Column>();
let filter: Filter = { kind: 'all' };
let filtered: TableRow[] = [];
let items: Item[] = [];
let order: string[] = []; // row ids as drawn
let sel: Selection = { ids: new Set() };
let cursor = 0; // focused item index
const collapsed = new Set(ui.collapsed);
let received = false;

// ---- layout --------------------------------------------------------------------------------------
const root = document.getElementById('root') ?? document.body;
const filterBox = el('input', {
  type: 'search',
  class: 'filter',
  placeholder: 'Filter: f1 > 0.9 and lr < 1e-4, or text',
  'aria-label': 'Filter runs',
  'aria-describedby': 'filter-error',
  spellcheck: 'false',
});
filterBox.value = ui.filter;
const filterError = el('div', { id: 'filter-error', class: 'filter-error', role: 'alert', hidden: true });
const columnsButton = el('button', { class: 'secondary', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': 'chooser' }, 'Columns');
const groupBox = el('input', { type: 'checkbox', id: 'group' });
groupBox.checked = ui.grouped;
const groupLabel = el('label', { class: 'check', for: 'group' }, groupBox, 'Group');
const actionButtons = {
  open: el('button', { 'data-action': 'open', title: 'Open the dashboard of each selected run (Enter)' }, 'Open'),
  compare: el('button', { 'data-action': 'compare', title: 'Compare the selected runs in one dashboard' }, 'Compare'),
  diff: el('button', { 'data-action': 'diff', title: 'Diff the configs of two selected runs' }, 'Diff'),
  pin: el('button', { 'data-action': 'pin', class: 'secondary', title: 'Pin the selected runs on top' }, 'Pin'),
  delete: el('button', { 'data-action': 'delete', class: 'secondary', title: 'Delete the selected runs (asks first)' }, 'Delete'),
};
const plotsButton = el(
  'button',
  {
    class: 'secondary',
    'data-action': 'plots',
    'aria-expanded': 'false',
    'aria-controls': 'plots',
    title: 'Parallel coordinates and a scatter of the selected (or shown) runs',
  },
  'Plots',
);
const exportButton = el('button', { class: 'secondary', 'data-action': 'export', title: 'Save the rows and columns shown as CSV' }, 'Export CSV');
const count = el('span', { class: 'count muted', role: 'status', 'aria-live': 'polite' });
const toolbar = el(
  'div',
  { class: 'toolbar', role: 'toolbar', 'aria-label': 'Table' },
  filterBox,
  columnsButton,
  groupLabel,
  el('span', { class: 'actions' }, ...Object.values(actionButtons), plotsButton, exportButton),
  count,
);
const chooser = el('div', { id: 'chooser', class: 'chooser', role: 'dialog', 'aria-label': 'Columns', hidden: true });
const waiting = el('p', { class: 'muted waiting', role: 'status' }, 'Loading runs…');

const grid = new Grid({
  onHeaderClick: (key, add) => sortBy(key, add),
  onRowClick: (index, e) => clickRow(index, e),
  onRowOpen: (index) => {
    const it = items[index];
    if (it?.kind === 'row') post({ type: 'action', action: 'open', ids: [it.row.id] });
  },
  onPin: (id) => setPinned([id], !rows.get(id)?.pinned),
  onToggleGroup: (key) => toggleGroup(key),
  onKey: (e) => onKey(e),
});
const plots = new PlotsPane({
  select: (ids) => {
    sel = { ids: new Set(ids) };
    draw();
  },
});
plots.el.id = 'plots';
plotsButton.addEventListener('click', () => {
  plotsButton.setAttribute('aria-expanded', String(plots.toggle()));
  draw();
});
root.append(toolbar, filterError, chooser, plots.el, waiting, grid.el);

// ---- pipeline: rows → columns → filter → sort → display list ------------------------------------
/** Recomputes what is drawn; `rowsChanged`: the set of rows or their values changed. */
function update(rowsChanged = false): void {
  const all = [...rows.values()];
  if (rowsChanged) {
    columnSet = buildColumns(all);
    columnsByKey = new Map(columnSet.all.map((c) => [c.key, c]));
  }
  filter = compileFilter(ui.filter, fieldsOf(all));
  showFilterState();
  filtered = filter.kind === 'text' || filter.kind === 'expr' ? all.filter(filter.test) : all;
  const sorted = sortRows(filtered, ui.sort, columnsByKey);
  items = buildDisplay(sorted, { grouped: ui.grouped, collapsed });
  order = items.flatMap((it) => (it.kind === 'row' ? [it.row.id] : []));
  for (const id of sel.ids) if (!rows.has(id)) sel.ids.delete(id);
  cursor = Math.max(0, Math.min(cursor, items.length - 1));
  draw();
}

function draw(): void {
  const cols = shownColumns(columnSet, ui.chosen);
  grid.setData(items, cols, ui.sort, sel.ids, cursor);
  waiting.hidden = received;
  const n = rows.size;
  const shown = filtered.length;
  const selected = selectedInOrder(sel, order).length;
  count.textContent = `${shown === n ? `${n.toLocaleString('en-US')} runs` : `${shown.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} runs`}${selected ? ` · ${selected} selected` : ''}`;
  const ids = selectedInOrder(sel, order);
  actionButtons.open.disabled = ids.length < 1;
  actionButtons.compare.disabled = ids.length < 2;
  actionButtons.diff.disabled = ids.length !== 2;
  actionButtons.delete.disabled = ids.length < 1;
  actionButtons.pin.disabled = ids.length < 1;
  const allPinned = ids.length > 0 && ids.every((id) => rows.get(id)?.pinned);
  actionButtons.pin.textContent = allPinned ? 'Unpin' : 'Pin';
  if (!chooser.hidden) renderChooser();
  if (plots.open) plots.update(filtered, cols, ids);
}

function showFilterState(): void {
  const bad = filter.kind === 'error';
  filterError.hidden = !bad;
  filterError.textContent = filter.kind === 'error' ? `Filter: ${filter.message}. Showing every run until the expression is complete.` : '';
  filterBox.classList.toggle('invalid', bad);
  filterBox.setAttribute('aria-invalid', String(bad));
  filterBox.title =
    filter.kind === 'text' ? 'Free text: runs whose name, label, id, tags or notes contain every word' : filter.kind === 'expr' ? 'Expression' : '';
}

// ---- sort, filter, columns, groups ---------------------------------------------------------------
function firstDir(key: string): SortDir {
  const m = parseFinalKey(key);
  if (m) return lowerIsBetter(m.metric) ? 'asc' : 'desc'; // the best run first
  return key === 'started' || key === 'pinned' ? 'desc' : 'asc';
}

function sortBy(key: string, add: boolean): void {
  ui.sort = toggleSort(ui.sort, key, add, firstDir(key));
  save();
  update();
}

let filterTimer: ReturnType<typeof setTimeout> | undefined;
filterBox.addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    ui.filter = filterBox.value;
    save();
    update();
  }, 60);
});
filterBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && filterBox.value !== ui.filter) {
    // Enter applies at once (no wait for the typing pause)
    clearTimeout(filterTimer);
    ui.filter = filterBox.value;
    save();
    update();
  }
  if (e.key === 'ArrowDown' || e.key === 'Enter') {
    e.preventDefault();
    grid.focus();
  }
});

groupBox.addEventListener('change', () => {
  ui.grouped = groupBox.checked;
  save();
  update();
});

function toggleGroup(key: string, open?: boolean): void {
  const isCollapsed = collapsed.has(key);
  if (open === undefined ? isCollapsed : open) collapsed.delete(key);
  else collapsed.add(key);
  ui.collapsed = [...collapsed];
  save();
  update();
}

function renderChooser(): void {
  // rebuilt on every change: keep the keyboard focus on the same control
  const focused = document.activeElement instanceof HTMLElement && chooser.contains(document.activeElement) ? document.activeElement : undefined;
  const refocus = focused?.dataset.column ?? focused?.dataset.action;
  chooser.replaceChildren();
  const section = (title: string, cols: Column[]) => {
    if (!cols.length) return;
    const list = el('div', { class: 'chooser-list' });
    for (const c of cols) {
      const id = `col-${c.key}`;
      const box = el('input', { type: 'checkbox', id, 'data-column': c.key });
      box.checked = isShown(c, columnSet, ui.chosen);
      box.addEventListener('change', () => {
        ui.chosen[c.key] = box.checked;
        save();
        draw();
      });
      const differs = c.kind === 'param' && columnSet.differing.has(c.key);
      list.append(el('label', { class: 'check', for: id, title: c.key }, box, c.title, differs ? el('span', { class: 'badge' }, 'differs') : null));
    }
    chooser.append(el('h3', {}, title), list);
  };
  const reset = el('button', { class: 'secondary', 'data-action': 'reset-columns' }, 'Defaults');
  reset.addEventListener('click', () => {
    ui.chosen = {};
    save();
    draw();
  });
  const close = el('button', { class: 'secondary', 'data-action': 'close-columns' }, 'Close');
  close.addEventListener('click', () => toggleChooser(false));
  chooser.append(
    el('div', { class: 'chooser-head' }, el('span', { class: 'muted' }, 'Parameters that differ between runs are shown by default.'), reset, close),
  );
  section(
    'Run',
    columnSet.all.filter((c) => c.kind === 'fixed' && c.key !== 'label'),
  );
  section(
    'Parameters',
    columnSet.all.filter((c) => c.kind === 'param'),
  );
  section(
    'Metrics',
    columnSet.all.filter((c) => c.kind === 'metric'),
  );
  if (refocus) {
    const controls: HTMLElement[] = Array.from(chooser.querySelectorAll<HTMLElement>('[data-column], [data-action]'));
    controls.find((e) => (e.dataset.column ?? e.dataset.action) === refocus)?.focus();
  }
}

function toggleChooser(open = chooser.hidden): void {
  chooser.hidden = !open;
  columnsButton.setAttribute('aria-expanded', String(open));
  if (open) {
    renderChooser();
    chooser.querySelector<HTMLInputElement>('input')?.focus();
  } else columnsButton.focus();
}
columnsButton.addEventListener('click', () => toggleChooser());
chooser.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') toggleChooser(false);
});

// ---- selection and actions ------------------------------------------------------------------------
function clickRow(index: number, e: MouseEvent): void {
  const it = items[index];
  if (!it) return;
  cursor = index;
  if (it.kind === 'group') {
    toggleGroup(it.key);
    return;
  }
  sel = clickSelect(sel, order, it.row.id, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey });
  draw();
}

function setPinned(ids: string[], pinned: boolean): void {
  if (!ids.length) return;
  // shown at once; the host writes run.json and its upsert confirms
  for (const id of ids) {
    const r = rows.get(id);
    if (r) rows.set(id, { ...r, pinned });
  }
  post({ type: 'action', action: pinned ? 'pin' : 'unpin', ids });
  update(true);
}

function act(action: 'open' | 'compare' | 'diff' | 'delete' | 'pin'): void {
  const ids = selectedInOrder(sel, order);
  if (!ids.length) return;
  if (action === 'pin') setPinned(ids, !ids.every((id) => rows.get(id)?.pinned));
  else post({ type: 'action', action, ids });
}

for (const [action, b] of Object.entries(actionButtons)) b.addEventListener('click', () => act(action as keyof typeof actionButtons));

exportButton.addEventListener('click', () => {
  // the rows in drawn order, those of collapsed groups too (collapsing only hides them)
  const drawn = buildDisplay(sortRows(filtered, ui.sort, columnsByKey), { grouped: ui.grouped, collapsed: new Set() });
  const data = tableCsv(
    drawn.flatMap((it) => (it.kind === 'row' ? [it.row] : [])),
    shownColumns(columnSet, ui.chosen),
  );
  post({ type: 'export', format: 'csv', suggestedName: 'experiments.csv', data });
});

// ---- keyboard --------------------------------------------------------------------------------------
function moveTo(index: number, e: KeyboardEvent): void {
  if (!items.length) return;
  const to = Math.max(0, Math.min(items.length - 1, index));
  cursor = to;
  const it = items[to];
  if (it.kind === 'row' && !(e.ctrlKey || e.metaKey)) {
    if (e.shiftKey && sel.anchor !== undefined) sel = { ids: new Set(rangeIds(order, sel.anchor, it.row.id)), anchor: sel.anchor };
    else if (!e.shiftKey) sel = { ids: new Set([it.row.id]), anchor: it.row.id };
  }
  draw();
  grid.reveal(to);
}

function onKey(e: KeyboardEvent): void {
  const it = items[cursor];
  const page = grid.pageSize();
  switch (e.key) {
    case 'ArrowDown':
      return moveTo(cursor + 1, e);
    case 'ArrowUp':
      return moveTo(cursor - 1, e);
    case 'PageDown':
      return moveTo(cursor + page, e);
    case 'PageUp':
      return moveTo(cursor - page, e);
    case 'Home':
      return moveTo(0, e);
    case 'End':
      return moveTo(items.length - 1, e);
    case 'ArrowRight':
      if (it?.kind === 'group' && it.collapsed) toggleGroup(it.key, true);
      return;
    case 'ArrowLeft':
      if (it?.kind === 'group' && !it.collapsed) toggleGroup(it.key, false);
      return;
    case ' ':
      if (it?.kind === 'row') sel = clickSelect(sel, order, it.row.id, { toggle: true, shift: e.shiftKey });
      else if (it?.kind === 'group') toggleGroup(it.key);
      draw();
      return;
    case 'Enter':
      if (it?.kind === 'group') toggleGroup(it.key);
      else if (selectedInOrder(sel, order).length) act('open');
      else if (it?.kind === 'row') post({ type: 'action', action: 'open', ids: [it.row.id] });
      return;
    case 'Delete':
      act('delete');
      return;
    case 'Escape':
      sel = { ids: new Set() };
      draw();
      return;
    case 'a':
      if (e.ctrlKey || e.metaKey) {
        sel = { ids: new Set(order), anchor: order[0] };
        draw();
      }
      return;
    default:
      return;
  }
}

// ---- messages ----------------------------------------------------------------------------------------
window.addEventListener('message', (ev: MessageEvent) => {
  try {
    const m = checkTableMessage(ev.data);
    if (!m) return;
    if (m.type === 'rows') rows.clear();
    if (m.type === 'remove') for (const id of m.ids) rows.delete(id);
    else for (const r of m.rows) rows.set(r.id, r);
    received = true;
    update(true);
  } catch (e) {
    post({ type: 'error', message: `table: ${(e as Error).message}` });
  }
});

// Running rows: their duration counts up.
setInterval(() => {
  if ([...rows.values()].some((r) => r.status === 'running')) grid.refresh();
}, 1000);

update(true);
post({ type: 'ready' });
