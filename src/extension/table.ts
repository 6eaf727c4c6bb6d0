// The experiments table panel: one WebviewPanel (dist/table.js) over every known run, kept live
// from the run store (coalesced upserts and removals), restored after a window reload. Its actions
// go to the existing commands: open → the run's dashboard, compare → the compare dashboard, diff →
// the config diff, delete → Delete Run (which asks first); pin/unpin write run.json.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { dashboardHtml, makeNonce } from '../webview/html';
import { sweepIndex, TableSession, toTableRow } from './core/tableRows';
import type { RunStore } from './core/store';
import type { Dashboards } from './dashboard';
import { saveExport } from './dashboard';
import { updateRunInfo } from '../shared/run';

export const TABLE_VIEW = 'finetune.table';
/** How long store changes are gathered before one upsert (run.json is rewritten every block while training). */
const COALESCE_MS = 250;
/** Dashboards opened by one Open at most. */
const MAX_OPEN = 8;

export interface TableDeps {
  store: RunStore;
  dashboards: Dashboards;
  log(message: string): void;
  scanned: Promise<void>;
}

export class ExperimentsTable implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private session: TableSession | undefined;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private sweeps = new Map<string, string>();
  private sweepsAt = 0;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly deps: TableDeps,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(TABLE_VIEW, {
        deserializeWebviewPanel: async (panel) => {
          await deps.scanned;
          panel.webview.options = this.options();
          this.attach(panel);
        },
      }),
    );
    const onChange = (dirs: string[]) => {
      if (!this.session) return;
      for (const d of dirs) this.pending.add(d);
      this.timer ??= setTimeout(() => this.flush(), COALESCE_MS);
    };
    deps.store.on('change', onChange);
    this.disposables.push({ dispose: () => deps.store.off('change', onChange) });
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.attach(vscode.window.createWebviewPanel(TABLE_VIEW, 'Fine-tune: Experiments', vscode.ViewColumn.Active, this.options()));
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    const root = this.context.extensionUri;
    return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(root, 'dist'), vscode.Uri.joinPath(root, 'media')] };
  }

  private flush(): void {
    this.timer = undefined;
    const dirs = [...this.pending];
    this.pending.clear();
    this.session?.changed(dirs);
  }

  /** The sweep of a trial folder; the sweep folders are read again (at most every 2 s) when a folder is not in them. */
  private sweepOf(dir: string): string | undefined {
    const d = path.resolve(dir);
    if (!this.sweeps.has(d) && Date.now() - this.sweepsAt > 2000) {
      this.sweeps = sweepIndex(this.deps.store.all().flatMap((r) => (r.info.configPath ? [r.info.configPath] : [])));
      this.sweepsAt = Date.now();
    }
    return this.sweeps.get(d);
  }

  private attach(panel: vscode.WebviewPanel): void {
    const { store } = this.deps;
    const session = new TableSession({
      post: (m) => panel.webview.postMessage(m),
      runs: () => store.all(),
      get: (d) => store.get(d),
      byId: (id) => store.byId(id),
      row: (r) => toTableRow(r, { relative: (f) => vscode.workspace.asRelativePath(f), sweepOf: (d) => this.sweepOf(d), identity: (x) => store.identity(x) }),
      act: (action, dirs) => this.act(action, dirs),
      save: (name, data) => saveExport('csv', name, data),
      log: (m) => this.deps.log(m),
    });
    this.panel = panel;
    this.session = session;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.svg');
    const subs = [
      panel.webview.onDidReceiveMessage((m) => session.receive(m).catch((e: Error) => this.deps.log(`table: ${e.message}`))),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          this.session = undefined;
        }
        for (const s of subs) s.dispose();
      }),
    ];
    panel.webview.html = this.html(panel.webview);
  }

  private async act(action: 'open' | 'compare' | 'diff' | 'delete' | 'pin' | 'unpin', dirs: string[]): Promise<void> {
    const { store, dashboards } = this.deps;
    switch (action) {
      case 'open':
        for (const d of dirs.slice(0, MAX_OPEN)) dashboards.show([d]);
        if (dirs.length > MAX_OPEN)
          void vscode.window.showInformationMessage(`Fine-tune: opened the first ${MAX_OPEN} of ${dirs.length} runs; Compare shows many in one dashboard.`);
        return;
      case 'compare':
        await vscode.commands.executeCommand('finetune.compareRuns', dirs);
        return;
      case 'diff':
        if (dirs.length !== 2) {
          void vscode.window.showInformationMessage('Fine-tune: select exactly two runs to diff their configs.');
          return;
        }
        await vscode.commands.executeCommand('finetune.diffConfigs', dirs);
        return;
      case 'delete': {
        const deletable = dirs.filter((d) => store.get(d)?.info.status !== 'running');
        if (!deletable.length) {
          void vscode.window.showInformationMessage('Fine-tune: a running run cannot be deleted; stop it first.');
          return;
        }
        await vscode.commands.executeCommand('finetune.deleteRun', deletable);
        return;
      }
      case 'pin':
      case 'unpin':
        // false rather than absent: a trainer rewriting run.json keeps the file's user fields, and an absent one would not override its own
        for (const d of dirs) {
          try {
            updateRunInfo(d, { pinned: action === 'pin' });
          } catch (e) {
            this.deps.log(`table: cannot ${action} ${d}: ${(e as Error).message}`);
          }
          store.refresh(d);
        }
        return;
      default: {
        const never: never = action;
        void never;
      }
    }
  }

  private html(webview: vscode.Webview): string {
    const root = this.context.extensionUri;
    const styles = [['media', 'table.css']]
      .filter((p) => fs.existsSync(path.join(root.fsPath, ...p)))
      .map((p) => webview.asWebviewUri(vscode.Uri.joinPath(root, ...p)).toString());
    return dashboardHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'table.js')).toString(),
      styleUris: styles,
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      title: 'Fine-tune: Experiments',
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
