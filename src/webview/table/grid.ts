// The drawn grid (ARIA grid): a sticky header row and a virtual body. Only the rows in view (and a
// few either side) exist in the DOM, absolutely placed by transform; a row drawn in the last frame
// is reused while nothing but the scroll position changed, so scrolling 10,000 runs builds only the
// rows that come into view. Every run string is set as text (never parsed as HTML) and clipped.

import { clipText } from '../../shared/display';
import type { TableRow } from '../../shared/protocol';
import { el } from '../dom';
import type { Column } from './columns';
import type { Item } from './display';
import type { SortKey } from './sort';
import { ROW_HEIGHT, scrollToShow, visibleRange } from './virtual';

export interface GridHandlers {
  onHeaderClick(key: string, add: boolean): void;
  onRowClick(index: number, e: MouseEvent): void;
  onRowOpen(index: number): void;
  onPin(id: string): void;
  onToggleGroup(key: string): void;
  onKey(e: KeyboardEvent): void;
}

const HANDLED_KEYS = new Set(['ArrowDown', 'ArrowUp', 'ArrowLeft', 'ArrowRight', 'PageDown', 'PageUp', 'Home', 'End', ' ', 'Enter', 'Escape', 'Delete']);

export class Grid {
  readonly el: HTMLElement;
  private readonly head: HTMLElement;
  private readonly body: HTMLElement;
  private items: Item[] = [];
  private cols: Column[] = [];
  private sort: SortKey[] = [];
  private selected: ReadonlySet<string> = new Set();
  private cursor = 0;
  private version = 0;
  private readonly drawn = new Map<string, { el: HTMLElement; version: number; index: number }>();
  private frame = 0;
  /** The header row's height (read once it is laid out; reading it every frame would force a layout). */
  private headH = 0;

  constructor(private readonly h: GridHandlers) {
    this.head = el('div', { class: 'row head', role: 'row', 'aria-rowindex': 1 });
    this.body = el('div', { class: 'body', role: 'rowgroup' });
    this.el = el(
      'div',
      { class: 'grid', role: 'grid', tabindex: 0, 'aria-multiselectable': 'true', 'aria-label': 'Runs' },
      el('div', { role: 'rowgroup', class: 'head-group' }, this.head),
      this.body,
    );
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true });
    window.addEventListener('resize', () => this.schedule());
    this.body.addEventListener('mousedown', (e) => {
      if (e.shiftKey) e.preventDefault(); // no text selection on shift-click
    });
    this.body.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.row');
      if (!row) return;
      this.el.focus({ preventScroll: true });
      const pin = (e.target as HTMLElement).closest<HTMLElement>('[data-pin]');
      if (pin) {
        this.h.onPin(pin.dataset.pin!);
        return;
      }
      this.h.onRowClick(Number(row.dataset.index), e);
    });
    this.body.addEventListener('dblclick', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.row');
      if (row && !row.classList.contains('group') && !(e.target as HTMLElement).closest('[data-pin]')) this.h.onRowOpen(Number(row.dataset.index));
    });
    this.el.addEventListener('keydown', (e) => {
      if (e.target !== this.el) return; // header cells handle their own keys
      if (HANDLED_KEYS.has(e.key) || ((e.ctrlKey || e.metaKey) && e.key === 'a')) e.preventDefault();
      this.h.onKey(e);
    });
  }

  setData(items: Item[], cols: Column[], sort: SortKey[], selected: ReadonlySet<string>, cursor: number): void {
    const colsChanged = cols.length !== this.cols.length || cols.some((c, i) => this.cols[i] !== c);
    const sortChanged = JSON.stringify(sort) !== JSON.stringify(this.sort);
    const itemsChanged = items !== this.items;
    this.selected = selected;
    this.cursor = cursor;
    if (!itemsChanged && !colsChanged && !sortChanged) {
      // only the selection or the focused row: patch the rows drawn (no new elements, so a double-click stays on one)
      for (const d of this.drawn.values()) this.patch(d.el, d.index);
      this.activeDescendant();
      return;
    }
    this.items = items;
    this.cols = cols;
    this.sort = sort;
    this.version++;
    if (colsChanged || sortChanged) this.renderHead();
    this.el.setAttribute('aria-rowcount', String(items.length + 1));
    this.el.setAttribute('aria-colcount', String(cols.length));
    this.body.style.height = `${items.length * ROW_HEIGHT}px`;
    this.render();
  }

  /** The selection and focus state of a drawn row; attributes are written only when they change (no style work otherwise). */
  private patch(rowEl: HTMLElement, index: number): void {
    if (rowEl.classList.contains('cursor') !== (index === this.cursor)) rowEl.classList.toggle('cursor', index === this.cursor);
    const id = rowEl.dataset.id;
    if (id === undefined) return;
    const on = this.selected.has(id);
    if (rowEl.classList.contains('selected') !== on) {
      rowEl.classList.toggle('selected', on);
      rowEl.setAttribute('aria-selected', String(on));
    }
  }

  private activeDescendant(): void {
    let active = false;
    for (const d of this.drawn.values()) if (d.index === this.cursor) active = true;
    const want = active ? `item-${this.cursor}` : null;
    if (this.el.getAttribute('aria-activedescendant') !== want) {
      if (want) this.el.setAttribute('aria-activedescendant', want);
      else this.el.removeAttribute('aria-activedescendant');
    }
  }

  /** Redraw the rows in view (a running run's duration). */
  refresh(): void {
    this.version++;
    this.schedule();
  }

  focus(): void {
    this.el.focus();
  }

  /** Rows in one screen (PageUp/PageDown). */
  pageSize(): number {
    return Math.max(1, Math.floor((this.el.clientHeight - (this.headH || this.head.offsetHeight)) / ROW_HEIGHT) - 1);
  }

  /** Scrolls item `index` into view. */
  reveal(index: number): void {
    const top = scrollToShow(index, this.el.scrollTop, this.el.clientHeight, this.headH || this.head.offsetHeight);
    if (top !== undefined) this.el.scrollTop = top;
    this.render();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private renderHead(): void {
    const template = this.cols.map((c) => `${c.width}px`).join(' ');
    this.el.style.setProperty('--cols', template);
    this.el.style.setProperty('--width', `${this.cols.reduce((s, c) => s + c.width, 0)}px`);
    this.head.replaceChildren(
      ...this.cols.map((c, i) => {
        const k = this.sort.findIndex((s) => s.key === c.key);
        const dir = k >= 0 ? this.sort[k].dir : undefined;
        const mark = dir ? `${dir === 'asc' ? '▲' : '▼'}${this.sort.length > 1 ? k + 1 : ''}` : '';
        const cell = el(
          'div',
          {
            class: `cell th${c.numeric ? ' num' : ''}${c.key === 'pinned' ? ' pin' : ''}`,
            role: 'columnheader',
            'aria-colindex': i + 1,
            'aria-sort': dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none',
            tabindex: 0,
            title: `${c.key === 'pinned' ? 'pinned' : c.title}: click to sort, shift-click to add to the sort`,
            'data-key': c.key,
          },
          el('span', { class: 'th-text' }, c.title),
          el('span', { class: 'sort-mark', 'aria-hidden': 'true' }, mark),
        );
        cell.addEventListener('click', (e) => this.h.onHeaderClick(c.key, e.shiftKey));
        cell.addEventListener('keydown', (e) => {
          if (e.key !== 'Enter' && e.key !== ' ') return;
          e.preventDefault();
          this.h.onHeaderClick(c.key, e.shiftKey);
        });
        return cell;
      }),
    );
  }

  private render(): void {
    const headH = (this.headH ||= this.head.offsetHeight);
    const { first, end } = visibleRange(this.el.scrollTop, this.el.clientHeight - headH, this.items.length);
    const keep = new Set<string>();
    const fresh: HTMLElement[] = [];
    for (let i = first; i < end; i++) {
      const it = this.items[i];
      const key = it.kind === 'row' ? `r:${it.row.id}` : `g:${it.key}`;
      keep.add(key);
      const d = this.drawn.get(key);
      if (d && d.version === this.version && d.index === i) continue; // drawn and placed: nothing to do while scrolling
      const rowEl = it.kind === 'row' ? this.rowEl(it.row, it.depth, i) : this.groupEl(it, i);
      rowEl.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      if (d) d.el.replaceWith(rowEl);
      else fresh.push(rowEl);
      this.drawn.set(key, { el: rowEl, version: this.version, index: i });
    }
    for (const [key, d] of this.drawn)
      if (!keep.has(key)) {
        d.el.remove();
        this.drawn.delete(key);
      }
    if (fresh.length) this.body.append(...fresh);
    this.activeDescendant();
  }

  private rowAttrs(i: number, extra: string): Record<string, string | number> {
    return {
      id: `item-${i}`,
      class: `row${extra}${i === this.cursor ? ' cursor' : ''}`,
      role: 'row',
      'aria-rowindex': i + 2,
      'data-index': i,
    };
  }

  private groupEl(it: Extract<Item, { kind: 'group' }>, i: number): HTMLElement {
    return el(
      'div',
      { ...this.rowAttrs(i, ' group'), 'aria-expanded': String(!it.collapsed), 'aria-level': it.depth + 1, 'data-group': it.key },
      el(
        'div',
        { class: `cell group-cell depth-${it.depth}`, role: 'gridcell', 'aria-colspan': this.cols.length },
        el('span', { class: 'twisty', 'aria-hidden': 'true' }, it.collapsed ? '▸' : '▾'),
        el('span', { class: 'group-label' }, clipText(it.label)),
        el('span', { class: 'muted group-count' }, `${it.count} run${it.count === 1 ? '' : 's'}`),
      ),
    );
  }

  private rowEl(r: TableRow, depth: number, i: number): HTMLElement {
    const now = Date.now();
    const selected = this.selected.has(r.id);
    const row = el('div', {
      ...this.rowAttrs(i, `${selected ? ' selected' : ''}${r.pinned ? ' pinned' : ''}`),
      'aria-selected': String(selected),
      'data-id': r.id,
    });
    for (let c = 0; c < this.cols.length; c++) {
      const col = this.cols[c];
      const attrs = { class: `cell${col.numeric ? ' num' : ''}`, role: 'gridcell', 'aria-colindex': c + 1 };
      if (col.key === 'pinned') {
        row.append(
          el(
            'div',
            { ...attrs, class: 'cell pin' },
            el(
              'span',
              {
                class: 'pin-toggle',
                'data-pin': r.id,
                role: 'button',
                'aria-pressed': String(!!r.pinned),
                title: r.pinned ? 'Unpin' : 'Pin on top',
                'aria-label': r.pinned ? 'Unpin' : 'Pin',
              },
              r.pinned ? '★' : '☆',
            ),
          ),
        );
      } else if (col.key === 'status') {
        row.append(el('div', { ...attrs, class: 'cell status' }, el('span', { class: `dot s-${r.status}`, 'aria-hidden': 'true' }), r.status));
      } else if (col.key === 'label') {
        const tip = [r.name !== r.label ? r.name : '', r.id, r.tags.length ? `tags: ${r.tags.join(', ')}` : '', r.notes ?? ''].filter(Boolean).join('\n');
        row.append(
          el(
            'div',
            { ...attrs, class: `cell label depth-${depth}`, title: clipText(tip, 600) },
            el('span', { class: 'label-text' }, clipText(r.label)),
            el('span', { class: 'short muted' }, clipText(r.shortId, 16)),
          ),
        );
      } else {
        const text = col.text(r, now);
        row.append(el('div', { ...attrs, title: text.length > 14 ? clipText(text, 300) : undefined }, clipText(text)));
      }
    }
    return row;
  }
}
