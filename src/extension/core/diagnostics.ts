// Config errors (1-based, from the trainer's validator) → editor ranges (0-based), and the quick
// fixes that are obvious from a message: an unknown key or an enum typo with a "did you mean".

import type { ConfigError } from '../../shared/config/config';

export interface Range0 {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}

/**
 * A 0-based range for an error. An empty span (a missing key reported at a position) is widened
 * to the word there, or to the rest of the line, so there is something to underline.
 */
export function toRange(e: Pick<ConfigError, 'line' | 'column' | 'endLine' | 'endColumn'>, text: string): Range0 {
  const lines = text.split('\n');
  const clampLine = (l: number) => Math.max(0, Math.min(lines.length - 1, l));
  const startLine = clampLine(e.line - 1);
  const endLine = clampLine(Math.max(e.endLine, e.line) - 1);
  const len = (l: number) => lines[l].replace(/\r$/, '').length;
  let startCharacter = Math.max(0, Math.min(len(startLine), e.column - 1));
  let endCharacter = Math.max(0, Math.min(len(endLine), e.endColumn - 1));
  if (endLine === startLine && endCharacter <= startCharacter) {
    const line = lines[startLine].replace(/\r$/, '');
    const word = /[^\s:#,[\]{}]+/g;
    let m: RegExpExecArray | null;
    let hit: [number, number] | undefined;
    while ((m = word.exec(line))) {
      if (m.index + m[0].length > startCharacter) {
        hit = [m.index, m.index + m[0].length];
        break;
      }
    }
    if (hit) [startCharacter, endCharacter] = hit[0] <= startCharacter ? hit : [startCharacter, hit[1]];
    else {
      const indent = line.length - line.trimStart().length;
      startCharacter = Math.min(startCharacter, indent);
      endCharacter = Math.max(line.length, startCharacter + 1);
    }
  }
  return { startLine, startCharacter, endLine, endCharacter };
}

export interface QuickFix {
  title: string;
  range: Range0;
  newText: string;
}

/** The text a range covers. */
export function textIn(text: string, r: Range0): string {
  const lines = text.split('\n');
  if (r.startLine === r.endLine) return (lines[r.startLine] ?? '').slice(r.startCharacter, r.endCharacter);
  const parts = [lines[r.startLine].slice(r.startCharacter), ...lines.slice(r.startLine + 1, r.endLine), lines[r.endLine].slice(0, r.endCharacter)];
  return parts.join('\n');
}

/**
 * Quick fixes for one error: the suggestion of a "did you mean 'x'?" replaces the underlined key
 * or value, keeping its quotes. A suggestion that names a key in another section (a dotted path
 * for a plain key) is left alone: moving keys between sections is not obvious.
 */
export function quickFixes(e: ConfigError, text: string): QuickFix[] {
  if (/\((override|sweep) [^)]*\)$/.test(e.message) && !/^sweep key/.test(e.message)) return [];
  const m = /did you mean '([^']+)'\?/.exec(e.message);
  if (!m) return [];
  const suggestion = m[1];
  const range = toRange(e, text);
  const current = textIn(text, range);
  if (current.includes('\n')) return [];
  const quote = /^(['"]).*\1$/.exec(current)?.[1] ?? '';
  const bare = quote ? current.slice(1, -1) : current;
  const unknownKey = /^unknown key '([^']+)'/.exec(e.message);
  const sweepKey = /^sweep key '([^']+)'/.exec(e.message);
  if (unknownKey) {
    if (suggestion.includes('.')) return []; // lives in another section
    if (bare !== unknownKey[1]) return [];
  } else if (sweepKey) {
    if (bare !== sweepKey[1]) return [];
  } else {
    const got = /got '([^']*)'/.exec(e.message);
    if (!got || bare !== got[1]) return [];
  }
  const newText = `${quote}${suggestion}${quote}`;
  return [{ title: `Change to '${suggestion}'`, range, newText }];
}
