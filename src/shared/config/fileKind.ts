// What a path names, checked with fs.stat before it is opened: a config or data path that is a
// device (/dev/zero), a FIFO or a socket would be read forever or block forever once opened, so it
// is refused by its type, and a symlink loop is called that rather than "file not found".

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Why `p` is not a regular file that can be read, or undefined when it is one (symlinks are followed). */
export function notARegularFile(p: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    return statProblem(e);
  }
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'is a folder, not a file';
  return `is ${specialKind(st)}, not a regular file (refused: reading it could never end or block forever)`;
}

/** The words for an fs error of stat/open: missing, a symlink loop, no permission. */
export function statProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'ENOTDIR':
      return 'file not found (a part of the path is a file, not a folder)';
    case 'ELOOP':
      return 'symlink loop (a symbolic link in the path points back to itself, directly or through others)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return `cannot read it (${e instanceof Error ? e.message : String(e)})`;
  }
}

function specialKind(st: fs.Stats): string {
  if (st.isCharacterDevice()) return 'a character device (like /dev/zero)';
  if (st.isBlockDevice()) return 'a block device (a disk)';
  if (st.isFIFO()) return 'a FIFO (a named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

/**
 * An error for a folder that cannot be created or written (a read-only mount, no permission, a
 * pseudo file system such as /proc that refuses new folders with ENOENT): it names the nearest
 * folder that exists and why, instead of the raw "ENOENT … mkdir".
 */
export function folderWriteError(e: unknown, dir: string): Error {
  const err = e as NodeJS.ErrnoException;
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  const why =
    err.code === 'EROFS'
      ? 'read-only file system'
      : err.code === 'EACCES' || err.code === 'EPERM'
        ? 'permission denied'
        : err.code === 'ENOSPC'
          ? 'the disk is full'
          : err.code === 'ENOTDIR'
            ? 'a part of the path is a file, not a folder'
            : err.code === 'ENOENT' && fs.existsSync(at) && at !== path.resolve(dir)
              ? 'it does not accept new folders (read-only)'
              : (err.message ?? String(e));
  return new Error(`cannot write to ${at}: ${why} (needed for ${path.resolve(dir)})`);
}

/** Creates `dir` (and its parents) and checks it can be written, or throws folderWriteError. */
export function ensureWritableFolder(dir: string): void {
  try {
    // One level at a time: Node's recursive mkdir spins forever where a folder that exists refuses
    // new entries with ENOENT (/proc).
    const missing: string[] = [];
    for (let at = path.resolve(dir); !fs.existsSync(at) && path.dirname(at) !== at; at = path.dirname(at)) missing.unshift(at);
    for (const d of missing) {
      try {
        fs.mkdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw folderWriteError(e, dir);
  }
}
