// The validation pipeline: parse with positions → overrides → schema → defaults → semantic checks
// → sweep checks, every issue positioned as `file:line:col` in the text.

import { resolveConfig } from './defaults';
import { checkSchema, describeValue } from './messages';
import { applyOverrides, type OverrideInfo } from './overrides';
import { semanticIssues } from './semantic';
import { firstLineSpan, navigate, parseSource, spanAt, spanOf, type Source } from './source';
import { sweepIssues } from './sweep';
import { isObj, type ConfigError, type Issue, type JPath, type ResolvedConfig } from './types';

/** Issues → ConfigErrors at their spans in `src` (an override's errors point at where it came from), deduplicated, in text order. */
export function toConfigErrors(src: Source, file: string, issues: Issue[], overrides: OverrideInfo[] = []): ConfigError[] {
  const out: ConfigError[] = [];
  const seen = new Set<string>();
  for (const is of issues) {
    let where = is.path;
    let at = is.at;
    if (is.fallback && navigate(src, where).matched < where.length) where = is.fallback;
    let message = is.message;
    const source = is.source;
    const ov = overrides.find((o) => o.path.length <= is.path.length && o.path.every((s, i) => String(s) === String(is.path[i])));
    if (ov) {
      // A value error points at the key the override replaced (or its nearest ancestor), labelled.
      where = ov.origin;
      at = 'value';
      message += ` (${ov.label})`;
    }
    const sp = spanAt(src, where, at);
    const e: ConfigError = { file, ...sp, message, severity: is.severity, ...(source ? { source } : {}) };
    const id = `${e.source ?? ''}:${e.line}:${e.column}:${e.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(e);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * The parser's message in the config's terms where it speaks of its own API or grammar ("Nested
 * mappings are not allowed in compact mappings"), and where the mistake is on another line than
 * the parser's position, that line's span (an indentation slip is reported at the line above it).
 */
function yamlProblem(src: Source, text: string, e: { code: string; pos: [number, number]; message: string }): { message: string; pos: [number, number] } {
  const at = src.lc.linePos(e.pos[0]).line;
  const lines = text.split('\n');
  const starts = [0];
  for (const l of lines) starts.push(starts[starts.length - 1] + l.length + 1);
  const indent = (l: string) => l.length - l.trimStart().length;
  const lineSpan = (n: number): [number, number] => [starts[n - 1] + indent(lines[n - 1]), starts[n - 1] + lines[n - 1].length];
  const key = (l: string) => /^\s*([^\s:#][^:#]*):/.exec(l)?.[1];
  if (e.code === 'MULTIPLE_DOCS')
    return {
      message: `one document per config; found a second at line ${at} (remove the '---' line and what follows, or merge it into the first)`,
      pos: e.pos,
    };
  if (e.code === 'TAB_AS_INDENT') return { message: `a tab indents line ${at}; YAML indents with spaces only`, pos: e.pos };
  if (e.code === 'BLOCK_AS_IMPLICIT_KEY') {
    // `train: a.txt` followed by a line indented further: that line is the slip.
    const next = lines.findIndex((l, i) => i >= at && l.trim() && !l.trim().startsWith('#')) + 1;
    if (next > 0 && indent(lines[next - 1]) > indent(lines[at - 1]))
      return {
        message: `line ${next} is indented further (column ${indent(lines[next - 1]) + 1}) than '${key(lines[at - 1]) ?? lines[at - 1].trim()}' above it, which already has a value; keys of one section start at the same column (here ${indent(lines[at - 1]) + 1})`,
        pos: lineSpan(next),
      };
  }
  if (e.code === 'BAD_INDENT' && e.message.startsWith('All mapping items')) {
    let prev = at - 1;
    while (prev > 0 && (!lines[prev - 1].trim() || lines[prev - 1].trim().startsWith('#'))) prev--;
    const col = indent(lines[at - 1]) + 1;
    return {
      message: `line ${at} starts at column ${col}${prev > 0 ? `, line ${prev} at column ${indent(lines[prev - 1]) + 1}` : ''}: keys of one section start at the same column, and a key indented less than its section belongs to the section above`,
      pos: lineSpan(at),
    };
  }
  {
    // `key:value` on the error's line, whatever the parser made of it
    const m = /^\s*([A-Za-z_][\w.]*):([^\s/].*)$/.exec(lines[at - 1] ?? '');
    if (m)
      return { message: `'${m[1]}:${m[2]}' has no space after the colon, so YAML reads it as text, not a key: write '${m[1]}: ${m[2]}'`, pos: lineSpan(at) };
  }
  return { message: e.message, pos: e.pos };
}

export interface Validated {
  src: Source;
  config?: ResolvedConfig;
  errors: ConfigError[];
}

export function validateWith(
  text: string,
  file: string,
  overrides: Record<string, unknown> = {},
  origins: Record<string, JPath> = {},
  labelPrefix = 'override',
): Validated {
  const src = parseSource(text);
  const errors: ConfigError[] = [];
  // The first syntax error only: after one, the parser's later errors are follow-ons of it (one tab
  // used to bring 16 more), and fixing the first is what the user must do anyway.
  const first = [...src.doc.errors].sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (first) {
    const p = yamlProblem(src, text, first);
    errors.push({ file, ...spanOf(src, p.pos[0], p.pos[1]), message: p.message, severity: 'error' });
  }
  for (const w of src.doc.warnings) errors.push({ file, ...spanOf(src, w.pos[0], w.pos[1]), message: w.message, severity: 'warning' });
  if (first) return { src, errors };

  let raw: unknown;
  try {
    raw = src.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    errors.push({ file, ...firstLineSpan(src, src.doc.contents), message: (e as Error).message, severity: 'error' });
    return { src, errors };
  }
  if (raw === null || raw === undefined) {
    errors.push({
      file,
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 1,
      message: `config is empty (it needs at least 'task', 'model' and 'data')`,
      severity: 'error',
    });
    return { src, errors };
  }
  if (!isObj(raw)) {
    errors.push({
      file,
      ...firstLineSpan(src, src.doc.contents),
      message: `config must be a mapping of keys to values, got ${describeValue(raw)}`,
      severity: 'error',
    });
    return { src, errors };
  }

  const { issues, infos } = applyOverrides(raw, overrides, origins, labelPrefix);
  issues.push(...checkSchema(raw));
  let config: ResolvedConfig | undefined;
  if (!issues.some((i) => i.severity === 'error')) {
    config = resolveConfig(raw, file);
    issues.push(...semanticIssues(raw, config));
  }
  issues.push(...sweepIssues(raw)); // independent of the rest, so shown even while other keys have errors
  errors.push(...toConfigErrors(src, file, issues, infos));
  const ok = !errors.some((e) => e.severity === 'error');
  return { src, config: ok ? config : undefined, errors };
}
