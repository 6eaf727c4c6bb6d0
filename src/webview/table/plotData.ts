// What the cross-run plots draw (src/webview/plots/types.ts), from the table's rows: one axis per
// shown parameter, then the metric; numeric axes, log-scaled when the values span two decades or
// more (learning rates), categorical otherwise.

import type { TableRow } from '../../shared/protocol';
import type { PlotAxis, PlotData } from '../plots/types';
import type { Column } from './columns';

function axisKind(values: unknown[]): PlotAxis['kind'] {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (!present.length || !present.every((v) => typeof v === 'number' && Number.isFinite(v))) return 'category';
  const nums = present as number[];
  const min = Math.min(...nums);
  const max = Math.max(...nums);
  return min > 0 && max / min >= 100 ? 'log' : 'number';
}

/** The plot of `metric` against the parameter columns among `columns`, one point per row; `highlight`: selected ids. */
export function plotDataFor(rows: readonly TableRow[], columns: readonly Column[], metric: string, highlight?: readonly string[]): PlotData {
  const params = columns.filter((c) => c.kind === 'param');
  const axes: PlotAxis[] = params.map((c) => ({ key: c.key, label: c.title, kind: axisKind(rows.map((r) => r.params[c.key])) }));
  axes.push({ key: metric, label: metric, kind: 'number' }); // a metric is a number (missing: null)
  const points = rows.map((r) => {
    const values: Record<string, string | number | boolean | null> = {};
    for (const c of params) values[c.key] = r.params[c.key] ?? null;
    values[metric] = r.metrics[metric] ?? null;
    return { id: r.id, label: r.label, values };
  });
  return { axes, colorBy: metric, points, ...(highlight?.length ? { highlight: [...highlight] } : {}) };
}
