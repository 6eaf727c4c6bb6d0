// What past runs say about a config: the hover table for one key (values tried, metrics they gave,
// which runs, when) and the CodeLens line over a config (start, last result, compare). Runs are
// named by their labels (shared/run/identity.ts), computed over the runs given.

import * as path from 'node:path';
import { bestKey, formatMetric, isBetter, lowerIsBetter, testKey, type MetricName } from '../../shared/metrics';
import { runLabels, type RunRecord } from '../../shared/run';
import { byNewest, formatAgo, keyMetric, labelText, mdEscape, mdText, metricLabel, metricName, progressPercent } from './runs';
import { clipText, DISPLAY_MAX_TIP } from '../../shared/display';
import { displayValue, resolvedValue } from './configKeys';
import { describeSweep, sweepProgress, type SweepRecord, type SweepState } from './sweeps';
import { UNTRUSTED_NOTE } from './trust';

interface Group {
  value: string;
  runs: RunRecord[];
  best?: number;
  test?: number;
  top?: RunRecord;
  /** The metric the numbers are of (a run of another config may select by another one). */
  metric?: MetricName;
}

/** Text for a table cell: Markdown escaped and clipped (run names, config names are user text). */
const cell = (s: string) => mdText(s, DISPLAY_MAX_TIP);
/** A value as a code span in a table cell (no autolink there); as escaped text when it holds a backtick (it could close the span). Clipped. */
const codeCell = (raw: string) => {
  const s = clipText(raw);
  return /[`\r\n]/.test(s) ? mdEscape(s) : `\`${s.replace(/\|/g, '\\|')}\``;
};

function groupValues(key: string, runs: RunRecord[], metric: MetricName): Group[] {
  const groups = new Map<string, Group>();
  for (const r of runs) {
    const c = r.info.config as { baseDir?: string } | null | undefined;
    if (!c) continue;
    const value = displayValue(resolvedValue(c, key), c.baseDir);
    let g = groups.get(value);
    if (!g) groups.set(value, (g = { value, runs: [] }));
    g.runs.push(r);
    const has = (m: MetricName) => r.info.best?.metric === m || r.info.final?.[bestKey(m)] !== undefined || r.info.final?.[testKey(m)] !== undefined;
    const m = has(metric) ? metric : metricName(r.info);
    const best = r.info.best && r.info.best.metric === m ? r.info.best.value : r.info.final?.[bestKey(m)];
    const test = r.info.final?.[testKey(m)];
    const score = best ?? test;
    if (score !== undefined && Number.isFinite(score) && isBetter(metric, score, g.best ?? g.test)) {
      g.best = best;
      g.test = test;
      g.top = r;
      g.metric = m;
    }
  }
  const out = [...groups.values()];
  for (const g of out) g.runs.sort(byNewest);
  const score = (g: Group) => g.best ?? g.test;
  return out.sort((a, b) => {
    const sa = score(a);
    const sb = score(b);
    if (sa === undefined || sb === undefined) return sa === undefined ? (sb === undefined ? byNewest(a.runs[0], b.runs[0]) : 1) : -1;
    return lowerIsBetter(metric) ? sa - sb : sb - sa;
  });
}

function table(
  groups: Group[],
  metric: MetricName,
  current: string | undefined,
  now: number,
  maxRows: number,
  withConfig: boolean,
  labelOf: (r: RunRecord) => string,
): string[] {
  const head = `| value | best ${mdText(metric)} | test ${mdText(metric)} | runs | last |${withConfig ? ' config |' : ''}`;
  const sep = `|---|---:|---:|---|---|${withConfig ? '---|' : ''}`;
  const rows = groups.slice(0, maxRows).map((g) => {
    const names = g.runs.map(labelOf);
    const top = g.top ?? g.runs[0];
    const shown = [labelOf(top), ...names.filter((n) => n !== labelOf(top))];
    const runsText = shown.length > 2 ? `${shown.slice(0, 2).join(', ')} +${shown.length - 2}` : shown.join(', ');
    const when = formatAgo(g.runs[0].info.endedAt ?? g.runs[0].info.startedAt ?? g.runs[0].info.createdAt, now);
    const cfgs = [...new Set(g.runs.map((r) => path.basename(r.info.configPath ?? '')))].join(', ');
    const mark = current !== undefined && g.value === current ? ' ◀' : '';
    const other = g.metric && g.metric !== metric ? ` (${mdText(g.metric)})` : '';
    return `| ${codeCell(g.value)}${mark} | ${g.best !== undefined ? formatMetric(g.best) + other : '–'} | ${g.test !== undefined ? formatMetric(g.test) + other : '–'} | ${cell(runsText)} | ${when} |${withConfig ? ` ${cell(cfgs)} |` : ''}`;
  });
  if (groups.length > maxRows) rows.push(`| … ${groups.length - maxRows} more | | | | |${withConfig ? ' |' : ''}`);
  return [head, sep, ...rows];
}

/**
 * The hover for one key: a Markdown table of the values tried in past runs of this config, then
 * of other configs, each with the best validation and the test value of the selection metric.
 * Undefined when no run has a resolved config.
 */
export function hoverTable(o: { key: string; configPath: string; runs: RunRecord[]; current?: unknown; now?: number; maxRows?: number }): string | undefined {
  const now = o.now ?? Date.now();
  const maxRows = o.maxRows ?? 8;
  const cfg = path.resolve(o.configPath);
  const withConfig = o.runs.filter((r) => r.info.config);
  if (!withConfig.length) return undefined;
  const mine = withConfig.filter((r) => r.info.configPath && path.resolve(r.info.configPath) === cfg);
  const others = withConfig.filter((r) => !mine.includes(r));
  const metric = mine.length ? metricName(mine.sort(byNewest)[0].info) : metricName(others.sort(byNewest)[0].info);
  const current = o.current === undefined ? undefined : displayValue(o.current, path.dirname(cfg));
  const labels = runLabels(o.runs.map((r) => r.info));
  const labelOf = (r: RunRecord) => labels.get(r.info.id) ?? r.info.name;
  const lines = [`**${o.key}** in past runs (selection metric: ${mdText(metric)})`, ''];
  if (mine.length) lines.push(...table(groupValues(o.key, mine, metric), metric, current, now, maxRows, false, labelOf));
  else lines.push('_No runs of this config yet._');
  if (others.length) {
    lines.push('', `Other configs (${others.length} run${others.length === 1 ? '' : 's'}):`, '');
    lines.push(...table(groupValues(o.key, others, metric), metric, current, now, Math.min(5, maxRows), true, labelOf));
  }
  return lines.join('\n');
}

/** The lenses of a config's sweeps: each running one (progress and best, Stop sweep), else Resume of the newest interrupted or stopped one. */
function configSweepLens(cfg: string, sweeps: { record: SweepRecord; state: SweepState }[], trusted: boolean): LensItem[] {
  const mine = sweeps
    .filter((s) => s.record.info.configPath && path.resolve(s.record.info.configPath) === cfg)
    .sort((a, b) => b.record.info.id.localeCompare(a.record.info.id));
  const out: LensItem[] = [];
  const running = mine.filter((s) => s.state === 'running');
  for (const s of running.slice(0, 2)) {
    const d = describeSweep(s.record, s.state);
    out.push({
      title: `$(sync~spin) ${d.label}${d.description ? ` · ${d.description}` : ''}`,
      command: 'finetune.runs.focus',
      arguments: [],
      tooltip: 'Show the sweep in the Runs view',
    });
    out.push({
      title: '$(debug-stop) Stop sweep',
      command: 'finetune.stopSweep',
      arguments: [s.record.dir],
      tooltip: 'Stop the sweep: its running trials checkpoint',
    });
  }
  const open = mine[0];
  if (!running.length && trusted && open && (open.state === 'interrupted' || open.state === 'stopped')) {
    const p = sweepProgress(open.record.info);
    out.push({
      title: `$(debug-continue) Resume sweep (${p.done}/${p.total})`,
      command: 'finetune.resumeSweep',
      arguments: [open.record.dir],
      tooltip: `The last sweep of this config is ${open.state}: continue it where it left off`,
    });
  }
  return out;
}

export interface LensItem {
  title: string;
  command: string;
  arguments: unknown[];
  tooltip?: string;
}

/** The CodeLens over a config: running runs (stop), start, the last result, compare. */
export function configLens(o: {
  configPath: string;
  runs: RunRecord[];
  sweepSize?: number;
  now?: number;
  trusted?: boolean;
  /** Known sweeps with their state: this config's running sweeps (progress, best, Stop sweep), or the newest unfinished one (Resume sweep). */
  sweeps?: { record: SweepRecord; state: SweepState }[];
}): LensItem[] {
  const now = o.now ?? Date.now();
  const cfg = path.resolve(o.configPath);
  const mine = o.runs.filter((r) => r.info.configPath && path.resolve(r.info.configPath) === cfg).sort(byNewest);
  const labels = runLabels(mine.map((r) => r.info));
  const labelOf = (r: RunRecord) => labels.get(r.info.id) ?? r.info.name;
  const out: LensItem[] = [];
  const running = mine.filter((r) => r.info.status === 'running');
  const queued = mine.filter((r) => r.info.status === 'queued');
  for (const r of running.slice(0, 2)) {
    const pct = progressPercent(r.info);
    out.push({
      title: `$(sync~spin) ${labelText(labelOf(r))} ${pct !== undefined ? `${pct}%` : 'running'}`,
      command: 'finetune.openDashboard',
      arguments: [r.dir],
      tooltip: 'Open the dashboard of this run',
    });
    out.push({ title: '$(debug-stop) Stop', command: 'finetune.stop', arguments: [r.dir], tooltip: 'Stop after the current block (a checkpoint is kept)' });
  }
  if (queued.length) out.push({ title: `$(clock) ${queued.length} queued`, command: 'finetune.runs.focus', arguments: [] });
  out.push(...configSweepLens(cfg, o.sweeps ?? [], o.trusted !== false));
  const n = o.sweepSize ?? 1;
  if (o.trusted === false)
    out.push({
      title: '$(shield) Training off: untrusted workspace',
      command: 'workbench.trust.manage',
      arguments: [],
      tooltip: `${UNTRUSTED_NOTE}. Trust the workspace to train; history and diagnostics still work.`,
    });
  else
    out.push({
      title: n > 1 ? `▶ Start sweep (${n} runs)` : '▶ Start',
      command: 'finetune.start',
      arguments: [o.configPath],
      tooltip: 'Start training with this config',
    });
  const last = mine.find((r) => r.info.status !== 'running' && r.info.status !== 'queued');
  if (last) {
    const km = keyMetric(last.info);
    const when = formatAgo(last.info.endedAt ?? last.info.startedAt ?? last.info.createdAt, now);
    const what =
      last.info.status === 'completed' && km
        ? `${metricLabel(km)} ${formatMetric(km.value)}`
        : last.info.status === 'completed'
          ? 'completed'
          : `${last.info.status}${km ? ` (${metricLabel(km)} ${formatMetric(km.value)})` : ''}`;
    out.push({
      title: `last: ${what}${when ? ` · ${when}` : ''}`,
      command: 'finetune.openDashboard',
      arguments: [last.dir],
      tooltip: `Open the dashboard of ${clipText(labelOf(last), DISPLAY_MAX_TIP)}`,
    });
  }
  const done = mine.filter((r) => r.info.status !== 'queued');
  if (done.length >= 2)
    out.push({
      title: `Compare (${Math.min(done.length, 8)})`,
      command: 'finetune.compareRuns',
      arguments: [done.slice(0, 8).map((r) => r.dir)],
      tooltip: 'Compare the latest runs of this config',
    });
  return out;
}
