// One download of a blob at a time across processes, at the path Python's huggingface_hub locks:
//   <cache>/.locks/<models--org--name>/<etag>.lock
// Node has no flock(2), so the lock is the file's existence (as filelock's SoftFileLock): it is
// created atomically (a hard link of a file holding our pid and host, which fails when the lock
// exists) and removed on release. While held, its mtime is refreshed every few seconds. A lock is
// stale, and taken over, when its process is gone (same host) or it has not been refreshed for
// STALE_MS (another host, a crash, or an empty lock file that Python's filelock left behind —
// Python keeps its lock files; against a Python download running at the same moment, the sha256
// check before a blob is moved into place still keeps the cache correct).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const STALE_MS = 60_000;
const REFRESH_MS = 5_000;
const POLL_MS = 200;

/** The lock file huggingface_hub uses for a blob of a repo folder (<cache>/models--org--name). */
export function blobLockPath(repo: string, etag: string): string {
  return path.join(path.dirname(repo), '.locks', path.basename(repo), `${etag}.lock`);
}

interface Holder {
  pid: number;
  host: string;
  /** Which acquisition this is (two in one process have the same pid). */
  token: string;
}

function readHolder(lock: string): { holder?: Holder; mtime: number } | undefined {
  try {
    const st = fs.statSync(lock);
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(fs.readFileSync(lock, 'utf8')) as Holder;
    } catch {
      holder = undefined; // empty (Python's) or half-written
    }
    return { holder, mtime: st.mtimeMs };
  } catch {
    return undefined; // released meanwhile
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(h: { holder?: Holder; mtime: number }): boolean {
  if (h.holder && h.holder.host === os.hostname() && Number.isInteger(h.holder.pid) && !alive(h.holder.pid)) return true;
  return Date.now() - h.mtime > STALE_MS;
}

/**
 * Runs `fn` holding the lock file `lock`; waits while another live process holds it (`waiting` is
 * called once, then every 10 s, with the holder's pid when known).
 */
export async function withFileLock<T>(lock: string, fn: () => Promise<T>, waiting?: (pid: number | undefined) => void): Promise<T> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const token = `${process.pid}.${Math.random().toString(36).slice(2)}`;
  const mine = `${lock}.${token}`;
  const body = JSON.stringify({ pid: process.pid, host: os.hostname(), token } satisfies Holder);
  fs.writeFileSync(mine, body);
  let lastNote = 0;
  try {
    for (;;) {
      try {
        fs.linkSync(mine, lock); // atomic: fails with EEXIST while another holds the lock
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const h = readHolder(lock);
      if (h && isStale(h)) {
        // Remove it only if it is still the stale one we read (not a fresh lock taken meanwhile).
        const again = readHolder(lock);
        if (again && again.mtime === h.mtime && JSON.stringify(again.holder) === JSON.stringify(h.holder)) fs.rmSync(lock, { force: true });
        continue;
      }
      if (h && Date.now() - lastNote >= 10_000) {
        lastNote = Date.now();
        waiting?.(h.holder?.pid);
      }
      await new Promise((ok) => setTimeout(ok, POLL_MS));
    }
  } finally {
    fs.rmSync(mine, { force: true });
  }
  const refresh = setInterval(() => {
    const now = new Date();
    try {
      fs.utimesSync(lock, now, now);
    } catch {
      // taken over or removed: the checksum check still guards the blob
    }
  }, REFRESH_MS);
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    // Release only our own lock.
    if (readHolder(lock)?.holder?.token === token) fs.rmSync(lock, { force: true });
  }
}
