// The dashboard webview in headless Chromium (Debian's /usr/bin/chromium via playwright-core): the
// real bundle in the real page (strict CSP), fed recorded run events by the test host.
// Run: node --import tsx --test test/webview.test.ts   (needs `npm run build` first: dist/webview.js)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { closeClean, DashboardPage, loadFixtureRun, ROOT, startBrowserHarness, type PageServer, type RecordedRun } from './helpers/webview-host';
import type { EvalRecord, TrainRecord, WebviewToHost } from '../src/shared/protocol';
import { orderLabels } from '../src/webview/labels';
import { ema } from '../src/webview/smoothing';
import { runIdentities } from '../src/shared/run/identity';

const OUT = join(ROOT, 'test-output/webview');
const XSS = '<img src=x onerror=alert(1)>';

let browser: Browser;
let server: PageServer;
const run = loadFixtureRun();
const trains = run.records.filter((r): r is TrainRecord => r.type === 'train');
const evals = run.records.filter((r): r is EvalRecord => r.type === 'eval');
const lastVal = evals.filter((e) => e.split === 'validation').at(-1)!;
const opened: DashboardPage[] = [];

before(async () => {
  [browser, server] = await startBrowserHarness('dist/webview.js', OUT);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(opts: Parameters<typeof DashboardPage.open>[2] = {}): Promise<DashboardPage> {
  const d = await DashboardPage.open(browser, server, opts);
  opened.push(d);
  return d;
}

const close = closeClean;

/** Pixels in a chart's plot area that differ from the empty canvas, and those near `color`. */
async function inkOf(d: DashboardPage, chart: string, color?: string): Promise<{ ink: number; match: number }> {
  return d.page.evaluate(
    ({ chart, color }) => {
      const c = document.querySelector<HTMLCanvasElement>(`[data-chart="${chart}"] canvas`)!;
      const ctx = c.getContext('2d')!;
      const img = ctx.getImageData(0, 0, c.width, c.height).data;
      let target: number[] | null = null;
      if (color) {
        const s = document.createElement('canvas').getContext('2d')!;
        s.fillStyle = color;
        const hex = String(s.fillStyle);
        target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      }
      let ink = 0,
        match = 0;
      for (let i = 0; i < img.length; i += 4) {
        if (img[i + 3] === 0) continue;
        ink++;
        if (target && img[i + 3] > 200 && Math.abs(img[i] - target[0]) + Math.abs(img[i + 1] - target[1]) + Math.abs(img[i + 2] - target[2]) < 40) match++;
      }
      return { ink, match };
    },
    { chart, color: color ?? null },
  );
}

const text = (d: DashboardPage, sel: string) => d.page.locator(sel).first().innerText();

describe('dashboard webview', () => {
  test('says ready first and posts nothing else unprompted; draws the run with uPlot', async () => {
    const d = await open();
    assert.deepEqual(await d.posted(), [{ type: 'ready' }]);
    await d.play([run], { chunk: 100 });
    await d.page.waitForSelector(`[data-chart="loss"][data-points="${trains.length}"]`);
    for (const c of ['loss', 'val-loss', 'val-metrics', 'lr', 'throughput']) await d.page.waitForSelector(`[data-chart="${c}"] canvas`);
    // the curves are drawn in the theme's blue, not just axes
    const blue = await d.page.evaluate(() => getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue').trim());
    for (const c of ['loss', 'val-loss', 'lr']) {
      const { ink, match } = await inkOf(d, c, blue);
      assert.ok(ink > 2000, `${c}: canvas is blank (${ink} pixels)`);
      assert.ok(match > 150, `${c}: no series drawn in ${blue} (${match} pixels)`);
    }
    // legend: one entry per series; the metrics chart has every headline metric but loss
    const legend = await d.page.locator('[data-chart="val-metrics"] .u-legend .u-label').allInnerTexts();
    assert.deepEqual(legend.slice(1), ['f1', 'precision', 'recall', 'accuracy', 'token_f1']);
    // header facts
    assert.equal(await text(d, '[data-fact="step"] .fact-value'), '1000 / 1000');
    assert.equal(await d.page.locator('.run-header .status').textContent(), 'completed');
    assert.match(await text(d, '[data-fact="device"] .fact-value'), /^CPU · 2 threads/);
    assert.equal(await d.page.locator('[data-fact="best"] .fact-label').textContent(), 'Best validation');
    assert.equal(await text(d, '[data-fact="best"] .fact-value'), 'f1 0.9921 at step 875');
    assert.equal(await text(d, '[data-fact="test"] .fact-value'), 'f1 0.9863', 'the test value, in the same format');
    assert.equal(await d.page.locator('.run-header vscode-button.stop').count(), 0, 'no Stop button on a finished run');
    // the config is shown in the keys a config file is written with
    await d.clickTab('config');
    const shown = (await d.page.locator('details.config pre').textContent()) ?? '';
    assert.match(shown, /"batch_size": 32/);
    assert.doesNotMatch(shown, /batchSize|configPath/);
    await d.clickTab('curves');
    // crosshair: hovering the loss plot shows values in the legend
    const over = d.page.locator('[data-chart="loss"] .u-over');
    const box = (await over.boundingBox())!;
    await d.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const vals = await d.page.locator('[data-chart="loss"] .u-legend .u-value').allInnerTexts();
    assert.match(vals[0], /^\d+$/, `step at the cursor: ${vals[0]}`);
    assert.match(vals[2], /^[\d.e-]+$/, `smoothed loss at the cursor: ${vals[2]}`);
    // the synced cursor shows the same step on the learning-rate chart
    assert.equal((await d.page.locator('[data-chart="lr"] .u-legend .u-value').allInnerTexts())[0], vals[0]);
    // drag zooms in on x, double-click resets to all steps
    const shot = async () => (await over.screenshot()).toString('base64');
    const before = await shot();
    await d.page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await d.page.mouse.down();
    await d.page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await d.page.mouse.up();
    await d.page.mouse.move(box.x + 2, box.y + 2);
    let zoomed = await shot();
    for (let i = 0; i < 20 && zoomed === before; i++) zoomed = await shot();
    assert.notEqual(zoomed, before, 'drag zooms');
    await over.dblclick();
    await d.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await close(d);
  });

  test('live run: appends extend the same chart; ETA, throughput and Stop', async () => {
    const d = await open();
    const live = { ...run.summary, status: 'running' as const, step: 0 };
    const firstPart = run.records.slice(0, 200);
    await d.play([{ ...run, summary: live, records: firstPart }]);
    const n0 = firstPart.filter((r) => r.type === 'train').length;
    await d.page.waitForSelector(`[data-chart="loss"][data-points="${n0}"]`);
    await d.page.evaluate(() => {
      (document.querySelector('[data-chart="loss"] canvas') as HTMLCanvasElement & { __mark?: number }).__mark = 1;
    });
    for (let i = 200; i < run.records.length; i += 37) await d.send({ type: 'append', runId: run.summary.id, records: run.records.slice(i, i + 37) });
    await d.send({ type: 'status', run: { ...live, step: 1000 }, etaSeconds: 125 });
    await d.page.waitForSelector(`[data-chart="loss"][data-points="${trains.length}"]`);
    // not rebuilt: the same canvas element, now showing all points
    assert.equal(await d.page.evaluate(() => (document.querySelector('[data-chart="loss"] canvas') as HTMLCanvasElement & { __mark?: number }).__mark), 1);
    await d.page.waitForFunction(() => document.querySelector('[data-fact="eta"] .fact-value')?.textContent === '2:05');
    assert.match(await text(d, '[data-fact="throughput"] .fact-value'), /samples\/s/);
    await d.page.click('vscode-button.stop');
    const stop = await d.waitForPosted((m) => m.type === 'stop');
    assert.deepEqual(stop, { type: 'stop', runId: run.summary.id });
    // the chart series are the EMA (debiased) of what was sent
    const smoothed = await d.page.evaluate(() => document.querySelectorAll('[data-chart="loss"] .u-legend .u-label')[2]?.textContent);
    assert.equal(smoothed, 'smoothed (0.6)');
    await close(d);
  });

  test('debiased EMA matches the TensorBoard definition', () => {
    const ys = [1, 2, 3, 4];
    const w = 0.5;
    // by hand: last = 0.5, n=1 → 0.5/0.5 = 1; last = 0.25+1 = 1.25 → /0.75 = 1.666…
    const out = ema(ys, w);
    assert.equal(out[0], 1);
    assert.ok(Math.abs(out[1] - 1.25 / 0.75) < 1e-12);
    assert.deepEqual(ema(ys, 0), ys);
  });

  test('confusion matrix: label order, values, click a cell → examples → openFile', async () => {
    const d = await open();
    await d.play([run]);
    await d.clickTab('confusion');
    await d.page.waitForSelector('svg.confusion');
    const { labels, matrix } = lastVal.confusion!;
    const want = orderLabels(labels).map((i) => labels[i]);
    assert.equal(want[0], 'O');
    const rowLabels = await d.page.$$eval('svg.confusion g[role="row"]', (rows) => rows.map((r) => r.querySelector('.cell')!.getAttribute('data-gold')));
    assert.deepEqual(rowLabels, want);
    // each cell holds its count, printed on it when it fits
    const cells = await d.page.$$eval('svg.confusion .cell', (cs) =>
      cs.map((c) => [c.getAttribute('data-gold'), c.getAttribute('data-pred'), c.querySelector('text.value')?.textContent ?? null]),
    );
    assert.equal(cells.length, labels.length ** 2);
    for (const [g, p, v] of cells) {
      const n = matrix[labels.indexOf(g!)][labels.indexOf(p!)];
      assert.equal(v, n === 0 ? null : String(n), `${g}→${p}`);
    }
    // click the cell of the first recorded error
    const ex = run.misclassified.validation[0];
    await d.page.click(`svg.confusion .cell[data-gold="${ex.gold}"][data-pred="${ex.pred}"]`);
    const req = await d.waitForPosted((m) => m.type === 'requestMisclassified');
    assert.deepEqual(req, { type: 'requestMisclassified', runId: run.summary.id, split: 'validation' });
    await d.send({ type: 'misclassified', runId: run.summary.id, split: 'validation', examples: run.misclassified.validation });
    await d.page.waitForSelector('ul.examples li');
    const hits = run.misclassified.validation.filter((e) => e.gold === ex.gold && e.pred === ex.pred);
    assert.equal(await d.page.locator('ul.examples li').count(), hits.length);
    assert.equal(await text(d, 'ul.examples li mark'), ex.words![ex.position!]);
    await d.page.locator('ul.examples li .open-file').first().click();
    const openFile = await d.waitForPosted((m) => m.type === 'openFile');
    assert.deepEqual(openFile, { type: 'openFile', file: ex.file, line: ex.line });
    // keyboard: the grid is one tab stop; arrows move, Enter selects
    await d.page.focus('svg.confusion .cell[tabindex="0"]');
    await d.page.keyboard.press('ArrowRight');
    await d.page.keyboard.press('Enter');
    await d.page.waitForFunction(() => document.querySelector('.examples-box h3')?.textContent?.includes('→'));
    // row-normalized: fractions of each row
    await d.page.click('#normalize');
    await d.page.waitForSelector('svg.confusion[aria-label*="row-normalized"]');
    const gi = labels.indexOf('O');
    const oo = await d.page.locator('svg.confusion .cell[data-gold="O"][data-pred="O"] text.value').textContent();
    assert.equal(oo, (matrix[gi][gi] / matrix[gi].reduce((a, b) => a + b, 0)).toFixed(2));
    await d.page.screenshot({ path: join(OUT, 'confusion-dark.png'), fullPage: true });
    await close(d);
  });

  test('reports: per-class tables with the recorded numbers, sortable headers, best step', async () => {
    const d = await open({ theme: 'light' });
    await d.play([run]);
    await d.clickTab('reports');
    await d.page.waitForSelector('table[data-table="per-class"]');
    const rows = await d.page.$$eval('table[data-table="per-class"] tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    const per = lastVal.perClass!;
    assert.equal(rows.length, Object.keys(per).length);
    for (const [label, p, r, f1, sup] of rows) {
      assert.equal(f1, per[label].f1.toFixed(4), `${label} f1`);
      assert.equal(p, per[label].precision.toFixed(4));
      assert.equal(r, per[label].recall.toFixed(4));
      assert.equal(Number(sup), per[label].support);
    }
    // sort by F1: descending first, then ascending
    await d.page.click('table[data-table="per-class"] button.sort[data-key="f1"]');
    const byF1 = Object.entries(per)
      .sort((a, b) => b[1].f1 - a[1].f1)
      .map(([k]) => k);
    assert.deepEqual(await d.page.$$eval('table[data-table="per-class"] tbody th', (ths) => ths.map((t) => t.textContent)), byF1);
    assert.equal(await d.page.getAttribute('table[data-table="per-class"] th:has(button[data-key="f1"])', 'aria-sort'), 'descending');
    await d.page.click('table[data-table="per-class"] button.sort[data-key="f1"]');
    const byF1Asc = Object.entries(per)
      .sort((a, b) => a[1].f1 - b[1].f1)
      .map(([k]) => k); // stable: ties keep their order
    assert.deepEqual(await d.page.$$eval('table[data-table="per-class"] tbody th', (ths) => ths.map((t) => t.textContent)), byF1Asc);
    // token-level report too, and the headline best f1 at its step
    assert.ok((await d.page.locator('table[data-table="token-report"] tbody tr').count()) >= Object.keys(lastVal.tokenReport!).length);
    const f1Row = await d.page.$$eval('table[data-table="headline-validation"] tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)).find((r) => r[0] === 'f1'),
    );
    assert.equal(Number(f1Row![2]), Number(run.summary.best!.value.toPrecision(4)));
    assert.equal(f1Row![3], String(run.summary.best!.step));
    assert.ok((await d.page.locator('table[data-table="headline-test"]').count()) === 1, 'test split headline');
    await d.page.screenshot({ path: join(OUT, 'reports-light.png'), fullPage: true });
    await close(d);
  });

  test('UI state survives a reload (smoothing, log scale, tab, sort)', async () => {
    const d = await open();
    await d.play([run]);
    await d.page.waitForSelector('[data-chart="loss"] canvas');
    await d.page.locator('#smoothing').fill('0.9');
    await d.page.click('#log-scale');
    await d.page.waitForFunction(
      () =>
        document.querySelector('[data-chart="loss"] .u-legend .u-series:nth-child(3) .u-label')?.textContent === 'smoothed (0.90)' ||
        document.querySelectorAll('[data-chart="loss"] .u-legend .u-label')[2]?.textContent === 'smoothed (0.9)',
    );
    await d.clickTab('reports');
    await d.page.click('table[data-table="per-class"] button.sort[data-key="support"]');
    await d.reload();
    assert.deepEqual(await d.posted(), [{ type: 'ready' }]);
    await d.play([run]);
    await d.page.waitForSelector('vscode-panel-view#view-reports:not([hidden]) table[data-table="per-class"]');
    assert.equal(await d.page.inputValue('#smoothing'), '0.9');
    assert.equal(await d.page.evaluate(() => (document.querySelector('#log-scale') as unknown as { checked: boolean }).checked), true);
    assert.equal(await d.page.getAttribute('table[data-table="per-class"] th:has(button[data-key="support"])', 'aria-sort'), 'descending');
    await close(d);
  });

  test('exports: PNG and SVG of a chart, metrics as CSV', async () => {
    const d = await open();
    await d.play([run]);
    await d.page.waitForSelector(`[data-chart="loss"][data-points="${trains.length}"]`);
    await d.page.click('[data-chart="loss"] vscode-button[aria-label="Export Train loss as PNG"]');
    const png = (await d.waitForPosted((m) => m.type === 'export' && m.format === 'png')) as Extract<WebviewToHost, { type: 'export' }>;
    assert.equal(png.suggestedName, 'loss.png');
    assert.equal(png.base64, true);
    const bytes = Buffer.from(png.data, 'base64');
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
    assert.ok(bytes.length > 5000);
    await d.page.click('[data-chart="loss"] vscode-button[aria-label="Export Train loss as SVG"]');
    const svg = (await d.waitForPosted((m) => m.type === 'export' && m.format === 'svg')) as Extract<WebviewToHost, { type: 'export' }>;
    assert.match(svg.data, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.data.match(/<polyline/g) ?? []).length, 2);
    assert.match(svg.data, />Train loss</);
    await d.page.click('#export-csv');
    const csv = (await d.waitForPosted((m) => m.type === 'export' && m.format === 'csv')) as Extract<WebviewToHost, { type: 'export' }>;
    const lines = csv.data.trim().split('\n');
    assert.match(lines[0], /^run,type,split,step,epoch,loss,lr,/);
    assert.equal(lines.filter((l) => l.includes(',train,')).length, trains.length);
    assert.equal(lines.filter((l) => l.includes(',eval,')).length, evals.length);
    assert.equal(csv.suggestedName, 'ner-scratch-metrics.csv');
    await close(d);
  });

  test('compare mode: runs overlaid in distinct colours, hyper-parameters that differ', async () => {
    const d = await open({ width: 1200 });
    const cfg = run.summary.config as { training: Record<string, unknown> };
    const other: RecordedRun = {
      ...run,
      summary: { ...run.summary, id: 'run-b', name: 'ner-lr-5e-4', status: 'running', config: { ...cfg, training: { ...cfg.training, lr: 5e-4 } } },
      records: run.records.filter((r) => r.step <= 700).map((r) => (r.type === 'train' ? { ...r, loss: r.loss * 1.5 } : r)),
    };
    await d.play([run, other]);
    await d.page.waitForSelector('[data-chart="loss"] canvas');
    await d.page.waitForFunction(() => document.querySelectorAll('[data-chart="loss"] .u-legend .u-series').length === 5);
    const labels = await d.page.locator('[data-chart="loss"] .u-legend .u-label').allInnerTexts();
    assert.ok(labels.some((l) => l.startsWith('ner-scratch')) && labels.some((l) => l.startsWith('ner-lr-5e-4')));
    const [blue, orange] = await d.page.evaluate(() =>
      ['blue', 'orange'].map((c) => getComputedStyle(document.body).getPropertyValue(`--vscode-charts-${c}`).trim()),
    );
    assert.ok((await inkOf(d, 'loss', blue)).match > 100, 'first run in blue');
    assert.ok((await inkOf(d, 'loss', orange)).match > 100, 'second run in orange');
    assert.equal(await d.page.locator('.run-list li').count(), 2);
    await d.clickTab('config');
    const keys = await d.page.$$eval('table[data-table="hyper"] tbody th', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(keys, ['training.lr']);
    await d.page.click('#only-diff');
    assert.ok((await d.page.locator('table[data-table="hyper"] tbody tr').count()) > 20);
    await d.clickTab('curves');
    await d.page.screenshot({ path: join(OUT, 'compare-dark.png'), fullPage: true });
    await close(d);
  });

  test('run identity: two runs of one config with different lr are told apart by `lr=…` in legends, run list, reports and config table', async () => {
    const d = await open({ width: 1200 });
    const cfg = run.summary.config as { training: Record<string, unknown> };
    const other: RecordedRun = {
      ...run,
      summary: { ...run.summary, id: 'fixture-run-b', config: { ...cfg, training: { ...cfg.training, lr: 5e-4 } } },
      records: run.records.map((r) => (r.type === 'train' ? { ...r, loss: r.loss * 1.5 } : r)),
    };
    // the labels and short ids as the host computes them (RunStore.identity → toRunSummary)
    const ids = runIdentities([run.summary, other.summary]);
    const withId = (r: RecordedRun): RecordedRun => ({ ...r, summary: { ...r.summary, ...ids.get(r.summary.id)! } });
    const [a, b] = [withId(run), withId(other)];
    assert.equal(a.summary.name, b.summary.name, 'both runs carry the config name');
    assert.deepEqual([a.summary.label, b.summary.label], ['lr=1e-3', 'lr=5e-4']);
    await d.play([a, b]);
    await d.page.waitForFunction(() => document.querySelectorAll('[data-chart="loss"] .u-legend .u-series').length === 5);
    const legend = async (chart: string) => (await d.page.locator(`[data-chart="${chart}"] .u-legend .u-label`).allInnerTexts()).slice(1);
    assert.deepEqual(await legend('loss'), ['lr=1e-3 raw', 'lr=1e-3 smoothed (0.6)', 'lr=5e-4 raw', 'lr=5e-4 smoothed (0.6)']);
    for (const chart of ['val-loss', 'val-metrics', 'lr', 'throughput']) assert.deepEqual(await legend(chart), ['lr=1e-3', 'lr=5e-4'], chart);
    // the compare header: label, then short id and name
    assert.deepEqual(await d.page.locator('.run-list .run-name').allInnerTexts(), ['lr=1e-3', 'lr=5e-4']);
    assert.deepEqual(await d.page.locator('.run-list .run-id').allInnerTexts(), [`${a.summary.shortId} · ner-scratch`, `${b.summary.shortId} · ner-scratch`]);
    await d.clickTab('reports');
    const rows = await d.page.$$eval('table[data-table="compare-metrics"] tbody tr', (trs) => trs.map((tr) => tr.querySelector('td, th')?.textContent));
    assert.deepEqual(rows, ['lr=1e-3', 'lr=5e-4']);
    await d.clickTab('config');
    assert.deepEqual(await d.page.$$eval('table[data-table="hyper"] thead th', (ths) => ths.map((t) => t.textContent)), ['Key', 'lr=1e-3', 'lr=5e-4']);
    await d.clickTab('curves');
    await d.page.screenshot({ path: join(OUT, 'compare-labels.png'), fullPage: true });
    await close(d);
  });

  test('compare mode in Light+: every run colour is opaque and has 3:1 contrast with the background', async () => {
    const d = await open({ width: 1200, theme: 'light' });
    const other: RecordedRun = {
      ...run,
      summary: { ...run.summary, id: 'run-b', name: 'ner-b' },
      records: run.records.map((r) => (r.type === 'train' ? { ...r, loss: r.loss * 1.5 } : r)),
    };
    await d.play([run, other]);
    await d.page.waitForSelector('[data-chart="loss"] canvas');
    const swatches = await d.page.$$eval('.run-list .swatch', (els) => els.map((e) => getComputedStyle(e).backgroundColor));
    assert.equal(swatches.length, 2);
    for (const c of swatches) {
      const [r, g, b, a = 1] = /rgba?\(([^)]+)\)/.exec(c)![1].split(',').map(Number);
      assert.equal(a, 1, `opaque run colour (${c})`);
      const lum = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      const L = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b);
      assert.ok(1.05 / (L + 0.05) >= 3, `contrast of ${c} on white: ${(1.05 / (L + 0.05)).toFixed(2)}`);
    }
    // the second run's curve is drawn in its solid colour, not the theme's 33% one
    assert.ok((await inkOf(d, 'loss', swatches[1])).match > 100, `second run drawn in ${swatches[1]}`);
    await d.page.screenshot({ path: join(OUT, 'compare-light.png'), fullPage: true });
    await close(d);
  });

  test('run strings are text: a label, run name and example made of HTML run nothing', async () => {
    const d = await open();
    const conf = lastVal.confusion!;
    const evil: EvalRecord = {
      ...lastVal,
      perClass: { ...lastVal.perClass, [XSS]: { precision: 1, recall: 1, f1: 1, support: 1 } },
      tokenReport: { ...lastVal.tokenReport, [XSS]: { precision: 1, recall: 1, f1: 1, support: 1 } },
      confusion: { labels: [...conf.labels, XSS], matrix: [...conf.matrix.map((r) => [...r, 1]), conf.labels.map(() => 2).concat(3)] },
    };
    const summary = { ...run.summary, name: XSS, notes: XSS, tags: [XSS], config: { name: XSS } };
    await d.send({ type: 'init', mode: 'run', runs: [summary] });
    await d.send({ type: 'history', runId: summary.id, records: [...trains.slice(0, 50), evil], done: true });
    await d.page.waitForSelector('[data-chart="loss"] canvas');
    await d.clickTab('confusion');
    await d.page.click(`svg.confusion .cell[data-gold="${XSS}"][data-pred="O"]`);
    await d.waitForPosted((m) => m.type === 'requestMisclassified');
    await d.send({
      type: 'misclassified',
      runId: summary.id,
      split: 'validation',
      examples: [
        { file: `/data/${XSS}.txt`, line: 3, words: ['a', XSS, 'b'], position: 1, gold: XSS, pred: 'O' },
        { file: '/data/x.txt', line: 4, text: XSS, gold: XSS, pred: 'O' },
      ],
    });
    await d.page.waitForSelector('ul.examples li');
    await d.clickTab('reports');
    await d.clickTab('config');
    const body = await d.page.evaluate(() => document.body.innerText);
    assert.ok(body.split(XSS).length - 1 >= 3, 'shown as text');
    assert.ok((await d.page.locator('ul.examples').innerText()).includes(XSS), 'example text shown as text');
    assert.equal(await d.page.evaluate(() => document.querySelectorAll('img').length), 0, 'no <img> created');
    assert.equal(await d.page.evaluate(() => document.querySelectorAll('[onerror]').length), 0);
    assert.deepEqual(d.dialogs, [], 'no dialog opened');
    const mark = await d.page.evaluate(() => {
      const e = document.querySelector('ul.examples mark');
      return e ? e.textContent : null;
    });
    assert.equal(mark ?? XSS, XSS);
    await close(d);
  });

  test('a 1 MB label, run name, tag or example is drawn clipped with an ellipsis, the fuller text in a tooltip', async () => {
    const HUGE = `L${'x'.repeat(1_000_000)}`;
    const longestText = () =>
      d.page.evaluate(() => {
        // every text node drawn (the resolved config's <pre> is a JSON dump, not drawn from these strings)
        const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        let max = 0;
        for (let n = w.nextNode(); n; n = w.nextNode()) if (!n.parentElement?.closest('pre, title')) max = Math.max(max, n.textContent?.length ?? 0);
        return max;
      });
    let d = await open();
    const conf = lastVal.confusion!;
    const huge: EvalRecord = {
      ...lastVal,
      perClass: { ...lastVal.perClass, [HUGE]: { precision: 1, recall: 1, f1: 1, support: 1 } },
      confusion: { labels: [...conf.labels, HUGE], matrix: [...conf.matrix.map((r) => [...r, 1]), conf.labels.map(() => 2).concat(3)] },
    };
    const summary = { ...run.summary, name: HUGE, notes: HUGE, tags: [HUGE] };
    await d.send({ type: 'init', mode: 'run', runs: [summary] });
    await d.send({ type: 'history', runId: summary.id, records: [...trains.slice(0, 50), huge], done: true });
    await d.page.waitForSelector('[data-chart="loss"] canvas');
    await d.clickTab('confusion');
    await d.page.click(`svg.confusion .cell[data-gold="${HUGE}"][data-pred="O"]`);
    await d.waitForPosted((m) => m.type === 'requestMisclassified');
    await d.send({
      type: 'misclassified',
      runId: summary.id,
      split: 'validation',
      examples: [{ file: `/data/${HUGE}.txt`, line: 3, words: ['a', HUGE, 'b'], position: 1, gold: HUGE, pred: 'O' }],
    });
    await d.page.waitForSelector('ul.examples li');
    assert.ok((await longestText()) <= 2000, 'no text node longer than the long-text limit');
    const labels = await d.page.evaluate(() => Array.from(document.querySelectorAll('svg.confusion text.label')).map((t) => t.firstChild?.textContent ?? ''));
    const clipped = labels.filter((l) => l.startsWith('Lxxx'));
    assert.equal(clipped.length, 2, 'the label on both axes');
    for (const l of clipped) assert.ok(l.length <= 80 && l.endsWith('…'), l.slice(0, 100));
    assert.ok(
      await d.page.evaluate(() => Array.from(document.querySelectorAll('svg.confusion text.label > title')).some((t) => t.textContent.startsWith('Lxxx'))),
      'full text in <title>',
    );
    const name = await d.page.evaluate(() => {
      const h = document.querySelector('h1.run-name')!;
      return { text: h.textContent, title: h.getAttribute('title') ?? '' };
    });
    assert.ok(name.text.length <= 81 && name.text.endsWith('…'), name.text.slice(0, 100));
    assert.ok(name.title.length > 80 && name.title.length <= 2000 && name.title.startsWith('Lxxx'), 'the run name in a title');
    await d.clickTab('reports');
    const row = await d.page.evaluate(() =>
      Array.from(document.querySelectorAll('table.report th[scope="row"]'))
        .map((t) => t.textContent)
        .find((t) => t.startsWith('Lxxx')),
    );
    assert.ok(row && row.length <= 80 && row.endsWith('…'), `per-class row: ${row?.slice(0, 100)}`);
    assert.ok((await longestText()) <= 2000);
    await close(d);
    // compare mode: run names in the legends, the run list and the hyper-parameter table
    d = await open();
    const other = { ...run.summary, id: 'other', name: `M${'y'.repeat(1_000_000)}`, config: { ...(run.summary.config as object), note: HUGE } };
    await d.send({ type: 'init', mode: 'compare', runs: [summary, other] });
    for (const s of [summary, other]) await d.send({ type: 'history', runId: s.id, records: trains.slice(0, 50), done: true });
    await d.page.waitForSelector('[data-chart="loss"] canvas');
    const legend = await d.page.evaluate(() => Array.from(document.querySelectorAll('.u-legend .u-label')).map((e) => e.textContent));
    assert.ok(legend.length >= 2, legend.join(' | ').slice(0, 300));
    for (const l of legend) assert.ok(l.length <= 120, `legend: ${l.slice(0, 100)}`);
    await d.clickTab('config');
    assert.ok((await longestText()) <= 2000);
    await close(d);
  });

  test('bad messages are dropped; good ones still work', async () => {
    const d = await open();
    const junk: unknown[] = [
      null,
      42,
      'init',
      { type: 'nope' },
      { type: 'init', mode: 'table', runs: [] },
      { type: 'init', mode: 'run' },
      { type: 'history', runId: 5, records: [], done: true },
      { type: 'append', runId: 'x', records: 'lots' },
      { type: 'status', run: { id: 'x' } },
      { type: 'misclassified', runId: 'x', split: 'train', examples: [] },
      { type: 'init', mode: 'run', runs: [{ id: 1, name: {} }] },
    ];
    for (const j of junk) await d.send(j as Record<string, unknown>);
    await d.send({ type: 'init', mode: 'run', runs: [run.summary] });
    // bad records inside a good message are skipped, good ones kept
    await d.send({
      type: 'history',
      runId: run.summary.id,
      done: true,
      records: [
        ...trains.slice(0, 10),
        { type: 'train', step: 'eleven' },
        { type: 'eval', split: 'validation', step: 11, epoch: 0, metrics: { f1: 'high' } },
        { ...lastVal, confusion: { labels: ['O'], matrix: [[1, 2]] } },
      ] as unknown[],
    });
    await d.page.waitForSelector('[data-chart="loss"][data-points="10"]');
    assert.equal(await d.page.locator('[data-chart="val-loss"]').count(), 0, 'the malformed eval record was dropped');
    await close(d);
  });

  test('screenshots: light and dark themes (switching theme live)', async () => {
    const d = await open({ theme: 'light' });
    await d.play([{ ...run, summary: { ...run.summary, status: 'running', step: 640 } }], { upTo: 420 });
    await d.send({ type: 'status', run: { ...run.summary, status: 'running', step: 640 }, etaSeconds: 95 });
    await d.page.waitForSelector('[data-chart="throughput"] canvas');
    await d.page.waitForFunction(() => document.querySelector('[data-fact="eta"] .fact-value')?.textContent === '1:35');
    const bg = () => d.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await bg(), 'rgb(255, 255, 255)');
    await d.page.screenshot({ path: join(OUT, 'run-light.png'), fullPage: true });
    const lightInk = await inkOf(d, 'loss', '#1a85ff');
    await d.setTheme('dark');
    await d.page.waitForFunction(() => getComputedStyle(document.body).backgroundColor === 'rgb(30, 30, 30)');
    // charts are rebuilt with the dark theme's colours
    let darkInk = { ink: 0, match: 0 };
    for (let i = 0; i < 50 && darkInk.match < 100; i++) {
      darkInk = await inkOf(d, 'loss', '#3794ff');
      if (darkInk.match < 100) await d.page.waitForTimeout(20);
    }
    assert.ok(lightInk.match > 100 && darkInk.match > 100, `series in each theme's blue (${lightInk.match}, ${darkInk.match})`);
    await d.page.screenshot({ path: join(OUT, 'run-dark.png'), fullPage: true });
    await d.clickTab('confusion');
    await d.setTheme('light');
    await d.page.waitForSelector('svg.confusion');
    await d.page.screenshot({ path: join(OUT, 'confusion-light.png'), fullPage: true });
    await close(d);
  });
});
