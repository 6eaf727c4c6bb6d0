// Dashboard panels: one WebviewPanel per run (and one per compared set), each driven by a
// DashboardSession (core/dashboardCore.ts). Panels come back after a window reload through a
// serializer; the run folders of open panels are kept in workspaceState (keyed by panel title)
// for webviews whose state does not carry run ids. An example's "open at its line" opens a text
// data file at the line; a Parquet example (binary data) opens a read-only document of its row.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { dashboardHtml, makeNonce } from '../webview/html';
import { DashboardSession, type DashboardHost } from './core/dashboardCore';
import type { RunStore } from './core/store';
import { LABEL_MAX, runPaths } from '../shared/run';
import { clipText } from '../shared/display';
import { isParquetFile, parquetRowText } from '../shared/parquetRow';

/** Read-only documents of one Parquet row: finetune-parquet-row:<file path>?<row>. */
const PARQUET_ROW_SCHEME = 'finetune-parquet-row';

export const DASHBOARD_VIEW = 'finetune.dashboard';
const OPEN_KEY = 'finetune.openDashboards';

export interface DashboardDeps {
  store: RunStore;
  eta(dir: string): number | undefined;
  stop(dir: string): void;
  log(message: string): void;
  /** Resolves once the first scan of the runs folders is done (restored panels wait for it). */
  scanned: Promise<void>;
}

interface Open {
  panel: vscode.WebviewPanel;
  session: DashboardSession;
  key: string;
}

export class Dashboards implements vscode.Disposable {
  private readonly open = new Map<string, Open>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly deps: DashboardDeps,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW, {
        deserializeWebviewPanel: async (panel, state) => this.restore(panel, state),
      }),
      vscode.workspace.registerTextDocumentContentProvider(PARQUET_ROW_SCHEME, {
        provideTextDocumentContent: (uri) =>
          parquetRowText(uri.fsPath, Number(uri.query)).catch((e: Error) => `# cannot read row ${uri.query} of ${uri.fsPath}: ${e.message}\n`),
      }),
    );
    const onChange = (dirs: string[]) => {
      let retitled = false;
      for (const o of this.open.values()) {
        for (const d of dirs) o.session.runChanged(d);
        // a label depends on the other runs of a config: a new sibling or a rename changes it
        o.session.labelsChanged();
        const title = this.title(o.session.runDirs);
        if (o.panel.title !== title) {
          o.panel.title = title;
          retitled = true;
        }
      }
      if (retitled) void this.remember();
    };
    deps.store.on('change', onChange);
    this.disposables.push({ dispose: () => deps.store.off('change', onChange) });
  }

  /** metrics.jsonl of a run grew. */
  metricsChanged(dir: string): void {
    for (const o of this.open.values()) o.session.metricsChanged(dir);
  }

  show(runDirs: string[]): void {
    const dirs = [...new Set(runDirs.map((d) => path.resolve(d)))];
    if (!dirs.length) return;
    const key = [...dirs].sort().join('|');
    const existing = this.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW, this.title(dirs), vscode.ViewColumn.Active, this.options());
    this.attach(panel, dirs);
  }

  /** The tab title: the run's label (what sets it apart from its siblings), or the compared runs' labels. */
  private title(dirs: string[]): string {
    const names = dirs.map((d) => {
      const r = this.deps.store.get(d);
      return r ? clipText(this.deps.store.label(r), LABEL_MAX) : path.basename(d);
    });
    return dirs.length === 1 ? `Fine-tune: ${names[0]}` : `Compare: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` +${names.length - 3}` : ''}`;
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    const root = this.context.extensionUri;
    return { enableScripts: true, enableFindWidget: true, localResourceRoots: [vscode.Uri.joinPath(root, 'dist'), vscode.Uri.joinPath(root, 'media')] };
  }

  private async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    await this.deps.scanned;
    const s = (state ?? {}) as { runDirs?: unknown; runIds?: unknown };
    let dirs: string[] = [];
    if (Array.isArray(s.runDirs)) dirs = s.runDirs.filter((d): d is string => typeof d === 'string');
    else if (Array.isArray(s.runIds))
      dirs = s.runIds.map((id) => (typeof id === 'string' ? this.deps.store.byId(id)?.dir : undefined)).filter((d): d is string => !!d);
    if (!dirs.length) {
      const saved = this.context.workspaceState.get<{ title: string; runDirs: string[] }[]>(OPEN_KEY, []);
      const used = new Set([...this.open.values()].map((o) => o.key));
      dirs = saved.find((x) => x.title === panel.title && !used.has([...x.runDirs].sort().join('|')))?.runDirs ?? [];
    }
    dirs = dirs.filter((d) => this.deps.store.get(d) || fs.existsSync(runPaths(d).info));
    if (!dirs.length) {
      panel.dispose();
      return;
    }
    panel.webview.options = this.options();
    this.attach(
      panel,
      dirs.map((d) => path.resolve(d)),
    );
  }

  private attach(panel: vscode.WebviewPanel, dirs: string[]): void {
    const key = [...dirs].sort().join('|');
    const webview = panel.webview;
    const host: DashboardHost = {
      post: (m) => webview.postMessage(m),
      getRun: (d) => this.deps.store.get(d),
      identity: (r) => this.deps.store.identity(r),
      eta: (d) => this.deps.eta(d),
      stop: (d) => this.deps.stop(d),
      openFile: (file, line) => void openAt(file, line),
      save: (format, name, data) => saveExport(format, name, data, this.deps.store.get(dirs[0])?.info.configPath),
      log: (m) => this.deps.log(m),
      warn: (m) => void vscode.window.showWarningMessage(m),
    };
    const session = new DashboardSession(dirs, host);
    const entry: Open = { panel, session, key };
    this.open.set(key, entry);
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.svg');
    const subs = [
      webview.onDidReceiveMessage((m) => session.receive(m).catch((e: Error) => this.deps.log(`dashboard: ${e.message}`))),
      panel.onDidDispose(() => {
        this.open.delete(key);
        for (const s of subs) s.dispose();
        void this.remember();
      }),
    ];
    webview.html = this.html(webview, panel.title);
    void this.remember();
  }

  private html(webview: vscode.Webview, title: string): string {
    const root = this.context.extensionUri;
    const styles = [
      ['media', 'dashboard.css'],
      ['dist', 'webview.css'],
    ]
      .filter((p) => fs.existsSync(path.join(root.fsPath, ...p)))
      .map((p) => webview.asWebviewUri(vscode.Uri.joinPath(root, ...p)).toString());
    return dashboardHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'webview.js')).toString(),
      styleUris: styles,
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      title,
    });
  }

  private remember(): Thenable<void> {
    const list = [...this.open.values()].map((o) => ({ title: o.panel.title, runDirs: o.session.runDirs }));
    return this.context.workspaceState.update(OPEN_KEY, list);
  }

  dispose(): void {
    for (const o of this.open.values()) o.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

async function openAt(file: string, line: number): Promise<void> {
  // Parquet is binary: opened as text it is noise. The example's line is its row; show that row's fields.
  if (isParquetFile(file)) {
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file).with({ scheme: PARQUET_ROW_SCHEME, query: String(line) }));
      await vscode.languages.setTextDocumentLanguage(doc, 'yaml');
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: false });
    } catch (e) {
      void vscode.window.showErrorMessage(`Fine-tune: cannot show row ${line} of ${file}: ${(e as Error).message}`);
    }
    return;
  }
  const uri = vscode.Uri.file(file);
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    const l = Math.max(0, Math.min(doc.lineCount - 1, line - 1));
    const range = doc.lineAt(l).range;
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, selection: range, preserveFocus: false });
  } catch (e) {
    void vscode.window.showErrorMessage(`Fine-tune: cannot open ${file}: ${(e as Error).message}`);
  }
}

const FILTERS: Record<string, Record<string, string[]>> = { csv: { CSV: ['csv'] }, png: { 'PNG image': ['png'] }, svg: { 'SVG image': ['svg'] } };

export async function saveExport(format: 'csv' | 'png' | 'svg', suggestedName: string, data: string | Uint8Array, configPath?: string): Promise<void> {
  const safe = path.basename(suggestedName).replace(/[\\/:*?"<>|]/g, '_') || `export.${format}`;
  const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? (configPath ? vscode.Uri.file(path.dirname(configPath)) : undefined);
  const target = await vscode.window.showSaveDialog({
    defaultUri: base ? vscode.Uri.joinPath(base, safe) : undefined,
    filters: FILTERS[format],
    saveLabel: 'Export',
  });
  if (!target) return;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  await vscode.workspace.fs.writeFile(target, bytes);
  void vscode.window.showInformationMessage(`Fine-tune: saved ${vscode.workspace.asRelativePath(target)}`);
}
