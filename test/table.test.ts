// The experiments table webview in headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// the real bundle (dist/table.js) in the real page (strict CSP), fed rows as the host sends them.
// Run: node --import tsx --test test/table.test.ts   (needs `npm run build` first: dist/table.js)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { closeClean, DashboardPage, ROOT, startBrowserHarness, type PageServer } from './helpers/webview-host';
import { synthRows } from './helpers/table-rows';
import type { TableRow, TableToHost } from '../src/shared/protocol';

const OUT = join(ROOT, 'test-output/webview');
let browser: Browser;
let server: PageServer;

before(async () => {
  [browser, server] = await startBrowserHarness('dist/table.js', OUT);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const T0 = Date.UTC(2026, 10, 30, 9, 0);
function row(id: string, i: number, o: Partial<TableRow>): TableRow {
  return {
    id,
    shortId: `${id}00000`.slice(0, 6),
    label: `run ${id}`,
    name: `run ${id}`,
    status: 'completed',
    config: 'ner.finetune.yaml',
    startedAt: new Date(T0 + i * 3600_000).toISOString(),
    endedAt: new Date(T0 + i * 3600_000 + 600_000).toISOString(),
    step: 100,
    totalSteps: 100,
    metrics: {},
    tags: [],
    ...o,
    params: { task: 'token-classification', 'training.epochs': 3, ...o.params },
  };
}
// A to F, started in that order (the default sort is newest first: F … A)
const ROWS: TableRow[] = [
  row('A', 0, { params: { 'training.lr': 1e-4, 'training.batch_size': 32 }, metrics: { best_f1: 0.95, test_f1: 0.93 }, tags: ['base'] }),
  row('B', 1, { params: { 'training.lr': 3e-5, 'training.batch_size': 32 }, metrics: { best_f1: 0.91, test_f1: 0.9 }, notes: 'warmup longer' }),
  row('C', 2, { params: { 'training.lr': 5e-3, 'training.batch_size': 16 }, metrics: { test_f1: 0.85 }, status: 'failed' }),
  row('D', 3, { params: { 'training.lr': 3e-5, 'training.batch_size': 16 }, status: 'running', step: 10, endedAt: undefined, config: 'cls.finetune.yaml' }),
  row('E', 4, {
    params: { 'training.lr': 2e-4, 'training.batch_size': 64 },
    metrics: { best_f1: 0.97, test_f1: 0.96 },
    config: 'cls.finetune.yaml',
    sweep: 's1',
  }),
  row('F', 5, {
    params: { 'training.lr': 1e-5, 'training.batch_size': 64 },
    metrics: { best_f1: 0.8, test_f1: 0.79 },
    config: 'cls.finetune.yaml',
    sweep: 's1',
  }),
];

async function open(rows: TableRow[] = ROWS, opts: { theme?: 'light' | 'dark'; flat?: boolean; height?: number } = {}): Promise<DashboardPage> {
  const d = await DashboardPage.open(browser, server, { path: '/table', theme: opts.theme, width: 1100, height: opts.height ?? 520 });
  assert.deepEqual(await d.posted(), [{ type: 'ready' }], 'ready first, nothing else unprompted');
  await d.send({ type: 'rows', rows });
  await d.page.waitForSelector('.body .row');
  if (opts.flat) {
    await d.page.click('label[for="group"]');
    await d.page.waitForFunction(() => !document.querySelector('.body .row.group'));
  }
  return d;
}

const close = closeClean;

/** What the body draws, top to bottom: a run's id, or `[group label]`. */
function drawn(d: DashboardPage): Promise<string[]> {
  return d.page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.body .row'))
      .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
      .map((r) => r.dataset.id ?? `[${r.querySelector('.group-label')?.textContent}]`),
  );
}
const runIds = async (d: DashboardPage) => (await drawn(d)).filter((x) => !x.startsWith('['));

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const same = (want: string[]) => (v: string[]) => JSON.stringify(v) === JSON.stringify(want);
const headers = (d: DashboardPage) => d.page.locator('.row.head [role="columnheader"]').evaluateAll((hs) => hs.map((h) => (h as HTMLElement).dataset.key!));
const lastPosted = async (d: DashboardPage, type: TableToHost['type']) => (await d.posted()).filter((m) => m.type === type).at(-1);

async function filterWith(d: DashboardPage, text: string): Promise<void> {
  await d.page.fill('input.filter', text);
}

describe('experiments table webview', () => {
  test('an ARIA grid: rows grouped by config and sweep, newest first, pinned on top', async () => {
    const d = await open();
    assert.equal(await d.page.getAttribute('.grid', 'role'), 'grid');
    assert.equal(await d.page.getAttribute('.grid', 'aria-multiselectable'), 'true');
    // groups come in the order of their newest run: F (in sweep s1) is the newest of all
    assert.deepEqual(await drawn(d), ['[cls.finetune.yaml]', '[sweep s1]', 'F', 'E', 'D', '[ner.finetune.yaml]', 'C', 'B', 'A']);
    assert.equal(await d.page.getAttribute('.grid', 'aria-rowcount'), '10');
    assert.equal(await d.page.locator('.body .row[data-id="A"] [role="gridcell"]').count(), (await headers(d)).length);
    assert.equal(await d.page.locator('.body .row[data-id="A"] .label-text').textContent(), 'run A');
    assert.equal(await d.page.locator('.body .row[data-id="D"] [aria-colindex="6"]').textContent(), '10/100', 'step of total');
    // a group collapses (click) and opens again (keyboard: ArrowRight on the focused group)
    await d.page.click('.body .row.group[data-group="config:cls.finetune.yaml"]');
    assert.deepEqual(await drawn(d), ['[cls.finetune.yaml]', '[ner.finetune.yaml]', 'C', 'B', 'A']);
    assert.equal(await d.page.getAttribute('.body .row.group[data-group="config:cls.finetune.yaml"]', 'aria-expanded'), 'false');
    await d.page.keyboard.press('ArrowRight');
    assert.deepEqual((await drawn(d)).length, 9);
    await close(d);
  });

  test('sort: a header click sorts by it (best first for a metric, then the other way); shift-click adds a key; marks and aria-sort', async () => {
    const d = await open(ROWS, { flat: true });
    assert.deepEqual(await runIds(d), ['F', 'E', 'D', 'C', 'B', 'A']);
    await d.page.click('[role="columnheader"][data-key="best_f1"]');
    assert.deepEqual(await runIds(d), ['E', 'A', 'B', 'F', 'C', 'D'], 'highest f1 first; runs without it last');
    assert.equal(await d.page.getAttribute('[data-key="best_f1"]', 'aria-sort'), 'descending');
    await d.page.click('[role="columnheader"][data-key="best_f1"]');
    assert.deepEqual(await runIds(d), ['F', 'B', 'A', 'E', 'C', 'D'], 'the other way; missing still last');
    // multi-column: batch size ascending, then best f1
    await d.page.click('[role="columnheader"][data-key="training.batch_size"]');
    await d.page.click('[role="columnheader"][data-key="best_f1"]', { modifiers: ['Shift'] });
    assert.deepEqual(await runIds(d), ['C', 'D', 'A', 'B', 'E', 'F']);
    assert.equal(await d.page.locator('[data-key="training.batch_size"] .sort-mark').textContent(), '▲1');
    assert.equal(await d.page.locator('[data-key="best_f1"] .sort-mark').textContent(), '▼2');
    assert.equal(await d.page.locator('[data-key="training.lr"] .sort-mark').textContent(), '');
    // kept across a reload (webview state)
    await d.reload();
    await d.send({ type: 'rows', rows: ROWS });
    await until(() => runIds(d), same(['C', 'D', 'A', 'B', 'E', 'F']), 'sort after reload');
    await close(d);
  });

  test('filter: an expression, a half-written one (inline error, every run shown), free text', async () => {
    const d = await open(ROWS, { flat: true });
    await filterWith(d, 'f1 > 0.9 and training.lr < 1e-4');
    await until(() => runIds(d), same(['B']), 'expression');
    assert.equal(await d.page.locator('.count').textContent(), '1 of 6 runs');
    assert.ok(await d.page.locator('#filter-error').isHidden());
    await filterWith(d, '(status = completed or status = failed) and not lr >= 1e-4');
    await until(() => runIds(d), same(['F', 'B']), 'or, not, parentheses');
    await filterWith(d, 'f1 >');
    await until(
      () => runIds(d),
      (v) => v.length === 6,
      'a broken expression filters nothing',
    );
    assert.match((await d.page.locator('#filter-error').textContent()) ?? '', /^Filter: expected a value after '>', found the end/);
    assert.ok(await d.page.locator('#filter-error').isVisible());
    assert.equal(await d.page.getAttribute('input.filter', 'aria-invalid'), 'true');
    await filterWith(d, 'warmup');
    await until(() => runIds(d), same(['B']), 'free text in notes');
    assert.ok(await d.page.locator('#filter-error').isHidden());
    await filterWith(d, 'BASE');
    await until(() => runIds(d), same(['A']), 'free text in tags');
    await filterWith(d, '');
    await until(
      () => runIds(d),
      (v) => v.length === 6,
      'cleared',
    );
    await close(d);
  });

  test('column chooser: parameters that differ are shown by default, equal ones hidden; hide and show one', async () => {
    const d = await open();
    const h = await headers(d);
    assert.deepEqual(h, ['pinned', 'status', 'label', 'started', 'duration', 'step', 'training.batch_size', 'training.lr', 'best_f1', 'test_f1']);
    await d.page.click('button[aria-controls="chooser"]');
    assert.equal(await d.page.getAttribute('button[aria-controls="chooser"]', 'aria-expanded'), 'true');
    assert.equal(await d.page.isChecked('[data-column="training.epochs"]'), false);
    assert.equal(await d.page.locator('label[for="col-training.lr"] .badge').textContent(), 'differs');
    await d.page.click('[data-column="training.lr"]');
    await until(
      () => headers(d),
      (x) => !x.includes('training.lr'),
      'hidden',
    );
    await d.page.click('[data-column="training.epochs"]');
    await until(
      () => headers(d),
      (x) => x.includes('training.epochs'),
      'shown',
    );
    assert.equal(await d.page.locator('.body .row[data-id="A"] [aria-colindex="7"]').textContent(), '32');
    await d.page.click('button[data-action="reset-columns"]');
    assert.deepEqual(await headers(d), h, 'defaults again');
    await d.page.keyboard.press('Escape');
    assert.ok(await d.page.locator('#chooser').isHidden());
    await close(d);
  });

  test('selection: click, ctrl-click, shift-click → Compare sends the selected ids in drawn order', async () => {
    const d = await open(ROWS, { flat: true });
    assert.ok(await d.page.isDisabled('button[data-action="compare"]'));
    await d.page.click('.body .row[data-id="A"] .label');
    await d.page.click('.body .row[data-id="C"] .label', { modifiers: ['Control'] });
    assert.equal(await d.page.getAttribute('.body .row[data-id="C"]', 'aria-selected'), 'true');
    assert.ok((await d.page.isDisabled('button[data-action="compare"]')) === false);
    await d.page.click('button[data-action="compare"]');
    assert.deepEqual(await lastPosted(d, 'action'), { type: 'action', action: 'compare', ids: ['C', 'A'] });
    await d.page.click('.body .row[data-id="F"] .label');
    await d.page.click('.body .row[data-id="D"] .label', { modifiers: ['Shift'] });
    assert.equal(await d.page.locator('.count').textContent(), '6 runs · 3 selected');
    await d.page.click('button[data-action="compare"]');
    assert.deepEqual(await lastPosted(d, 'action'), { type: 'action', action: 'compare', ids: ['F', 'E', 'D'] });
    assert.ok(await d.page.isDisabled('button[data-action="diff"]'), 'diff needs exactly two');
    await d.page.click('.body .row[data-id="B"] .label', { modifiers: ['Control'] });
    await d.page.click('button[data-action="delete"]');
    assert.deepEqual(await lastPosted(d, 'action'), { type: 'action', action: 'delete', ids: ['F', 'E', 'D', 'B'] });
    await d.page.dblclick('.body .row[data-id="C"] .label');
    assert.deepEqual(await lastPosted(d, 'action'), { type: 'action', action: 'open', ids: ['C'] });
    await close(d);
  });

  test('keyboard: arrows move and select, shift+arrows extend, space toggles, Enter opens', async () => {
    const d = await open(ROWS, { flat: true });
    await d.page.focus('.grid');
    await d.page.keyboard.press('Home');
    await d.page.keyboard.press('ArrowDown');
    assert.equal(await d.page.getAttribute('.body .row[data-id="E"]', 'aria-selected'), 'true');
    assert.equal(await d.page.getAttribute('.grid', 'aria-activedescendant'), 'item-1');
    await d.page.keyboard.press('Shift+ArrowDown');
    await d.page.keyboard.press('Shift+ArrowDown');
    await d.page.keyboard.press('Enter');
    assert.deepEqual(await lastPosted(d, 'action'), { type: 'action', action: 'open', ids: ['E', 'D', 'C'] });
    await d.page.keyboard.press('Escape');
    assert.equal(await d.page.locator('.body .row[aria-selected="true"]').count(), 0);
    await d.page.keyboard.press('Control+ArrowDown'); // focus moves, selection stays empty
    await d.page.keyboard.press(' ');
    assert.deepEqual(await d.page.locator('.body .row[aria-selected="true"]').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.id)), ['B']);
    await d.page.keyboard.press('End');
    assert.equal(await d.page.getAttribute('.body .row[data-id="A"]', 'aria-selected'), 'true');
    // header cells are keyboard sortable
    await d.page.focus('[role="columnheader"][data-key="test_f1"]');
    await d.page.keyboard.press('Enter');
    assert.deepEqual(await runIds(d), ['E', 'A', 'B', 'C', 'F', 'D']);
    await close(d);
  });

  test('pin: the star posts pin and puts the run on top (a Pinned group when grouped)', async () => {
    const d = await open(ROWS, { flat: true });
    await d.page.click('[data-pin="B"]');
    assert.deepEqual(await lastPosted(d, 'action'), { type: 'action', action: 'pin', ids: ['B'] });
    assert.deepEqual(await runIds(d), ['B', 'F', 'E', 'D', 'C', 'A']);
    assert.equal(await d.page.locator('[data-pin="B"]').textContent(), '★');
    await d.page.click('label[for="group"]');
    assert.deepEqual((await drawn(d)).slice(0, 2), ['[Pinned]', 'B']);
    // the host's confirmation (or a pin from elsewhere) arrives as an upsert
    await d.send({ type: 'upsert', rows: [{ ...ROWS[5], pinned: true }] });
    await until(
      () => drawn(d),
      (v) => v.slice(0, 3).join() === '[Pinned],F,B',
      'second pin',
    );
    await d.page.click('[data-pin="B"]');
    assert.deepEqual(await lastPosted(d, 'action'), { type: 'action', action: 'unpin', ids: ['B'] });
    await close(d);
  });

  test('CSV export: the rows shown, in order, with the chosen columns', async () => {
    const d = await open(ROWS, { flat: true });
    await filterWith(d, 'status = completed');
    await until(() => runIds(d), same(['F', 'E', 'B', 'A']), 'filtered');
    await d.page.click('button[data-action="export"]');
    const m = await lastPosted(d, 'export');
    assert.ok(m && m.type === 'export' && m.format === 'csv' && m.suggestedName === 'experiments.csv');
    const lines = m.data.trimEnd().split('\n');
    assert.equal(lines[0], 'id,run,pinned,status,started,duration_s,step,training.batch_size,training.lr,best_f1,test_f1');
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      ['F', 'E', 'B', 'A'],
    );
    assert.equal(lines[1], `F,run F,false,completed,${ROWS[5].startedAt},600,100,64,0.00001,0.8,0.79`);
    await close(d);
  });

  test('live: an upsert updates a running row in place and adds a new one', async () => {
    const d = await open(ROWS, { flat: true });
    const step = () => d.page.locator('.body .row[data-id="D"] [aria-colindex="6"]').textContent();
    assert.equal(await step(), '10/100');
    await d.send({ type: 'upsert', rows: [{ ...ROWS[3], step: 55, metrics: { best_f1: 0.5 } }] });
    await until(step, (v) => v === '55/100', 'step of the running row');
    assert.equal(await d.page.locator('.body .row[data-id="D"] [aria-colindex="9"]').textContent(), '0.5');
    await d.send({ type: 'upsert', rows: [row('G', 6, { status: 'running', step: 1, params: { 'training.lr': 1e-3, 'training.batch_size': 8 } })] });
    await until(
      () => runIds(d),
      (v) => v[0] === 'G',
      'new run on top (newest)',
    );
    assert.equal(await d.page.locator('.count').textContent(), '7 runs');
    await d.send({ type: 'remove', ids: ['G', 'A'] });
    await until(() => runIds(d), same(['F', 'E', 'D', 'C', 'B']), 'removed');
    // a malformed row is dropped, not drawn
    await d.send({ type: 'upsert', rows: [{ ...ROWS[0], id: 'bad', status: '<img>' }] });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await d.page.locator('.body .row[data-id="bad"]').count(), 0);
    await close(d);
  });

  test('10,000 runs: a few dozen rows in the DOM; sort, filter and scroll to the end', async () => {
    const many = synthRows(10_000);
    const d = await open(many, { flat: true, height: 700 });
    const domRows = () => d.page.locator('.body .row').count();
    await until(
      () => d.page.locator('.count').textContent(),
      (v) => v === '10,000 runs',
      'all rows',
    );
    assert.ok((await domRows()) < 60, `${await domRows()} rows in the DOM`);
    assert.equal(await d.page.getAttribute('.grid', 'aria-rowcount'), '10001');
    await d.page.click('[role="columnheader"][data-key="best_f1"]');
    const top = Math.max(...many.map((r) => r.metrics.best_f1));
    const first = (await runIds(d))[0];
    assert.equal(many.find((r) => r.id === first)!.metrics.best_f1, top);
    assert.ok((await domRows()) < 60);
    await d.page.evaluate(() => {
      const g = document.querySelector('.grid')!;
      g.scrollTop = g.scrollHeight;
    });
    await until(
      () => d.page.evaluate(() => Math.max(...Array.from(document.querySelectorAll<HTMLElement>('.body .row')).map((r) => Number(r.dataset.index)))),
      (v) => v === 9999,
      'last row drawn',
    );
    assert.ok((await domRows()) < 60, `${await domRows()} rows in the DOM after scrolling`);
    const want = many.filter((r) => r.metrics.best_f1 > 0.98).length;
    await filterWith(d, 'f1 > 0.98');
    await until(
      () => d.page.locator('.count').textContent(),
      (v) => v === `${want} of 10,000 runs`,
      'filtered count',
    );
    await close(d);
  });

  test('plots: parallel coordinates and a scatter of the shown runs, or of the selected ones', async () => {
    const d = await open(ROWS, { flat: true, height: 900 });
    assert.equal(await d.page.isVisible('section.plots'), false, 'closed until asked for');
    await d.page.click('button[data-action="plots"]');
    assert.equal(await d.page.getAttribute('button[data-action="plots"]', 'aria-expanded'), 'true');
    const note = () =>
      d.page
        .locator('.plots-bar .muted')
        .textContent()
        .then((t) => t ?? '');
    await until(note, (t) => t === '6 shown runs', 'plots note');
    assert.equal(await d.page.inputValue('.plots select[aria-label="Metric"]'), 'best_f1');
    const xs = await d.page.locator('.plots select[aria-label^="Scatter"] option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
    assert.deepEqual(xs.sort(), ['training.batch_size', 'training.lr']);
    /** Pixels of a plot canvas that differ from its top-left corner (the background). */
    const inked = (sel: string) =>
      d.page.evaluate((s) => {
        const c = document.querySelector<HTMLCanvasElement>(s)!;
        const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i] !== px[0] || px[i + 1] !== px[1] || px[i + 2] !== px[2] || px[i + 3] !== px[3]) n++;
        return n;
      }, sel);
    const all = await until(
      () => inked('.plot-parallel canvas'),
      (n) => n > 1000,
      'parallel drawn',
    );
    assert.ok((await inked('.plots-body > :nth-child(2) canvas')) > 500, 'scatter drawn');
    await d.page.click('.body .row[data-id="A"] .label');
    await d.page.click('.body .row[data-id="E"] .label', { modifiers: ['Control'] });
    await until(note, (t) => t === '2 selected runs', 'plots of the selection');
    const two = await until(
      () => inked('.plot-parallel canvas'),
      (n) => n !== all,
      'parallel redrawn',
    );
    assert.ok(two < all, `two runs draw less than six (${two} vs ${all} pixels)`);
    await close(d);
  });

  test('screenshots in the light and dark themes', async () => {
    for (const theme of ['light', 'dark'] as const) {
      const d = await open(ROWS, { theme, height: 420 });
      await d.page.click('[data-pin="B"]');
      await d.page.click('.body .row[data-id="E"] .label');
      await d.page.click('.body .row[data-id="A"] .label', { modifiers: ['Control'] });
      await d.page.click('[role="columnheader"][data-key="best_f1"]');
      await d.page.screenshot({ path: join(OUT, `table-${theme}.png`) });
      await close(d);
      const p = await open(ROWS, { theme, height: 760 });
      await p.page.click('button[data-action="plots"]');
      await p.page.waitForTimeout(300);
      await p.page.screenshot({ path: join(OUT, `table-plots-${theme}.png`) });
      await close(p);
    }
  });
});
