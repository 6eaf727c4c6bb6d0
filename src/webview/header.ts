// Run header (status, progress, ETA, throughput, device, Stop), the resolved config, and in compare
// mode the runs list and a hyper-parameter table with an "only what differs" toggle.

import { clear, el, fmt, fmtDuration, shown, shownEl } from './dom';
import { DISPLAY_MAX_LONG, DISPLAY_MAX_TIP, isClipped } from '../shared/display';
import type { RunData } from './store';
import { formatMetric, testKey } from '../shared/metrics';
import { displayName } from '../shared/run/identity';
import type { RunSummary } from '../shared/protocol';

export interface HeaderCallbacks {
  stop(runId: string): void;
}

const canStop = (r: RunData) => r.summary.status === 'running' || r.summary.status === 'queued';

function stopButton(r: RunData, cb: HeaderCallbacks): HTMLElement {
  const b = el(
    'vscode-button',
    { class: 'stop', appearance: 'secondary', 'data-run': r.summary.id, 'aria-label': `Stop run ${shown(displayName(r.summary))}`, disabled: !canStop(r) },
    'Stop',
  );
  b.addEventListener('click', () => {
    if (canStop(r)) cb.stop(r.summary.id);
  });
  return b;
}

function statusBadge(r: RunData): HTMLElement {
  const s = r.summary;
  return el('span', { class: `status status-${s.status}`, role: 'status' }, s.earlyStop && s.status === 'completed' ? 'completed · early stop' : s.status);
}

function deviceText(r: RunData): string {
  const d = r.summary.device;
  if (!d) return '—';
  return `${d.used.toUpperCase()}${d.threads ? ` · ${d.threads} threads` : ''}${d.requested !== d.used && d.requested !== 'auto' ? ` (asked for ${d.requested})` : ''}`;
}

function swatch(color: string): HTMLElement {
  const s = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  s.style.backgroundColor = color; // CSSOM, not a style attribute: allowed by the CSP
  return s;
}

function deviceFact(r: RunData): HTMLElement {
  const f = fact('Device', deviceText(r), 'device');
  const why = r.summary.device?.reason;
  if (why) f.title = `Why not CUDA: ${why}`; // a tooltip: text, never markup
  return f;
}

/** The test value of the selection metric (measured on the best checkpoint), once the run has one. */
function testFact(r: RunData): HTMLElement | null {
  const m = r.summary.best?.metric ?? 'f1';
  const v = r.summary.final?.[testKey(m)];
  return typeof v === 'number' ? fact('Test (best checkpoint)', `${m} ${formatMetric(v)}`, 'test') : null;
}

function fact(label: string, value: string, key: string): HTMLElement {
  return el('div', { class: 'fact', 'data-fact': key }, el('span', { class: 'fact-label' }, label), el('span', { class: 'fact-value' }, value));
}

function facts(r: RunData): [string, string, string][] {
  const s = r.summary;
  const sps = r.cols.samplesPerSec.last,
    stepsPerSec = r.cols.stepsPerSec.last;
  const epoch = s.epoch ?? (r.length ? r.cols.epoch.last : undefined);
  return [
    ['Step', `${s.step}${s.totalSteps ? ` / ${s.totalSteps}` : ''}`, 'step'],
    ['Epoch', epoch === undefined || !Number.isFinite(epoch) ? '—' : fmt(epoch, 3), 'epoch'],
    ['ETA', canStop(r) ? fmtDuration(r.etaSeconds) : '—', 'eta'],
    ['Throughput', Number.isFinite(sps) ? `${fmt(sps, 3)} samples/s · ${fmt(stepsPerSec, 3)} steps/s` : '—', 'throughput'],
  ];
}

/** Rebuilt when the run's identity or status changes; otherwise only the numbers are updated
 *  (live appends arrive many times a second). */
export function renderRunHeader(box: HTMLElement, r: RunData, cb: HeaderCallbacks, color: string): void {
  const s = r.summary;
  const key = JSON.stringify([s.id, s.name, s.label, s.shortId, s.status, s.device, s.best, s.final, s.earlyStop, s.error, s.notes, s.tags, color]);
  if (box.dataset.key === key) {
    for (const [, value, k] of facts(r)) {
      const v = box.querySelector(`[data-fact="${k}"] .fact-value`);
      if (v && v.textContent !== value) v.textContent = value;
    }
    const p = box.querySelector('progress');
    if (p && s.totalSteps) p.value = Math.min(s.step, s.totalSteps);
    return;
  }
  box.dataset.key = key;
  clear(box);
  const total = s.totalSteps;
  const label = displayName(s);
  const title = el('h1', { class: 'run-name', title: isClipped(label) ? shown(label, DISPLAY_MAX_LONG) : undefined }, swatch(color), shown(label));
  const progress = el('progress', { max: total ?? 1, value: total ? Math.min(s.step, total) : 0, 'aria-label': `Progress of ${shown(label)}` });
  box.append(
    // Stop only while it can act: a finished run has no greyed-out Stop button.
    el('div', { class: 'title-row' }, title, runIdNote(s), statusBadge(r), canStop(r) ? stopButton(r, cb) : null),
    el(
      'div',
      { class: 'facts' },
      ...facts(r).map(([label, value, k]) => fact(label, value, k)),
      deviceFact(r),
      fact('Best validation', s.best ? `${s.best.metric} ${formatMetric(s.best.value)} at step ${s.best.step}` : '—', 'best'),
      testFact(r),
    ),
    progress,
  );
  if (s.earlyStop)
    box.append(
      el(
        'p',
        { class: 'early-stop', role: 'note' },
        `Stopped early at step ${s.earlyStop.step} of ${total ?? '?'}: ${shown(s.earlyStop.reason, DISPLAY_MAX_TIP)}.`,
      ),
    );
  if (s.error)
    box.append(el('p', { class: 'error', role: 'alert' }, `Failed${s.error.step !== undefined ? ` at step ${s.error.step}` : ''}: ${s.error.message}`));
  if (s.notes) box.append(el('p', { class: 'notes' }, shown(s.notes, DISPLAY_MAX_LONG)));
  if (s.tags?.length) box.append(el('p', { class: 'tags' }, ...s.tags.map((t) => shownEl('span', { class: 'tag' }, t))));
}

/** Beside a run's label: its short id, and its name when the label is not the name (e.g. `a9999c5 · textcls[lr=0.001]`). */
function runIdNote(s: RunSummary): HTMLElement | null {
  const parts = [s.shortId, displayName(s) !== s.name ? shown(s.name) : undefined].filter((x): x is string => !!x);
  return parts.length ? el('span', { class: 'run-id muted', 'data-short-id': s.shortId }, parts.join(' · ')) : null;
}

export function renderCompareHeader(box: HTMLElement, runs: RunData[], cb: HeaderCallbacks, colorOf: (r: RunData) => string): void {
  const key = JSON.stringify(
    runs.map((r) => [
      r.summary.id,
      displayName(r.summary),
      r.summary.status,
      r.summary.step,
      r.etaSeconds === undefined ? -1 : Math.round(r.etaSeconds),
      colorOf(r),
    ]),
  );
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  clear(box);
  box.append(el('h1', {}, `Comparing ${runs.length} runs`));
  const ul = el('ul', { class: 'run-list' });
  for (const r of runs) {
    const s = r.summary;
    ul.append(
      el(
        'li',
        { 'data-run': s.id },
        swatch(colorOf(r)),
        shownEl('span', { class: 'run-name' }, displayName(s)),
        runIdNote(s),
        statusBadge(r),
        el(
          'span',
          { class: 'muted' },
          ` step ${s.step}${s.totalSteps ? ` / ${s.totalSteps}` : ''}${canStop(r) && r.etaSeconds !== undefined ? ` · ETA ${fmtDuration(r.etaSeconds)}` : ''}`,
        ),
        canStop(r) ? stopButton(r, cb) : null,
      ),
    );
  }
  box.append(ul);
}

/** Config as dotted keys → display strings. */
export function flatten(x: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = typeof x === 'string' ? x : (JSON.stringify(x) ?? 'undefined');
  }
  return out;
}

export function renderConfig(r: RunData, open: boolean, onToggle: (open: boolean) => void): HTMLElement {
  const d = el('details', { class: 'config', open });
  d.append(
    el('summary', {}, 'Resolved config'),
    el('pre', { tabindex: 0, 'aria-label': 'Resolved config' }, r.summary.config === undefined ? '(not recorded)' : JSON.stringify(r.summary.config, null, 2)),
  );
  d.addEventListener('toggle', () => onToggle(d.open));
  return d;
}

export function renderHyperTable(runs: RunData[], onlyDiff: boolean): HTMLTableElement {
  const flat = runs.map((r) => flatten(r.summary.config ?? {}));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const shown = keys.filter((k) => !onlyDiff || new Set(flat.map((f) => f[k])).size > 1);
  const table = el('table', { class: 'hyper', 'data-table': 'hyper' });
  table.append(el('caption', {}, onlyDiff ? `Hyper-parameters that differ (${shown.length} of ${keys.length})` : `Hyper-parameters (${keys.length})`));
  table.append(el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Key'), ...runs.map((r) => shownEl('th', { scope: 'col' }, displayName(r.summary))))));
  const body = el('tbody');
  for (const k of shown) {
    const differs = new Set(flat.map((f) => f[k])).size > 1;
    body.append(el('tr', { class: differs ? 'differs' : undefined }, shownEl('th', { scope: 'row' }, k), ...flat.map((f) => shownEl('td', {}, f[k] ?? '—'))));
  }
  table.append(body);
  return table;
}
