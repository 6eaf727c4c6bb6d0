// Editor features on configs: diagnostics while typing (schema, semantic and file checks) with
// quick fixes, hovers with what past runs tried, CodeLens (start, last result, compare), and the
// read-only documents the run-config diff shows. On `model.pretrained` the hover also says what
// the model is on disk (core/hubModels.ts).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkFiles, configAsWritten, sweepSize, validateConfigText, type ConfigError } from '../shared/config/config';
import { isLeafKey, keyAtOffset, resolvedValue, schemaAt } from './core/configKeys';
import { quickFixes, toRange, type Range0 } from './core/diagnostics';
import { configLens, hoverTable } from './core/history';
import { pretrainedHover } from './core/hubModels';
import { hubCacheDir } from '../shared/hfCache';
import { sortedJsonText } from './core/runs';
import type { RunStore } from './core/store';
import { sweepState, type SweepStore } from './core/sweeps';
import { RUN_FILES } from '../shared/run';

export const CONFIG_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.finetune.{yaml,yml,json}' },
  { scheme: 'untitled', pattern: '**/*.finetune.{yaml,yml,json}' },
];
export const CONFIG_RE = /\.finetune\.(ya?ml|json)$/i;
export const isConfigDoc = (d: vscode.TextDocument) => CONFIG_RE.test(d.fileName);

const toVsRange = (r: Range0) => new vscode.Range(r.startLine, r.startCharacter, r.endLine, r.endCharacter);

/** Validation results per document version, shared by diagnostics, hovers and lenses. */
class Validations {
  private readonly cache = new Map<string, { version: number; result: ReturnType<typeof validateConfigText> }>();

  get(doc: vscode.TextDocument): ReturnType<typeof validateConfigText> {
    const key = doc.uri.toString();
    const c = this.cache.get(key);
    if (c && c.version === doc.version) return c.result;
    let result: ReturnType<typeof validateConfigText>;
    try {
      result = validateConfigText(doc.getText(), doc.fileName);
    } catch (e) {
      result = {
        errors: [{ file: doc.fileName, line: 1, column: 1, endLine: 1, endColumn: 1, message: `cannot validate: ${(e as Error).message}`, severity: 'error' }],
      };
    }
    this.cache.set(key, { version: doc.version, result });
    return result;
  }

  forget(doc: vscode.TextDocument): void {
    this.cache.delete(doc.uri.toString());
  }
}

export class ConfigEditorFeatures implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('finetune');
  private readonly errors = new Map<string, ConfigError[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly validations = new Validations();
  private readonly lensChanged = new vscode.EventEmitter<void>();
  private lensTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly sweeps?: SweepStore,
  ) {
    const d = this.disposables;
    d.push(this.diagnostics, this.lensChanged);
    d.push(vscode.workspace.onDidOpenTextDocument((doc) => this.validateSoon(doc, 0)));
    d.push(vscode.workspace.onDidChangeTextDocument((e) => this.validateSoon(e.document, 300)));
    d.push(vscode.workspace.onDidSaveTextDocument((doc) => this.validateSoon(doc, 0)));
    d.push(
      vscode.workspace.onDidCloseTextDocument((doc) => {
        this.diagnostics.delete(doc.uri);
        this.errors.delete(doc.uri.toString());
        this.validations.forget(doc);
      }),
    );
    d.push(
      vscode.languages.registerCodeActionsProvider(
        CONFIG_SELECTOR,
        { provideCodeActions: (doc, range, ctx) => this.codeActions(doc, range, ctx) },
        { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
      ),
    );
    d.push(vscode.languages.registerHoverProvider(CONFIG_SELECTOR, { provideHover: (doc, pos) => this.hover(doc, pos) }));
    d.push(
      vscode.languages.registerCodeLensProvider(CONFIG_SELECTOR, {
        onDidChangeCodeLenses: this.lensChanged.event,
        provideCodeLenses: (doc) => this.lenses(doc),
      }),
    );
    d.push(vscode.workspace.registerTextDocumentContentProvider(RUN_CONFIG_SCHEME, new RunConfigProvider(store)));
    const onStore = () => this.refreshLensesSoon();
    store.on('change', onStore);
    sweeps?.on('change', onStore);
    d.push({ dispose: () => (store.off('change', onStore), sweeps?.off('change', onStore)) });
    for (const doc of vscode.workspace.textDocuments) this.validateSoon(doc, 0);
  }

  /** A config changed on disk (watcher) or a data file may have appeared: re-validate open configs. */
  revalidateAll(): void {
    for (const doc of vscode.workspace.textDocuments) this.validateSoon(doc, 100);
    this.refreshLensesSoon();
  }

  refreshLensesSoon(): void {
    if (this.lensTimer) return;
    this.lensTimer = setTimeout(() => {
      this.lensTimer = undefined;
      this.lensChanged.fire();
    }, 1000);
  }

  private validateSoon(doc: vscode.TextDocument, ms: number): void {
    if (!isConfigDoc(doc)) return;
    const key = doc.uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!doc.isClosed) this.validate(doc);
      }, ms),
    );
  }

  private validate(doc: vscode.TextDocument): void {
    const text = doc.getText();
    const { config, errors } = this.validations.get(doc);
    let all = errors;
    if (config && doc.uri.scheme === 'file') {
      try {
        all = [...errors, ...checkFiles(config, text, doc.fileName)];
      } catch {
        // file checks are best effort while typing
      }
    }
    this.errors.set(doc.uri.toString(), all);
    this.diagnostics.set(
      doc.uri,
      all.map((e) => {
        const dg = new vscode.Diagnostic(
          toVsRange(toRange(e, text)),
          e.message,
          e.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
        );
        dg.source = 'finetune';
        return dg;
      }),
    );
    this.refreshLensesSoon();
  }

  private codeActions(doc: vscode.TextDocument, _range: vscode.Range | vscode.Selection, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const errs = this.errors.get(doc.uri.toString()) ?? [];
    const text = doc.getText();
    const out: vscode.CodeAction[] = [];
    for (const dg of ctx.diagnostics) {
      if (dg.source !== 'finetune') continue;
      const e = errs.find((x) => x.message === dg.message && toVsRange(toRange(x, text)).isEqual(dg.range));
      if (!e) continue;
      for (const fix of quickFixes(e, text)) {
        const a = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        a.diagnostics = [dg];
        a.isPreferred = true;
        a.edit = new vscode.WorkspaceEdit();
        a.edit.replace(doc.uri, toVsRange(fix.range), fix.newText);
        out.push(a);
      }
    }
    return out;
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const text = doc.getText();
    const k = keyAtOffset(text, doc.offsetAt(pos));
    if (!k || !isLeafKey(k.key)) return undefined;
    const parts: string[] = [];
    const schema = schemaAt(k.key);
    const config = this.validations.get(doc).config;
    const current = !k.inSweep && config ? resolvedValue(config, k.key) : undefined;
    const table = hoverTable({ key: k.key, configPath: doc.fileName, runs: this.store.all(), current });
    if (k.key === 'model.pretrained' && !k.inSweep && typeof config?.model.pretrained === 'string') {
      try {
        parts.push(pretrainedHover(config.model.pretrained, config.model.revision, hubCacheDir()));
      } catch {
        // the cache is read best effort
      }
    }
    if (table) parts.push(table);
    if (schema?.description && !table)
      parts.push(`**${k.key}** — ${schema.description}${schema.default !== undefined ? `\n\nDefault: \`${JSON.stringify(schema.default)}\`` : ''}`);
    if (!parts.length) return undefined;
    const md = new vscode.MarkdownString(parts.join('\n\n'));
    return new vscode.Hover(md, new vscode.Range(doc.positionAt(k.start), doc.positionAt(k.end)));
  }

  private lenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (doc.uri.scheme !== 'file') return [];
    const config = this.validations.get(doc).config;
    const size = config ? sweepSize(config) : 1;
    const lines = doc.getText().split('\n');
    const first = Math.max(
      0,
      lines.findIndex((l) => l.trim() && !l.trim().startsWith('#') && !l.trim().startsWith('//')),
    );
    const range = new vscode.Range(first, 0, first, 0);
    const sweeps = (this.sweeps?.all() ?? []).map((record) => ({ record, state: sweepState(record.info) }));
    return configLens({ configPath: doc.fileName, runs: this.store.all(), sweepSize: size, trusted: vscode.workspace.isTrusted, sweeps }).map(
      (l) => new vscode.CodeLens(range, { title: l.title, command: l.command, arguments: l.arguments, tooltip: l.tooltip }),
    );
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    if (this.lensTimer) clearTimeout(this.lensTimer);
    for (const d of this.disposables) d.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Resolved configs of runs as read-only documents (for the diff editor)

export const RUN_CONFIG_SCHEME = 'finetune-run';

export function runConfigUri(dir: string, name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_CONFIG_SCHEME, path: `/${name.replace(/[\\/]/g, '_')}.config.json`, query: encodeURIComponent(dir) });
}

class RunConfigProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly store: RunStore) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const dir = decodeURIComponent(uri.query);
    const r = this.store.get(dir);
    if (!r) return `// ${dir}: no ${RUN_FILES.info}\n`;
    const c = { ...((r.info.config as Record<string, unknown> | null) ?? {}) };
    const base = typeof c.baseDir === 'string' ? c.baseDir : path.dirname(r.info.configPath ?? '');
    // Paths relative to the config folder, so two runs of configs in different folders diff on what matters.
    const rel = (v: unknown): unknown => {
      if (typeof v === 'string' && path.isAbsolute(v) && base) return path.relative(base, v) || '.';
      if (Array.isArray(v)) return v.map(rel);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rel(x)]));
      return v;
    };
    return sortedJsonText(rel(configAsWritten(c)));
  }
}
