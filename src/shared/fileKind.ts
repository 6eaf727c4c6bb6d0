// What a path names, checked with fs.stat before it is opened: a config or data path that is a
// device (/dev/zero), a FIFO or a socket would be read forever or block forever once opened, so it
// is refused by its type, and a symlink loop is called that rather than "file not found".

import * as fs from 'node:fs';

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
