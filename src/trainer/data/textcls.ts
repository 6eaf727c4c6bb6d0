// Readers for sequence-classification data: JSON Lines and CSV, one example per record.

import { promises as fsp } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { checkLineLengths, DataError, decodeUtf8Lines, fileError, hasBom } from './errors';

export interface TextExample {
  text: string;
  label: string;
  file: string;
  /** 1-based line where the record starts. */
  line: number;
}

export interface TextOptions {
  /** Default 'text'. */
  textField?: string;
  /** Default 'label'. */
  labelField?: string;
}

async function readBytes(file: string): Promise<Buffer> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (err) {
    throw fileError(err, file);
  }
  if (buf.length === 0 || (buf.length === 3 && hasBom(buf))) throw new DataError('file is empty', file);
  return buf;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function listNames(names: string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => `'${n}'`).join(', ');
}

/** Column (1-based) of a JSON.parse error, from V8's "at position N" when present. */
function jsonErrorColumn(message: string): number | undefined {
  const m = /position (\d+)/.exec(message);
  return m ? Number(m[1]) + 1 : undefined;
}

/**
 * One JSON object per line; blank lines are skipped. The label may be a string or a number
 * (stringified).
 */
export async function readJsonl(file: string, opts: TextOptions = {}): Promise<TextExample[]> {
  const textField = opts.textField ?? 'text';
  const labelField = opts.labelField ?? 'label';
  const lines = decodeUtf8Lines(await readBytes(file), file);
  const examples: TextExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const src = lines[i];
    if (src.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(src);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new DataError(`invalid JSON: ${msg}`, file, line, jsonErrorColumn(msg));
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError(`expected a JSON object, found ${typeName(value)}`, file, line);
    }
    const obj = value as Record<string, unknown>;
    const fields = Object.keys(obj);
    if (!(textField in obj)) throw new DataError(`missing field '${textField}' (fields found: ${listNames(fields)})`, file, line);
    if (!(labelField in obj)) throw new DataError(`missing field '${labelField}' (fields found: ${listNames(fields)})`, file, line);
    const text = obj[textField];
    if (typeof text !== 'string') throw new DataError(`field '${textField}' must be a string, found ${typeName(text)}`, file, line);
    if (text.trim() === '') throw new DataError(`field '${textField}' is empty`, file, line);
    const rawLabel = obj[labelField];
    let label: string;
    if (typeof rawLabel === 'string') label = rawLabel;
    else if (typeof rawLabel === 'number' && Number.isFinite(rawLabel)) label = String(rawLabel);
    else throw new DataError(`field '${labelField}' must be a string or a number, found ${typeName(rawLabel)}`, file, line);
    if (label.trim() === '') throw new DataError(`field '${labelField}' is empty`, file, line);
    examples.push({ text, label, file, line });
  }
  if (examples.length === 0) throw new DataError('no examples found (only blank lines)', file);
  return examples;
}

interface RawRecord {
  record: string[];
  raw: string;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * A header row names the columns; quoted fields may contain the delimiter, quotes ("") and
 * newlines. `line` is the line where the record starts. Blank lines are skipped.
 */
export async function readCsv(file: string, opts: TextOptions & { delimiter?: string } = {}): Promise<TextExample[]> {
  const textField = opts.textField ?? 'text';
  const labelField = opts.labelField ?? 'label';
  const delimiter = opts.delimiter ?? ',';
  if (delimiter.length === 0 || delimiter.includes('\n') || delimiter.includes('"')) {
    throw new RangeError(`invalid CSV delimiter ${JSON.stringify(delimiter)}`);
  }
  const buf = await readBytes(file);
  checkLineLengths(buf, file); // before csv-parse sees it
  let content: string;
  try {
    content = new TextDecoder('utf-8', { fatal: true }).decode(buf); // drops a BOM
  } catch {
    decodeUtf8Lines(buf, file); // throws with the line of the first bad byte
    throw new DataError('invalid UTF-8', file);
  }
  // Normalize CRLF so that the raw text of each record maps back to line numbers.
  content = content.replace(/\r\n/g, '\n');

  let records: RawRecord[];
  try {
    records = parse(content, {
      delimiter,
      record_delimiter: '\n',
      raw: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
    }) as unknown as RawRecord[];
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    const msg = (e.message ?? String(err)).replace(/\s*at line \d+\.?$/, '');
    throw new DataError(`invalid CSV: ${msg}`, file, typeof e.lines === 'number' && e.lines > 0 ? e.lines : undefined);
  }

  let linesBefore = 0; // newlines consumed by earlier records
  const located = records
    .map(({ record, raw }) => {
      const leading = /^\n*/.exec(raw)![0].length; // blank lines skipped before this record
      const line = linesBefore + leading + 1;
      linesBefore += countNewlines(raw);
      return { fields: record, line };
    })
    .filter(({ fields }) => !(fields.length === 1 && fields[0].trim() === '')); // whitespace-only lines

  if (located.length === 0) throw new DataError('no header row found (the file has only blank lines)', file);
  const header = located[0];
  const columns = header.fields.map((c) => c.trim());
  const textIndex = columns.indexOf(textField);
  const labelIndex = columns.indexOf(labelField);
  if (textIndex === -1) throw new DataError(`missing column '${textField}' in the header (columns found: ${listNames(columns)})`, file, header.line);
  if (labelIndex === -1) throw new DataError(`missing column '${labelField}' in the header (columns found: ${listNames(columns)})`, file, header.line);

  const examples: TextExample[] = [];
  for (const { fields, line } of located.slice(1)) {
    if (fields.length !== columns.length) {
      throw new DataError(
        `found ${fields.length} field${fields.length === 1 ? '' : 's'}, expected ${columns.length} (as in the header on line ${header.line})`,
        file,
        line,
      );
    }
    const text = fields[textIndex];
    const label = fields[labelIndex];
    if (text.trim() === '') throw new DataError(`column '${textField}' is empty`, file, line);
    if (label.trim() === '') throw new DataError(`column '${labelField}' is empty`, file, line);
    examples.push({ text, label, file, line });
  }
  if (examples.length === 0) throw new DataError('no examples found (only a header row)', file);
  return examples;
}
