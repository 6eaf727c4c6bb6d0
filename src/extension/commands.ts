// Every command. Arguments arrive from the run history (a node, plus the selection when several
// are selected), from CodeLens and notifications (a run folder or a config path), from the
// explorer and editor title (a Uri), or not at all (command palette: a quick pick).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { guessDataFiles, newConfigText, type TemplateTask } from './core/templates';
import { hubIdProblem, newConfigModelChoices } from './core/hubModels';
import { cachedSnapshot, hubCacheDir, repoFolder } from '../shared/hfCache';
import { isHubId, modelPositions } from '../shared/config/config';
import { deleteRunFolder, exportModel, hasExportedModel, hasResumeCheckpoint, runPaths, updateRunInfo, type RunRecord } from '../shared/run';
import { byNewest, labelText, noticeText, parseTags, renameFields, runPickItem } from './core/runs';
import type { SweepInfo } from '../shared/sweep/folder';
import type { RunStore } from './core/store';
import { sweepState, type SweepStore } from './core/sweeps';
import type { Dashboards } from './dashboard';
import { CONFIG_RE, runConfigUri } from './editor';
import type { Launcher } from './launcher';
import type { ExperimentsTable } from './table';
import type { RunNode } from './tree';

export interface CommandDeps {
  store: RunStore;
  launcher: Launcher;
  dashboards: Dashboards;
  table: ExperimentsTable;
  output: vscode.OutputChannel;
  view: vscode.TreeView<RunNode>;
  sweeps: SweepStore;
  refresh(): Promise<void>;
}

type Arg = RunNode | string | vscode.Uri | string[] | RunNode[] | undefined;

const isNode = (x: unknown): x is RunNode =>
  !!x && typeof x === 'object' && 'kind' in x && ['run', 'group', 'sweep', 'unreadable', 'unreadableGroup'].includes((x as RunNode).kind);

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { store, launcher, dashboards } = d;

  /** The runs an invocation is about; asks with a quick pick when none came with it. */
  async function runsOf(arg: Arg, selection: unknown, o: { many: boolean; filter?: (r: RunRecord) => boolean; placeHolder: string }): Promise<RunRecord[]> {
    const pickFrom = (xs: unknown[]): RunRecord[] =>
      xs.flatMap((x) => {
        if (isNode(x)) return x.kind === 'run' ? [x.run] : x.kind === 'group' ? x.group.runs : x.kind === 'sweep' ? x.sweep.trials.map((t) => t.run) : [];
        if (typeof x === 'string') return [store.get(x) ?? store.byId(x)].filter((r): r is RunRecord => !!r);
        if (x instanceof vscode.Uri) {
          if (CONFIG_RE.test(x.fsPath))
            return store
              .all()
              .filter((r) => r.info.configPath && path.resolve(r.info.configPath) === x.fsPath)
              .sort(byNewest);
          return [store.get(x.fsPath)].filter((r): r is RunRecord => !!r);
        }
        return [];
      });
    let runs: RunRecord[] = [];
    if (o.many && Array.isArray(selection) && selection.length > 1) runs = pickFrom(selection);
    else if (Array.isArray(arg)) runs = pickFrom(arg);
    else if (arg !== undefined) runs = pickFrom([arg]);
    // fresh state (the node may be older than run.json)
    runs = runs.map((r) => store.get(r.dir) ?? r);
    if (o.filter) runs = runs.filter(o.filter);
    if (runs.length) return o.many ? runs : runs.slice(0, 1);
    const candidates = store
      .all()
      .filter((r) => !o.filter || o.filter(r))
      .sort(byNewest);
    if (!candidates.length) {
      void vscode.window.showInformationMessage('Fine-tune: no matching runs.');
      return [];
    }
    const items = candidates.map((r) => ({
      ...runPickItem(r, vscode.workspace.asRelativePath(r.info.configPath ?? r.dir), Date.now(), store.identity(r)),
      run: r,
    }));
    if (o.many) {
      const picked = await vscode.window.showQuickPick(items, { canPickMany: true, placeHolder: o.placeHolder, matchOnDescription: true });
      return picked?.map((p) => p.run) ?? [];
    }
    const picked = await vscode.window.showQuickPick(items, { placeHolder: o.placeHolder, matchOnDescription: true });
    return picked ? [picked.run] : [];
  }
  const one = async (arg: Arg, placeHolder: string, filter?: (r: RunRecord) => boolean) =>
    (await runsOf(arg, undefined, { many: false, filter, placeHolder }))[0];

  async function configsOf(arg: unknown, selection: unknown): Promise<string[]> {
    const fromArg = (x: unknown): string[] => {
      if (x instanceof vscode.Uri) return CONFIG_RE.test(x.fsPath) ? [x.fsPath] : [];
      if (typeof x === 'string') return CONFIG_RE.test(x) ? [path.resolve(x)] : [];
      if (isNode(x)) return x.kind === 'group' && x.group.configPath ? [x.group.configPath] : [];
      return [];
    };
    if (Array.isArray(selection) && selection.length > 1) {
      const all = selection.flatMap(fromArg);
      if (all.length) return [...new Set(all)];
    }
    const direct = Array.isArray(arg) ? arg.flatMap(fromArg) : fromArg(arg);
    if (direct.length) return direct;
    const active = vscode.window.activeTextEditor?.document;
    if (active && CONFIG_RE.test(active.fileName) && active.uri.scheme === 'file') return [active.fileName];
    const found = await vscode.workspace.findFiles('**/*.finetune.{yaml,yml,json}', '**/node_modules/**', 500);
    if (!found.length) {
      const a = await vscode.window.showInformationMessage('Fine-tune: no *.finetune.yaml config in this workspace.', 'New Config');
      if (a) await vscode.commands.executeCommand('finetune.newConfig');
      return [];
    }
    if (found.length === 1) return [found[0].fsPath];
    const picked = await vscode.window.showQuickPick(
      found.map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(path.dirname(u.fsPath)), uri: u })),
      { canPickMany: true, placeHolder: 'Configs to train (several are queued)' },
    );
    return picked?.map((p) => p.uri.fsPath) ?? [];
  }

  /** The sweep folder an invocation is about (a sweep node, a folder path), or one picked from those that fit. */
  async function sweepDirOf(arg: unknown, fits: (s: SweepInfo) => boolean, placeHolder: string): Promise<string | undefined> {
    if (isNode(arg) && arg.kind === 'sweep') return arg.sweep.sweep.dir;
    if (typeof arg === 'string' && d.sweeps.get(arg)) return arg;
    const candidates = d.sweeps.all().filter((s) => fits(s.info));
    if (!candidates.length) {
      void vscode.window.showInformationMessage('Fine-tune: no matching sweeps.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((s) => ({
        label: labelText(s.info.name),
        description: `${s.info.method} · ${sweepState(s.info)} · ${s.info.trials.length}/${s.info.total}`,
        dir: s.dir,
      })),
      { placeHolder },
    );
    return picked?.dir;
  }

  const notRunning = (r: RunRecord) => r.info.status !== 'running' && r.info.status !== 'queued';
  const cmd = (id: string, f: (...args: any[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await f(...args);
      } catch (e) {
        d.output.appendLine(`${id}: ${(e as Error).stack ?? e}`);
        void vscode.window.showErrorMessage(`Fine-tune: ${(e as Error).message}`);
      }
    });

  return [
    cmd('finetune.start', async (arg: unknown, selection: unknown) => {
      const configs = await configsOf(arg, selection);
      if (configs.length) await launcher.start(configs);
    }),
    cmd('finetune.stop', async (arg: Arg, selection: unknown) => {
      const runs = await runsOf(arg, selection, {
        many: true,
        filter: (r) => r.info.status === 'running' || r.info.status === 'queued',
        placeHolder: 'Runs to stop',
      });
      for (const r of runs) launcher.stop(r.dir);
    }),
    cmd('finetune.resume', async (arg: Arg) => {
      const r = await one(
        arg,
        'Run to resume',
        (x) => (x.info.status === 'stopped' || x.info.status === 'failed' || x.info.status === 'pruned') && hasResumeCheckpoint(x.dir),
      );
      if (r) launcher.resume(r);
    }),
    cmd('finetune.stopSweep', async (arg: unknown) => {
      const dir = await sweepDirOf(arg, (s) => sweepState(s) === 'running', 'Sweep to stop');
      if (dir) launcher.sweeps.stop(dir);
    }),
    cmd('finetune.resumeSweep', async (arg: unknown) => {
      const dir = await sweepDirOf(
        arg,
        (s) => {
          const st = sweepState(s);
          return st === 'interrupted' || st === 'stopped' || st === 'failed';
        },
        'Sweep to resume',
      );
      if (dir) launcher.sweeps.resume(dir);
    }),
    cmd('finetune.rerun', async (arg: Arg) => {
      const r = await one(arg, 'Run to start again with the same config', notRunning);
      if (r) await launcher.rerun(r);
    }),
    cmd('finetune.openDashboard', async (arg: Arg) => {
      const r = await one(arg, 'Run to show');
      if (r) dashboards.show([r.dir]);
    }),
    cmd('finetune.compareRuns', async (arg: Arg, selection: unknown) => {
      let runs = await runsOf(arg, selection, { many: true, placeHolder: 'Runs to compare (pick two or more)' });
      if (runs.length === 1 && !Array.isArray(selection)) {
        const more = await runsOf(undefined, undefined, {
          many: true,
          filter: (r) => r.dir !== runs[0].dir,
          placeHolder: `Compare ${noticeText(store.label(runs[0]))} with…`,
        });
        runs = [...runs, ...more];
      }
      if (runs.length) dashboards.show(runs.map((r) => r.dir));
    }),
    cmd('finetune.diffConfigs', async (arg: Arg, selection: unknown) => {
      let runs = await runsOf(arg, selection, { many: true, placeHolder: 'Two runs whose configs to diff' });
      if (runs.length === 1)
        runs = [
          ...runs,
          ...(await runsOf(undefined, undefined, {
            many: false,
            filter: (r) => r.dir !== runs[0].dir,
            placeHolder: `Diff ${noticeText(store.label(runs[0]))}'s config with…`,
          })),
        ];
      if (runs.length < 2) return;
      const [a, b] = runs;
      const [la, lb] = [store.label(a), store.label(b)];
      await vscode.commands.executeCommand(
        'vscode.diff',
        runConfigUri(a.dir, la),
        runConfigUri(b.dir, lb),
        `${noticeText(la)} ↔ ${noticeText(lb)} (resolved configs)`,
      );
    }),
    cmd('finetune.revealRun', async (arg: Arg) => {
      if (isNode(arg) && arg.kind === 'unreadable') {
        await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(arg.dir));
        return;
      }
      const r = await one(arg, 'Run folder to reveal');
      if (r) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(runPaths(r.dir).info));
    }),
    cmd('finetune.openLog', async (arg: Arg) => {
      const r = await one(arg, 'Run whose log to open');
      if (!r) return;
      const log = runPaths(r.dir).log;
      if (fs.existsSync(log)) await vscode.window.showTextDocument(vscode.Uri.file(log), { preview: true });
      else d.output.show(true);
    }),
    cmd('finetune.openConfig', async (arg: Arg) => {
      const r = isNode(arg) && arg.kind === 'group' ? undefined : await one(arg, 'Run whose config to open');
      const file = r?.info.configPath ?? (isNode(arg) && arg.kind === 'group' ? arg.group.configPath : undefined);
      if (file && fs.existsSync(file)) await vscode.window.showTextDocument(vscode.Uri.file(file));
    }),
    cmd('finetune.exportModel', async (arg: Arg) => {
      const r = await one(arg, 'Run whose model to export', (x) => hasExportedModel(x.dir));
      if (!r) return;
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Export Here',
        title: `Export the model of ${noticeText(store.label(r))}`,
      });
      if (!picked?.[0]) return;
      const dest = picked[0].fsPath;
      let copied: string[];
      try {
        copied = exportModel(r.dir, dest);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const ok = await vscode.window.showWarningMessage(`${(e as Error).message}. Overwrite?`, { modal: true }, 'Overwrite');
        if (!ok) return;
        copied = exportModel(r.dir, dest, true);
      }
      void vscode.window.showInformationMessage(`Fine-tune: exported ${copied.map((c) => path.basename(c)).join(', ')} to ${dest}`, 'Reveal').then((a) => {
        if (a) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(copied[0]));
      });
    }),
    cmd('finetune.renameRun', async (arg: Arg) => {
      const r = await one(arg, 'Run to rename', notRunning);
      if (!r) return;
      const shown = store.label(r);
      const name = await vscode.window.showInputBox({
        title: `Rename run ${noticeText(shown)} (${store.identity(r).shortId})`,
        value: shown,
        prompt: 'The name shown for this run everywhere. Empty: back to the computed label (what differs from the other runs of its config).',
      });
      if (name === undefined) return;
      const fields = renameFields(r.info, name, shown);
      if (!fields) return;
      updateRunInfo(r.dir, fields);
      store.refresh(r.dir);
    }),
    cmd('finetune.editNotes', async (arg: Arg) => {
      const r = await one(arg, 'Run to annotate', notRunning);
      if (!r) return;
      const notes = await vscode.window.showInputBox({
        title: `Notes for ${noticeText(store.label(r))}`,
        value: r.info.notes ?? '',
        prompt: 'Free text, shown in the tooltip and the dashboard',
      });
      if (notes === undefined) return;
      const tags = await vscode.window.showInputBox({
        title: `Tags for ${noticeText(store.label(r))}`,
        value: (r.info.tags ?? []).join(', '),
        prompt: 'Comma-separated tags',
      });
      if (tags === undefined) return;
      updateRunInfo(r.dir, { notes: notes.trim() || undefined, tags: parseTags(tags).length ? parseTags(tags) : undefined });
      store.refresh(r.dir);
    }),
    cmd('finetune.deleteRun', async (arg: Arg, selection: unknown) => {
      if (isNode(arg) && arg.kind === 'unreadable') {
        const ok = await vscode.window.showWarningMessage(
          `Delete the unreadable run folder '${path.basename(arg.dir)}'?`,
          { modal: true, detail: `${arg.dir}\n${arg.reason}` },
          'Delete',
        );
        if (ok !== 'Delete') return;
        deleteRunFolder(arg.dir);
        store.refresh(arg.dir);
        return;
      }
      const runs = await runsOf(arg, selection, {
        many: true,
        filter: (r) => r.info.status !== 'running' && !launcher.isOwned(r.dir),
        placeHolder: 'Runs to delete',
      });
      if (!runs.length) return;
      const what = runs.length === 1 ? `run '${noticeText(store.label(runs[0]))}'` : `${runs.length} runs`;
      const ok = await vscode.window.showWarningMessage(
        `Delete ${what}? Its folder (checkpoints, model, metrics) is removed from disk.`,
        { modal: true, detail: runs.map((r) => r.dir).join('\n') },
        'Delete',
      );
      if (ok !== 'Delete') return;
      for (const r of runs) {
        if (r.info.status === 'queued') launcher.queue.cancel(r.dir);
        deleteRunFolder(r.dir);
        store.remove(r.dir);
      }
    }),
    cmd('finetune.openTable', () => d.table.show()),
    cmd('finetune.refresh', () => d.refresh()),
    cmd('finetune.showOutput', () => d.output.show()),
    cmd('finetune.newConfig', async (arg: unknown) => {
      const task = await vscode.window.showQuickPick<vscode.QuickPickItem & { task: TemplateTask }>(
        [
          { label: 'Named-entity recognition', description: 'token-classification, CoNLL data', task: 'token-classification' },
          { label: 'Text classification', description: 'sequence-classification, JSONL or CSV data', task: 'sequence-classification' },
        ],
        { placeHolder: 'What should the model learn?' },
      );
      if (!task) return;
      const choice = await vscode.window.showQuickPick(newConfigModelChoices(hubCacheDir()), {
        placeHolder: 'Which model? From scratch, a model in the Hugging Face cache, or a Hub id',
        matchOnDescription: true,
      });
      if (!choice) return;
      let pretrained: string | undefined;
      if (choice.choice === 'hub') pretrained = choice.id;
      else if (choice.choice === 'enter') {
        const id = await vscode.window.showInputBox({ title: 'Hub model id', placeHolder: 'bert-base-cased', validateInput: hubIdProblem });
        if (id === undefined) return;
        pretrained = id.trim();
      }
      const folder =
        arg instanceof vscode.Uri
          ? fs.statSync(arg.fsPath).isDirectory()
            ? arg.fsPath
            : path.dirname(arg.fsPath)
          : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const base = task.task === 'token-classification' ? 'ner' : 'textcls';
      // The model's length limit, when its config.json is at hand (a cached Hub model or a folder).
      const snapshot = pretrained === undefined ? undefined : isHubId(pretrained) ? cachedSnapshot(repoFolder(hubCacheDir(), pretrained), 'main') : pretrained;
      const maxPositions = snapshot ? modelPositions(snapshot) : undefined;
      // Data files of the task's format already in the workspace (train/dev/test by name).
      const workspaceFiles = async () =>
        (await vscode.workspace.findFiles('**/*.{txt,conll,iob,bio,tsv,jsonl,csv}', '{**/node_modules/**,**/.finetune/**,**/.git/**}', 2000)).map(
          (u) => u.fsPath,
        );
      if (!folder) {
        const text = newConfigText(task.task, base, pretrained, { maxPositions });
        const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content: text });
        await vscode.window.showTextDocument(doc);
        return;
      }
      let file = path.join(folder, `${base}.finetune.yaml`);
      for (let i = 2; fs.existsSync(file); i++) file = path.join(folder, `${base}-${i}.finetune.yaml`);
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(file),
        filters: { 'Fine-tune config': ['yaml', 'yml'] },
        saveLabel: 'Create',
      });
      if (!target) return;
      let fsPath = target.fsPath;
      if (!CONFIG_RE.test(fsPath)) fsPath = fsPath.replace(/(\.ya?ml)?$/i, '.finetune.yaml');
      const data = guessDataFiles(task.task, await workspaceFiles(), path.dirname(fsPath));
      const text = newConfigText(task.task, base, pretrained, { data, maxPositions });
      await vscode.workspace.fs.writeFile(vscode.Uri.file(fsPath), Buffer.from(text, 'utf8'));
      await vscode.window.showTextDocument(vscode.Uri.file(fsPath));
    }),
  ];
}
