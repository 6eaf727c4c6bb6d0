// Long file: the whole life of a trainer process on the VS Code side (queue, fork, IPC, progress, stop, crash report) reads best in one place; the pure parts are in core/.
// Trainer processes: queued runs started with finetune.concurrency, each forked with an IPC
// channel; output to the "Fine-tune" channel; progress in the status bar and a cancellable
// notification; graceful stop escalating to a kill; crashes reported with the last stderr lines.
// Runs found running after a reload (or started from a terminal) are followed through their
// files and stopped with SIGTERM to their pid.

import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainerEvent } from '../shared/protocol';
import { ConfigValidationError, formatConfigError, loadConfigWithWarnings } from '../shared/config/config';
import { formatEta } from './core/eta';
import { showDownloadProgress } from './downloadProgress';
import type { LiveRuns } from './core/live';
import { planRerun, planRuns, type PlannedRun } from './core/plan';
import { RunQueue } from './core/queue';
import { hasResumeCheckpoint, isPidAlive, readLaunch, updateRunInfo, type RunRecord } from '../shared/run';
import { classifyRunning, contextLabel, keyMetric, labelText, mdText, metricLabel, noticeText, runsFolderFor } from './core/runs';
import { formatMetric } from '../shared/metrics';
import { describeEvent } from '../shared/events';
import { trainingGate, UNTRUSTED_NOTE, type TrainAction } from './core/trust';
import type { RunStore } from './core/store';
import { markRunFailed, stopThenKill, trainerArgs, trainerForkOptions, TrainerProcess } from './core/trainerProcess';
import { queuedTrialRefusal, type SweepStore } from './core/sweeps';
import { SweepLauncher } from './sweepLauncher';

export interface LauncherDeps {
  context: vscode.ExtensionContext;
  store: RunStore;
  live: LiveRuns;
  output: vscode.OutputChannel;
  sweeps: SweepStore;
  /** A runs folder to scan and watch from now on. */
  watchFolder(dir: string): void;
  /** A sweeps folder to scan and watch from now on. */
  watchSweeps(dir: string): void;
}

const settings = () => vscode.workspace.getConfiguration('finetune');

export class Launcher implements vscode.Disposable {
  readonly queue = new RunQueue(() => settings().get<number>('concurrency', 1));
  private readonly procs = new Map<string, TrainerProcess>();
  private readonly killTimers = new Map<string, NodeJS.Timeout>();
  private readonly status = vscode.window.createStatusBarItem('finetune.status', vscode.StatusBarAlignment.Left, 10);
  private livenessTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  /** Sweeps run as a `finetune sweep` process each (sweepLauncher.ts). */
  readonly sweeps: SweepLauncher;

  constructor(private readonly deps: LauncherDeps) {
    this.sweeps = new SweepLauncher({ ...deps, store: deps.sweeps, trainerPath: this.trainerPath, allowed: (action, what) => this.allowed(action, what) });
    this.status.name = 'Fine-tune';
    this.status.command = 'finetune.openDashboard';
    this.queue.on('error', (id, e) => deps.output.appendLine(`[${path.basename(id)}] ${(e as Error).message ?? e}`));
    const onStore = () => this.updateStatusSoon();
    deps.store.on('change', onStore);
    this.status.show = this.status.show.bind(this.status);
  }

  get trainerPath(): string {
    return path.join(this.deps.context.extensionPath, 'dist', 'trainer.js');
  }

  isOwned(dir: string): boolean {
    return this.procs.has(path.resolve(dir));
  }

  runsFolder(configPath: string): string {
    const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(configPath))?.uri.fsPath;
    return runsFolderFor({ setting: settings().get<string>('runsFolder', ''), workspaceFolder: ws, configPath });
  }

  /** Plans and queues runs for configs; a config with a sweep: block (any method) runs as a `finetune sweep` process instead. */
  async start(configPaths: string[]): Promise<PlannedRun[]> {
    if (!this.allowed('start', configPaths.length === 1 ? path.basename(configPaths[0]) : undefined)) return [];
    const all: PlannedRun[] = [];
    for (const file of configPaths) {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      if (doc?.isDirty) await doc.save();
      const runsDir = this.runsFolder(file);
      let runs: PlannedRun[];
      try {
        const { config } = loadConfigWithWarnings(file);
        if (config.sweep) {
          this.sweeps.start(file, config.baseDir);
          continue;
        }
        const planned = planRuns(file, runsDir);
        runs = planned.runs;
        for (const w of planned.warnings) this.deps.output.appendLine(formatConfigError(w));
      } catch (e) {
        this.reportConfigError(file, e);
        continue;
      }
      this.deps.watchFolder(runsDir);
      for (const r of runs) this.deps.store.refresh(r.dir);
      this.enqueue(runs);
      all.push(...runs);
    }
    if (all.length > 1)
      void vscode.window.showInformationMessage(`Fine-tune: ${all.length} runs queued (${settings().get<number>('concurrency', 1)} at a time).`);
    return all;
  }

  /** Runs again the way a run was launched (its config, and its sweep values). */
  async rerun(r: RunRecord): Promise<void> {
    if (!this.allowed('rerun', this.called(r))) return;
    const launch = readLaunch(r.dir, r.info.configPath);
    if (!launch || !fs.existsSync(launch.configPath)) {
      void vscode.window.showErrorMessage(`Fine-tune: the config of ${noticeText(this.called(r))} (${launch?.configPath ?? 'unknown'}) no longer exists.`);
      return;
    }
    if (r.info.status === 'queued' && !this.queue.has(r.dir)) {
      // A sweep's queued trial is its sweep's to start (a Slurm job may be waiting for it).
      const refusal = queuedTrialRefusal(r.dir, this.deps.sweeps.all());
      if (refusal) {
        void vscode.window.showInformationMessage(`Fine-tune: ${noticeText(this.called(r))} is queued: ${refusal}.`);
        return;
      }
      // a queued run left by a closed window: start it in place
      this.enqueue([{ id: r.info.id, dir: r.dir, name: r.info.name, ...launch }]);
      return;
    }
    try {
      const p = planRerun(launch, this.runsFolder(launch.configPath));
      this.deps.watchFolder(path.dirname(p.dir));
      this.deps.store.refresh(p.dir);
      this.enqueue([p]);
    } catch (e) {
      this.reportConfigError(launch.configPath, e);
    }
  }

  resume(r: RunRecord): void {
    if (!this.allowed('resume', this.called(r))) return;
    if (!hasResumeCheckpoint(r.dir)) {
      void vscode.window.showErrorMessage(`Fine-tune: ${noticeText(this.called(r))} has no checkpoint to resume from.`);
      return;
    }
    this.queue.enqueue({ id: r.dir, run: () => this.run(r.dir, this.called(r), trainerArgs({ resume: r.dir, ...this.deviceArgs() })) });
  }

  private enqueue(runs: PlannedRun[]): void {
    this.queue.enqueue(
      ...runs.map((p) => ({
        id: p.dir,
        run: () => this.run(p.dir, p.name, trainerArgs({ configPath: p.configPath, runDir: p.dir, overrides: p.overrides, ...this.deviceArgs() })),
      })),
    );
  }

  /** Workspace trust: no trainer in an untrusted workspace (core/trust.ts decides, the message says why). */
  private allowed(action: TrainAction, what?: string): boolean {
    const gate = trainingGate(vscode.workspace.isTrusted, action, what);
    if (!gate.allowed) {
      this.deps.output.appendLine(gate.message);
      void vscode.window.showWarningMessage(gate.message, 'Manage Workspace Trust').then((a) => {
        if (a) void vscode.commands.executeCommand('workbench.trust.manage');
      });
    }
    return gate.allowed;
  }

  private deviceArgs(): { device?: string; threads?: number } {
    const s = settings();
    return { device: s.get<string>('device', 'config'), threads: s.get<number>('threads', 0) };
  }

  private reportConfigError(file: string, e: unknown): void {
    if (e instanceof ConfigValidationError) {
      for (const err of e.errors) this.deps.output.appendLine(formatConfigError(err));
      const first = e.errors[0];
      void vscode.window
        .showErrorMessage(
          `Fine-tune: ${path.basename(file)} has ${e.errors.length} error${e.errors.length === 1 ? '' : 's'}: ${first ? `line ${first.line}: ${first.message}` : ''}`,
          'Show Problems',
          'Open Config',
        )
        .then((a) => {
          if (a === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
          if (a === 'Open Config')
            void vscode.window.showTextDocument(
              vscode.Uri.file(file),
              first ? { selection: new vscode.Range(first.line - 1, first.column - 1, first.endLine - 1, first.endColumn - 1) } : {},
            );
        });
    } else void vscode.window.showErrorMessage(`Fine-tune: cannot start ${path.basename(file)}: ${(e as Error).message}`);
  }

  /** What a run is called in notifications and the status bar (core/runs.ts contextLabel). */
  private called(r: RunRecord): string {
    return contextLabel(r, this.deps.store.identity(r));
  }

  /** Forks the trainer for a run and resolves when it exits. */
  private run(dir: string, name: string, args: string[]): Promise<void> {
    if (!trainingGate(vscode.workspace.isTrusted, 'start').allowed) {
      this.deps.output.appendLine(`[${name}] not started: ${UNTRUSTED_NOTE}`);
      return Promise.resolve();
    }
    const out = this.deps.output;
    // What the run is called when it ends: its label then (a sibling may have appeared meanwhile).
    const called = () => {
      const r = this.deps.store.get(dir);
      return r ? contextLabel(r, this.deps.store.identity(r)) : name;
    };
    const tag = `[${called()}]`;
    out.appendLine(`${tag} node ${path.basename(this.trainerPath)} ${args.join(' ')}`);
    const cwd = fs.existsSync(dir) ? dir : undefined;
    // Its own process group (not on Windows, where that opens a console): a window reload must not take the run with it.
    const child = fork(this.trainerPath, args, trainerForkOptions(cwd));
    const stopTimeoutMs = Math.max(5, settings().get<number>('stopTimeoutSeconds', 60)) * 1000;
    const tp = new TrainerProcess(child, { runDir: dir, stopTimeoutMs });
    this.procs.set(dir, tp);
    let total: number | undefined;
    tp.on('line', (line, stream) => {
      if (stream === 'stderr') out.appendLine(`${tag} ${line}`);
      else if (!line.startsWith('{')) out.appendLine(`${tag} ${line}`);
    });
    tp.on('event', (e) => {
      if (e.type === 'started') {
        total = e.totalSteps;
        this.deps.store.refresh(dir);
        this.deps.live.sync(this.deps.store.all());
      }
      if (e.type === 'train' || e.type === 'eval') this.deps.live.add(dir, [e]);
      const text = describeEvent(e);
      if (text) out.appendLine(`${tag} ${text}`);
      if (e.type === 'train') this.updateStatusSoon();
    });
    this.progress(dir, called(), tp, () => total);
    showDownloadProgress(called(), tp, () => this.stop(dir));
    return tp.done.then((o) => {
      this.procs.delete(dir);
      this.deps.store.refresh(dir);
      this.deps.live.sync(this.deps.store.all());
      this.updateStatusSoon();
      out.appendLine(`${tag} trainer exited (${o.signal ? `signal ${o.signal}` : `code ${o.code}`}): ${o.status}`);
      const r = this.deps.store.get(dir);
      if (o.status === 'completed') {
        const km = r && keyMetric(r.info);
        void vscode.window

          .showInformationMessage(
            `Fine-tune: ${noticeText(called())} completed${km ? ` — ${metricLabel(km)} ${formatMetric(km.value)}` : ''}.`,
            'Open Dashboard',
          )
          .then((a) => {
            if (a) void vscode.commands.executeCommand('finetune.openDashboard', dir);
          });
      } else if (o.status === 'stopped') {
        void vscode.window.showInformationMessage(`Fine-tune: ${noticeText(called())} stopped; it can be resumed from its last checkpoint.`);
      } else {
        const tail = o.stderrTail
          .filter((l) => l.trim())
          .slice(-5)
          .join('\n');
        const msg = `Fine-tune: ${noticeText(called())} ${o.crashed ? 'crashed' : 'failed'}: ${o.message ?? ''}`;
        if (tail) out.appendLine(`${tag} last lines of stderr:\n${tail}`);
        void vscode.window.showErrorMessage(msg.length > 400 ? `${msg.slice(0, 400)}…` : msg, { detail: tail }, 'Open Log', 'Show Output').then((a) => {
          if (a === 'Open Log') void vscode.commands.executeCommand('finetune.openLog', dir);
          if (a === 'Show Output') out.show(true);
        });
      }
    });
  }

  private progress(dir: string, name: string, tp: TrainerProcess, total: () => number | undefined): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Fine-tune: ${noticeText(name)}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => this.stop(dir));
        let shown = 0;
        let lastReport = 0;
        // Never an empty notification: what the run is doing before its first step.
        progress.report({ message: 'preparing data and model…' });
        let downloading = false;
        const onEvent = (e: TrainerEvent) => {
          if (e.type === 'download' && !downloading) {
            downloading = true;
            progress.report({ message: `downloading ${noticeText(e.model)}…` });
          }
          if (e.type === 'started') progress.report({ message: `started on ${e.device.used}` });
          if (e.type !== 'train') return;
          const t = total();
          const now = Date.now();
          if (now - lastReport < 500) return;
          lastReport = now;
          const pct = t ? (100 * e.step) / t : undefined;
          const eta = this.deps.live.eta(dir, t, e.step);
          const increment = pct !== undefined ? Math.max(0, pct - shown) : undefined;
          if (pct !== undefined) shown = pct;
          progress.report({
            increment,
            message: `step ${e.step}${t ? `/${t}` : ''} · loss ${e.loss.toFixed(4)}${eta !== undefined ? ` · ETA ${formatEta(eta)}` : ''}${tp.stopping ? ' · stopping…' : ''}`,
          });
        };
        tp.on('event', onEvent);
        return tp.done.then(() => void tp.off('event', onEvent));
      },
    );
  }

  /** Stops a run: a forked one gracefully (then killed), a queued one is taken off the queue, a followed one gets SIGTERM. */
  stop(dir: string): void {
    const d = path.resolve(dir);
    const tp = this.procs.get(d);
    if (tp) {
      const again = tp.stopping;
      tp.stop();
      this.deps.output.appendLine(
        `[${path.basename(d)}] ${again ? 'killing the trainer' : 'stop requested: finishing the current block and saving a checkpoint'}`,
      );
      return;
    }
    const r = this.deps.store.get(d);
    if (this.queue.cancel(d) || r?.info.status === 'queued') {
      this.queue.cancel(d);
      try {
        updateRunInfo(d, { status: 'stopped', endedAt: new Date().toISOString() });
      } catch {
        // already gone
      }
      this.deps.store.refresh(d);
      return;
    }
    if (r?.info.status === 'running' && r.info.pid && isPidAlive(r.info.pid)) {
      const pid = r.info.pid;
      const ms = Math.max(5, settings().get<number>('stopTimeoutSeconds', 60)) * 1000;
      let t: NodeJS.Timeout;
      try {
        // A followed run has no IPC channel: SIGTERM, then SIGKILL if it is still running.
        t = stopThenKill(
          { kill: (signal) => process.kill(pid, signal) },
          {
            timeoutMs: ms,
            beforeKill: () => {
              this.killTimers.delete(d);
              if (!isPidAlive(pid)) return false;
              const now = this.deps.store.refresh(d);
              return now?.info.status === 'running';
            },
            afterKill: () => {
              markRunFailed(d, `the trainer process ${pid} did not stop within ${ms / 1000} s and was killed`);
              this.deps.store.refresh(d);
            },
          },
        );
        this.deps.output.appendLine(`[${noticeText(this.called(r))}] sent SIGTERM to trainer process ${pid}`);
      } catch (e) {
        void vscode.window.showErrorMessage(`Fine-tune: cannot stop process ${pid}: ${(e as Error).message}`);
        return;
      }
      clearTimeout(this.killTimers.get(d));
      this.killTimers.set(d, t);
      return;
    }
    if (r?.info.status === 'running') {
      markRunFailed(d, 'the trainer process is gone');
      this.deps.store.refresh(d);
    }
  }

  /** After a reload: runs still running are followed; those whose process is gone are marked failed. */
  reattach(): void {
    const { live, stale } = classifyRunning(this.deps.store.all().filter((r) => !this.isOwned(r.dir)));
    for (const r of stale) {
      if (markRunFailed(r.dir, `the trainer process ${r.info.pid ?? ''} is gone (VS Code or the machine restarted while it ran)`.replace('  ', ' ')))
        this.deps.store.refresh(r.dir);
    }
    if (live.length)
      this.deps.output.appendLine(
        `following ${live.length} running run${live.length === 1 ? '' : 's'}: ${live.map((r) => noticeText(this.called(r))).join(', ')}`,
      );
    this.deps.live.sync(this.deps.store.all());
    this.updateStatusSoon();
  }

  /** Followed (not forked) runs: a slow liveness check, only while there are any, catches a process that died without a word. */
  private checkLiveness(): void {
    const followed = this.deps.store.all().filter((r) => r.info.status === 'running' && !this.isOwned(r.dir) && r.info.pid);
    if (!followed.length) {
      clearInterval(this.livenessTimer);
      this.livenessTimer = undefined;
      return;
    }
    const { stale } = classifyRunning(followed);
    for (const r of stale) {
      const fresh = this.deps.store.refresh(r.dir);
      if (fresh?.info.status === 'running' && !isPidAlive(fresh.info.pid)) {
        markRunFailed(r.dir, `the trainer process ${r.info.pid} exited without recording a result`);
        this.deps.store.refresh(r.dir);
        void vscode.window

          .showErrorMessage(`Fine-tune: ${noticeText(this.called(r))} stopped without recording a result (its process exited).`, 'Open Log')
          .then((a) => {
            if (a) void vscode.commands.executeCommand('finetune.openLog', r.dir);
          });
      }
    }
  }

  updateStatusSoon(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.updateStatus();
    }, 250);
  }

  private updateStatus(): void {
    const running = this.deps.store.all().filter((r) => r.info.status === 'running');
    if (running.some((r) => !this.isOwned(r.dir)) && !this.livenessTimer) {
      this.livenessTimer = setInterval(() => this.checkLiveness(), 10_000);
      this.livenessTimer.unref?.();
    }
    const queued = this.queue.pending.length;
    if (!running.length && !queued) {
      this.status.hide();
      return;
    }
    const r = running[0];
    const parts: string[] = [];
    if (r) {
      const last = this.deps.live.last(r.dir);
      const step = Math.max(r.info.step ?? 0, last?.step ?? 0);
      parts.push(`$(sync~spin) ${labelText(this.called(r))} ${step}${r.info.totalSteps ? `/${r.info.totalSteps}` : ''}`);
      const epoch = last?.epoch ?? r.info.epoch;
      if (epoch !== undefined) parts.push(`ep ${epoch.toFixed(1)}`);
      const eta = this.deps.live.eta(r.dir, r.info.totalSteps, step);
      if (eta !== undefined) parts.push(`ETA ${formatEta(eta)}`);
      if (last) parts.push(`${last.stepsPerSec.toFixed(1)} steps/s`);
    } else parts.push('$(clock) Fine-tune');
    const more = running.length - 1;
    if (more > 0) parts.push(`+${more}`);
    if (queued) parts.push(`${queued} queued`);
    this.status.text = parts.join(' · ');
    const tip = new vscode.MarkdownString(
      running
        .map((x) => {
          const last = this.deps.live.last(x.dir);
          return `**${mdText(this.called(x))}** step ${x.info.step}/${x.info.totalSteps ?? '?'}${last ? `, loss ${last.loss.toFixed(4)}, ${last.samplesPerSec.toFixed(0)} samples/s` : ''}`;
        })
        .join('\n\n') +
        (queued ? `\n\n${queued} queued` : '') +
        '\n\nClick to open the dashboard.',
    );
    this.status.tooltip = tip;
    this.status.command = r ? { command: 'finetune.openDashboard', title: 'Open Dashboard', arguments: [r.dir] } : 'finetune.runs.focus';
    this.status.show();
  }

  dispose(): void {
    // Runs keep training when the window closes or reloads; they are followed again on activation.
    for (const t of this.killTimers.values()) clearTimeout(t);
    clearInterval(this.livenessTimer);
    clearTimeout(this.statusTimer);
    this.sweeps.dispose();
    this.status.dispose();
  }
}
