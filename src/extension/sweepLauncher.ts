// Sweep drivers: Start on a config with a sweep: block forks `finetune sweep CONFIG` (dist/trainer.js,
// like a trainer process: its own process group, so that a window reload does not take it along;
// its lines and its trials' lines go to the "Fine-tune" channel). The driver runs the trials (up to
// finetune.concurrency, or the config's sweep.concurrency, at once), prunes and records them in
// sweep.json, which the run history reads. Stop sends it SIGTERM: it stops its trials (they
// checkpoint) and records the sweep `stopped`. A sweep whose driver died (a reload is not that: the
// driver lives on) shows as interrupted; Resume sweep runs `finetune sweep --resume`.

import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultRunsFolder, isPidAlive } from '../shared/run';
import { bestTrial, defaultSweepsFolder } from '../shared/sweep/folder';
import { formatMetric } from '../shared/metrics';
import { noticeText } from './core/runs';
import { trainerForkOptions } from './core/trainerProcess';
import { sweepArgs, sweepDirFromLine, sweepState, type SweepStore } from './core/sweeps';
import type { TrainAction } from './core/trust';

export interface SweepLauncherDeps {
  store: SweepStore;
  output: vscode.OutputChannel;
  trainerPath: string;
  /** A runs folder to scan and watch from now on. */
  watchFolder(dir: string): void;
  /** A sweeps folder to scan and watch from now on. */
  watchSweeps(dir: string): void;
  allowed(action: TrainAction, what?: string): boolean;
}

const settings = () => vscode.workspace.getConfiguration('finetune');

export class SweepLauncher {
  /** Drivers forked by this window, by config path (a new sweep) and then by sweep folder. */
  private readonly drivers = new Map<string, ChildProcess>();

  constructor(private readonly deps: SweepLauncherDeps) {}

  /** Forks `finetune sweep CONFIG`; the sweep folder is watched before the driver writes it. */
  start(configPath: string, baseDir: string): void {
    if (!this.deps.allowed('start', path.basename(configPath))) return;
    this.deps.watchSweeps(defaultSweepsFolder(baseDir));
    this.deps.watchFolder(defaultRunsFolder(baseDir));
    this.fork(configPath, sweepArgs({ configPath, ...this.args() }), path.basename(configPath));
  }

  resume(sweepDir: string): void {
    const s = this.deps.store.get(sweepDir);
    if (!s) {
      void vscode.window.showErrorMessage(`Fine-tune: ${sweepDir} is not a sweep folder (no readable sweep.json).`);
      return;
    }
    if (!this.deps.allowed('resume', `the sweep ${s.info.name}`)) return;
    const state = sweepState(s.info);
    if (state === 'running') {
      void vscode.window.showInformationMessage(`Fine-tune: the sweep ${noticeText(s.info.name)} is still running (process ${s.info.pid}).`);
      return;
    }
    if (state === 'completed') {
      void vscode.window.showInformationMessage(`Fine-tune: the sweep ${noticeText(s.info.name)} is complete; nothing to resume.`);
      return;
    }
    this.deps.watchSweeps(path.dirname(s.dir));
    this.deps.watchFolder(defaultRunsFolder(path.dirname(s.info.configPath)));
    this.fork(s.dir, sweepArgs({ resume: s.dir, ...this.args() }), s.info.name);
  }

  /** SIGTERM to the driver (ours, or one found running on this host): its trials checkpoint and the sweep stops. A second Stop on our own driver kills it. */
  stop(sweepDir: string): void {
    const d = path.resolve(sweepDir);
    const own = this.drivers.get(d);
    const s = this.deps.store.get(d);
    const name = s ? noticeText(s.info.name) : path.basename(d);
    if (own && own.exitCode === null) {
      own.kill('SIGTERM');
      this.deps.output.appendLine(`[sweep ${name}] stop requested: the running trials checkpoint, then the sweep stops`);
      return;
    }
    const pid = s?.info.pid;
    if (s && sweepState(s.info) === 'running' && pid && isPidAlive(pid)) {
      try {
        process.kill(pid, 'SIGTERM');
        this.deps.output.appendLine(`[sweep ${name}] sent SIGTERM to the sweep process ${pid}`);
      } catch (e) {
        void vscode.window.showErrorMessage(`Fine-tune: cannot stop the sweep process ${pid}: ${(e as Error).message}`);
      }
      return;
    }
    void vscode.window.showInformationMessage(`Fine-tune: the sweep ${name} is not running.`);
  }

  isOwned(sweepDir: string): boolean {
    return this.drivers.has(path.resolve(sweepDir));
  }

  /** --concurrency from finetune.concurrency when it is set anywhere; else the config's sweep.concurrency decides. */
  private args(): { concurrency?: number; device?: string; threads?: number } {
    const s = settings();
    const c = s.inspect<number>('concurrency');
    const set = c?.workspaceFolderValue ?? c?.workspaceValue ?? c?.globalValue;
    return { concurrency: set, device: s.get<string>('device', 'config'), threads: s.get<number>('threads', 0) };
  }

  private fork(key: string, args: string[], name: string): void {
    const out = this.deps.output;
    let tag = `[sweep ${noticeText(name)}]`;
    out.appendLine(`${tag} node ${path.basename(this.deps.trainerPath)} ${args.join(' ')}`);
    // Its own process group (not on Windows): a window reload must not take the sweep with it.
    const child = fork(this.deps.trainerPath, args, trainerForkOptions());
    this.drivers.set(path.resolve(key), child);
    let sweepDir: string | undefined = this.deps.store.get(key) ? path.resolve(key) : undefined;
    const onLine = (line: string) => {
      const dir = sweepDirFromLine(line);
      if (dir && !sweepDir) {
        sweepDir = path.resolve(dir);
        this.drivers.set(sweepDir, child);
        this.deps.store.refresh(sweepDir);
        tag = `[sweep ${noticeText(path.basename(sweepDir))}]`;
      }
      out.appendLine(`${tag} ${line}`);
    };
    splitLines(child.stdout, onLine);
    splitLines(child.stderr, onLine);
    child.on('error', (e) => out.appendLine(`${tag} sweep process error: ${e.message}`));
    child.on('exit', (code, signal) => {
      this.drivers.delete(path.resolve(key));
      if (sweepDir) this.drivers.delete(sweepDir);
      out.appendLine(`${tag} sweep process exited (${signal ? `signal ${signal}` : `code ${code}`})`);
      const s = sweepDir ? this.deps.store.refresh(sweepDir) : undefined;
      if (!s) {
        if (code !== 0)
          void vscode.window.showErrorMessage(`Fine-tune: the sweep of ${noticeText(name)} did not start (exit code ${code}).`, 'Show Output').then((a) => {
            if (a) out.show(true);
          });
        return;
      }
      const best = bestTrial(s.info);
      const what = `${s.info.status}: ${s.info.trials.length}/${s.info.total} trials${best?.value !== undefined ? `, best ${s.info.metric} ${formatMetric(best.value)} (trial #${best.number})` : ''}`;
      if (s.info.status === 'failed') void vscode.window.showErrorMessage(`Fine-tune: the sweep ${noticeText(s.info.name)} ${what}.`);
      else void vscode.window.showInformationMessage(`Fine-tune: the sweep ${noticeText(s.info.name)} ${what}.`);
    });
  }

  dispose(): void {
    // Drivers keep running when the window closes or reloads; the history shows them from sweep.json.
    this.drivers.clear();
  }
}

function splitLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) onLine(l.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (buf) onLine(buf);
  });
}
