// The run history view: runs grouped by config, newest first; status icon, label (what sets the run
// apart from its siblings, or its name), short id, key metric and duration; a tooltip with the main
// hyper-parameters; context values drive the menus. A sweep's trials sit under a sweep node in their
// config's group (core/sweeps.ts says what it shows).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { readLaunch, RUN_FILES, type RunRecord, type UnreadableRun } from '../shared/run';
import { contextValue, describeRun, groupByConfig, type ConfigGroup } from './core/runs';
import type { RunStore } from './core/store';
import { describeSweep, splitBySweep, sweepOfRun, trialNote, type SweepGroup, type SweepStore } from './core/sweeps';
import type { SweepTrial } from '../shared/sweep/folder';
import { ConfigDriftCache, driftText } from './core/drift';
import { UNTRUSTED_NOTE } from './core/trust';
import { clipText, DISPLAY_MAX_LONG, DISPLAY_MAX_TIP } from '../shared/display';

export type RunNode =
  | { kind: 'group'; group: ConfigGroup }
  | { kind: 'sweep'; sweep: SweepGroup }
  | { kind: 'run'; run: RunRecord; trial?: { sweep: SweepGroup; trial: SweepTrial } }
  | { kind: 'unreadableGroup' }
  | { kind: 'unreadable'; dir: string; reason: string };

const ICONS: Record<string, [string, string?]> = {
  queued: ['clock', 'disabledForeground'],
  running: ['sync~spin', 'progressBar.background'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', 'testing.iconSkipped'],
  pruned: ['filter', 'testing.iconSkipped'],
};

const SWEEP_ICONS: Record<string, [string, string?]> = {
  running: ['sync~spin', 'progressBar.background'],
  interrupted: ['warning', 'problemsWarningIcon.foreground'],
  stopped: ['debug-stop', 'testing.iconSkipped'],
  completed: ['beaker', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
};

export class RunTreeProvider implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private readonly listener = () => this.refreshSoon();
  private readonly drift = new ConfigDriftCache();

  constructor(
    private readonly store: RunStore,
    private readonly sweeps?: SweepStore,
  ) {
    store.on('change', this.listener);
    sweeps?.on('change', this.listener);
  }

  private split(g: ConfigGroup) {
    return splitBySweep(g.configPath, g.runs, this.sweeps?.all() ?? []);
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
    if (node.kind === 'group') {
      const { sweeps, rest } = this.split(node.group);
      return [...sweeps.map((sweep): RunNode => ({ kind: 'sweep', sweep })), ...rest.map((run): RunNode => ({ kind: 'run', run }))];
    }
    if (node.kind === 'sweep') return node.sweep.trials.map(({ trial, run }) => ({ kind: 'run', run, trial: { sweep: node.sweep, trial } }));
    if (node.kind === 'unreadableGroup') return this.store.unreadable().map((u: UnreadableRun) => ({ kind: 'unreadable', dir: u.dir, reason: u.reason }));
    return [];
  }

  getParent(node: RunNode): RunNode | undefined {
    if (node.kind === 'unreadable') return { kind: 'unreadableGroup' };
    const groupOf = (dir: string) => groupByConfig(this.store.all()).find((x) => x.runs.some((r) => r.dir === dir));
    if (node.kind === 'sweep') {
      const g = groupOf(node.sweep.trials[0]?.run.dir ?? '');
      return g ? { kind: 'group', group: g } : undefined;
    }
    if (node.kind !== 'run') return undefined;
    const g = groupOf(node.run.dir);
    if (!g) return undefined;
    const s = this.sweeps && sweepOfRun(node.run.dir, this.sweeps.all());
    const sg = s && this.split(g).sweeps.find((x) => x.sweep.dir === s.dir);
    return sg ? { kind: 'sweep', sweep: sg } : { kind: 'group', group: g };
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
    if (node.kind === 'sweep') {
      const s = node.sweep.sweep;
      const d = describeSweep(s, node.sweep.state);
      const item = new vscode.TreeItem(d.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `sweep:${s.dir}`;
      item.description = clipText(d.description, DISPLAY_MAX_TIP);
      item.tooltip = new vscode.MarkdownString(d.tooltip, false);
      const [icon, color] = SWEEP_ICONS[node.sweep.state] ?? ['beaker'];
      item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
      item.contextValue = d.contextValue;
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
    const note = node.trial && trialNote(node.trial.sweep.sweep.info, node.trial.trial);
    const d = describeRun(r, Date.now(), { configNote, trustNote, identity: this.store.identity(r), prunedAt: note?.prunedAt });
    const item = new vscode.TreeItem(d.label, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${r.dir}`;
    item.description = note ? clipText(`${note.prefix} · ${d.description}`, DISPLAY_MAX_TIP) : d.description;
    // supportThemeIcons stays off: `$(alert)` in a run's name, notes or values is text, not an icon
    item.tooltip = new vscode.MarkdownString(d.tooltip, false);
    const [icon, color] = note?.best && r.info.status !== 'running' ? ['star-full', 'charts.yellow'] : (ICONS[r.info.status] ?? ['circle-outline']);
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = contextValue(r);
    item.command = { command: 'finetune.openDashboard', title: 'Open Dashboard', arguments: [r.dir] };
    return item;
  }

  dispose(): void {
    this.store.off('change', this.listener);
    this.sweeps?.off('change', this.listener);
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
  }
}
