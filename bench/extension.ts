// Extension benchmarks (not tests): medians over repeats, printed as a table beside the targets.
//   (a) activation: `require` dist/extension.js with a stub `vscode` module and call activate()
//       with a fake ExtensionContext, each repeat in a fresh Node process (cold, as in VS Code);
//       the target is for activate() alone, the require time is shown beside it;
//   (b) listing 1,000 runs (20 configs): scan the runs folder, group by config, build every tree
//       label, description, tooltip and context value;
//   (c) hover with 1,000 runs: the hover table for training.lr at its position in a config
//       (cold: first hover, the document not validated yet; warm: validation cached, as the editor does).
// Run: npm run build && node --import tsx bench/extension.ts [--repeats N] [--runs N]

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { configHash, loadConfig, validateConfigText, type ResolvedConfig } from '../src/shared/config/config';
import { isLeafKey, keyAtOffset, resolvedValue, schemaAt } from '../src/extension/core/configKeys';
import { hoverTable } from '../src/extension/core/history';
import { contextValue, describeRun, groupByConfig } from '../src/extension/core/runs';
import { RunStore } from '../src/extension/core/store';
import { tinyWorkspace } from '../test/helpers/tinyrun';
import { rng } from '../src/shared/rng';
import { type RunInfo } from '../src/shared/run';

const ROOT = path.resolve(path.dirname(__filename), '..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const REPEATS = arg('repeats', 9);
const RUNS = arg('runs', 1000);
const CONFIGS = 20;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Row {
  name: string;
  samples: number[];
  target?: number;
}
const rows: Row[] = [];
const notes: string[] = [];

// ---------------------------------------------------------------------------------------------
// (a) Activation, in child processes running plain JavaScript (no tsx hooks in the way).

const ACTIVATE_CHILD = String.raw`
const Module = require('node:module');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const [extPath, root, wsDir] = process.argv.slice(2);
const noop = () => {};
const disposable = () => ({ dispose: noop });
const event = () => disposable();
const fallbacks = new Set();
// Any API the stub below does not spell out: a callable, constructible, disposable stand-in (listed in the output).
function anything(name) {
  return new Proxy(function () {}, {
    get(_t, p) {
      if (p === 'then' || typeof p === 'symbol') return p === Symbol.iterator ? function* () {} : undefined;
      if (p === 'dispose') return noop;
      return anything(name + '.' + p);
    },
    apply() { fallbacks.add(name + '()'); return anything(name + '()'); },
    construct() { fallbacks.add('new ' + name); return anything('new ' + name); },
    set() { return true; },
  });
}
const ns = (name, o) => new Proxy(o, { get(t, p) { if (p in t || typeof p === 'symbol' || p === '__esModule') return t[p]; fallbacks.add(name + '.' + p); return anything(name + '.' + p); } });
class EventEmitter { constructor() { this.ls = new Set(); this.event = (l) => { this.ls.add(l); return { dispose: () => this.ls.delete(l) }; }; } fire(e) { for (const l of this.ls) l(e); } dispose() { this.ls.clear(); } }
class Disposable { constructor(f) { this.f = f; } dispose() { if (this.f) this.f(); } static from(...ds) { return new Disposable(() => ds.forEach((d) => d.dispose())); } }
const uri = (scheme, p, query = '') => ({ scheme, fsPath: p, path: p, query, toString: () => scheme + '://' + p, with: (c) => uri(c.scheme || scheme, c.path || p, c.query || query) });
const Uri = { file: (p) => uri('file', p), joinPath: (u, ...ps) => uri(u.scheme, path.join(u.fsPath, ...ps)), from: (c) => uri(c.scheme, c.path, c.query), parse: (s) => uri('file', s) };
class Position { constructor(line, character) { this.line = line; this.character = character; } }
class Range { constructor(a, b, c, d) { this.start = new Position(a, b); this.end = new Position(c, d); } }
const vscode = ns('vscode', {
  EventEmitter, Disposable, Uri, Position, Range, Selection: Range,
  TreeItem: class { constructor(label, state) { this.label = label; this.collapsibleState = state; } },
  ThemeIcon: class { constructor(id, color) { this.id = id; this.color = color; } },
  ThemeColor: class { constructor(id) { this.id = id; } },
  MarkdownString: class { constructor(v) { this.value = v || ''; } appendMarkdown(s) { this.value += s; return this; } },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 }, StatusBarAlignment: { Left: 1, Right: 2 },
  ViewColumn: { Active: -1, Beside: -2, One: 1 }, ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 }, CodeActionKind: { QuickFix: { value: 'quickfix' } },
  window: ns('vscode.window', {
    createOutputChannel: (name) => ({ name, append: noop, appendLine: noop, show: noop, clear: noop, dispose: noop }),
    createStatusBarItem: () => ({ text: '', show: noop, hide: noop, dispose: noop }),
    createTreeView: () => ({ dispose: noop, onDidChangeSelection: event, onDidChangeVisibility: event, reveal: async () => {}, selection: [], visible: true }),
    registerWebviewPanelSerializer: disposable, activeTextEditor: undefined, visibleTextEditors: [],
  }),
  workspace: ns('vscode.workspace', {
    workspaceFolders: [{ uri: Uri.file(wsDir), name: 'ws', index: 0 }], textDocuments: [],
    getConfiguration: () => ({ get: (_k, d) => d, has: () => false, inspect: () => undefined, update: async () => {} }),
    findFiles: async () => [], getWorkspaceFolder: () => undefined, asRelativePath: (p) => String(p),
    onDidOpenTextDocument: event, onDidChangeTextDocument: event, onDidSaveTextDocument: event, onDidCloseTextDocument: event,
    onDidChangeConfiguration: event, onDidChangeWorkspaceFolders: event,
    createFileSystemWatcher: () => ({ onDidCreate: event, onDidChange: event, onDidDelete: event, dispose: noop }),
    registerTextDocumentContentProvider: disposable,
  }),
  languages: ns('vscode.languages', {
    createDiagnosticCollection: () => ({ set: noop, delete: noop, clear: noop, dispose: noop }),
    registerHoverProvider: disposable, registerCodeLensProvider: disposable, registerCodeActionsProvider: disposable,
  }),
  commands: ns('vscode.commands', { registerCommand: disposable, executeCommand: async () => undefined }),
});
const STUB = path.join(root, '__vscode_stub__.js');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) { return request === 'vscode' ? STUB : resolve.call(this, request, ...rest); };
const stub = new Module(STUB);
stub.filename = STUB; stub.loaded = true; stub.exports = vscode;
require.cache[STUB] = stub;
const memento = () => { const m = new Map(); return { get: (k, d) => (m.has(k) ? m.get(k) : d), update: async (k, v) => void m.set(k, v), keys: () => [...m.keys()], setKeysForSync: noop }; };
const context = {
  subscriptions: [], extensionPath: root, extensionUri: Uri.file(root), asAbsolutePath: (p) => path.join(root, p),
  globalState: memento(), workspaceState: memento(), storageUri: Uri.file(path.join(wsDir, '.storage')), globalStorageUri: Uri.file(path.join(wsDir, '.global')),
  logUri: Uri.file(path.join(wsDir, '.log')), extensionMode: 1, environmentVariableCollection: anything('context.environmentVariableCollection'), secrets: anything('context.secrets'),
};
const t0 = performance.now();
const ext = require(extPath);
const t1 = performance.now();
ext.activate(context);
const t2 = performance.now();
process.stdout.write(JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, subscriptions: context.subscriptions.length, fallbacks: [...fallbacks] }) + '\n');
for (const d of context.subscriptions) d.dispose();
process.exit(0);
`;

function benchActivation(wsDir: string): void {
  const ext = path.join(ROOT, 'dist', 'extension.js');
  if (!fs.existsSync(ext)) throw new Error(`${ext} is missing: npm run build first`);
  const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ft-bench-act-')), 'activate.cjs');
  fs.writeFileSync(script, ACTIVATE_CHILD);
  const req: number[] = [];
  const act: number[] = [];
  let last: { subscriptions: number; fallbacks: string[] } | undefined;
  for (let i = 0; i < REPEATS; i++) {
    const out = execFileSync(process.execPath, [script, ext, ROOT, wsDir], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { requireMs: number; activateMs: number; subscriptions: number; fallbacks: string[] };
    req.push(r.requireMs);
    act.push(r.activateMs);
    last = r;
  }
  rows.push({ name: '(a) activate(context)', samples: act, target: 50 });
  rows.push({ name: '(a) require dist/extension.js (info)', samples: req });
  notes.push(
    `(a) ${last!.subscriptions} disposable(s) in context.subscriptions; vscode APIs served by the fallback stub: ${last!.fallbacks.length ? last!.fallbacks.join(', ') : 'none'}`,
  );
}

// ---------------------------------------------------------------------------------------------
// (b) 1,000 run folders across 20 configs.

function makeRuns(wsDir: string, baseConfig: string): { runsDir: string; configs: string[] } {
  const text = fs.readFileSync(baseConfig, 'utf8');
  const configs: string[] = [];
  const resolved: ResolvedConfig[] = [];
  for (let c = 0; c < CONFIGS; c++) {
    const file = path.join(wsDir, `exp-${String(c).padStart(2, '0')}.finetune.yaml`);
    fs.writeFileSync(file, text.replace(/^name: .*$/m, `name: exp-${c}`));
    configs.push(file);
    resolved.push(loadConfig(file));
  }
  const runsDir = path.join(wsDir, '.finetune', 'runs');
  const r = rng(42);
  const lrs = [1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 5e-3];
  const batches = [8, 16, 32];
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  for (let i = 0; i < RUNS; i++) {
    const c = i % CONFIGS;
    const lr = lrs[Math.floor(r() * lrs.length)];
    const batchSize = batches[Math.floor(r() * batches.length)];
    const cfg = { ...resolved[c], training: { ...resolved[c].training, lr, batchSize } };
    const created = new Date(t0 + i * 37 * 60_000);
    const id = `${created.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-exp-${c}`;
    const dir = path.join(runsDir, id);
    fs.mkdirSync(dir, { recursive: true });
    const roll = r();
    const status: RunInfo['status'] = i >= RUNS - 3 ? 'queued' : roll < 0.8 ? 'completed' : roll < 0.9 ? 'failed' : 'stopped';
    const totalSteps = 40;
    const step = status === 'completed' ? totalSteps : status === 'queued' ? 0 : Math.floor(r() * totalSteps);
    const best = 0.5 + 0.4 * r();
    const info: RunInfo = {
      id,
      name: `exp-${c}`,
      configPath: configs[c],
      configHash: configHash(cfg),
      config: cfg,
      status,
      createdAt: created.toISOString(),
      host: os.hostname(),
      versions: { finetune: '0.1.0', onnxruntime: '1.22.0', node: process.version },
      step,
      totalSteps,
      epoch: step / 20,
      ...(status !== 'queued'
        ? {
            startedAt: new Date(created.getTime() + 1000).toISOString(),
            endedAt: new Date(created.getTime() + 1000 + (5 + 200 * r()) * 1000).toISOString(),
            pid: 10_000 + i,
            device: { requested: 'auto', used: 'cpu', reason: 'no CUDA device', threads: 2, onnxruntime: '1.22.0' },
            best: { metric: 'f1', value: best, step: Math.max(1, step - 20), checkpoint: path.join(dir, 'checkpoints', 'best') },
          }
        : {}),
      ...(status === 'completed' ? { final: { test_f1: best - 0.02, test_loss: 0.4, test_precision: best, test_recall: best - 0.03, best_f1: best } } : {}),
      ...(status === 'failed' ? { error: { message: 'the trainer process was killed (SIGKILL) — possibly by the system for using too much memory' } } : {}),
      ...(i % 7 === 0 ? { tags: ['baseline', `lr-${lr}`], notes: 'a note about this run' } : {}),
    };
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(info, null, 2) + '\n');
    const lines: string[] = [];
    for (let s = 4; s <= Math.min(step, 20); s += 4)
      lines.push(
        JSON.stringify({
          type: 'train',
          step: s,
          epoch: s / 20,
          loss: 2 / s,
          lr,
          gradNorm: 1.2,
          stepsPerSec: 40,
          samplesPerSec: 320,
          time: created.getTime() + s * 100,
        }),
      );
    if (step >= 20)
      lines.push(JSON.stringify({ type: 'eval', split: 'validation', step: 20, epoch: 1, metrics: { loss: 0.5, f1: best, precision: best, recall: best } }));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + (lines.length ? '\n' : ''));
    if (status === 'completed') fs.writeFileSync(path.join(dir, 'model.onnx'), 'onnx');
    if (status === 'stopped' || status === 'failed') fs.mkdirSync(path.join(dir, 'checkpoints', 'last'), { recursive: true });
  }
  return { runsDir, configs };
}

/** What the run history does for a full refresh: scan, group, and every item's label, description, tooltip, icon state and menu context. */
function listRuns(runsDir: string): { store: RunStore; items: number } {
  const store = new RunStore();
  store.addFolder(runsDir);
  let items = 0;
  for (const g of groupByConfig(store.all())) {
    const running = g.runs.filter((r) => r.info.status === 'running').length;
    const desc = `${g.runs.length} run${g.runs.length === 1 ? '' : 's'}${running ? `, ${running} running` : ''} · ${path.dirname(g.configPath)}`;
    items += desc.length > 0 ? 1 : 0;
    for (const r of g.runs) {
      const d = describeRun(r);
      const cv = contextValue(r);
      items += d.label && d.tooltip && cv ? 1 : 0;
    }
  }
  return { store, items };
}

function benchList(runsDir: string): RunStore {
  const samples: number[] = [];
  let store!: RunStore;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const res = listRuns(runsDir);
    samples.push(performance.now() - t0);
    if (res.items !== RUNS + CONFIGS) throw new Error(`listed ${res.items} items, expected ${RUNS + CONFIGS}`);
    store = res.store;
  }
  rows.push({ name: `(b) list ${RUNS} runs, first (cold)`, samples: samples.slice(0, 1), target: 300 });
  rows.push({ name: `(b) list ${RUNS} runs`, samples, target: 300 });
  return store;
}

// ---------------------------------------------------------------------------------------------
// (c) Hover over training.lr with 1,000 runs.

function hoverOnce(
  text: string,
  file: string,
  offset: number,
  store: RunStore,
  cached?: ReturnType<typeof validateConfigText>,
): { md: string; validation: ReturnType<typeof validateConfigText> } {
  const k = keyAtOffset(text, offset);
  if (!k || !isLeafKey(k.key)) throw new Error(`no key at ${offset}`);
  schemaAt(k.key);
  const validation = cached ?? validateConfigText(text, file);
  const current = !k.inSweep && validation.config ? resolvedValue(validation.config, k.key) : undefined;
  const md = hoverTable({ key: k.key, configPath: file, runs: store.all(), current });
  if (!md) throw new Error('no hover table');
  return { md, validation };
}

function benchHover(file: string, store: RunStore): void {
  const text = fs.readFileSync(file, 'utf8');
  const at = (needle: string) => {
    const i = text.indexOf(needle);
    if (i < 0) throw new Error(`${needle} not in the config`);
    return i + needle.length + 1;
  };
  const lrAt = at('  lr:');
  const t0 = performance.now();
  const first = hoverOnce(text, file, lrAt, store);
  rows.push({ name: '(c) hover training.lr, cold (validates the document)', samples: [performance.now() - t0], target: 50 });
  const warm: number[] = [];
  const bs: number[] = [];
  const bsAt = at('  batch_size:');
  for (let i = 0; i < Math.max(REPEATS, 20); i++) {
    let t = performance.now();
    hoverOnce(text, file, lrAt, store, first.validation);
    warm.push(performance.now() - t);
    t = performance.now();
    hoverOnce(text, file, bsAt, store, first.validation);
    bs.push(performance.now() - t);
  }
  rows.push({ name: '(c) hover training.lr, warm', samples: warm, target: 50 });
  rows.push({ name: '(c) hover training.batch_size, warm', samples: bs, target: 50 });
  const tableRows = first.md.split('\n').filter((l) => l.startsWith('| `')).length;
  notes.push(
    `(c) the hover shows ${tableRows} value rows over ${store.all().length} runs (${store.all().filter((r) => r.info.configPath === file).length} of this config)`,
  );
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const ws = tinyWorkspace();
  try {
    benchActivation(ws.dir);
    const tg = performance.now();
    const { runsDir, configs } = makeRuns(ws.dir, ws.config);
    notes.push(
      `(b) generated ${RUNS} run folders for ${CONFIGS} configs in ${((performance.now() - tg) / 1000).toFixed(1)} s (run.json ~${Math.round(fs.statSync(path.join(runsDir, fs.readdirSync(runsDir)[0], 'run.json')).size / 1024)} KB each)`,
    );
    const store = benchList(runsDir);
    benchHover(configs[0], store);
  } finally {
    fs.rmSync(ws.dir, { recursive: true, force: true });
  }
  const fmt = (x: number) => x.toFixed(1);
  const head = ['benchmark', 'median ms', 'min', 'max', 'n', 'target', ''];
  const body = rows.map((r) => {
    const m = median(r.samples);
    return [
      r.name,
      fmt(m),
      fmt(Math.min(...r.samples)),
      fmt(Math.max(...r.samples)),
      String(r.samples.length),
      r.target ? `< ${r.target} ms` : '',
      r.target ? (m < r.target ? 'ok' : 'OVER') : '',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`Fine-tune extension benchmarks — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${REPEATS} repeats`);
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const b of body) console.log(line(b));
  for (const n of notes) console.log(n);
}

main();
