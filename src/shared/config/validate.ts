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

/** The parser's message in the config's terms where it speaks of its own API or is terse. */
function yamlMessage(src: Source, e: { code: string; pos: [number, number]; message: string }): string {
  const at = src.lc.linePos(e.pos[0]).line;
  if (e.code === 'MULTIPLE_DOCS')
    return `one document per config; found a second at line ${at} (remove the '---' line and what follows, or merge it into the first)`;
  if (e.code === 'TAB_AS_INDENT') return `a tab indents line ${at}; YAML indents with spaces only`;
  return e.message;
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
  if (first) errors.push({ file, ...spanOf(src, first.pos[0], first.pos[1]), message: yamlMessage(src, first), severity: 'error' });
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
