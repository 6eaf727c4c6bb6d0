// A stand-in for VS Code's webview host: serves the dashboard page (the same dashboardHtml the
// extension uses, strict CSP and all) from 127.0.0.1, injects a stub `acquireVsCodeApi` that records
// what the page posts and keeps its state in sessionStorage (so a reload restores it, as in VS Code),
// applies VS Code's theme variables and body class, and plays recorded run events into the page.

import { configAsWritten } from '../../src/shared/config/config';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardHtml, makeNonce } from '../../src/webview/html';
import type { HostToWebview, MetricsRecord, MisclassifiedExample, RunSummary, WebviewToHost } from '../../src/shared/protocol';

export const ROOT = resolve(__dirname, '../..');
export const FIXTURES = join(ROOT, 'test/fixtures/dashboard');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

// ---- theme variables (a subset of what VS Code sets on <html>) -----------------------------------
export type ThemeKind = 'light' | 'dark';
export const COMMON = {
  '--vscode-font-family': '"DejaVu Sans", system-ui, sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
  '--vscode-editor-font-size': '12px',
};
export const THEMES: Record<ThemeKind, Record<string, string>> = {
  dark: {
    ...COMMON,
    '--vscode-editor-background': '#1e1e1e',
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': 'rgba(204, 204, 204, 0.7)',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-foreground': '#cccccc',
    '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
    '--vscode-focusBorder': '#007fd4',
    '--vscode-widget-border': '#303031',
    '--vscode-panel-border': 'rgba(128, 128, 128, 0.35)',
    '--vscode-button-background': '#0e639c',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-hoverBackground': '#1177bb',
    '--vscode-button-secondaryBackground': '#3a3d41',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-button-secondaryHoverBackground': '#45494e',
    '--vscode-badge-background': '#4d4d4d',
    '--vscode-badge-foreground': '#ffffff',
    '--vscode-panelTitle-activeForeground': '#e7e7e7',
    '--vscode-panelTitle-activeBorder': '#e7e7e7',
    '--vscode-panelTitle-inactiveForeground': 'rgba(231, 231, 231, 0.6)',
    '--vscode-checkbox-background': '#3c3c3c',
    '--vscode-checkbox-border': '#6b6b6b',
    '--vscode-checkbox-foreground': '#f0f0f0',
    '--vscode-dropdown-background': '#3c3c3c',
    '--vscode-dropdown-border': '#3c3c3c',
    '--vscode-dropdown-foreground': '#f0f0f0',
    '--vscode-dropdown-listBackground': '#252526',
    '--vscode-list-activeSelectionBackground': '#04395e',
    '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-textLink-foreground': '#3794ff',
    '--vscode-textLink-activeForeground': '#3794ff',
    '--vscode-input-background': '#3c3c3c',
    '--vscode-progressBar-background': '#0e70c0',
    '--vscode-editorWidget-background': '#252526',
    '--vscode-errorForeground': '#f48771',
    '--vscode-editor-findMatchHighlightBackground': 'rgba(234, 92, 0, 0.33)',
    '--vscode-editor-selectionBackground': '#264f78',
    '--vscode-textCodeBlock-background': 'rgba(10, 10, 10, 0.4)',
    '--vscode-icon-foreground': '#c5c5c5',
    '--vscode-toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)',
  },
  light: {
    ...COMMON,
    '--vscode-editor-background': '#ffffff',
    '--vscode-foreground': '#616161',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-yellow': '#bf8803',
    // What code-server's Light+ sets: charts.orange derives from a translucent highlight colour.
    '--vscode-charts-orange': 'rgba(234, 92, 0, 0.33)',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-purple': '#652d90',
    '--vscode-charts-foreground': '#616161',
    '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
    '--vscode-focusBorder': '#0090f1',
    '--vscode-widget-border': '#d4d4d4',
    '--vscode-panel-border': 'rgba(128, 128, 128, 0.35)',
    '--vscode-button-background': '#007acc',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-hoverBackground': '#0062a3',
    '--vscode-button-secondaryBackground': '#5f6a79',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-button-secondaryHoverBackground': '#4c5561',
    '--vscode-badge-background': '#c4c4c4',
    '--vscode-badge-foreground': '#333333',
    '--vscode-panelTitle-activeForeground': '#424242',
    '--vscode-panelTitle-activeBorder': '#424242',
    '--vscode-panelTitle-inactiveForeground': 'rgba(66, 66, 66, 0.75)',
    '--vscode-checkbox-background': '#ffffff',
    '--vscode-checkbox-border': '#919191',
    '--vscode-checkbox-foreground': '#616161',
    '--vscode-dropdown-background': '#ffffff',
    '--vscode-dropdown-border': '#cecece',
    '--vscode-dropdown-foreground': '#616161',
    '--vscode-dropdown-listBackground': '#ffffff',
    '--vscode-list-activeSelectionBackground': '#0060c0',
    '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-textLink-foreground': '#006ab1',
    '--vscode-textLink-activeForeground': '#006ab1',
    '--vscode-input-background': '#ffffff',
    '--vscode-progressBar-background': '#0e70c0',
    '--vscode-editorWidget-background': '#f3f3f3',
    '--vscode-errorForeground': '#a1260d',
    '--vscode-editor-findMatchHighlightBackground': 'rgba(234, 92, 0, 0.33)',
    '--vscode-editor-selectionBackground': '#add6ff',
    '--vscode-textCodeBlock-background': 'rgba(220, 220, 220, 0.4)',
    '--vscode-icon-foreground': '#424242',
    '--vscode-toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)',
  },
};

// ---- the page server ------------------------------------------------------------------------------
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

export interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** The pages served: `/` the dashboard, `/table` the experiments table (each with a fresh nonce). */
const PAGES: Record<string, { script: string; styles: string[]; title: string }> = {
  '/': { script: 'dist/webview.js', styles: ['dist/webview.css', 'media/dashboard.css'], title: 'Fine-tune dashboard' },
  '/table': { script: 'dist/table.js', styles: ['media/table.css'], title: 'Fine-tune: Experiments' },
};

/** Serves the pages (PAGES) and files under dist/ and media/. */
export async function startServer(): Promise<PageServer> {
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const pg = PAGES[url.pathname];
    if (pg) {
      const html = dashboardHtml({
        scriptUri: `${origin}/${pg.script}`,
        styleUris: pg.styles.map((f) => `${origin}/${f}`),
        cspSource: origin,
        nonce: makeNonce(),
        title: pg.title,
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    if (!/^(dist|media)[/\\][\w.-]+$/.test(rel)) {
      res.writeHead(404);
      res.end();
      return;
    }
    try {
      const body = readFileSync(join(ROOT, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

// ---- the stub VS Code API, installed before any page script --------------------------------------
// Plain JavaScript text (not a serialized TS function: the TS loader may add helpers the page lacks).
export function initScript(vars: Record<string, string>, bodyClasses: string[]): string {
  return `(() => {
  const vars = ${JSON.stringify(vars)}, classes = ${JSON.stringify(bodyClasses)};
  const posted = [], violations = [];
  window.__posted = posted;
  window.__cspViolations = violations;
  document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI));
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return Object.freeze({
      postMessage: (m) => { posted.push(JSON.parse(JSON.stringify(m))); },
      getState: () => JSON.parse(sessionStorage.getItem('vscode-state') ?? 'null'),
      setState: (s) => { sessionStorage.setItem('vscode-state', JSON.stringify(s)); return s; },
    });
  };
  // VS Code puts the theme variables on <html> and a theme class on <body> before the content runs.
  const apply = () => {
    const html = document.documentElement;
    if (html) for (const [k, v] of Object.entries(vars)) html.style.setProperty(k, v);
    if (document.body) { document.body.classList.add(...classes); return true; }
    return false;
  };
  if (!apply()) {
    const obs = new MutationObserver(() => { if (apply()) obs.disconnect(); });
    obs.observe(document, { childList: true, subtree: true });
  }
})();`;
}

export interface OpenOptions {
  theme?: ThemeKind;
  /** The page: '/' (the dashboard, default) or '/table'. */
  path?: string;
  /** Another theme's variables and body classes (test/fixtures/vscode-themes.json); `theme` is ignored. */
  themeVars?: { vars: Record<string, string>; bodyClasses: string[] };
  width?: number;
  height?: number;
}

export class DashboardPage {
  readonly errors: string[] = [];
  readonly dialogs: string[] = [];
  constructor(
    readonly page: Page,
    readonly origin: string,
  ) {
    page.on('pageerror', (e) => this.errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(m.text());
    });
    page.on('dialog', (d) => {
      this.dialogs.push(d.message());
      void d.dismiss();
    });
  }

  static async open(browser: Browser, server: PageServer, opts: OpenOptions = {}): Promise<DashboardPage> {
    const page = await browser.newPage({ viewport: { width: opts.width ?? 1100, height: opts.height ?? 900 } });
    const kind = opts.theme ?? 'dark';
    const custom = opts.themeVars;
    await page.addInitScript({
      content: custom ? initScript({ ...COMMON, ...custom.vars }, custom.bodyClasses) : initScript(THEMES[kind], [`vscode-${kind}`]),
    });
    const d = new DashboardPage(page, server.origin);
    await page.goto(`${server.origin}${opts.path ?? '/'}`);
    await d.waitForPosted((m) => m.type === 'ready');
    return d;
  }

  async reload(): Promise<void> {
    await this.page.evaluate(() => {
      (window as unknown as { __posted: unknown[] }).__posted.length = 0;
    });
    await this.page.reload();
    await this.waitForPosted((m) => m.type === 'ready');
  }

  posted(): Promise<WebviewToHost[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted);
  }

  cspViolations(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  }

  /** Waits until the page has posted a message matching `pred`; returns it. */
  async waitForPosted(pred: (m: WebviewToHost) => boolean, timeoutMs = 10_000): Promise<WebviewToHost> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.posted().catch(() => [])).find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for a posted message; got ${JSON.stringify((await this.posted()).map((m) => m.type))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Deliver a message as the extension host would (the webview receives a `message` event). */
  async send(msg: HostToWebview | Record<string, unknown>): Promise<void> {
    await this.page.evaluate((m) => window.postMessage(m, '*'), msg);
  }

  async setTheme(kind: ThemeKind): Promise<void> {
    await this.page.evaluate(
      ({ vars, kind }) => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
        document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
        document.body.classList.add(`vscode-${kind}`);
      },
      { vars: THEMES[kind], kind },
    );
  }

  /** init, then the history in chunks (done on the last). */
  async play(runs: RecordedRun[], opts: { mode?: 'run' | 'compare'; chunk?: number; upTo?: number } = {}): Promise<void> {
    await this.send({ type: 'init', mode: opts.mode ?? (runs.length > 1 ? 'compare' : 'run'), runs: runs.map((r) => r.summary) });
    for (const r of runs) {
      const recs = opts.upTo === undefined ? r.records : r.records.slice(0, opts.upTo);
      const size = opts.chunk ?? 250;
      for (let i = 0; i < recs.length || i === 0; i += size) {
        await this.send({ type: 'history', runId: r.summary.id, records: recs.slice(i, i + size), done: i + size >= recs.length });
      }
    }
  }

  async clickTab(id: 'curves' | 'confusion' | 'reports' | 'config'): Promise<void> {
    await this.page.click(`vscode-panel-tab#tab-${id}`);
    await this.page.waitForSelector(`vscode-panel-view#view-${id}:not([hidden])`);
  }
}

// ---- recorded runs ----------------------------------------------------------------------------------
export interface RecordedRun {
  summary: RunSummary;
  records: MetricsRecord[];
  misclassified: Record<'validation' | 'test', MisclassifiedExample[]>;
}

/** The recorded NER run in test/fixtures/dashboard (run.json, metrics.jsonl, misclassified-*.json). */
export function loadFixtureRun(): RecordedRun {
  const run = JSON.parse(readFileSync(join(FIXTURES, 'run.json'), 'utf8'));
  const records = readFileSync(join(FIXTURES, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MetricsRecord);
  const mis = (split: string) =>
    (JSON.parse(readFileSync(join(FIXTURES, `misclassified-${split}.json`), 'utf8')) as { examples: MisclassifiedExample[] }).examples;
  const summary: RunSummary = {
    id: run.id,
    name: run.name,
    dir: `/runs/${run.id}`,
    status: run.status,
    configPath: run.configPath,
    task: run.config?.task,
    step: run.step,
    totalSteps: run.totalSteps,
    epoch: run.epoch,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    device: run.device,
    best: run.best && { metric: run.best.metric, value: run.best.value, step: run.best.step },
    final: run.final,
    config: configAsWritten(run.config), // as the host sends it (toRunSummary)
  };
  return { summary, records, misclassified: { validation: mis('validation'), test: mis('test') } };
}

/** A browser benchmark's results as a two-column markdown table, then the page's errors other than 404s. */
export function printMeasures(rows: [string, string][], pageErrors: string[]): void {
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`| ${'measure'.padEnd(w)} | value |`);
  console.log(`|${'-'.repeat(w + 2)}|-------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
  const errs = pageErrors.filter((e) => !/404/.test(e));
  if (errs.length) console.log('page errors:', errs);
}

/** A browser test's setup: the built bundle must exist (`npm run build`), screenshots go to `out`. */
export async function startBrowserHarness(bundle: string, out: string): Promise<[Browser, PageServer]> {
  assert.ok(existsSync(join(ROOT, bundle)), `${bundle} missing: run \`npm run build\` first`);
  mkdirSync(out, { recursive: true });
  return Promise.all([launchBrowser(), startServer()]);
}

/** Closes a page that must have finished without script errors, CSP violations or errors posted to the host. */
export async function closeClean(d: DashboardPage): Promise<void> {
  assert.deepEqual(await d.cspViolations(), [], 'CSP violations');
  assert.deepEqual(
    d.errors.filter((e) => !/favicon|404 \(Not Found\)/.test(e)),
    [],
    'page errors',
  );
  assert.deepEqual(
    (await d.posted()).filter((m) => m.type === 'error'),
    [],
    'errors posted to the host',
  );
  await d.page.close();
}
