// What a dashboard webview may make the host do. The webview is treated as untrusted: a message
// can only open its runs' own data files, read misclassified examples inside its runs' folders, and
// suggest (never choose) an export file name; the user picks the destination in a save dialog.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MisclassifiedExample } from '../../shared/protocol';
import { runPaths } from '../../shared/run';

/** Largest misclassified-*.json the host reads for a webview. */
export const MAX_MISCLASSIFIED_BYTES = 64 * 1024 * 1024;

/** Whether `child` is `parent` or inside it (after resolving `..`; no symlink resolution). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!!rel && !rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The data files a run's resolved config names (train, validation, test), absolute. None for a Hub
 * dataset (its splits are names, its files live in the Hugging Face cache, not text to open at a line).
 */
export function runDataFiles(config: unknown): string[] {
  const d = (config as { data?: Record<string, unknown>; baseDir?: unknown } | null | undefined)?.data;
  if (!d || typeof d !== 'object' || d.hub !== undefined) return [];
  const base = (config as { baseDir?: unknown }).baseDir;
  return ['train', 'validation', 'test']
    .map((k) => d[k])
    .filter((p): p is string => typeof p === 'string' && p.length > 0)
    .map((p) => path.resolve(typeof base === 'string' ? base : '/', p));
}

/**
 * Pure: may the webview open `file`? Only one of the runs' own data files (`allowed`: the train,
 * validation and test files of their resolved configs), at a positive integer `line`. The file names
 * inside misclassified-*.json are not trusted: a run folder can come from anyone, and a crafted one
 * could otherwise make a click open any path on disk.
 */
export function checkOpenFile(
  file: unknown,
  line: unknown,
  allowed: Iterable<string>,
): { ok: true; file: string; line: number } | { ok: false; reason: string } {
  if (typeof file !== 'string' || !file || file.includes('\0')) return { ok: false, reason: 'openFile: not a file path' };
  if (!Number.isInteger(line) || (line as number) < 1 || (line as number) > 1e9)
    return { ok: false, reason: `openFile: line ${JSON.stringify(line)} is not a positive integer` };
  if (!path.isAbsolute(file)) return { ok: false, reason: `openFile: ${file} is not an absolute path` };
  const want = path.resolve(file);
  for (const a of allowed) if (path.resolve(a) === want) return { ok: true, file: want, line: line as number };
  return {
    ok: false,
    reason: `openFile: ${want} is not one of the run's data files (data.train, data.validation, data.test in its config), so it is not opened`,
  };
}

/** Pure: the file name an export may suggest: a base name with no path or reserved characters, the format's extension. */
export function safeExportName(suggested: unknown, format: 'csv' | 'png' | 'svg'): string {
  const raw = typeof suggested === 'string' ? suggested : '';
  let base = raw.split(/[\\/]/).pop() ?? '';
  base = base
    .replace(/[\u0000-\u001f\u007f:*?"<>|]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 120);
  if (!base) base = 'export';
  if (!base.toLowerCase().endsWith(`.${format}`)) base = `${base.replace(/\.+$/, '')}.${format}`;
  return base;
}

/** misclassified-<split>.json of a run ([] when absent, unreadable, too large or outside the run folder). */
export function readMisclassifiedIn(runDir: string, split: unknown): MisclassifiedExample[] {
  if (split !== 'validation' && split !== 'test') return [];
  const file = runPaths(runDir).misclassified(split);
  try {
    const real = fs.realpathSync(file);
    if (!isInside(fs.realpathSync(runDir), real)) return []; // a symlink out of the run folder
    const st = fs.statSync(real);
    if (!st.isFile() || st.size > MAX_MISCLASSIFIED_BYTES) return [];
    const j = JSON.parse(fs.readFileSync(real, 'utf8')) as { examples?: unknown };
    if (!Array.isArray(j.examples)) return [];
    return j.examples.filter(
      (e): e is MisclassifiedExample =>
        !!e &&
        typeof e === 'object' &&
        typeof (e as MisclassifiedExample).file === 'string' &&
        typeof (e as MisclassifiedExample).gold === 'string' &&
        typeof (e as MisclassifiedExample).pred === 'string',
    );
  } catch {
    return [];
  }
}
