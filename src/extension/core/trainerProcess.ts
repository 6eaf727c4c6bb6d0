// One forked trainer: its events (IPC), its output lines, a graceful stop that escalates to a
// kill, and what its exit means. A crash (no completed/stopped/failed event: a signal, an
// out-of-memory abort) marks the run failed in run.json when the trainer could not.

import type { ForkOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { isTrainerEvent, TRAINER_EXIT, type TrainerCommand, type TrainerEvent } from '../../shared/protocol';
import { readRun, TERMINAL, updateRunInfo } from '../../shared/run';
import { trainerEnv } from '../../shared/trainerEnv';

/**
 * How the extension forks a trainer or a sweep driver: an IPC channel, output piped to its log,
 * plain node (no debugger flags), the trainer environment (transparent huge pages for malloc,
 * shared/trainerEnv.ts), and its own process group so that it outlives a window reload.
 */
export function trainerForkOptions(cwd?: string): ForkOptions {
  return { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...(cwd ? { cwd } : {}), execArgv: [], env: trainerEnv(), detached: process.platform !== 'win32' };
}

/** What TrainerProcess needs of a ChildProcess (a fake in tests). */
export interface ChildLike {
  pid?: number;
  stdout?: NodeJS.ReadableStream | null;
  stderr?: NodeJS.ReadableStream | null;
  connected?: boolean;
  send?(message: TrainerCommand): boolean;
  kill(signal?: NodeJS.Signals | number): boolean;
  on(event: 'message', listener: (m: unknown) => void): unknown;
  on(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface TrainerOutcome {
  status: 'completed' | 'stopped' | 'failed';
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Exited without saying how it ended. */
  crashed: boolean;
  /** Why it failed (the trainer's error, or what the exit says). */
  message?: string;
  stderrTail: string[];
}

/** Arguments for dist/trainer.js. */
export function trainerArgs(o: {
  configPath?: string;
  runDir?: string;
  resume?: string;
  overrides?: Record<string, unknown>;
  device?: string;
  threads?: number;
}): string[] {
  const args = ['train'];
  if (o.resume) args.push('--json', '--resume', o.resume);
  else {
    if (!o.configPath) throw new Error('trainerArgs: a config path or a run to resume is needed');
    args.push(o.configPath, '--json');
    if (o.runDir) args.push('--run-dir', o.runDir);
    for (const [k, v] of Object.entries(o.overrides ?? {})) args.push('--set', `${k}=${JSON.stringify(v)}`);
  }
  if (o.device && o.device !== 'config') args.push('--device', o.device);
  if (o.threads && o.threads > 0) args.push('--threads', String(o.threads));
  return args;
}

/** A sentence for an exit without a final event. */
export function crashMessage(code: number | null, signal: NodeJS.Signals | null, stderrTail: string[] = [], stopTimedOut = false): string {
  const text = stderrTail.join('\n');
  const oom = /heap out of memory|Allocation failed|std::bad_alloc|out of memory|Cannot allocate memory|ENOMEM/i.test(text);
  let why: string;
  if (stopTimedOut) why = `did not stop in time and was killed${signal ? ` (${signal})` : ''}`;
  else if (signal === 'SIGKILL') why = `was killed (SIGKILL)${oom ? ': out of memory' : ' — possibly by the system for using too much memory'}`;
  else if (signal) why = `was terminated by ${signal}`;
  else if (oom) why = `ran out of memory (exit code ${code})`;
  else why = `exited with code ${code} without reporting a result`;
  const last = stderrTail.filter((l) => l.trim()).slice(-1)[0];
  return `the trainer process ${why}${last && !stopTimedOut ? `: ${last.trim()}` : ''}`;
}

/** Marks a run failed in run.json unless it already ended; true when it wrote. */
export function markRunFailed(runDir: string, message: string, now = new Date()): boolean {
  const r = readRun(runDir);
  if (!r || TERMINAL.has(r.info.status)) return false;
  updateRunInfo(runDir, { status: 'failed', endedAt: now.toISOString(), error: { message } });
  return true;
}

/** What stopThenKill needs of a process: a forked child (IPC and signals) or just a pid's signals. */
export interface Stoppable {
  connected?: boolean;
  send?(message: TrainerCommand): boolean;
  kill(signal: NodeJS.Signals): unknown;
}

/**
 * The one stop-then-kill: asks the process to stop (a `stop` command over IPC, or SIGTERM when
 * that cannot be sent; an error from SIGTERM is thrown, and then no kill is scheduled), then
 * after timeoutMs sends SIGKILL unless beforeKill says not to (the process ended meanwhile);
 * afterKill runs once SIGKILL is sent (an error sending it is ignored: the process is gone).
 * Returns the timer, to cancel the kill.
 */
export function stopThenKill(p: Stoppable, o: { timeoutMs: number; beforeKill: () => boolean; afterKill?: () => void }): NodeJS.Timeout {
  let sent = false;
  if (p.connected !== false && typeof p.send === 'function') {
    try {
      sent = p.send({ type: 'stop' });
    } catch {
      sent = false;
    }
  }
  if (!sent) p.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!o.beforeKill()) return;
    try {
      p.kill('SIGKILL');
    } catch {
      // gone meanwhile
    }
    o.afterKill?.();
  }, o.timeoutMs);
  timer.unref?.();
  return timer;
}

/** Splits a stream into lines. */
function lines(stream: NodeJS.ReadableStream | null | undefined, onLine: (line: string) => void): () => void {
  if (!stream) return () => {};
  let buf = '';
  stream.on('data', (chunk: Buffer | string) => {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl).replace(/\r$/, ''));
      buf = buf.slice(nl + 1);
    }
  });
  return () => {
    if (buf) onLine(buf);
    buf = '';
  };
}

export class TrainerProcess extends EventEmitter<{ event: [TrainerEvent]; line: [line: string, stream: 'stdout' | 'stderr']; exit: [TrainerOutcome] }> {
  readonly done: Promise<TrainerOutcome>;
  private terminal: TrainerEvent | undefined;
  private readonly tail: string[] = [];
  private stopRequested = false;
  private stopTimedOut = false;
  private killTimer: NodeJS.Timeout | undefined;
  private exited = false;

  constructor(
    readonly child: ChildLike,
    readonly opts: { runDir?: string; stopTimeoutMs?: number; tailLines?: number } = {},
  ) {
    super();
    const keep = opts.tailLines ?? 30;
    const ipc = typeof child.send === 'function';
    const onEvent = (e: TrainerEvent) => {
      if (e.type === 'completed' || e.type === 'stopped' || e.type === 'failed') this.terminal = e;
      this.emit('event', e);
    };
    child.on('message', (m) => {
      if (isTrainerEvent(m)) onEvent(m);
    });
    const flushOut = lines(child.stdout, (line) => {
      this.emit('line', line, 'stdout');
      if (!ipc && line.startsWith('{')) {
        try {
          const e: unknown = JSON.parse(line);
          if (isTrainerEvent(e)) onEvent(e);
        } catch {
          // a plain line
        }
      }
    });
    const flushErr = lines(child.stderr, (line) => {
      this.tail.push(line);
      if (this.tail.length > keep) this.tail.shift();
      this.emit('line', line, 'stderr');
    });
    this.done = new Promise((resolve) => {
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (settled) return;
        settled = true;
        this.exited = true;
        if (this.killTimer) clearTimeout(this.killTimer);
        flushOut();
        flushErr();
        const outcome = this.outcome(code, signal, spawnError);
        if (outcome.status === 'failed' && opts.runDir) {
          try {
            markRunFailed(opts.runDir, outcome.message ?? 'failed');
          } catch {
            // the folder may be gone (deleted while running)
          }
        }
        this.emit('exit', outcome);
        resolve(outcome);
      };
      // 'close' comes after the output streams ended; 'exit' alone (streams held open by a grandchild) settles shortly after.
      child.on('close', (code, signal) => finish(code, signal));
      child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 300).unref?.());
      // 'error' also reports a failed IPC write (EPIPE while the trainer disconnects) or kill on a
      // live process: only a process that never started (no pid) ends here; the others exit later.
      child.on('error', (err) => {
        if (child.pid === undefined) finish(null, null, err);
        else this.emit('line', `trainer process error: ${err.message}`, 'stderr');
      });
    });
  }

  get stderrTail(): string[] {
    return [...this.tail];
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Asks the trainer to finish its block, checkpoint and exit; kills it if it has not after the timeout. A second call kills now. */
  stop(): void {
    if (this.exited) return;
    if (this.stopRequested) {
      this.stopTimedOut = true;
      this.child.kill('SIGKILL');
      return;
    }
    this.stopRequested = true;
    this.killTimer = stopThenKill(this.child, {
      timeoutMs: this.opts.stopTimeoutMs ?? 60_000,
      beforeKill: () => {
        if (this.exited) return false;
        this.stopTimedOut = true; // before the kill: a child may report its exit at once
        return true;
      },
    });
  }

  private outcome(code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): TrainerOutcome {
    const stderrTail = this.stderrTail;
    const t = this.terminal;
    if (spawnError) return { status: 'failed', code, signal, crashed: true, message: `could not start the trainer: ${spawnError.message}`, stderrTail };
    if (t?.type === 'completed' && !signal) return { status: 'completed', code, signal, crashed: false, stderrTail };
    if (t?.type === 'stopped' && !signal) return { status: 'stopped', code, signal, crashed: false, stderrTail };
    if (t?.type === 'failed') return { status: 'failed', code, signal, crashed: false, message: t.error, stderrTail };
    // The exit code says stopped even when its event was lost (sent while the channel was closing).
    if (code === TRAINER_EXIT.stopped && !signal && !t) return { status: 'stopped', code, signal, crashed: false, stderrTail };
    if (code === TRAINER_EXIT.usage && !signal) {
      const errs = stderrTail.filter((l) => /:\d+:\d+: /.test(l));
      return { status: 'failed', code, signal, crashed: false, message: `invalid config${errs.length ? `:\n${errs.join('\n')}` : ''}`, stderrTail };
    }
    // A trainer stopped by SIGTERM from a terminal/reattached stop still reports 'stopped'; anything else is a crash.
    return { status: 'failed', code, signal, crashed: true, message: crashMessage(code, signal, stderrTail, this.stopTimedOut), stderrTail };
  }
}
