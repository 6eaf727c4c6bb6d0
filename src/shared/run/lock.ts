// The trainer's lock on a run folder: `trainer.lock`, created with O_EXCL and holding the pid and
// host of the process that trains in the folder. Two trainers started on one folder at the same
// moment (two `--resume`s, or two runs given the same `--run-dir`) cannot both create it, so
// exactly one runs. A lock left by a process that died (SIGKILL, a crash) is stale: its pid is gone
// on this host, and the next trainer takes it over. Under Slurm a lock also names its batch job and
// attempt: a requeued job (a later SLURM_RESTART_COUNT of the same SLURM_JOB_ID) takes over the lock
// of an earlier attempt wherever that ran, since Slurm runs one attempt of a job at a time.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isPidAlive, runPaths } from './folder';

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** The Slurm batch job and attempt (SLURM_JOB_ID, SLURM_RESTART_COUNT) the owner ran in. */
  slurm?: { job: string; restart: number };
}

/** The Slurm job and attempt this process runs in, from its environment. */
export function slurmAttempt(env: NodeJS.ProcessEnv = process.env): LockOwner['slurm'] {
  if (!env.SLURM_JOB_ID) return undefined;
  return { job: env.SLURM_JOB_ID, restart: Number(env.SLURM_RESTART_COUNT ?? 0) || 0 };
}

/** A lock held by this process; release() removes the file (once, and only while it is still ours). */
export interface RunLock {
  file: string;
  release(): void;
}

/** The owner a lock file names, or undefined when it cannot be read (missing, torn, garbage). */
export function readRunLock(dir: string): LockOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(runPaths(dir).lock, 'utf8')) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string')
      return {
        pid: o.pid,
        host: o.host,
        since: String(o.since ?? ''),
        ...(o.slurm && typeof o.slurm.job === 'string' && typeof o.slurm.restart === 'number' ? { slurm: o.slurm } : {}),
      };
  } catch {
    // missing or unreadable
  }
  return undefined;
}

function isStale(owner: LockOwner | undefined, alive: (pid: number) => boolean, me = slurmAttempt()): boolean {
  // An unreadable lock is being written this very moment (create, then write) or was torn by a
  // crash; only a lock naming a dead pid on this host, or an earlier attempt of this Slurm job, is
  // certainly stale.
  if (!owner) return false;
  if (owner.slurm && me && owner.slurm.job === me.job && owner.slurm.restart < me.restart) return true;
  return owner.host === os.hostname() && owner.pid !== process.pid && !alive(owner.pid);
}

/**
 * Takes the lock of a run folder (which must exist), or throws naming the process that holds it.
 * A stale lock (its pid is dead on this host) is moved aside under a name of our own and deleted,
 * then the lock is created again with O_EXCL: of two processes taking over one stale lock, one
 * moves it and the other finds it gone and retries, so still exactly one gets it.
 */
export function acquireRunLock(dir: string, alive: (pid: number) => boolean = isPidAlive): RunLock {
  const file = runPaths(dir).lock;
  const attempt = slurmAttempt();
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), ...(attempt ? { slurm: attempt } : {}) };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot lock the run folder ${dir}: ${(e as Error).message}`);
      const owner = readRunLock(dir);
      if (!isStale(owner, alive)) throw lockedError(dir, owner);
      const aside = path.join(dir, `.${path.basename(file)}.stale.${process.pid}`);
      try {
        fs.renameSync(file, aside);
      } catch {
        continue; // another process took it over first: try again (and find its live lock)
      }
      const moved = (() => {
        try {
          return JSON.parse(fs.readFileSync(aside, 'utf8')) as Partial<LockOwner>;
        } catch {
          return undefined;
        }
      })();
      if (moved?.pid !== owner?.pid) {
        // We moved a fresh lock that replaced the stale one meanwhile: put it back, and give way.
        try {
          fs.linkSync(aside, file);
        } catch {
          // a third process locked meanwhile; it holds the folder
        }
        fs.rmSync(aside, { force: true });
        throw lockedError(dir, readRunLock(dir));
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    try {
      fs.writeSync(fd, JSON.stringify(me) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        const owner = readRunLock(dir);
        if (owner?.pid === me.pid && owner.host === me.host) fs.rmSync(file, { force: true });
      },
    };
  }
  throw lockedError(dir, readRunLock(dir));
}

function lockedError(dir: string, owner: LockOwner | undefined): Error {
  const who = owner
    ? `process ${owner.pid}${owner.host !== os.hostname() ? ` on ${owner.host}` : ''}${owner.since ? ` since ${owner.since}` : ''}`
    : 'another process';
  return Object.assign(
    new Error(
      `${dir} is in use by another trainer (${who}; ${runPaths(dir).lock}): wait for it to end or stop it; if no such trainer is running, delete that file`,
    ),
    { code: 'ELOCKED' },
  );
}
