// The extension's parts, created on activation and disposed with it. Activation stays cheap:
// registrations only; the first scan of run folders and the config search run afterwards.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { LiveRuns } from './core/live';
import { runsFolderFor } from './core/runs';
import { RunStore } from './core/store';
import { SweepStore } from './core/sweeps';
import { UNTRUSTED_NOTE } from './core/trust';
import { needsPolling, RunsWatcher, type PollingMode } from './core/watcher';
import { Dashboards } from './dashboard';
import { ConfigEditorFeatures } from './editor';
import { Launcher } from './launcher';
import { ExperimentsTable } from './table';
import { RunTreeProvider } from './tree';
import { defaultRunsFolder } from '../shared/run';
import { defaultSweepsFolder } from '../shared/sweep/folder';

export class FineTune implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly store = new RunStore();
  private readonly sweeps = new SweepStore();
  private readonly live = new LiveRuns();
  private readonly watcher = new RunsWatcher([], 150, (f) =>
    needsPolling(f, vscode.workspace.getConfiguration('finetune').get<PollingMode>('watch.polling', 'auto')),
  );
  private readonly output = vscode.window.createOutputChannel('Fine-tune');
  private readonly launcher: Launcher;
  private readonly dashboards: Dashboards;
  private readonly table: ExperimentsTable;
  private readonly editor: ConfigEditorFeatures;
  private readonly scanned: Promise<void>;

  constructor(context: vscode.ExtensionContext) {
    const d = this.disposables;
    let doneScanning!: () => void;
    this.scanned = new Promise((r) => (doneScanning = r));
    this.launcher = new Launcher({
      context,
      store: this.store,
      sweeps: this.sweeps,
      live: this.live,
      output: this.output,
      watchFolder: (dir) => this.watchInBackground(dir),
      watchSweeps: (dir) => this.watchSweeps(dir),
    });
    this.dashboards = new Dashboards(context, {
      store: this.store,
      eta: (dir) => this.eta(dir),
      stop: (dir) => this.launcher.stop(dir),
      log: (m) => this.output.appendLine(m),
      scanned: this.scanned,
    });
    this.table = new ExperimentsTable(context, {
      store: this.store,
      dashboards: this.dashboards,
      log: (m) => this.output.appendLine(m),
      scanned: this.scanned,
    });
    this.editor = new ConfigEditorFeatures(this.store, this.sweeps);
    const tree = new RunTreeProvider(this.store, this.sweeps);
    const view = vscode.window.createTreeView('finetune.runs', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: true });
    d.push(this.output, this.launcher, this.dashboards, this.table, this.editor, tree, view);
    // Workspace trust: the history says why nothing can be started; granting trust lifts it.
    const trustMessage = () => {
      view.message = vscode.workspace.isTrusted ? undefined : `${UNTRUSTED_NOTE}. Run history and dashboards work; trust the workspace to train.`;
    };
    trustMessage();
    d.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        trustMessage();
        tree.refreshSoon();
        this.editor.refreshLensesSoon();
      }),
    );
    d.push(
      ...registerCommands({
        store: this.store,
        launcher: this.launcher,
        dashboards: this.dashboards,
        table: this.table,
        output: this.output,
        view,
        sweeps: this.sweeps,
        refresh: () => this.refresh(),
      }),
    );

    // Files: run folders through chokidar; config files through VS Code's own watcher (shared, recursive, honours files.watcherExclude).
    this.watcher.on('run', (dir) => {
      this.store.refresh(dir);
      this.live.sync(this.store.all());
    });
    this.watcher.on('metrics', (dir) => {
      this.live.metrics(dir);
      this.dashboards.metricsChanged(dir);
      this.launcher.updateStatusSoon();
    });
    this.watcher.on('removed', (dir) => this.store.remove(dir));
    this.watcher.on('sweep', (dir) => this.sweeps.refresh(dir));
    this.watcher.on('folder', () => {
      this.store.rescan(); // a runs folder appeared (first run of a config, e.g. from a terminal)
      this.sweeps.rescan();
      this.live.sync(this.store.all());
    });
    this.watcher.on('error', (e) => this.output.appendLine(`watcher: ${e.message}`));
    d.push({ dispose: () => void this.watcher.close() });
    const configs = vscode.workspace.createFileSystemWatcher('**/*.finetune.{yaml,yml,json}');
    configs.onDidCreate((u) => {
      this.watchInBackground(defaultRunsFolder(path.dirname(u.fsPath)));
      this.watchSweeps(defaultSweepsFolder(path.dirname(u.fsPath)));
      this.editor.revalidateAll();
    });
    configs.onDidChange(() => {
      this.editor.revalidateAll();
      tree.refreshSoon(); // "config changed since this run"
    });
    configs.onDidDelete(() => this.editor.refreshLensesSoon());
    d.push(configs);
    d.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('finetune.runsFolder')) void this.discover();
      }),
    );
    d.push(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.discover()));

    setImmediate(() => void this.discover().finally(doneScanning));
  }

  private eta(dir: string): number | undefined {
    const r = this.store.get(dir);
    return r ? this.live.eta(dir, r.info.totalSteps, r.info.step) : undefined;
  }

  /** Watches a runs folder; its runs are read in batches (resolves when all are known). */
  watchFolder(dir: string): Promise<unknown> {
    this.watcher.add(dir);
    return this.store.addFolderAsync(dir);
  }

  /** Watches a sweeps folder (`.finetune/sweeps` beside a config) and reads its sweep.json files. */
  private watchSweeps(dir: string): void {
    this.watcher.add(dir);
    this.sweeps.addFolder(dir);
  }

  /** watchFolder for callers that do not wait for the scan: a failed scan is reported in the Output channel. */
  private watchInBackground(dir: string): void {
    this.watchFolder(dir).catch((e: unknown) => this.output.appendLine(`scanning ${dir} failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** Finds the runs folders: the setting's (or the workspace's default runs folder) and the default one beside each config (where the CLI writes). */
  private async discover(): Promise<void> {
    const setting = vscode.workspace.getConfiguration('finetune').get<string>('runsFolder', '');
    const scans: Promise<unknown>[] = [];
    for (const f of vscode.workspace.workspaceFolders ?? []) scans.push(this.watchFolder(runsFolderFor({ setting, workspaceFolder: f.uri.fsPath })));
    try {
      const found = await vscode.workspace.findFiles('**/*.finetune.{yaml,yml,json}', '**/node_modules/**', 1000);
      for (const u of found) {
        scans.push(this.watchFolder(defaultRunsFolder(path.dirname(u.fsPath))));
        this.watchSweeps(defaultSweepsFolder(path.dirname(u.fsPath)));
      }
    } catch (e) {
      this.output.appendLine(`config search failed: ${(e as Error).message}`);
    }
    await Promise.all(scans); // every run known before looking for runs to reattach to
    this.launcher.reattach();
  }

  private async refresh(): Promise<void> {
    await this.discover();
    this.store.rescan();
    this.sweeps.rescan();
    this.live.sync(this.store.all());
    this.editor.refreshLensesSoon();
  }

  dispose(): void {
    for (const x of this.disposables.reverse()) x.dispose();
  }
}
