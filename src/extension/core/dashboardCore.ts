// The host side of one dashboard panel, without VS Code: nothing is posted before the webview's
// `ready`; then `init`, each run's recorded metrics in `history` chunks, and from then on `append`
// as metrics.jsonl grows and `status` when run.json changes. Every message from the webview is
// validated and handled by one exhaustive switch.

import * as path from 'node:path';
import { isWebviewToHost, type HostToWebview, type MetricsRecord, type MisclassifiedExample, type WebviewToHost } from '../../shared/protocol';
import { MetricsTail, type RunIdentity, type RunRecord } from '../../shared/run';
import { toRunSummary } from './runs';
import { checkOpenFile, readMisclassifiedIn, runDataFiles, safeExportName } from './webviewGuard';

/** Largest export (CSV, SVG text or PNG base64) the host accepts from a webview. */
export const MAX_EXPORT_CHARS = 256 * 1024 * 1024;

export const HISTORY_CHUNK = 5000;

export function chunk<T>(items: T[], size = HISTORY_CHUNK): T[][] {
  if (!items.length) return [[]];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface DashboardHost {
  post(message: HostToWebview): unknown;
  getRun(dir: string): RunRecord | undefined;
  /** A run's short id and label among all known runs (RunStore.identity); without it, the run's own. */
  identity?(run: RunRecord): RunIdentity;
  eta(dir: string): number | undefined;
  stop(dir: string): void;
  openFile(file: string, line: number): void;
  save(format: 'csv' | 'png' | 'svg', suggestedName: string, data: string | Uint8Array): Promise<void> | void;
  log(message: string): void;
  /** Tells the user (a notification): a refused request says so rather than doing nothing. */
  warn(message: string): void;
}

export class DashboardSession {
  private ready = false;
  private readonly tails = new Map<string, MetricsTail>();

  readonly runDirs: string[];

  constructor(
    runDirs: string[],
    private readonly host: DashboardHost,
  ) {
    this.runDirs = [...new Set(runDirs.map((d) => path.resolve(d)))];
  }

  get mode(): 'run' | 'compare' {
    return this.runDirs.length > 1 ? 'compare' : 'run';
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The state a restored panel needs (run folders; run ids are looked up again). */
  state(): { runDirs: string[]; runIds: string[] } {
    return { runDirs: this.runDirs, runIds: this.runDirs.map((d) => this.host.getRun(d)?.info.id ?? path.basename(d)) };
  }

  shows(dir: string): boolean {
    return this.runDirs.includes(path.resolve(dir));
  }

  /** A message from the webview. */
  async receive(raw: unknown): Promise<void> {
    if (!isWebviewToHost(raw)) {
      this.host.log(`dashboard: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const m: WebviewToHost = raw;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        await this.sendAll();
        return;
      case 'stop': {
        const dir = this.dirOf(m.runId);
        if (dir) this.host.stop(dir);
        return;
      }
      case 'openFile': {
        const c = checkOpenFile(m.file, m.line, this.allowedFiles());
        if (c.ok) this.host.openFile(c.file, c.line);
        else {
          this.host.log(`dashboard: refused ${c.reason}`);
          this.host.warn(`Fine-tune: refused to open a file from the dashboard: ${c.reason.replace(/^openFile: /, '')}.`);
        }
        return;
      }
      case 'requestMisclassified': {
        const dir = this.dirOf(m.runId);
        if (!dir) return;
        this.host.post({ type: 'misclassified', runId: m.runId, split: m.split, examples: readMisclassified(dir, m.split) });
        return;
      }
      case 'export':
        if (m.data.length > MAX_EXPORT_CHARS) {
          this.host.log(`dashboard: refused an export of ${m.data.length} characters (limit ${MAX_EXPORT_CHARS})`);
          return;
        }
        // the name is only a suggestion for the save dialog; the user picks where it is written
        await this.host.save(m.format, safeExportName(m.suggestedName, m.format), m.base64 === true ? Buffer.from(m.data, 'base64') : m.data);
        return;
      case 'error':
        this.host.log(`dashboard: ${m.message}`);
        return;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** metrics.jsonl of a run grew (or was replaced: then its history is sent again). */
  metricsChanged(dir: string): void {
    const d = path.resolve(dir);
    if (!this.ready || !this.shows(d)) return;
    const tail = this.tails.get(d);
    const run = this.host.getRun(d);
    if (!tail || !run || this.loading.has(d)) return; // the initial load catches up when it ends
    const { records, reset } = tail.read();
    if (reset) this.sendHistory(run.info.id, records);
    else if (records.length) this.host.post({ type: 'append', runId: run.info.id, records });
  }

  /** run.json of a run changed. */
  runChanged(dir: string): void {
    const d = path.resolve(dir);
    if (!this.ready || !this.shows(d)) return;
    const run = this.host.getRun(d);
    if (!run) return;
    this.host.post({ type: 'status', run: this.summary(run), etaSeconds: run.info.status === 'running' ? this.host.eta(d) : undefined });
  }

  /**
   * Labels depend on the other runs of a config (a new sibling, a rename): after any change in the
   * store, a run whose label is no longer the one the panel shows gets a `status` with the new one.
   */
  labelsChanged(): void {
    if (!this.ready) return;
    for (const d of this.runDirs) {
      const run = this.host.getRun(d);
      if (run && this.sentLabels.has(d) && this.sentLabels.get(d) !== this.summary(run).label) this.runChanged(d);
    }
  }

  /** The files this panel may open: its runs' own data files, from their configs (never the names in misclassified-*.json). */
  allowedFiles(): Set<string> {
    const out = new Set<string>();
    for (const d of this.runDirs) for (const f of runDataFiles(this.host.getRun(d)?.info.config)) out.add(f);
    return out;
  }

  /** The label each run was last sent with. */
  private readonly sentLabels = new Map<string, string | undefined>();

  private summary(r: RunRecord) {
    const s = toRunSummary(r, this.host.identity?.(r));
    this.sentLabels.set(r.dir, s.label);
    return s;
  }

  private dirOf(runId: string): string | undefined {
    return this.runDirs.find((d) => (this.host.getRun(d)?.info.id ?? path.basename(d)) === runId);
  }

  private readonly loading = new Set<string>();

  /** init, then each run's history streamed in chunks as it is read (the host stays responsive). */
  private async sendAll(): Promise<void> {
    const runs = this.runDirs.map((d) => this.host.getRun(d)).filter((r): r is RunRecord => !!r);
    this.host.post({ type: 'init', mode: this.mode, runs: runs.map((r) => this.summary(r)) });
    for (const r of runs) {
      const tail = MetricsTail.of(r.dir);
      this.tails.set(r.dir, tail);
      this.loading.add(r.dir);
      let pending: MetricsRecord[] = [];
      try {
        await tail.readAsync((records) => {
          pending.push(...records);
          while (pending.length > HISTORY_CHUNK) {
            this.host.post({ type: 'history', runId: r.info.id, records: pending.slice(0, HISTORY_CHUNK), done: false });
            pending = pending.slice(HISTORY_CHUNK);
          }
        });
      } finally {
        this.loading.delete(r.dir);
      }
      this.host.post({ type: 'history', runId: r.info.id, records: pending, done: true });
      if (r.info.status === 'running') this.runChanged(r.dir);
      this.metricsChanged(r.dir); // lines appended while loading
    }
  }

  private sendHistory(runId: string, records: MetricsRecord[]): void {
    const parts = chunk(records);
    parts.forEach((p, i) => this.host.post({ type: 'history', runId, records: p, done: i === parts.length - 1 }));
  }
}

/** misclassified-<split>.json of a run ([] when absent, unreadable, too large, or a link out of the run folder). */
export function readMisclassified(dir: string, split: 'validation' | 'test'): MisclassifiedExample[] {
  return readMisclassifiedIn(dir, split);
}
