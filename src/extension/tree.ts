// The run history view: runs grouped by config, newest first; status icon, label (what sets the run
// apart from its siblings, or its name), short id, key metric and duration; a tooltip with the main
// hyper-parameters; context values drive the menus.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { readLaunch, RUN_FILES, type RunRecord, type UnreadableRun } from '../shared/run';
import { contextValue, describeRun, groupByConfig, type ConfigGroup } from './core/runs';
import type { RunStore } from './core/store';
import { ConfigDriftCache, driftText } from './core/drift';
import { UNTRUSTED_NOTE } from './core/trust';
import { clipText, DISPLAY_MAX_LONG, DISPLAY_MAX_TIP } from '../shared/display';

export type RunNode =
  { kind: 'group'; group: ConfigGroup } | { kind: 'run'; run: RunRecord } | { kind: 'unreadableGroup' } | { kind: 'unreadable'; dir: string; reason: string };

const ICONS: Record<string, [string, string?]> = {
  queued: ['clock', 'disabledForeground'],
  running: ['sync~spin', 'progressBar.background'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', 'testing.iconSkipped'],
};

export class RunTreeProvider implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private readonly listener = () => this.refreshSoon();
  private readonly drift = new ConfigDriftCache();

  constructor(private readonly store: RunStore) {
    store.on('change', this.listener);
  }

  /** Coalesces store changes (run.json is rewritten every block while training). */
  refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire(undefined);
    }, 300);
  }

  getChildren(node?: RunNode): RunNode[] {
    if (!node) {
      const groups: RunNode[] = groupByConfig(this.store.all()).map((group) => ({ kind: 'group', group }));
      return this.store.unreadable().length ? [...groups, { kind: 'unreadableGroup' }] : groups;
    }
    if (node.kind === 'group') return node.group.runs.map((run) => ({ kind: 'run', run }));
    if (node.kind === 'unreadableGroup') return this.store.unreadable().map((u: UnreadableRun) => ({ kind: 'unreadable', dir: u.dir, reason: u.reason }));
    return [];
  }

  getParent(node: RunNode): RunNode | undefined {
    if (node.kind === 'unreadable') return { kind: 'unreadableGroup' };
    if (node.kind !== 'run') return undefined;
    const g = groupByConfig(this.store.all()).find((x) => x.runs.some((r) => r.dir === node.run.dir));
    return g ? { kind: 'group', group: g } : undefined;
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const g = node.group;
      // Large groups start collapsed: VS Code then builds their run items only when opened.
      const item = new vscode.TreeItem(
        clipText(g.label),
        g.runs.length <= 50 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
      );
      item.id = `config:${g.configPath}`;
      const rel = g.configPath ? vscode.workspace.asRelativePath(path.dirname(g.configPath)) : '';
      const running = g.runs.filter((r) => r.info.status === 'running').length;
      item.description = `${g.runs.length} run${g.runs.length === 1 ? '' : 's'}${running ? `, ${running} running` : ''}${rel && rel !== path.dirname(g.configPath) ? ` · ${rel}` : ''}`;
      item.tooltip = clipText(g.configPath, DISPLAY_MAX_LONG);
      item.iconPath = new vscode.ThemeIcon('settings-gear');
      if (g.configPath) item.resourceUri = vscode.Uri.file(g.configPath);
      item.contextValue = 'config';
      return item;
    }
    if (node.kind === 'unreadableGroup') {
      const item = new vscode.TreeItem('Unreadable runs', vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'unreadable';
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.tooltip = `Run folders whose ${RUN_FILES.info} cannot be read; they can be revealed or deleted.`;
      item.contextValue = 'unreadableGroup';
      return item;
    }
    if (node.kind === 'unreadable') {
      const item = new vscode.TreeItem(path.basename(node.dir), vscode.TreeItemCollapsibleState.None);
      item.id = `unreadable:${node.dir}`;
      item.description = clipText(node.reason, DISPLAY_MAX_TIP); // shown as text by VS Code
      item.tooltip = clipText(`${node.dir}\n${node.reason}`, DISPLAY_MAX_LONG);
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.contextValue = 'unreadable';
      item.resourceUri = vscode.Uri.file(node.dir);
      return item;
    }
    const r = node.run;
    const configNote = driftText(this.drift.drift(r.info, readLaunch(r.dir)?.overrides));
    const trustNote = vscode.workspace.isTrusted ? undefined : UNTRUSTED_NOTE;
    const d = describeRun(r, Date.now(), { configNote, trustNote, identity: this.store.identity(r) });
    const item = new vscode.TreeItem(d.label, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${r.dir}`;
    item.description = d.description;
    // supportThemeIcons stays off: `$(alert)` in a run's name, notes or values is text, not an icon
    item.tooltip = new vscode.MarkdownString(d.tooltip, false);
    const [icon, color] = ICONS[r.info.status] ?? ['circle-outline'];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = contextValue(r);
    item.command = { command: 'finetune.openDashboard', title: 'Open Dashboard', arguments: [r.dir] };
    return item;
  }

  dispose(): void {
    this.store.off('change', this.listener);
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
  }
}
