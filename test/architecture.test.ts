// The layout's rules, checked on the source itself (parsed with the TypeScript compiler, so
// comments never count): the run-folder contract lives in one module, the layers import only
// downwards, there is no import cycle, and long files say why they are long.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(__filename), '..');
const SRC = path.join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(d.name) ? [p] : [];
  });
}

interface Parsed {
  file: string;
  rel: string;
  text: string;
  strings: string[];
  imports: string[];
}

function parse(file: string): Parsed {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const strings: string[] = [];
  const imports: string[] = [];
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      if (!(ts.isImportDeclaration(n) && n.importClause?.isTypeOnly)) imports.push(n.moduleSpecifier.text);
      else imports.push(`type:${n.moduleSpecifier.text}`);
      return;
    }
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n))
      strings.push(n.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { file, rel: path.relative(ROOT, file).split(path.sep).join('/'), text, strings, imports };
}

const files = sourceFiles(SRC).map(parse);
const byPath = new Map(files.map((f) => [f.file, f]));

/** The source file a relative import names, or undefined for a package. */
function resolveImport(from: string, spec: string): string | undefined {
  const s = spec.replace(/^type:/, '');
  if (!s.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), s);
  for (const cand of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) if (byPath.has(cand)) return cand;
  return undefined;
}

describe('architecture', () => {
  it('the sources were found and parsed', () => {
    assert.ok(files.length > 50, `only ${files.length} source files under src/`);
    assert.ok(files.some((f) => f.rel === 'src/shared/run/folder.ts'));
  });

  it('only the run-folder module names run-folder files or the default runs folder', () => {
    const names = [
      /^run\.json$/,
      /\brun\.json\b/,
      /\bmetrics\.jsonl\b/,
      /\blaunch\.json\b/,
      /\btrain\.log\b/,
      /^model\.onnx$/,
      /^model\.int8\.onnx$/,
      /^labels\.json$/,
      /misclassified-/,
      /^\.finetune$/,
      /\.finetune[/\\]runs/,
    ];
    const offenders: string[] = [];
    for (const f of files) {
      if (f.rel.startsWith('src/shared/run/')) continue;
      for (const s of f.strings) if (names.some((re) => re.test(s))) offenders.push(`${f.rel}: '${s.slice(0, 60)}'`);
    }
    assert.deepEqual(offenders, [], 'spell these through src/shared/run (RUN_FILES, runPaths, defaultRunsFolder)');
  });

  it('layers import only downwards: extension and webview never import the trainer; shared imports no other layer', () => {
    const layer = (rel: string) => rel.split('/')[1];
    const rules: Record<string, string[]> = {
      extension: ['trainer'],
      webview: ['trainer', 'extension'],
      shared: ['trainer', 'extension', 'webview'],
      trainer: ['extension', 'webview'],
    };
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of f.imports) {
        const target = resolveImport(f.file, spec);
        if (!target) continue;
        const to = layer(byPath.get(target)!.rel);
        if (rules[layer(f.rel)]?.includes(to)) bad.push(`${f.rel} imports ${byPath.get(target)!.rel}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('packages stay where they belong: vscode in src/extension, onnxruntime-node in one trainer module, node built-ins not in the webview', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const raw of f.imports) {
        const spec = raw.replace(/^type:/, '');
        if (spec === 'vscode' && !raw.startsWith('type:') && !f.rel.startsWith('src/extension/')) bad.push(`${f.rel} imports vscode`);
        if (spec === 'onnxruntime-node' && f.rel !== 'src/trainer/engine/session.ts') bad.push(`${f.rel} imports onnxruntime-node`);
        if (f.rel.startsWith('src/webview/') && (spec.startsWith('node:') || ['fs', 'path', 'os', 'child_process'].includes(spec)))
          bad.push(`${f.rel} imports ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('no import cycle in src/', () => {
    const graph = new Map(files.map((f) => [f.file, f.imports.map((s) => resolveImport(f.file, s)).filter((t): t is string => !!t)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const dfs = (n: string) => {
      state.set(n, 'open');
      stack.push(n);
      for (const m of graph.get(n) ?? []) {
        if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m].map((p) => byPath.get(p)!.rel).join(' → '));
        else if (!state.has(m)) dfs(m);
      }
      stack.pop();
      state.set(n, 'done');
    };
    for (const f of files) if (!state.has(f.file)) dfs(f.file);
    assert.deepEqual(cycles, []);
  });

  it('a source file over 450 lines says at its top why it is long', () => {
    const long = files.filter((f) => f.text.split('\n').length > 450 && !/^\/\/ Long file: \S/.test(f.text));
    assert.deepEqual(
      long.map((f) => `${f.rel} (${f.text.split('\n').length} lines)`),
      [],
      'split it by concern, or start it with "// Long file: <why>"',
    );
  });
});
