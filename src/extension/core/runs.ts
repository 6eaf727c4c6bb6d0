// Run folders as the extension shows them: where the runs folder is, grouping by config, the words
// and numbers the run history, hovers and CodeLens show. Reading and writing run folders is
// shared/run's. No `vscode` here, so node:test covers it.

import * as os from 'node:os';
import * as path from 'node:path';
import { formatMetric, isMetricName, testKey, bestKey, type MetricName } from '../../shared/metrics';
import type { RunSummary } from '../../shared/protocol';
import { clipText, DISPLAY_MAX, DISPLAY_MAX_LONG, DISPLAY_MAX_TIP } from '../../shared/display';
import {
  defaultRunsFolder,
  hasExportedModel,
  hasResumeCheckpoint,
  isPidAlive,
  isRenamed,
  runIdentities,
  type RunIdentity,
  type RunInfo,
  type RunRecord,
} from '../../shared/run';
import { configAsWritten, defaultRunName } from '../../shared/config/config';

/** The runs folder: the setting (absolute, or relative to the workspace folder), else the default runs folder (shared/run) of the workspace folder, else of the config's folder. */
export function runsFolderFor(o: { setting?: string; workspaceFolder?: string; configPath?: string }): string {
  const s = o.setting?.trim();
  const base = o.workspaceFolder ?? (o.configPath ? path.dirname(o.configPath) : process.cwd());
  if (s) return path.resolve(base, s.replace(/^~(?=$|\/)/, os.homedir()));
  return defaultRunsFolder(base);
}

const time = (s?: string) => (s ? Date.parse(s) || 0 : 0);

/** Newest first (created, then started). */
export function byNewest(a: RunRecord, b: RunRecord): number {
  return time(b.info.createdAt ?? b.info.startedAt) - time(a.info.createdAt ?? a.info.startedAt) || b.info.id.localeCompare(a.info.id);
}

export interface ConfigGroup {
  configPath: string;
  /** Display name: the config file's base name. */
  label: string;
  runs: RunRecord[];
}

/** Runs grouped by their config file, newest run first in each group, groups with the newest run first. */
export function groupByConfig(runs: RunRecord[]): ConfigGroup[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = r.info.configPath ? path.resolve(r.info.configPath) : '';
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const out = [...groups].map(([configPath, rs]) => ({ configPath, label: configPath ? path.basename(configPath) : '(no config)', runs: rs.sort(byNewest) }));
  return out.sort((a, b) => byNewest(a.runs[0], b.runs[0]) || a.label.localeCompare(b.label));
}

// ---------------------------------------------------------------------------------------------
// Words and numbers

/** "just now", "5 min ago", "2 h ago", "3 d ago". */
export function formatAgo(iso: string | undefined, now = Date.now()): string {
  const t = time(iso);
  if (!t) return '';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 60) return `${Math.round(s / 86400)} d ago`;
  return new Date(t).toISOString().slice(0, 10);
}

/** "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** How long a run ran (to now while it runs). */
export function runSeconds(info: RunInfo, now = Date.now()): number | undefined {
  const a = time(info.startedAt);
  if (!a) return undefined;
  const b = info.status === 'running' ? now : time(info.endedAt);
  return b ? (b - a) / 1000 : undefined;
}

/** The metric a config selects by (evaluation.metric), else the best record's, else 'f1'. */
export function metricName(info: RunInfo): MetricName {
  const c = info.config as { evaluation?: { metric?: unknown } } | null | undefined;
  const m = c?.evaluation?.metric;
  return isMetricName(m) ? m : (info.best?.metric ?? 'f1');
}

/** A run's headline number: the test value of its metric, else the best validation value. */
export function keyMetric(info: RunInfo): { name: MetricName; value: number; source: 'test' | 'best' } | undefined {
  const name = metricName(info);
  const test = info.final?.[testKey(name)];
  if (typeof test === 'number' && Number.isFinite(test)) return { name, value: test, source: 'test' };
  if (info.best && Number.isFinite(info.best.value)) return { name: info.best.metric, value: info.best.value, source: 'best' };
  const b = info.final?.[bestKey(name)];
  if (typeof b === 'number' && Number.isFinite(b)) return { name, value: b, source: 'best' };
  return undefined;
}

/** Which number a run's headline is: `test f1` (test split, best checkpoint) or `val f1` (best validation value). */
export function metricLabel(km: { name: MetricName; source: 'test' | 'best' }): string {
  return `${km.source === 'test' ? 'test' : 'val'} ${km.name}`;
}

/** Progress of a run in percent (0–100), when its total is known. */
export function progressPercent(info: RunInfo): number | undefined {
  if (!info.totalSteps) return undefined;
  return Math.max(0, Math.min(100, Math.floor((100 * info.step) / info.totalSteps)));
}

/** The run history item's context value: `run-<status>` plus `-resumable` when it has a checkpoint to continue from. */
export function contextValue(r: RunRecord): string {
  const resumable = (r.info.status === 'stopped' || r.info.status === 'failed' || r.info.status === 'pruned') && hasResumeCheckpoint(r.dir);
  const model = r.info.status === 'completed' && hasExportedModel(r.dir);
  return `run-${r.info.status}${resumable ? '-resumable' : ''}${model ? '-model' : ''}`;
}

/** A run's identity on its own (no siblings known): its name, and its short id. Callers that know the other runs pass the store's. */
export const identityAlone = (r: RunRecord): RunIdentity => runIdentities([r.info]).get(r.info.id)!;

/**
 * A run named where nothing else says which config it is of (notifications, the status bar, the
 * Output channel): its label, after its config's file name when the label is computed
 * (`textcls · lr=3e-4`); a run labelled by its name is its name.
 */
export function contextLabel(r: RunRecord, identity: RunIdentity = identityAlone(r)): string {
  if (identity.label === r.info.name || !r.info.configPath) return identity.label;
  return `${defaultRunName(r.info.configPath)} · ${identity.label}`;
}

/** The RunSummary the dashboard receives; `identity` is the run's among all runs (RunStore.identity). */
export function toRunSummary(r: RunRecord, identity: RunIdentity = identityAlone(r)): RunSummary {
  const i = r.info;
  const c = i.config as { task?: RunSummary['task'] } | null;
  return {
    id: i.id,
    name: i.name,
    shortId: identity.shortId,
    label: identity.label,
    dir: r.dir,
    status: i.status,
    configPath: i.configPath,
    task: c?.task,
    step: i.step ?? 0,
    totalSteps: i.totalSteps,
    epoch: i.epoch,
    startedAt: i.startedAt,
    endedAt: i.endedAt,
    device: i.device,
    best: i.best ? { metric: i.best.metric, value: i.best.value, step: i.best.step } : undefined,
    final: i.final,
    error: i.error,
    earlyStop: i.earlyStop,
    config: i.config ? configAsWritten(i.config) : undefined,
    notes: i.notes,
    tags: i.tags,
  };
}

interface Hyper {
  task?: string;
  model?: { pretrained?: string; fromScratch?: { layers: number; hidden: number; heads: number }; peft?: { kind: string } };
  data?: { maxLength?: number };
  training?: { epochs?: number; batchSize?: number; lr?: number; weightDecay?: number; warmupRatio?: number; schedule?: string; optimizer?: string };
  seed?: number;
  device?: string;
}

/** The main hyper-parameters of a resolved config as [label, value] pairs. */
export function mainHyperParameters(config: unknown): [string, string][] {
  const c = (config ?? {}) as Hyper;
  const out: [string, string][] = [];
  const add = (k: string, v: unknown) => v !== undefined && v !== null && out.push([k, String(v)]);
  add('task', c.task);
  const m = c.model;
  if (m?.pretrained) add('model', path.basename(m.pretrained));
  else if (m?.fromScratch) add('model', `from scratch ${m.fromScratch.layers}×${m.fromScratch.hidden}, ${m.fromScratch.heads} heads`);
  if (m?.peft && m.peft.kind !== 'none') add('peft', m.peft.kind);
  const t = c.training;
  add('epochs', t?.epochs);
  add('batch size', t?.batchSize);
  add('lr', t?.lr);
  add('optimizer', t?.optimizer);
  add('weight decay', t?.weightDecay);
  add('warmup', t?.warmupRatio);
  add('schedule', t?.schedule);
  add('max length', c.data?.maxLength);
  add('seed', c.seed);
  return out;
}

/** U+2060 WORD JOINER: zero width, no line break; splits what GFM would autolink. */
const WJ = '\u2060';

/**
 * Text → Markdown that renders as that text: the Markdown-significant punctuation is backslash-escaped
 * (CommonMark allows it for any ASCII punctuation), and a leading `#`, `-`, `+`, `=` or `1.`, so no link,
 * image, HTML tag, table pipe, emphasis, list, heading, theme icon (`$(...)`) or entity can come from a run name, note, tag or value; line breaks become spaces
 * (a table cell or the bold title line cannot be split into new blocks). Escaping does not stop GFM's
 * autolinks (bare `https://…`, `www.…`, `a@b.c` become links, backslashes and all), so a WORD JOINER
 * (U+2060, invisible, no line break) goes after `:` in `://`, after `www` and after `@`.
 */
export function mdEscape(s: string): string {
  return (
    String(s)
      .replace(/[\r\n\u2028\u2029]+/g, ' ')
      .replace(/[\\`*_{}[\]()!~|<>$&]/g, (ch) => `\\${ch}`)
      // only at the start of a line do these make a heading, list, rule or quote
      .replace(/^(\s*)([#+\-=])(?=[\s#+\-=]|$)/, '$1\\$2')
      .replace(/^(\s*\d+)([.)])(?=\s|$)/, '$1\\$2')
      .replace(/:(?=\/\/)/g, `:${WJ}`)
      .replace(/(www)(?=\.)/gi, `$1${WJ}`)
      .replace(/@/g, `@${WJ}`)
  );
}

/** Run text (a name, a value) in Markdown, cut to `max` characters first. */
export function mdText(s: string, max = DISPLAY_MAX): string {
  return mdEscape(clipText(String(s), max));
}

/**
 * Run text for a place where VS Code draws `$(name)` as a theme icon and takes no Markdown: QuickPick
 * labels, descriptions and details, status bar text, CodeLens titles. One line, cut to `max`
 * characters, and `$(` written `\$(` (VS Code's escape: the text `$(alert)` is shown, not the icon).
 */
export function labelText(s: string, max = DISPLAY_MAX): string {
  return clipText(String(s).replace(/[\r\n\u2028\u2029]+/g, ' '), max).replace(/\$\(/g, '\\$(');
}

/**
 * Run text inside a notification (showInformationMessage and the like): VS Code makes `[text](target)`
 * there a link, so a WORD JOINER splits `](`; one line, cut to `max` characters.
 */
export function noticeText(s: string, max = DISPLAY_MAX): string {
  return clipText(String(s).replace(/[\r\n\u2028\u2029]+/g, ' '), max).replace(/\]\(/g, `]${WJ}(`);
}

/** Multi-line text (notes) → Markdown: each line escaped, line breaks kept as hard breaks. */
export function mdEscapeLines(s: string): string {
  return String(s).split(/\r?\n/).map(mdEscape).join('  \n');
}

/**
 * The run history item: its label (what sets it apart from the other runs of its config, or its
 * name), clipped; a description that ends with the short id; a Markdown tooltip (to show with
 * `supportThemeIcons` off) headed by the label, with the name when it is not the label.
 */
export function describeRun(
  r: RunRecord,
  now = Date.now(),
  o: { configNote?: string; trustNote?: string; identity?: RunIdentity; /** A sweep trial's: the step its sweep pruned it at. */ prunedAt?: number } = {},
): { label: string; description: string; tooltip: string } {
  const i = r.info;
  const id = o.identity ?? identityAlone(r);
  const parts: string[] = [];
  if (o.configNote) parts.push(o.configNote);
  const pct = progressPercent(i);
  if (i.status === 'running') parts.push(pct !== undefined ? `${pct}%` : 'running');
  if (i.status === 'queued') parts.push('queued');
  const km = keyMetric(i);
  if (km) parts.push(`${metricLabel(km)} ${formatMetric(km.value)}`);
  const secs = runSeconds(i, now);
  if (secs !== undefined) parts.push(formatDuration(secs));
  if (i.status === 'failed') parts.push('failed');
  if (i.status === 'stopped') parts.push('stopped');
  if (i.status === 'pruned') parts.push(o.prunedAt !== undefined ? `pruned @ ${o.prunedAt}` : 'pruned');
  if (i.earlyStop) parts.push(`early stop @ ${i.earlyStop.step}`);
  const lines = [
    `**${mdText(id.label, DISPLAY_MAX_TIP)}** — ${i.status}${pct !== undefined && i.status === 'running' ? ` (${i.step}/${i.totalSteps})` : ''}`,
    '',
  ];
  if (id.label !== i.name) lines.push(`name: ${mdText(i.name, DISPLAY_MAX_TIP)}`, '');
  const rows: [string, string][] = [...mainHyperParameters(i.config)];
  if (i.device) rows.push(['device', `${i.device.used}${i.device.threads ? `, ${i.device.threads} threads` : ''}`]);
  if (km) rows.push([km.source === 'test' ? `test ${km.name} (best checkpoint)` : `best validation ${km.name}`, formatMetric(km.value)]);
  if (i.earlyStop) rows.push(['early stop', `at step ${i.earlyStop.step}: ${i.earlyStop.reason}`]);
  if (i.startedAt) rows.push(['started', `${formatAgo(i.startedAt, now)}`]);
  if (secs !== undefined) rows.push(['duration', formatDuration(secs)]);
  if (i.tags?.length) rows.push(['tags', i.tags.map((t) => clipText(String(t))).join(', ')]);
  if (rows.length) lines.push('| | |', '|---|---|', ...rows.map(([k, v]) => `| ${mdText(k)} | ${mdText(v, DISPLAY_MAX_TIP)} |`));
  if (i.error?.message) lines.push('', `**Error:** ${mdText(i.error.message.split('\n')[0], DISPLAY_MAX_LONG)}`);
  if (i.notes) lines.push('', mdEscapeLines(clipText(i.notes, DISPLAY_MAX_LONG)));
  // No theme icons here: the tooltip is rendered without them, so `$(…)` in run text stays text.
  if (o.configNote) lines.push('', `⚠ ${mdEscape(o.configNote)}`);
  if (o.trustNote) lines.push('', `🛡 ${mdEscape(o.trustNote)}`);
  lines.push('', `${mdText(id.shortId)} · ${mdText(i.id, DISPLAY_MAX_TIP)}`);
  // the short id last: the least needed part goes first when a narrow view cuts the description
  parts.push(id.shortId);
  return { label: clipText(id.label), description: clipText(parts.join(' · '), DISPLAY_MAX_TIP), tooltip: lines.join('\n') };
}

/**
 * A run as a QuickPick item (Compare, Diff, Resume … pick lists): its label, then its short id,
 * status, metric and age; the detail says where (and the name, when it is not the label). Strings go
 * through `labelText`, since a pick list draws `$(…)` as icons.
 */
export function runPickItem(
  r: RunRecord,
  where: string,
  now = Date.now(),
  identity: RunIdentity = identityAlone(r),
): { label: string; description: string; detail: string } {
  const km = keyMetric(r.info);
  return {
    label: labelText(identity.label),
    description: labelText(
      `${identity.shortId} · ${r.info.status}${km ? ` · ${metricLabel(km)} ${formatMetric(km.value)}` : ''} · ${formatAgo(r.info.createdAt ?? r.info.startedAt, now)}`,
      DISPLAY_MAX_TIP,
    ),
    detail: labelText(identity.label === r.info.name ? where : `${r.info.name} · ${where}`, DISPLAY_MAX_TIP),
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Runs that say `running`, on this host: those whose process is alive (to follow) and those whose process is gone (stale). */
export function classifyRunning(runs: RunRecord[], alive = isPidAlive, host = os.hostname()): { live: RunRecord[]; stale: RunRecord[] } {
  const live: RunRecord[] = [];
  const stale: RunRecord[] = [];
  for (const r of runs) {
    if (r.info.status !== 'running') continue;
    if (r.info.host && r.info.host !== host) continue; // another machine's run: not ours to judge
    (alive(r.info.pid) ? live : stale).push(r);
  }
  return { live, stale };
}

/**
 * What Rename writes to run.json for what the user typed over the run's label `shown`: a new name
 * with `renamed: true` (the name is then the label); empty: the config's name back with
 * `renamed: false` (the label is computed again); undefined when nothing changes.
 */
export function renameFields(info: RunInfo, typed: string, shown: string): Pick<RunInfo, 'name' | 'renamed'> | undefined {
  const name = typed.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();
  if (!name) {
    if (!isRenamed(info)) return undefined;
    const configName = (info.config as { name?: unknown } | null)?.name;
    return { name: typeof configName === 'string' ? configName : info.name, renamed: false };
  }
  if (name === shown) return undefined;
  return { name, renamed: true };
}

/** Comma/space separated tags → a clean unique list. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[,\s]+/)
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/** A JSON text with sorted keys (stable for diffs). */
export function sortedJsonText(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object')
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
      );
    return x;
  };
  return JSON.stringify(sort(v), null, 2) + '\n';
}
