// The table's plots pane: parallel coordinates of the shown parameters → a metric, and that metric
// against one parameter, for the selected runs (two or more) or else every run the filter shows.
// Brushing an axis selects the runs inside the brushes in the table; clicking a line or a dot
// selects that run. Drawn only while the pane is open, once per animation frame at most.

import type { TableRow } from '../../shared/protocol';
import { el } from '../dom';
import { ParallelPlot } from '../plots/parallel';
import { ScatterPlot } from '../plots/scatter';
import type { Column } from './columns';
import { plotDataFor } from './plotData';

export interface PlotsPaneOptions {
  /** Select these runs in the table (a brush, a click). */
  select(ids: string[]): void;
}

export class PlotsPane {
  readonly el: HTMLElement;
  private readonly metricSelect = el('select', { 'aria-label': 'Metric' });
  private readonly xSelect = el('select', { 'aria-label': 'Scatter: parameter on the x axis' });
  private readonly note = el('span', { class: 'muted' });
  private readonly parallel: ParallelPlot;
  private readonly scatter: ScatterPlot;
  private pending: { rows: TableRow[]; columns: Column[]; selected: string[] } | null = null;
  private frame = 0;

  constructor(private readonly opts: PlotsPaneOptions) {
    this.parallel = new ParallelPlot({ onBrush: (ids, active) => active && this.opts.select(ids), onClick: (id) => this.opts.select([id]), height: 280 });
    this.scatter = new ScatterPlot({ onClick: (id) => this.opts.select([id]), height: 260 });
    this.el = el(
      'section',
      { class: 'plots', 'aria-label': 'Plots across runs', hidden: true },
      el('div', { class: 'plots-bar' }, el('label', {}, 'Metric ', this.metricSelect), el('label', {}, 'Scatter x ', this.xSelect), this.note),
      el('div', { class: 'plots-body' }, this.parallel.root, this.scatter.root),
    );
    for (const s of [this.metricSelect, this.xSelect]) s.addEventListener('change', () => this.schedule());
  }

  get open(): boolean {
    return !this.el.hidden;
  }

  toggle(): boolean {
    this.el.hidden = !this.el.hidden;
    if (this.open) this.schedule();
    return this.open;
  }

  /** The runs and columns shown changed (or the selection): redraw at the next frame, when open. */
  update(rows: TableRow[], columns: Column[], selected: string[]): void {
    this.pending = { rows, columns, selected };
    if (this.open) this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const p = this.pending;
    if (!p || !this.open) return;
    const metrics = p.columns.filter((c) => c.kind === 'metric');
    const params = p.columns.filter((c) => c.kind === 'param');
    fill(this.metricSelect, metrics);
    fill(this.xSelect, params);
    const metric = this.metricSelect.value;
    const plotted = p.selected.length >= 2 ? p.rows.filter((r) => p.selected.includes(r.id)) : p.rows;
    this.note.textContent = !metric
      ? 'No metric column is shown.'
      : `${plotted.length.toLocaleString('en-US')} ${p.selected.length >= 2 ? 'selected' : 'shown'} runs${params.length ? '' : ' · no parameter differs between them'}`;
    if (!metric) return;
    const data = plotDataFor(plotted, p.columns, metric, p.selected);
    this.parallel.setData(data);
    const x = this.xSelect.value;
    this.scatter.root.hidden = !x;
    if (x) this.scatter.setData(data, x, metric);
  }
}

/** Options for each column, keeping the current choice when it is still there. */
function fill(select: HTMLSelectElement, columns: Column[]): void {
  const keys = columns.map((c) => c.key);
  if (select.options.length === keys.length && keys.every((k, i) => select.options[i].value === k)) return;
  const before = select.value;
  select.replaceChildren(...columns.map((c) => el('option', { value: c.key }, c.title)));
  if (keys.includes(before)) select.value = before;
}
