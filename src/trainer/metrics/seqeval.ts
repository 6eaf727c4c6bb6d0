// Entity-level (chunk) evaluation with the same rules and numbers as the Python library seqeval
// (metrics/sequence_labeling.py for the default, conlleval-compatible mode; scheme.py and metrics/v1.py
// for mode='strict'). Written from seqeval's documented behaviour; no code is shared with it.

import type { PRF } from './common';
import { compareCodePoints, formatFixed, padStartCodePoints } from './common';

export type { PRF } from './common';

export type Scheme = 'IOB1' | 'IOB2' | 'IOE1' | 'IOE2' | 'IOBES' | 'BILOU';
export type Mode = 'default' | 'strict';

/** One entity (chunk). `start`/`end` are token offsets inside sentence `sentence`; `end` is exclusive. */
export interface Entity {
  type: string;
  start: number;
  end: number /* exclusive */;
  sentence: number;
}

export interface EntityReport {
  perType: Record<string, PRF>;
  micro: PRF;
  macro: PRF;
  weighted: PRF;
}

export interface EntityOptions {
  mode?: Mode;
  /** Only used in strict mode; defaults to IOB2 there. */
  scheme?: Scheme;
}

export interface EntityReportOptions extends EntityOptions {
  /** Value used for precision/recall when their denominator is 0 (seqeval's 'warn' behaves as 0). */
  zeroDivision?: 0 | 1;
}

/** Throws unless gold and pred have the same number of sentences and each pair of sentences the same length. */
export function checkConsistentLengths(gold: string[][], pred: string[][]): void {
  if (gold.length !== pred.length) {
    throw new Error(`gold and pred have different numbers of sentences: ${gold.length} vs ${pred.length}`);
  }
  for (let i = 0; i < gold.length; i++) {
    if (gold[i].length !== pred[i].length) {
      throw new Error(`sentence ${i}: gold has ${gold[i].length} tags but pred has ${pred[i].length} (lengths must be equal)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Default mode: seqeval's get_entities (conlleval-compatible chunking).
// ---------------------------------------------------------------------------------------------

/** First code point of a string, as Python's s[0] (throws on the empty string like Python's IndexError). */
function firstCodePoint(s: string, what: string): string {
  if (s.length === 0) throw new Error(`empty ${what} tag: every tag must be 'O' or '<prefix>-<type>'`);
  return String.fromCodePoint(s.codePointAt(0)!);
}

function chunkEnds(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function chunkStarts(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

interface FlatChunk {
  type: string;
  /** inclusive offsets in the flattened sequence (sentences joined with one 'O' after each) */
  begin: number;
  last: number;
}

/**
 * seqeval's get_entities over a list of sentences: the sentences are flattened with an 'O' appended to each
 * (exactly as seqeval does for nested lists), then chunked in one pass.
 */
function defaultChunks(sentences: string[][]): FlatChunk[] {
  const seq: string[] = [];
  for (const s of sentences) {
    for (const t of s) seq.push(t);
    seq.push('O');
  }
  seq.push('O');
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  const chunks: FlatChunk[] = [];
  for (let i = 0; i < seq.length; i++) {
    const chunk = seq[i];
    const tag = firstCodePoint(chunk, 'a');
    // Python: chunk[1:].split('-', maxsplit=1)[-1] or '_'
    const rest = chunk.slice(tag.length);
    const dash = rest.indexOf('-');
    const type = (dash >= 0 ? rest.slice(dash + 1) : rest) || '_';
    if (chunkEnds(prevTag, tag, prevType, type)) chunks.push({ type: prevType, begin, last: i - 1 });
    if (chunkStarts(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return chunks;
}

/** Maps flattened offsets back to (sentence, offset); the separator after sentence s maps to (s, len(s)). */
function flatIndex(sentences: string[][]): { sentence: number[]; offset: number[] } {
  const sentence: number[] = [];
  const offset: number[] = [];
  sentences.forEach((s, si) => {
    for (let k = 0; k <= s.length; k++) {
      sentence.push(si);
      offset.push(k);
    }
  });
  return { sentence, offset };
}

function defaultEntities(sentences: string[][]): Entity[] {
  const idx = flatIndex(sentences);
  return defaultChunks(sentences).map((c) => {
    // Only degenerate tag sequences (e.g. '.'-prefixed tags) can produce chunks that run into the
    // separator; they keep seqeval's flat extent relative to the sentence where they start.
    const sentence = idx.sentence[c.begin] ?? Math.max(0, sentences.length - 1);
    const start = idx.offset[c.begin] ?? 0;
    return { type: c.type, start, end: start + (c.last - c.begin + 1), sentence };
  });
}

// ---------------------------------------------------------------------------------------------
// Strict mode: seqeval.scheme (Token subclasses with start/inside/end prefix patterns).
// ---------------------------------------------------------------------------------------------

type Cond = 'SAME' | 'DIFF' | 'ANY';
/** [allowed previous prefixes, allowed current prefixes, condition on the two types] */
type Pattern = [string, string, Cond];

interface SchemeRules {
  allowed: string;
  start: Pattern[];
  inside: Pattern[];
  end: Pattern[];
}

const ANY = 'IOBESUL';
const KNOWN_PREFIXES = new Set(ANY.split(''));

const SCHEMES: Record<Scheme, SchemeRules> = {
  IOB1: {
    allowed: 'IOB',
    start: [
      ['O', 'I', 'ANY'],
      ['I', 'I', 'DIFF'],
      ['B', 'I', 'ANY'],
      ['I', 'B', 'SAME'],
      ['B', 'B', 'SAME'],
    ],
    inside: [
      ['B', 'I', 'SAME'],
      ['I', 'I', 'SAME'],
    ],
    end: [
      ['I', 'I', 'DIFF'],
      ['I', 'O', 'ANY'],
      ['I', 'B', 'ANY'],
      ['B', 'O', 'ANY'],
      ['B', 'I', 'DIFF'],
      ['B', 'B', 'SAME'],
    ],
  },
  IOE1: {
    allowed: 'IOE',
    start: [
      ['O', 'I', 'ANY'],
      ['I', 'I', 'DIFF'],
      ['E', 'I', 'ANY'],
      ['E', 'E', 'SAME'],
    ],
    inside: [
      ['I', 'I', 'SAME'],
      ['I', 'E', 'SAME'],
    ],
    end: [
      ['I', 'I', 'DIFF'],
      ['I', 'O', 'ANY'],
      ['I', 'E', 'DIFF'],
      ['E', 'I', 'SAME'],
      ['E', 'E', 'SAME'],
    ],
  },
  IOB2: {
    allowed: 'IOB',
    start: [[ANY, 'B', 'ANY']],
    inside: [
      ['B', 'I', 'SAME'],
      ['I', 'I', 'SAME'],
    ],
    end: [
      ['I', 'O', 'ANY'],
      ['I', 'I', 'DIFF'],
      ['I', 'B', 'ANY'],
      ['B', 'O', 'ANY'],
      ['B', 'I', 'DIFF'],
      ['B', 'B', 'ANY'],
    ],
  },
  IOE2: {
    allowed: 'IOE',
    start: [
      ['O', 'I', 'ANY'],
      ['O', 'E', 'ANY'],
      ['E', 'I', 'ANY'],
      ['E', 'E', 'ANY'],
      ['I', 'I', 'DIFF'],
      ['I', 'E', 'DIFF'],
    ],
    inside: [
      ['I', 'E', 'SAME'],
      ['I', 'I', 'SAME'],
    ],
    end: [['E', ANY, 'ANY']],
  },
  IOBES: {
    allowed: 'IOBES',
    start: [
      [ANY, 'B', 'ANY'],
      [ANY, 'S', 'ANY'],
    ],
    inside: [
      ['B', 'I', 'SAME'],
      ['B', 'E', 'SAME'],
      ['I', 'I', 'SAME'],
      ['I', 'E', 'SAME'],
    ],
    end: [
      ['S', ANY, 'ANY'],
      ['E', ANY, 'ANY'],
    ],
  },
  BILOU: {
    allowed: 'BILOU',
    start: [
      [ANY, 'B', 'ANY'],
      [ANY, 'U', 'ANY'],
    ],
    inside: [
      ['B', 'I', 'SAME'],
      ['B', 'L', 'SAME'],
      ['I', 'I', 'SAME'],
      ['I', 'L', 'SAME'],
    ],
    end: [
      ['U', ANY, 'ANY'],
      ['L', ANY, 'ANY'],
    ],
  },
};

interface Tok {
  prefix: string;
  type: string;
}

/** Python's str.strip('-'). */
function stripDashes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s[a] === '-') a++;
  while (b > a && s[b - 1] === '-') b--;
  return s.slice(a, b);
}

function parseStrictToken(token: string, scheme: Scheme, rules: SchemeRules, where: string): Tok {
  const prefix = firstCodePoint(token, 'a');
  if (!KNOWN_PREFIXES.has(prefix)) {
    throw new Error(`Invalid token is found: ${JSON.stringify(token)} at ${where}: unknown prefix ${JSON.stringify(prefix)}`);
  }
  if (!rules.allowed.includes(prefix)) {
    throw new Error(`Invalid token is found: ${JSON.stringify(token)} at ${where}. Allowed prefixes for ${scheme} are: ${rules.allowed.split('').join('|')}.`);
  }
  return { prefix, type: stripDashes(token.slice(prefix.length)) || '_' };
}

function matches(patterns: Pattern[], prev: Tok, cur: Tok): boolean {
  for (const [p, c, cond] of patterns) {
    if (!p.includes(prev.prefix) || !c.includes(cur.prefix)) continue;
    if (cond === 'ANY' || (cond === 'SAME') === (prev.type === cur.type)) return true;
  }
  return false;
}

function strictEntities(sentences: string[][], scheme: Scheme): Entity[] {
  const rules = SCHEMES[scheme];
  if (!rules) throw new Error(`unknown scheme ${JSON.stringify(scheme)}; expected one of ${Object.keys(SCHEMES).join(', ')}`);
  const outside: Tok = { prefix: 'O', type: '_' };
  const out: Entity[] = [];
  sentences.forEach((sent, si) => {
    const toks = sent.map((t, k) => parseStrictToken(t, scheme, rules, `sentence ${si}, token ${k}`));
    toks.push(outside);
    let i = 0;
    let prev = outside;
    while (i < toks.length) {
      const tok = toks[i];
      if (matches(rules.start, prev, tok)) {
        // walk forward while tokens continue the chunk
        let end = i + 1;
        let last = tok;
        while (end < toks.length && matches(rules.inside, last, toks[end])) {
          last = toks[end];
          end++;
        }
        if (end >= toks.length) end = toks.length - 2; // unreachable: the appended 'O' is never inside
        if (matches(rules.end, toks[end - 1], toks[end])) out.push({ type: tok.type, start: i, end, sentence: si });
        i = end;
      } else {
        i++;
      }
      prev = toks[i - 1];
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Entities of one or more sentences.
 * default mode = seqeval's conlleval-compatible chunking (get_entities); strict mode = seqeval's
 * mode='strict' with the given scheme (IOB2 if none), where only well-formed entities count.
 */
export function extractEntities(sentences: string[][], opts?: EntityOptions): Entity[] {
  const mode = opts?.mode ?? 'default';
  if (mode === 'strict') return strictEntities(sentences, opts?.scheme ?? 'IOB2');
  if (mode !== 'default') throw new Error(`unknown mode ${JSON.stringify(mode)}; expected 'default' or 'strict'`);
  return defaultEntities(sentences);
}

function groupByType(entities: Entity[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const e of entities) {
    let s = m.get(e.type);
    if (!s) m.set(e.type, (s = new Set()));
    s.add(`${e.sentence}:${e.start}:${e.end}`);
  }
  return m;
}

/** seqeval's _prf_divide: tp/den, or zeroDivision where den is 0. */
const divide = (num: number, den: number, zd: number): number => (den === 0 ? zd : num / den);

/** F1 as seqeval computes it from precision and recall (denominator 0 replaced by 1). */
function seqevalF1(p: number, r: number): number {
  let denom = p + r;
  if (denom === 0) denom = 1;
  return (2 * p * r) / denom;
}

const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * Precision/recall/F1 per entity type and micro/macro/weighted averages, as seqeval's
 * precision_recall_fscore_support / classification_report compute them.
 * Types are the sorted union of gold and predicted types (a type only predicted has support 0).
 * With no entity at all in gold and pred, the macro average is NaN (numpy's mean of nothing), as in seqeval.
 */
export function entityReport(gold: string[][], pred: string[][], opts?: EntityReportOptions): EntityReport {
  checkConsistentLengths(gold, pred);
  const zd = opts?.zeroDivision ?? 0;
  if (zd !== 0 && zd !== 1) throw new Error(`zeroDivision must be 0 or 1, got ${String(zd)}`);
  const trueBy = groupByType(extractEntities(gold, opts));
  const predBy = groupByType(extractEntities(pred, opts));
  const types = [...new Set([...trueBy.keys(), ...predBy.keys()])].sort(compareCodePoints);

  const tp: number[] = [];
  const np: number[] = [];
  const nt: number[] = [];
  for (const t of types) {
    const ts = trueBy.get(t) ?? new Set<string>();
    const ps = predBy.get(t) ?? new Set<string>();
    let hit = 0;
    for (const k of ps) if (ts.has(k)) hit++;
    tp.push(hit);
    np.push(ps.size);
    nt.push(ts.size);
  }
  const prec = types.map((_, i) => divide(tp[i], np[i], zd));
  const rec = types.map((_, i) => divide(tp[i], nt[i], zd));
  const f1 = types.map((_, i) => seqevalF1(prec[i], rec[i]));

  const perType: Record<string, PRF> = {};
  types.forEach((t, i) => {
    perType[t] = { precision: prec[i], recall: rec[i], f1: f1[i], support: nt[i] };
  });

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const support = sum(nt);
  const predTotal = sum(np);

  const mp = divide(sum(tp), predTotal, zd);
  const mr = divide(sum(tp), support, zd);
  const micro: PRF = { precision: mp, recall: mr, f1: seqevalF1(mp, mr), support };

  const macro: PRF = { precision: mean(prec), recall: mean(rec), f1: mean(f1), support };

  let weighted: PRF;
  if (support === 0) {
    // seqeval: precision and F1 are zeroDivision only when nothing was predicted either; recall is zeroDivision.
    const pf = predTotal === 0 ? zd : 0;
    weighted = { precision: pf, recall: zd, f1: pf, support };
  } else {
    const wavg = (xs: number[]) => sum(xs.map((x, i) => x * nt[i])) / support;
    weighted = { precision: wavg(prec), recall: wavg(rec), f1: wavg(f1), support };
  }
  return { perType, micro, macro, weighted };
}

/**
 * Text like seqeval's classification_report (default digits 2): one row per type in sorted order,
 * then micro/macro/weighted avg rows.
 */
export function formatEntityReport(r: EntityReport, digits = 2): string {
  const names = Object.keys(r.perType).sort(compareCodePoints);
  const width = Math.max(...names.map((n) => [...n].length), 'weighted avg'.length, digits);
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const out = padStartCodePoints('', width) + ' ' + headers.map((h) => ' ' + padStartCodePoints(h, 9)).join('') + '\n\n';
  const row = (name: string, m: PRF) =>
    padStartCodePoints(name, width) +
    ' ' +
    [m.precision, m.recall, m.f1].map((x) => ' ' + padStartCodePoints(formatFixed(x, digits), 9)).join('') +
    ' ' +
    padStartCodePoints(String(m.support), 9);
  const lines = names.map((n) => row(n, r.perType[n]));
  lines.push('');
  lines.push(row('micro avg', r.micro), row('macro avg', r.macro), row('weighted avg', r.weighted));
  lines.push('');
  return out + lines.join('\n');
}
