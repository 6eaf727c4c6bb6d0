// Dashboard webview entry (browser bundle). Receives run data from the extension host (after it
// says `ready`), draws curves, confusion matrix, reports and the run header, and keeps its UI state
// (smoothing, log scale, tab, sort orders…) in the webview state so a reload restores it.

import 'uplot/dist/uPlot.min.css';
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeLink,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
} from '@vscode/webview-ui-toolkit';
import { isMetricName } from '../shared/metrics';
import type { HostToWebview, MisclassifiedExample, RunSummary, WebviewToHost } from '../shared/protocol';
import { displayName } from '../shared/run/identity';
import { flushCharts } from './chart';
import { CurvesView, metricNames } from './charts';
import { renderExamples, renderMatrix, type CellSel } from './confusion';
import { metricsCsv } from './csv';
import { clear, el, shown, shownEl } from './dom';
import { renderCompareHeader, renderConfig, renderHyperTable, renderRunHeader } from './header';
import { renderCompareTable, renderRunReports, unitOf, weightsOf, type SortState } from './reports';
import { RunData } from './store';
import { onThemeChange, readTheme } from './theme';
import { TABS, restore, type Tab } from './uiState';
import { checkMessage } from './validate';

provideVSCodeDesignSystem().register(
  vsCodeButton(),
  vsCodeCheckbox(),
  vsCodeDropdown(),
  vsCodeOption(),
  vsCodeLink(),
  vsCodePanels(),
  vsCodePanelTab(),
  vsCodePanelView(),
);

interface VsCodeApi {
  postMessage(msg: WebviewToHost): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const ui = restore(vscode.getState());
const save = () => vscode.setState(ui);
const post = (m: WebviewToHost) => vscode.postMessage(m);

// ---- data ---------------------------------------------------------------------------------------
let mode: 'run' | 'compare' = 'run';
let runs: RunData[] = [];
const byId = new Map<string, RunData>();
const misclassified = new Map<string, MisclassifiedExample[]>(); // `${runId}/${split}`
const requested = new Set<string>();
let theme = readTheme();
const colorOf = (r: RunData) => theme.palette[Math.max(0, runs.indexOf(r)) % theme.palette.length];
const selectedRun = () => byId.get(ui.selectedRun ?? '') ?? runs[0];

// ---- layout -------------------------------------------------------------------------------------
const root = document.getElementById('root') ?? document.body;
const waiting = el('p', { class: 'muted', role: 'status' }, 'Waiting for a run…');
const header = el('header', { class: 'run-header' });
const loading = el('p', { class: 'muted loading', role: 'status', hidden: true }, 'Loading history…');

const onExport = (format: 'png' | 'svg' | 'csv', suggestedName: string, data: string, base64: boolean) =>
  post({ type: 'export', format, suggestedName, data, base64 });
const curves = new CurvesView(
  () => runs,
  colorOf,
  () => ui,
  theme,
  onExport,
);

// curves controls
const smoothingInput = el('input', {
  type: 'range',
  min: 0,
  max: 0.99,
  step: 0.01,
  value: ui.smoothing,
  id: 'smoothing',
  'aria-label': 'Smoothing of the train loss (exponential moving average weight)',
});
const smoothingValue = el('output', { for: 'smoothing', class: 'smoothing-value' }, ui.smoothing.toFixed(2));
smoothingInput.addEventListener('input', () => {
  ui.smoothing = Math.min(0.99, Math.max(0, Number(smoothingInput.value)));
  smoothingValue.textContent = ui.smoothing.toFixed(2);
  save();
  curves.update();
});
const logBox = el('vscode-checkbox', { id: 'log-scale', checked: ui.logScale, 'aria-label': 'Logarithmic loss axis' }, 'Log scale (loss)');
logBox.addEventListener('change', () => {
  ui.logScale = (logBox as unknown as { checked: boolean }).checked;
  save();
  curves.update();
});
const csvBtn = el('vscode-button', { id: 'export-csv', appearance: 'secondary', 'aria-label': 'Export metrics as CSV' }, 'Export CSV');
// A file name names the run by its name and short id (a label like `lr=3e-4 · bs=32` makes a poor file name).
const exportBase = (s: RunSummary) => (s.shortId ? `${s.name}-${s.shortId}` : s.name);
csvBtn.addEventListener('click', () =>
  onExport('csv', `${mode === 'run' && runs[0] ? exportBase(runs[0].summary) : 'runs'}-metrics.csv`, metricsCsv(runs), false),
);
const metricPick = el('vscode-dropdown', { id: 'compare-metric', 'aria-label': 'Metric to compare', hidden: true });
metricPick.addEventListener('change', () => {
  const picked = (metricPick as unknown as { value: string }).value;
  if (isMetricName(picked)) ui.compareMetric = picked;
  save();
  curves.update();
});
const curvesControls = el(
  'div',
  { class: 'controls' },
  el('label', { for: 'smoothing', class: 'smoothing' }, 'Smoothing', smoothingInput, smoothingValue),
  logBox,
  metricPick,
  csvBtn,
);

// confusion
const normBox = el('vscode-checkbox', { id: 'normalize', checked: ui.normalize, 'aria-label': 'Row-normalized confusion matrix' }, 'Normalize rows');
normBox.addEventListener('change', () => {
  ui.normalize = (normBox as unknown as { checked: boolean }).checked;
  save();
  renderConfusion();
});
const splitPick = el('vscode-dropdown', { id: 'split', 'aria-label': 'Evaluation split' });
splitPick.addEventListener('change', () => {
  const v = (splitPick as unknown as { value: string }).value;
  if (v === 'validation' || v === 'test') {
    ui.split = v;
    save();
    renderConfusion();
    renderReports();
  }
});
const runPicks: HTMLElement[] = [];
function makeRunPick(id: string): HTMLElement {
  const p = el('vscode-dropdown', { id, 'aria-label': 'Run', hidden: true });
  p.addEventListener('change', () => {
    ui.selectedRun = (p as unknown as { value: string }).value;
    ui.cell = undefined;
    save();
    renderConfusion();
    renderReports();
  });
  runPicks.push(p);
  return p;
}
const matrixBox = el('div', { class: 'matrix' });
const examplesBox = el('div', { class: 'examples-box', 'aria-live': 'polite' });
const confusionNote = el('p', { class: 'muted' });
const confusionView = el(
  'div',
  { class: 'confusion-view' },
  el('div', { class: 'controls' }, makeRunPick('confusion-run'), splitPick, normBox),
  confusionNote,
  matrixBox,
  examplesBox,
);

const reportsBox = el('div');
const reportsView = el('div', { class: 'reports-view' }, el('div', { class: 'controls' }, makeRunPick('reports-run')), reportsBox);

const diffBox = el('vscode-checkbox', { id: 'only-diff', checked: ui.onlyDiff, 'aria-label': 'Show only hyper-parameters that differ' }, 'Only what differs');
diffBox.addEventListener('change', () => {
  ui.onlyDiff = (diffBox as unknown as { checked: boolean }).checked;
  save();
  renderConfigTab();
});
const configBox = el('div');
const configView = el('div', { class: 'config-view' }, configBox);

const tabLabels: Record<Tab, string> = { curves: 'Curves', confusion: 'Confusion matrix', reports: 'Reports', config: 'Config' };
const views: Record<Tab, HTMLElement> = {
  curves: el('div', {}, curvesControls, loading, curves.root),
  confusion: confusionView,
  reports: reportsView,
  config: configView,
};
const panels = el('vscode-panels', { activeid: `tab-${ui.tab}`, 'aria-label': 'Dashboard sections' });
for (const t of TABS) panels.append(el('vscode-panel-tab', { id: `tab-${t}` }, tabLabels[t]));
for (const t of TABS) panels.append(el('vscode-panel-view', { id: `view-${t}` }, views[t]));
panels.addEventListener('change', (e) => {
  if (e.target !== panels) return; // dropdowns and checkboxes inside also fire `change`
  const id = (panels as unknown as { activeid?: string }).activeid ?? '';
  const t = id.replace(/^tab-/, '') as Tab;
  if (!TABS.includes(t) || t === ui.tab) return;
  ui.tab = t;
  save();
  if (t === 'curves') curves.shown();
  if (t === 'confusion') renderConfusion();
});

root.append(waiting);

// ---- rendering ----------------------------------------------------------------------------------
const callbacks = {
  stop: (runId: string) => post({ type: 'stop', runId }),
  select: (sel: CellSel) => {
    ui.cell = sel;
    save();
    renderConfusion();
  },
  openFile: (file: string, line: number) => post({ type: 'openFile', file, line }),
};

function setOptions(pick: HTMLElement, values: { value: string; label: string }[], current: string): void {
  clear(pick);
  for (const v of values) pick.append(el('vscode-option', { value: v.value, selected: v.value === current }, v.label));
  (pick as unknown as { value: string }).value = current;
}

function renderHeader(): void {
  if (mode === 'run' && runs[0]) renderRunHeader(header, runs[0], callbacks, colorOf(runs[0]));
  else renderCompareHeader(header, runs, callbacks, colorOf);
}

function currentEval() {
  const r = selectedRun();
  if (!r) return undefined;
  return r.latestEval(ui.split, true) ?? r.latestEval('validation', true);
}

function renderConfusion(): void {
  const r = selectedRun();
  const hasTest = !!r?.latestEval('test', true);
  setOptions(
    splitPick,
    [{ value: 'validation', label: 'validation' }, ...(hasTest ? [{ value: 'test', label: 'test' }] : [])],
    hasTest ? ui.split : 'validation',
  );
  clear(matrixBox);
  clear(examplesBox);
  const ev = currentEval();
  if (!r || !ev?.confusion) {
    confusionNote.textContent = 'No confusion matrix yet (it comes with the first evaluation).';
    return;
  }
  confusionNote.textContent = `${shown(displayName(r.summary))}: ${ev.split} split, ${weightsOf(ev)}. Rows are gold labels, columns predictions; click a cell for its examples.`;
  const width = Math.max(320, (matrixBox.clientWidth || root.clientWidth || 800) - 8);
  matrixBox.append(renderMatrix(ev, ui.normalize, ui.cell, callbacks, Math.min(width, 900)));
  const sel = ui.cell;
  if (!sel || !ev.confusion.labels.includes(sel.gold) || !ev.confusion.labels.includes(sel.pred)) return;
  const key = `${r.summary.id}/${ev.split}`;
  if (sel.gold !== sel.pred && !misclassified.has(key) && !requested.has(key)) {
    requested.add(key);
    post({ type: 'requestMisclassified', runId: r.summary.id, split: ev.split });
  }
  const gi = ev.confusion.labels.indexOf(sel.gold),
    pj = ev.confusion.labels.indexOf(sel.pred);
  renderExamples(examplesBox, sel, misclassified.get(key), ev.confusion.matrix[gi][pj], unitOf(r), callbacks);
}

function renderReports(): void {
  clear(reportsBox);
  const onSort = (id: string, s: SortState) => {
    ui.sorts[id] = s;
    save();
    renderReports();
  };
  if (mode === 'compare') reportsBox.append(renderCompareTable(runs, ui.sorts, onSort));
  const r = selectedRun();
  if (r) {
    if (mode === 'compare') reportsBox.append(shownEl('h2', {}, displayName(r.summary)));
    reportsBox.append(renderRunReports(r, ui.split, ui.sorts, onSort));
  }
}

function renderConfigTab(): void {
  clear(configBox);
  if (mode === 'compare') {
    configBox.append(el('div', { class: 'controls' }, diffBox), renderHyperTable(runs, ui.onlyDiff));
  }
  for (const r of mode === 'compare' ? runs : runs.slice(0, 1)) {
    if (mode === 'compare') configBox.append(shownEl('h2', {}, displayName(r.summary)));
    configBox.append(
      renderConfig(r, ui.configOpen, (open) => {
        ui.configOpen = open;
        save();
      }),
    );
  }
}

function renderPickers(): void {
  const opts = runs.map((r) => ({ value: r.summary.id, label: shown(displayName(r.summary)) }));
  for (const p of runPicks) {
    p.hidden = mode !== 'compare';
    setOptions(p, opts, selectedRun()?.summary.id ?? '');
  }
  metricPick.hidden = mode !== 'compare';
  if (mode === 'compare') {
    const names = metricNames(runs);
    if (names.length && !names.includes(ui.compareMetric)) ui.compareMetric = names[0];
    const cur = Array.from(metricPick.querySelectorAll('vscode-option'))
      .map((o) => o.getAttribute('value'))
      .join('\n');
    if (cur !== names.join('\n'))
      setOptions(
        metricPick,
        names.map((n) => ({ value: n, label: n })),
        ui.compareMetric,
      );
  }
}

// Coalesce work per animation frame: a history of many chunks renders once per frame.
let pending = { header: false, evals: false };
let rafId = 0;
function invalidate(what: { header?: boolean; evals?: boolean }): void {
  pending = { header: pending.header || !!what.header, evals: pending.evals || !!what.evals };
  if (!rafId)
    rafId = requestAnimationFrame(() => {
      rafId = 0;
      const p = pending;
      pending = { header: false, evals: false };
      curves.update();
      flushCharts();
      if (p.header) renderHeader();
      if (p.evals) {
        renderPickers();
        renderConfusion();
        renderReports();
      }
      loading.hidden = runs.every((r) => r.historyDone);
    });
}

// ---- messages -----------------------------------------------------------------------------------
function onMessage(msg: HostToWebview): void {
  switch (msg.type) {
    case 'init': {
      mode = msg.runs.length > 1 ? 'compare' : msg.mode;
      for (const c of ['loss', 'val-loss', 'val-metrics', 'lr', 'throughput']) curves.chart(c)?.destroy();
      runs = msg.runs.map((s) => new RunData(s));
      byId.clear();
      for (const r of runs) byId.set(r.summary.id, r);
      misclassified.clear();
      requested.clear();
      if (!byId.has(ui.selectedRun ?? '')) ui.selectedRun = runs[0]?.summary.id;
      ui.runIds = runs.map((r) => r.summary.id);
      ui.runDirs = runs.map((r) => r.summary.dir);
      save();
      document.body.dataset.mode = mode;
      clear(root);
      root.append(header, panels);
      renderPickers();
      renderConfigTab();
      invalidate({ header: true, evals: true });
      return;
    }
    case 'history':
    case 'append': {
      const r = byId.get(msg.runId);
      if (!r) return;
      const evalsBefore = r.evals.length;
      r.add(msg.records);
      if (msg.type === 'history' && msg.done) r.historyDone = true;
      if (msg.type === 'append' && r.length && r.cols.step.last > r.summary.step) r.summary.step = r.cols.step.last;
      invalidate({ header: true, evals: r.evals.length !== evalsBefore || r.rewound });
      r.rewound = false;
      return;
    }
    case 'status': {
      const r = byId.get(msg.run.id);
      if (!r) return;
      r.summary = msg.run;
      r.etaSeconds = msg.etaSeconds;
      invalidate({ header: true, evals: mode === 'compare' });
      if (mode === 'compare') renderConfigTab();
      return;
    }
    case 'misclassified': {
      if (!byId.has(msg.runId)) return;
      misclassified.set(`${msg.runId}/${msg.split}`, msg.examples);
      renderConfusion();
      return;
    }
    default: {
      const never: never = msg;
      void never;
    }
  }
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  const msg = checkMessage(ev.data);
  if (!msg) return;
  try {
    onMessage(msg);
  } catch (e) {
    post({ type: 'error', message: `dashboard: ${(e as Error).message}` });
  }
});

onThemeChange(() => {
  theme = readTheme();
  curves.setTheme(theme);
  invalidate({ header: true });
});

post({ type: 'ready' });
