// Parquet reader for both tasks (hyparquet; snappy built in, zstd/gzip/brotli/lz4 from
// hyparquet-compressors): token classification reads a list-of-strings tokens column and a tags
// column (list of strings, or of integers named by a ClassLabel), sequence classification a text
// column and a label column (a string, or an integer named by a ClassLabel). The names of integer
// labels come from the `huggingface` key-value metadata that the `datasets` library writes
// (`info.features.<column>.feature.names` for a Sequence/List of ClassLabel, `.names` for a
// ClassLabel), else from `names` (the config's `labels:`). Examples carry the 1-based row number
// where the other readers carry a line, and errors say "row N".

import { promises as fsp } from 'node:fs';
import { parquetMetadata, parquetReadObjects, parquetSchema, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { detectScheme, normalizeTags, type TagScheme, type TokenSentence } from './conll';
import { checkDataFile, DataError, fileError } from './errors';
import type { TextExample } from './textcls';

export interface ParquetTokenOptions {
  /** Default 'tokens'. */
  tokensColumn?: string;
  /** Default 'ner_tags'. */
  tagsColumn?: string;
  /** Default 'auto'. */
  scheme?: 'auto' | TagScheme;
  /** Names of integer labels when the file has none (the config's `labels:`). */
  names?: string[];
  /** The dataset's own names (its card's ClassLabel) when the file has none; before `names`, reported as the file's. */
  datasetNames?: string[];
}

export interface ParquetTextOptions {
  /** Default 'text'. */
  textColumn?: string;
  /** Default 'label'. */
  labelColumn?: string;
  names?: string[];
  datasetNames?: string[];
}

export interface ParquetTokenResult {
  sentences: TokenSentence[];
  scheme: TagScheme;
  tokens: number;
  /** The ClassLabel names of the tags column, in their order, when the file has them. */
  names?: string[];
  /** Rows with no token, left out. */
  emptyRows: number;
}

export interface ParquetTextResult {
  examples: TextExample[];
  names?: string[];
}

function rowError(message: string, file: string, row: number): DataError {
  return new DataError(`row ${row}: ${message}`, file);
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'bigint') return 'an integer';
  return typeof v === 'object' ? 'a struct' : `a ${typeof v}`;
}

interface Opened {
  buf: ArrayBuffer;
  meta: FileMetaData;
  columns: string[];
  /** `info.features` of the `huggingface` metadata, when present. */
  features?: Record<string, unknown>;
}

/** The parser's reason for refusing a file; its internal failures on damaged bytes (TypeError, RangeError) are not for users. */
function parquetReason(err: unknown): string {
  if (err instanceof Error && err.name === 'Error' && !err.message.includes('undefined')) return err.message;
  return 'its bytes are damaged or it is not a Parquet file';
}

async function openParquet(file: string): Promise<Opened> {
  checkDataFile(file);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    throw fileError(err, file);
  }
  if (bytes.length === 0) throw new DataError('file is empty', file);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let meta: FileMetaData;
  try {
    meta = parquetMetadata(buf);
  } catch (err) {
    throw new DataError(`not a readable Parquet file (${parquetReason(err)})`, file);
  }
  const columns = parquetSchema(meta).children.map((c) => c.element.name);
  let features: Record<string, unknown> | undefined;
  const hf = meta.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value;
  if (hf) {
    try {
      const parsed = JSON.parse(hf) as { info?: { features?: Record<string, unknown> } };
      features = parsed.info?.features;
    } catch {
      // metadata that is not JSON names nothing; integer labels then need `labels:`
    }
  }
  return { buf, meta, columns, features };
}

/** ClassLabel names of a column from the `datasets` features: `names`, or `feature.names` for a list. */
function classLabelNames(features: Record<string, unknown> | undefined, column: string, list: boolean): string[] | undefined {
  const f = features?.[column] as { names?: unknown; feature?: { names?: unknown } } | undefined;
  const names = list ? f?.feature?.names : f?.names;
  return Array.isArray(names) && names.every((n) => typeof n === 'string') ? names : undefined;
}

/** Whether a file's `huggingface` metadata names the labels of a column (`list`: a column of label lists). */
export async function hasClassLabelNames(file: string, column: string, list: boolean): Promise<boolean> {
  return classLabelNames((await openParquet(file)).features, column, list) !== undefined;
}

async function readRows(o: Opened, file: string, columns: string[]): Promise<Record<string, unknown>[]> {
  for (const c of columns) {
    if (!o.columns.includes(c)) {
      throw new DataError(`missing column '${c}' (columns found: ${o.columns.map((n) => `'${n}'`).join(', ') || 'none'})`, file);
    }
  }
  try {
    return await parquetReadObjects({ file: o.buf, metadata: o.meta, columns, compressors });
  } catch (err) {
    throw new DataError(`cannot read the Parquet data (${parquetReason(err)})`, file);
  }
}

/** Turns a label value into its name: a string as it is, an integer through `names`. */
function labelName(v: unknown, names: string[] | undefined, what: string, file: string, row: number): string {
  if (typeof v === 'string') {
    if (v.trim() === '') throw rowError(`${what} is empty`, file, row);
    return v;
  }
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
    const i = Number(v);
    if (!names) {
      throw rowError(
        `${what} is the integer ${i} and the file names no labels (no ClassLabel in its 'huggingface' metadata): give the label names in order with the config's 'labels:' key`,
        file,
        row,
      );
    }
    if (i < 0 || i >= names.length) throw rowError(`${what} ${i} is out of range: there are ${names.length} label names`, file, row);
    return names[i];
  }
  throw rowError(`${what} must be a string or an integer, found ${typeName(v)}`, file, row);
}

/** Token classification: one sentence per row. Rows with no token are left out (counted). */
export async function readParquetTokens(file: string, opts: ParquetTokenOptions = {}): Promise<ParquetTokenResult> {
  const tokensColumn = opts.tokensColumn ?? 'tokens';
  const tagsColumn = opts.tagsColumn ?? 'ner_tags';
  const requested = opts.scheme ?? 'auto';
  const o = await openParquet(file);
  const fileNames = classLabelNames(o.features, tagsColumn, true) ?? opts.datasetNames;
  const names = fileNames ?? opts.names;
  const rows = await readRows(o, file, [tokensColumn, tagsColumn]);
  const sentences: TokenSentence[] = [];
  let tokens = 0;
  let emptyRows = 0;
  rows.forEach((r, i) => {
    const row = i + 1;
    const words = r[tokensColumn];
    const tags = r[tagsColumn];
    if (!Array.isArray(words)) throw rowError(`column '${tokensColumn}' must be a list of strings, found ${typeName(words)}`, file, row);
    if (!Array.isArray(tags)) throw rowError(`column '${tagsColumn}' must be a list of strings or integers, found ${typeName(tags)}`, file, row);
    if (words.length !== tags.length) {
      throw rowError(`${words.length} tokens in '${tokensColumn}' but ${tags.length} tags in '${tagsColumn}'`, file, row);
    }
    words.forEach((w, k) => {
      if (typeof w !== 'string') throw rowError(`token ${k + 1} of '${tokensColumn}' must be a string, found ${typeName(w)}`, file, row);
      if (w.trim() === '') throw rowError(`token ${k + 1} of '${tokensColumn}' is empty`, file, row);
    });
    if (words.length === 0) {
      emptyRows++;
      return;
    }
    const names_ = tags.map((t, k) => labelName(t, names, `tag ${k + 1} of '${tagsColumn}'`, file, row));
    sentences.push({ words: words as string[], tags: names_, file, line: row, tokenLines: words.map(() => row) });
    tokens += words.length;
  });
  if (sentences.length === 0) throw new DataError(`no sentences found (${rows.length} rows, none with a token)`, file);
  const scheme: TagScheme = requested === 'auto' ? detectScheme(sentences.map((s) => s.tags)) : requested;
  for (const s of sentences) {
    try {
      s.tags = normalizeTags(s.tags, scheme);
    } catch (err) {
      throw rowError(`'${tagsColumn}' ${parquetReason(err)}`, file, s.line);
    }
  }
  return { sentences, scheme, tokens, names: fileNames, emptyRows };
}

/** Sequence classification: one example per row. */
export async function readParquetTexts(file: string, opts: ParquetTextOptions = {}): Promise<ParquetTextResult> {
  const textColumn = opts.textColumn ?? 'text';
  const labelColumn = opts.labelColumn ?? 'label';
  const o = await openParquet(file);
  const fileNames = classLabelNames(o.features, labelColumn, false) ?? opts.datasetNames;
  const names = fileNames ?? opts.names;
  const rows = await readRows(o, file, [textColumn, labelColumn]);
  const examples = rows.map((r, i): TextExample => {
    const row = i + 1;
    const text = r[textColumn];
    if (typeof text !== 'string') throw rowError(`column '${textColumn}' must be a string, found ${typeName(text)}`, file, row);
    if (text.trim() === '') throw rowError(`column '${textColumn}' is empty`, file, row);
    return { text, label: labelName(r[labelColumn], names, `column '${labelColumn}'`, file, row), file, line: row };
  });
  if (examples.length === 0) throw new DataError('no examples found (no rows)', file);
  return { examples, names: fileNames };
}
