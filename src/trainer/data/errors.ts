// Errors raised while reading training data. Every message names the file and,
// where it is known, the 1-based line (and column) it is about.

import * as fs from 'node:fs';
import { notARegularFile, statProblem } from '../../shared/config/fileKind';

export class DataError extends Error {
  /** The message without the "<file>:<line>: " prefix. */
  readonly reason: string;

  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${formatLocation(file, line, column)}: ${message}`);
    this.name = 'DataError';
    this.reason = message;
  }
}

function formatLocation(file: string, line?: number, column?: number): string {
  if (line === undefined) return file;
  return column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
}

/** Turns an fs error (ENOENT, EISDIR, EACCES, ELOOP, ...) into a DataError that says what went wrong. */
export function fileError(err: unknown, file: string): DataError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EISDIR') return new DataError('is a directory, expected a file', file);
  const why = statProblem(err);
  return new DataError(why.startsWith('cannot read it') ? `cannot read file (${err instanceof Error ? err.message : String(err)})` : why, file);
}

/**
 * Refuses a path that is not a regular file, by its type (fs.stat) before it is opened: a device
 * (/dev/zero) is endless, a FIFO can block forever, a symlink loop is not "file not found".
 */
export function checkDataFile(file: string): void {
  const why = notARegularFile(file);
  if (why) throw new DataError(why === 'is a folder, not a file' ? 'is a directory, expected a file' : why, file);
}

/**
 * The longest line a data reader accepts (CoNLL, JSON Lines, CSV), in bytes without its line
 * break. A longer line is refused before it is decoded or parsed: a corrupt or hostile file (a
 * gigabyte with no newline) must not take the trainer's memory.
 */
export const MAX_LINE_BYTES = 1 << 20;

/** The error for a line over MAX_LINE_BYTES. */
export function lineTooLong(file: string, line: number, max = MAX_LINE_BYTES): DataError {
  return new DataError(`line longer than ${max} bytes`, file, line);
}

/** Byte spans of the lines of `buf` from `from` (split on \n, a trailing \r not counted), 1-based line numbers. */
function* lineSpans(buf: Uint8Array, from = 0): Generator<{ start: number; stop: number; lineNo: number }> {
  let start = from;
  let lineNo = 1;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    const next = end === -1 ? buf.length : end + 1;
    if (end === -1) end = buf.length;
    yield { start, stop: end > start && buf[end - 1] === 0x0d ? end - 1 : end, lineNo };
    lineNo++;
    start = next;
  }
}

/** Throws lineTooLong for the first line (split on \n, a trailing \r not counted) over `max` bytes. */
export function checkLineLengths(buf: Uint8Array, file: string, max = MAX_LINE_BYTES): void {
  for (const { start, stop, lineNo } of lineSpans(buf)) if (stop - start > max) throw lineTooLong(file, lineNo, max);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes one line's bytes as strict UTF-8, throwing a DataError naming the line and
 * the column (1-based byte offset) of the first invalid byte sequence.
 */
export function decodeUtf8Line(bytes: Uint8Array, file: string, line: number): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    return invalidUtf8(file, line, offset);
  }
}

function invalidUtf8(file: string, line: number, offset: number): never {
  throw new DataError(`invalid UTF-8 byte sequence at byte ${offset + 1} of the line (the file must be UTF-8 encoded)`, file, line, offset + 1);
}

/** Byte offset of the first byte that does not start a valid UTF-8 sequence (bytes.length if none). */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    let n: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    if (i + n >= bytes.length) return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return bytes.length;
}

/** True when the bytes start with a UTF-8 byte order mark. */
export function hasBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/**
 * Splits a whole file's bytes into lines (on \n, dropping a trailing \r) and decodes each
 * as strict UTF-8. A leading BOM is dropped. A final line without a newline counts;
 * a trailing newline does not add an empty last line.
 */
export function decodeUtf8Lines(buf: Uint8Array, file: string): string[] {
  const lines: string[] = [];
  for (const { start, stop, lineNo } of lineSpans(buf, hasBom(buf) ? 3 : 0)) {
    if (stop - start > MAX_LINE_BYTES) throw lineTooLong(file, lineNo);
    lines.push(decodeUtf8Line(buf.subarray(start, stop), file, lineNo));
  }
  return lines;
}

/**
 * Streams a file's lines (split on \n, a trailing \r and a leading BOM dropped) as strict UTF-8
 * strings with their 1-based numbers and the bytes read so far (without the BOM). Memory stays at one chunk plus one line: a line is refused
 * (lineTooLong) as soon as it passes `max` bytes, without reading the rest of the file.
 */
export async function* streamLines(file: string, max = MAX_LINE_BYTES): AsyncGenerator<{ text: string; line: number; bytes: number }> {
  checkDataFile(file);
  let lineNo = 0;
  let total = 0;
  const one = (raw: Uint8Array) => {
    lineNo++;
    let b = raw.length && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    if (b.length > max) throw lineTooLong(file, lineNo, max);
    if (lineNo === 1 && hasBom(b)) {
      b = b.subarray(3);
      total -= 3;
    }
    return { text: decodeUtf8Line(b, file, lineNo), line: lineNo, bytes: total };
  };
  let stream: fs.ReadStream | undefined;
  try {
    stream = fs.createReadStream(file);
    let carry: Buffer | null = null;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
        yield one(buf.subarray(start, nl));
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : null;
      // a line with no newline yet: refuse it once it is over the cap (no unbounded buffering)
      if (carry && carry.length > max + 1) throw lineTooLong(file, lineNo + 1, max);
    }
    if (carry) yield one(carry);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw fileError(err, file);
  } finally {
    stream?.destroy();
  }
}

const INVISIBLE_NAMES: Record<number, string> = {
  0x00a0: 'NO-BREAK SPACE',
  0x00ad: 'SOFT HYPHEN',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x2060: 'WORD JOINER',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE (a byte order mark)',
};

/**
 * The first character of `s` that does not show (format and control characters, spaces other than
 * ' '), as `U+200B (ZERO WIDTH SPACE)` with its 0-based index; undefined when there is none. A tag
 * or label with one looks like another and would silently become a label of its own.
 */
export function invisibleChar(s: string): { index: number; what: string } | undefined {
  const m = /[\p{Cf}\p{Cc}\p{Z}]/u.exec(s.replace(/ /g, 'x'));
  if (!m) return undefined;
  const cp = m[0].codePointAt(0)!;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return { index: m.index, what: `U+${hex} (${INVISIBLE_NAMES[cp] ?? 'an invisible character'})` };
}
