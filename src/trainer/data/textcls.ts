// Readers for sequence-classification data: JSON Lines and CSV, one example per record.

import { promises as fsp } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { checkDataFile, checkLineLengths, DataError, decodeUtf8Lines, fileError, hasBom, invisibleChar, streamLines } from './errors';

export interface TextExample {
  text: string;
  label: string;
  file: string;
  /** 1-based line where the record starts. */
  line: number;
}

export interface TextOptions {
  /** The longest line accepted (default MAX_LINE_BYTES; tests lower it). */
  maxLineBytes?: number;
  /** Default 'text'. */
  textField?: string;
  /** Default 'label'. */
  labelField?: string;
}

async function readBytes(file: string): Promise<Buffer> {
  checkDataFile(file);
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
  const examples: TextExample[] = [];
  let bytes = 0;
  // Streamed line by line: a huge file with an over-long line is refused at that line, never read whole.
  for await (const { text: src, line, bytes: read } of streamLines(file, opts.maxLineBytes)) {
    bytes = read;
    if (src.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(src);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new DataError(`invalid JSON: ${msg}${examples.length ? '' : looksLikeCsv(src)}`, file, line, jsonErrorColumn(msg));
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
    checkLabelVisible(label, labelField, 'field', file, line);
    examples.push({ text, label, file, line });
  }
  if (examples.length === 0) throw new DataError(bytes === 0 ? 'file is empty' : 'no examples found (only blank lines)', file);
  return examples;
}

/** A label with an invisible character would be a class of its own that looks like another. */
function checkLabelVisible(label: string, field: string, kind: 'field' | 'column', file: string, line: number): void {
  const hidden = invisibleChar(label);
  if (hidden)
    throw new DataError(
      `${kind} '${field}': label '${label}' contains an invisible character, ${hidden.what}, at character ${hidden.index + 1}; remove it`,
      file,
      line,
    );
}

/** A column name as a message shows it: at most 40 characters. */
function shorten(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

/** Says so when the header holds a non-breaking space where a delimiter was perhaps meant. */
function nbspHint(columns: string[]): string {
  return columns.some((c) => c.includes('\u00a0')) ? ' — the header has a non-breaking space (U+00A0), which is not a delimiter' : '';
}

/** data.format 'csv' on a JSON Lines file: say so instead of listing the first record as column names. */
function jsonInsteadOfCsv(first: string, file: string): void {
  const t = first.trim();
  if (!t.startsWith('{')) return;
  try {
    JSON.parse(t);
  } catch {
    return;
  }
  throw new DataError(`the first line is a JSON object, not a CSV header: is the file JSON Lines? (set data.format: jsonl)`, file, 1);
}

/** A hint for data.format 'jsonl' on a file whose first record is a CSV line. */
function looksLikeCsv(line: string): string {
  const t = line.trim();
  if (t.startsWith('{') || t.startsWith('[')) return '';
  return /[,;\t]/.test(t) ? ` — this looks like a CSV line, not JSON: is the file CSV? (set data.format: csv)` : '';
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
  // Line lengths first, streamed: an over-long line is refused before the file is read whole.
  for await (const { text, line } of streamLines(file, opts.maxLineBytes)) {
    if (line === 1) jsonInsteadOfCsv(text, file);
  }
  const buf = await readBytes(file);
  checkLineLengths(buf, file, opts.maxLineBytes); // unchanged since (before csv-parse sees it)
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
  const found = () => listNames(columns.slice(0, 12).map(shorten)) + (columns.length > 12 ? `, … (${columns.length} in all)` : '');
  if (textIndex === -1) throw new DataError(`missing column '${textField}' in the header (columns found: ${found()})${nbspHint(columns)}`, file, header.line);
  if (labelIndex === -1) throw new DataError(`missing column '${labelField}' in the header (columns found: ${found()})${nbspHint(columns)}`, file, header.line);
  // A column read twice would silently use the first: ambiguous, so refused.
  for (const [name, at] of [
    [textField, textIndex],
    [labelField, labelIndex],
  ] as const) {
    const again = columns.indexOf(name, at + 1);
    if (again !== -1) throw new DataError(`column '${name}' appears twice in the header (columns ${at + 1} and ${again + 1}); rename one`, file, header.line);
  }

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
    checkLabelVisible(label, labelField, 'column', file, line);
    examples.push({ text, label, file, line });
  }
  if (examples.length === 0) throw new DataError('no examples found (only a header row)', file);
  return examples;
}
