// CoNLL reader for token classification (NER): one token per line, whitespace-separated
// columns, word in column 0, tag in the tag column, blank lines between sentences.

import * as fs from 'node:fs';
import { checkDataFile, DataError, decodeUtf8Line, invisibleChar, fileError, hasBom, lineTooLong, MAX_LINE_BYTES } from './errors';

export type TagScheme = 'IOB1' | 'IOB2' | 'BIOES';

export interface TokenSentence {
  words: string[];
  tags: string[];
  file: string;
  /** Line of its first token (1-based). */
  line: number;
  /** Line of each token (1-based). */
  tokenLines: number[];
}

export interface ConllOptions {
  /** 0-based; negative counts from the end; default -1 (the last column). */
  tagColumn?: number;
  /** Default 'auto'. */
  scheme?: 'auto' | TagScheme;
}

export interface ConllResult {
  sentences: TokenSentence[];
  /** The scheme detected (scheme 'auto') or given. Tags in `sentences` are always IOB2. */
  scheme: TagScheme;
  tokens: number;
  /** Number of -DOCSTART- lines; 1 when the file has none. */
  documents: number;
}

const SCHEMES: readonly TagScheme[] = ['IOB1', 'IOB2', 'BIOES'];
const DOCSTART = '-DOCSTART-';
const BLANK = /^[ \t\r\f\v]*$/;

/** Splits a line on runs of spaces/tabs, returning each field and its 1-based column. */
function splitColumns(text: string): { fields: string[]; columns: number[] } {
  const fields: string[] = [];
  const columns: number[] = [];
  const re = /[^ \t\r\f\v]+/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    fields.push(m[0]);
    columns.push(m.index + 1);
  }
  return { fields, columns };
}

/** Says so when a line has a non-breaking space, which looks like a column separator but is not one. */
function nbspHint(text: string): string {
  const i = text.indexOf('\u00a0');
  return i === -1 ? '' : `; the line has a non-breaking space (U+00A0) at column ${i + 1}, which does not separate columns (use a space or a tab)`;
}

/** Why `tag` is not acceptable under `scheme` ('auto' allows every BIOES prefix), or null if it is. */
function tagProblem(tag: string, scheme: 'auto' | TagScheme): string | null {
  if (tag === 'O') return null;
  const iobOnly = scheme === 'IOB1' || scheme === 'IOB2';
  const expected = iobOnly ? "'O' or B-/I- followed by an entity type, e.g. B-PER" : "'O' or B-/I-/E-/S- followed by an entity type, e.g. B-PER";
  if (tag.length < 3 || tag[1] !== '-' || !'BIES'.includes(tag[0])) return `invalid tag '${tag}' (expected ${expected})`;
  if (iobOnly && (tag[0] === 'E' || tag[0] === 'S')) {
    return `tag '${tag}' is not allowed in the ${scheme} scheme (only B- and I- prefixes; use scheme 'BIOES' or 'auto')`;
  }
  return null;
}

/**
 * Streams a CoNLL file (fs.createReadStream, split into lines at the byte level so that each
 * line can be decoded as strict UTF-8 and an encoding error can name its line).
 * Tags are returned normalized to IOB2.
 */
export async function readConll(file: string, opts: ConllOptions = {}): Promise<ConllResult> {
  const tagColumn = opts.tagColumn ?? -1;
  const requested = opts.scheme ?? 'auto';
  if (!Number.isInteger(tagColumn)) throw new RangeError(`tagColumn must be an integer, got ${tagColumn}`);
  if (requested !== 'auto' && !SCHEMES.includes(requested)) {
    throw new RangeError(`scheme must be 'auto', 'IOB1', 'IOB2' or 'BIOES', got '${String(requested)}'`);
  }

  const sentences: TokenSentence[] = [];
  let current: TokenSentence | null = null;
  let documents = 0;
  let tokens = 0;
  let bytes = 0;
  let bomBytes = 0;
  let lineNo = 0;
  let expectedColumns = 0;
  let firstTokenLine = 0;
  let tagIndex = 0;

  const endSentence = () => {
    if (current) sentences.push(current);
    current = null;
  };

  const handleLine = (raw: Uint8Array) => {
    lineNo++;
    if (raw.length > MAX_LINE_BYTES + (raw[raw.length - 1] === 0x0d ? 1 : 0)) throw lineTooLong(file, lineNo);
    let bytesOfLine = raw;
    if (lineNo === 1 && hasBom(bytesOfLine)) {
      bytesOfLine = bytesOfLine.subarray(3);
      bomBytes = 3;
    }
    const text = decodeUtf8Line(bytesOfLine, file, lineNo);
    if (BLANK.test(text)) {
      endSentence();
      return;
    }
    const { fields, columns } = splitColumns(text);
    if (fields[0] === DOCSTART) {
      endSentence();
      documents++;
      return;
    }
    if (expectedColumns === 0) {
      if (fields.length < 2) {
        throw new DataError(`found 1 column, expected at least 2 (a word and a tag, separated by spaces or tabs)${nbspHint(text)}`, file, lineNo);
      }
      tagIndex = tagColumn < 0 ? fields.length + tagColumn : tagColumn;
      if (tagIndex < 0 || tagIndex >= fields.length) {
        throw new DataError(`tag column ${tagColumn} is out of range: the line has ${fields.length} columns`, file, lineNo);
      }
      if (tagIndex === 0) {
        throw new DataError(`tag column ${tagColumn} is the word column (column 0); the tag must be in another column`, file, lineNo);
      }
      expectedColumns = fields.length;
      firstTokenLine = lineNo;
    } else if (fields.length !== expectedColumns) {
      throw new DataError(
        `found ${fields.length} column${fields.length === 1 ? '' : 's'}, expected ${expectedColumns} (as on line ${firstTokenLine}, the first token line)${nbspHint(text)}`,
        file,
        lineNo,
      );
    }
    const tag = fields[tagIndex];
    // An invisible character would make a tag of its own that looks like another (and could turn the scheme).
    const hidden = invisibleChar(tag);
    if (hidden)
      throw new DataError(
        `tag '${tag}' contains an invisible character, ${hidden.what}, at column ${columns[tagIndex] + hidden.index}; remove it`,
        file,
        lineNo,
        columns[tagIndex] + hidden.index,
      );
    const problem = tagProblem(tag, requested);
    if (problem) throw new DataError(problem, file, lineNo, columns[tagIndex]);
    if (!current) current = { words: [], tags: [], file, line: lineNo, tokenLines: [] };
    current.words.push(fields[0]);
    current.tags.push(tag);
    current.tokenLines.push(lineNo);
    tokens++;
  };

  checkDataFile(file); // by type, before it is opened
  try {
    const stream = fs.createReadStream(file);
    let carry: Buffer | null = null;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
        handleLine(buf.subarray(start, nl));
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : null;
      // a line with no newline yet: refuse it once it is over the cap (no unbounded buffering)
      if (carry && carry.length > MAX_LINE_BYTES + 1) throw lineTooLong(file, lineNo + 1);
    }
    if (carry) handleLine(carry);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw fileError(err, file);
  }
  endSentence();

  if (bytes - bomBytes === 0) throw new DataError('file is empty', file);
  if (sentences.length === 0) {
    throw new DataError(`no sentences found (${lineNo} line${lineNo === 1 ? '' : 's'}, none with a token)`, file);
  }

  const scheme: TagScheme = requested === 'auto' ? detectScheme(sentences.map((s) => s.tags)) : requested;
  for (const s of sentences) s.tags = normalizeTags(s.tags, scheme);
  return { sentences, scheme, tokens, documents: documents === 0 ? 1 : documents };
}

function entityType(tag: string): string {
  return tag.slice(2);
}

/**
 * Auto-detection: any E-/S- tag → BIOES; else any entity that starts with I- (at sentence
 * start, after O, or after a tag of a different type) → IOB1; else IOB2.
 */
export function detectScheme(sentences: string[][]): TagScheme {
  let iStartsEntity = false;
  for (const tags of sentences) {
    let prev = 'O';
    for (const tag of tags) {
      const p = tag[0];
      if (tag !== 'O' && (p === 'E' || p === 'S') && tag[1] === '-') return 'BIOES';
      if (!iStartsEntity && p === 'I' && tag[1] === '-' && (prev === 'O' || entityType(prev) !== entityType(tag))) {
        iStartsEntity = true;
      }
      prev = tag;
    }
  }
  return iStartsEntity ? 'IOB1' : 'IOB2';
}

/**
 * Converts tags to IOB2: an I-X that begins an entity (sentence start, after O, or after a
 * different type) becomes B-X; from BIOES, S-X → B-X and E-X → I-X first.
 * Throws on a tag that is not 'O' or a prefix allowed by `from`.
 */
export function normalizeTags(tags: string[], from: TagScheme): string[] {
  if (!SCHEMES.includes(from)) throw new RangeError(`unknown tag scheme '${String(from)}'`);
  const out = new Array<string>(tags.length);
  let prev = 'O';
  for (let i = 0; i < tags.length; i++) {
    let tag = tags[i];
    const problem = tagProblem(tag, from);
    if (problem) throw new Error(`token ${i + 1}: ${problem}`);
    if (tag !== 'O') {
      const type = entityType(tag);
      let p = tag[0];
      if (p === 'S') p = 'B';
      else if (p === 'E') p = 'I';
      if (p === 'I' && (prev === 'O' || entityType(prev) !== type)) p = 'B';
      tag = `${p}-${type}`;
    }
    out[i] = tag;
    prev = tag;
  }
  return out;
}
