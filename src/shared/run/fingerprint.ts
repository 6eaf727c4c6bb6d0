// What a run was started on, kept in run.json (`fingerprint`) so a resume can tell when it would
// continue on something else: the config's hash and each data file's size, modification time and
// sha256. A resume compares the files again; size and mtime unchanged means unchanged (no
// re-reading), otherwise the content hash decides (a file touched but not edited is the same).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

export interface FileFingerprint {
  /** What the file is to the run (`data.train`, `data.validation`, `data.test`). */
  role: string;
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface RunFingerprint {
  configHash: string;
  files: FileFingerprint[];
}

/** sha256 of a file, read in 1 MiB chunks (a data file may be larger than memory allows at once). */
export function fileSha256(file: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

export function fingerprintFile(role: string, file: string): FileFingerprint {
  const st = fs.statSync(file);
  return { role, path: file, size: st.size, mtimeMs: st.mtimeMs, sha256: fileSha256(file) };
}

/** Why a fingerprinted file is not what it was, or undefined when it is the same. */
export function fileChange(f: FileFingerprint): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(f.path);
  } catch {
    return `${f.role} ${f.path} is gone`;
  }
  if (!st.isFile()) return `${f.role} ${f.path} is no longer a file`;
  if (st.size !== f.size) return `${f.role} ${f.path} changed since the run started (${f.size} → ${st.size} bytes)`;
  if (st.mtimeMs === f.mtimeMs) return undefined;
  return fileSha256(f.path) === f.sha256 ? undefined : `${f.role} ${f.path} changed since the run started (same size, different content)`;
}
