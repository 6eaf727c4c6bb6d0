// The browser side of test/plots-browser.test.ts: a page with both cross-run plots, built by the
// test with esbuild and served under the dashboard's CSP. The test drives it through `window.__plots`.

import { ParallelPlot } from '../../src/webview/plots/parallel';
import { lineOf } from '../../src/webview/plots/parallelLayout';
import { ScatterPlot } from '../../src/webview/plots/scatter';
import type { PlotData } from '../../src/webview/plots/types';
import { onThemeChange } from '../../src/webview/theme';

interface PlotsHook {
  data: PlotData;
  brushed: { ids: string[]; active: boolean }[];
  clicked: string[];
  parallel: ParallelPlot;
  scatter: ScatterPlot;
  show(data: PlotData, xKey: string, yKey: string): void;
  /** Parallel layout facts the test checks pixels against. */
  parallelLine(i: number): [number, number][];
  scatterPoint(id: string): [number, number] | null;
}

const hook = { brushed: [], clicked: [] } as unknown as PlotsHook;
const root = document.getElementById('root')!;
const box = (title: string, node: HTMLElement) => {
  const section = document.createElement('section');
  section.className = 'chart';
  const h = document.createElement('h3');
  h.textContent = title;
  section.append(h, node);
  root.append(section);
};
hook.parallel = new ParallelPlot({ onBrush: (ids, active) => hook.brushed.push({ ids, active }), onClick: (id) => hook.clicked.push(id) });
hook.scatter = new ScatterPlot({ onClick: (id) => hook.clicked.push(id) });
box('Parameters → metric', hook.parallel.root);
box('Metric against parameter', hook.scatter.root);
hook.show = (data, xKey, yKey) => {
  hook.data = data;
  hook.parallel.setData(data);
  hook.scatter.setData(data, xKey, yKey);
};
hook.parallelLine = (i) => lineOf(hook.parallel.getLayout()!, i);
hook.scatterPoint = (id) => {
  const l = hook.scatter.getLayout()!;
  for (let k = 0; k < l.index.length; k++) if (hook.data.points[l.index[k]].id === id) return [l.px[k], l.py[k]];
  return null;
};
onThemeChange(() => {
  hook.parallel.setTheme();
  hook.scatter.setTheme();
});
(window as unknown as { __plots: PlotsHook }).__plots = hook;
