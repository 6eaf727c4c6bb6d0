// Errors raised while reading training data. Every message names the file and,
// where it is known, the 1-based line (and column) it is about.

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

/** Turns an fs error (ENOENT, EISDIR, EACCES, ...) into a DataError that says what went wrong. */
export function fileError(err: unknown, file: string): DataError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return new DataError('file not found', file);
    case 'EISDIR':
      return new DataError('is a directory, expected a file', file);
    case 'EACCES':
    case 'EPERM':
      return new DataError('permission denied', file);
    default:
      return new DataError(`cannot read file (${err instanceof Error ? err.message : String(err)})`, file);
  }
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
