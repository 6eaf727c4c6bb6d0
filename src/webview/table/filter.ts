// The experiments table's filter box: an expression (`f1 > 0.9 and training.lr < 1e-4`) or free
// text. Grammar (docs/table.md):
//   expr := or ;  or := and (('or' | '||') and)* ;  and := not (('and' | '&&') not)* ;
//   not := ('not' | '!') not | '(' expr ')' | field op value
//   op := < <= > >= = == != ~ (contains) !~ (does not contain)
// A field is a built-in (status, name, label, id, config, sweep, tags, notes, step, pinned), a
// parameter's dotted key (`training.lr`), a metric key (`best_f1`, `test_f1`), a bare metric name
// (`f1`: the row's best_f1, else its test_f1), or the last part of exactly one parameter key (`lr`).
// Text with no operator character (< > = ! ~ & | parentheses) is free text: every word must occur
// in the run's name, label, id, tags, notes, config or sweep. Text with one that does not parse is
// a half-written expression: an error that says what is missing and where, and no filtering.
// Compiled once into a closure: 10,000 rows are tested in a few milliseconds.

import { isMetricName } from '../../shared/metrics';
import type { TableRow } from '../../shared/protocol';

export type Value = string | number | boolean | null | undefined;

export type Filter =
  | { kind: 'all' }
  | { kind: 'text'; test: (r: TableRow) => boolean }
  | { kind: 'expr'; test: (r: TableRow) => boolean }
  | { kind: 'error'; message: string; column: number };

type Op = '<' | '<=' | '>' | '>=' | '=' | '!=' | '~' | '!~';

interface Token {
  t: 'word' | 'num' | 'str' | 'op' | '(' | ')' | 'and' | 'or' | 'not' | 'end';
  text: string;
  at: number;
  num?: number;
}

const BUILTIN: Record<string, (r: TableRow) => Value | string[]> = {
  status: (r) => r.status,
  name: (r) => r.name,
  label: (r) => r.label,
  id: (r) => r.id,
  config: (r) => r.config,
  sweep: (r) => r.sweep,
  tags: (r) => r.tags,
  notes: (r) => r.notes,
  step: (r) => r.step,
  pinned: (r) => r.pinned === true,
};

/** The field names the filter knows for a set of rows (for resolving and for the error message). */
export interface FieldSet {
  params: ReadonlySet<string>;
  metrics: ReadonlySet<string>;
}

export function fieldsOf(rows: Iterable<TableRow>): FieldSet {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const r of rows) {
    for (const k in r.params) params.add(k);
    for (const k in r.metrics) metrics.add(k);
  }
  return { params, metrics };
}

class ParseError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const NUM_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/;
const WORD_RE = /^[A-Za-z_][\w.\-/]*/;

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = s.slice(i);
    if (c === '(' || c === ')') {
      out.push({ t: c, text: c, at: i });
      i++;
      continue;
    }
    const two = rest.slice(0, 2);
    if (two === '&&' || two === '||') {
      out.push({ t: two === '&&' ? 'and' : 'or', text: two, at: i });
      i += 2;
      continue;
    }
    const op = /^(<=|>=|==|!=|!~|<|>|=|~)/.exec(rest);
    if (op) {
      out.push({ t: 'op', text: op[1] === '==' ? '=' : op[1], at: i });
      i += op[1].length;
      continue;
    }
    if (c === '!') {
      out.push({ t: 'not', text: c, at: i });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = s.indexOf(c, i + 1);
      if (end < 0) throw new ParseError(`the string opened at column ${i + 1} is not closed (add ${c})`, i);
      out.push({ t: 'str', text: s.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    // a number only where a value can start (so `-` inside `bert-base` stays in the word)
    const num = NUM_RE.exec(rest);
    if (num && !/[A-Za-z_]/.test(rest[num[0].length] ?? '')) {
      out.push({ t: 'num', text: num[0], at: i, num: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const word = WORD_RE.exec(rest);
    if (word) {
      const w = word[0];
      const lower = w.toLowerCase();
      out.push({ t: lower === 'and' || lower === 'or' || lower === 'not' ? lower : 'word', text: w, at: i });
      i += w.length;
      continue;
    }
    throw new ParseError(`unexpected '${c}' at column ${i + 1}`, i);
  }
  out.push({ t: 'end', text: '', at: s.length });
  return out;
}

type Getter = (r: TableRow) => Value | string[];

/** The value of a field for a row, or a ParseError naming what is known. */
function resolveField(name: string, fields: FieldSet, at: number): Getter {
  if (name in BUILTIN) return BUILTIN[name];
  if (fields.params.has(name)) return (r) => r.params[name];
  if (fields.metrics.has(name)) return (r) => r.metrics[name];
  if (isMetricName(name)) {
    const best = `best_${name}`;
    const test = `test_${name}`;
    return (r) => r.metrics[best] ?? r.metrics[test];
  }
  const suffix = [...fields.params].filter((k) => k.endsWith(`.${name}`));
  if (suffix.length === 1) {
    const key = suffix[0];
    return (r) => r.params[key];
  }
  if (suffix.length > 1) throw new ParseError(`'${name}' is ambiguous: ${suffix.slice(0, 4).join(', ')}${suffix.length > 4 ? ', …' : ''}`, at);
  const known = [...fields.metrics].slice(0, 6).join(', ');
  throw new ParseError(
    `unknown field '${name}' at column ${at + 1} (a parameter such as training.lr, a metric${known ? ` such as ${known}` : ''}, or status, name, tags, …)`,
    at,
  );
}

const lower = (v: unknown) => String(v).toLowerCase();

/** One comparison, on a single value (a list field such as tags matches when any element does). */
function compare(op: Op, v: Value, want: Value): boolean {
  if (v === undefined || v === null) return op === '!=' || op === '!~' ? want !== null && want !== undefined : want === null && (op === '=' || op === '~');
  if (want === null || want === undefined) return op === '!=';
  switch (op) {
    case '~':
      return lower(v).includes(lower(want));
    case '!~':
      return !lower(v).includes(lower(want));
    case '=':
    case '!=': {
      const eq = typeof v === 'number' && typeof want === 'number' ? v === want : lower(v) === lower(want);
      return op === '=' ? eq : !eq;
    }
    default: {
      let a: number | string = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : v;
      let b: number | string = typeof want === 'number' ? want : typeof want === 'boolean' ? Number(want) : want;
      if (typeof a !== typeof b) {
        // a number against a word: compare as numbers only when the text is one
        const na = Number(a);
        const nb = Number(b);
        if (Number.isNaN(na) || Number.isNaN(nb)) return false;
        a = na;
        b = nb;
      }
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
  }
}

type Test = (r: TableRow) => boolean;

function parse(tokens: Token[], fields: FieldSet): Test {
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const describe = (t: Token) => (t.t === 'end' ? 'the end' : `'${t.text}' at column ${t.at + 1}`);

  const orExpr = (): Test => {
    let left = andExpr();
    while (peek().t === 'or') {
      next();
      const l = left;
      const r = andExpr();
      left = (row) => l(row) || r(row);
    }
    return left;
  };
  const andExpr = (): Test => {
    let left = notExpr();
    while (peek().t === 'and') {
      next();
      const l = left;
      const r = notExpr();
      left = (row) => l(row) && r(row);
    }
    return left;
  };
  const notExpr = (): Test => {
    const t = peek();
    if (t.t === 'not') {
      next();
      const inner = notExpr();
      return (row) => !inner(row);
    }
    if (t.t === '(') {
      next();
      const inner = orExpr();
      const close = next();
      if (close.t !== ')') throw new ParseError(`expected ')' to close the '(' at column ${t.at + 1}, found ${describe(close)}`, close.at);
      return inner;
    }
    return comparison();
  };
  const literal = (t: Token): Value => {
    if (t.t === 'num') return t.num;
    if (t.t === 'str') return t.text;
    const w = t.text.toLowerCase();
    return w === 'true' ? true : w === 'false' ? false : w === 'null' ? null : t.text;
  };
  const comparison = (): Test => {
    let a = next();
    if (a.t === 'end') throw new ParseError('expected a comparison such as f1 > 0.9 at the end', a.at);
    if (a.t !== 'word' && a.t !== 'num' && a.t !== 'str') throw new ParseError(`expected a field name, found ${describe(a)}`, a.at);
    const opTok = next();
    if (opTok.t !== 'op') throw new ParseError(`expected an operator (< <= > >= = != ~ !~) after '${a.text}', found ${describe(opTok)}`, opTok.at);
    let b = next();
    if (b.t !== 'word' && b.t !== 'num' && b.t !== 'str') throw new ParseError(`expected a value after '${opTok.text}', found ${describe(b)}`, b.at);
    let op = opTok.text as Op;
    // `0.9 < f1` reads as `f1 > 0.9`
    if (a.t !== 'word' && b.t === 'word') {
      [a, b] = [b, a];
      const flip: Partial<Record<Op, Op>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
      op = flip[op] ?? op;
    }
    if (a.t !== 'word') throw new ParseError(`expected a field name before '${opTok.text}', found ${describe(a)}`, a.at);
    const get = resolveField(a.text, fields, a.at);
    const want = literal(b);
    return (row) => {
      const v = get(row);
      if (Array.isArray(v)) return op === '!=' || op === '!~' ? v.every((x) => compare(op, x, want)) : v.some((x) => compare(op, x, want));
      return compare(op, v, want);
    };
  };

  const test = orExpr();
  const rest = peek();
  if (rest.t !== 'end') throw new ParseError(`expected 'and', 'or' or the end, found ${describe(rest)}`, rest.at);
  return test;
}

/** Whether the text is meant as an expression: it has an operator character. */
export function looksLikeExpression(text: string): boolean {
  return /[<>=!~()&|]/.test(text.replace(/"[^"]*"|'[^']*'/g, ''));
}

/** Free text: every word occurs (case-insensitive) in one of the run's texts. */
function freeText(text: string): Test {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return (r) => {
    const hay = [r.name, r.label, r.id, r.shortId, r.config, r.sweep ?? '', r.notes ?? '', ...r.tags].join('\n').toLowerCase();
    return words.every((w) => hay.includes(w));
  };
}

export function compileFilter(text: string, fields: FieldSet): Filter {
  const s = text.trim();
  if (!s) return { kind: 'all' };
  if (!looksLikeExpression(s)) return { kind: 'text', test: freeText(s) };
  try {
    return { kind: 'expr', test: parse(tokenize(s), fields) };
  } catch (e) {
    if (e instanceof ParseError) return { kind: 'error', message: e.message, column: e.at + 1 };
    throw e;
  }
}
