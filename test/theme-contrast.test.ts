// WCAG AA contrast of the dashboard in VS Code's four built-in theme families (Dark+, Light+, HC
// Black, HC Light), with their real colour values (test/fixtures/vscode-themes.json, source named
// there): every drawn text colour against the background it is drawn on (4.5:1, 3:1 for large
// text), from the rendered page's computed styles through shadow roots, and every run colour the
// charts draw with against the chart background (3:1, graphics). Screenshots per theme.
// Run: node --import tsx --test test/theme-contrast.test.ts   (needs `npm run build`: dist/webview.js)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { RunSummary } from '../src/shared/protocol';
import { DashboardPage, loadFixtureRun, ROOT, startBrowserHarness, type PageServer, type RecordedRun } from './helpers/webview-host';
import FIXTURE from './fixtures/vscode-themes.json';

const OUT = join(ROOT, 'test-output/webview');
type ThemeName = keyof typeof FIXTURE.themes;

let browser: Browser;
let server: PageServer;
const run = loadFixtureRun();

before(async () => {
  [browser, server] = await startBrowserHarness('dist/webview.js', OUT);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

export interface Failure {
  text: string;
  color: string;
  background: string;
  ratio: number;
  need: number;
  where: string;
}

/**
 * Every visible text node of the page (shadow roots included): its colour (an SVG text's fill; a
 * slotted node's slot's colour; alpha and ancestors' opacity blended) against the background under
 * it (the background colours of its flat-tree ancestors composited, or an SVG text's halo stroke).
 * A plain-JavaScript string: the TS loader would wrap helper functions in a __name call the page lacks.
 */
export const TEXT_CONTRAST = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map((k) => top[k] * top[3] + under[k] * (1 - top[3])).concat(1);
  const lin = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
  const up = (n) => n.assignedSlot || n.parentElement || (n.parentNode && n.parentNode.host) || null;
  const chain = (el) => { const out = []; for (let e = el; e; e = up(e)) out.push(e); return out; };
  const rgb = (c) => 'rgb(' + c.slice(0, 3).map(Math.round).join(', ') + ')';
  const failures = [];
  let checked = 0;
  const visit = (root) => {
    const w = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = w.currentNode; n; n = w.nextNode()) {
      if (n.nodeType === 1 && n.shadowRoot) visit(n.shadowRoot);
      if (n.nodeType !== 3 || !n.textContent.trim()) continue;
      const el = n.assignedSlot || n.parentElement;
      if (!el || el.closest('title, style, script, [disabled], [aria-disabled="true"]')) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      if (r.width < 1 || r.height < 1) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility !== 'visible') continue;
      const path = chain(el);
      let opacity = 1;
      for (const e of path) opacity *= Number(getComputedStyle(e).opacity);
      if (opacity === 0) continue;
      let bg = [255, 255, 255, 1];
      for (const e of path.slice().reverse()) {
        const b = parse(getComputedStyle(e).backgroundColor);
        if (b && b[3] > 0) bg = over(b, bg);
      }
      const svgText = el instanceof SVGElement;
      if (svgText) {
        const halo = parse(cs.stroke);
        if (halo && halo[3] === 1 && parseFloat(cs.strokeWidth) >= 1.5 && cs.paintOrder.startsWith('stroke')) bg = halo;
      }
      const fg = parse(svgText ? cs.fill : cs.color);
      if (!fg) continue;
      fg[3] *= opacity * (svgText ? Number(cs.fillOpacity) : 1);
      const seen = over(fg, bg);
      const size = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
      const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
      const k = ratio(seen, bg);
      checked++;
      if (k < need - 0.005) {
        const cls = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
        failures.push({ text: n.textContent.trim().slice(0, 40), color: rgb(seen), background: rgb(bg), ratio: Math.round(k * 100) / 100, need, where: path.slice(0, 4).map(cls).join(' < ') });
      }
    }
  };
  visit(document.body);
  return { checked, failures };
})()`;

const lum = (c: readonly number[]) => {
  const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
};
const ratio = (a: readonly number[], b: readonly number[]) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
const rgbOf = (c: string) =>
  /rgba?\(([^)]+)\)/
    .exec(c)![1]
    .split(/[\s,/]+/)
    .filter(Boolean)
    .map(Number);

async function textFailures(d: DashboardPage, state: string): Promise<string[]> {
  const { checked, failures } = await d.page.evaluate<{ checked: number; failures: Failure[] }>(TEXT_CONTRAST);
  assert.ok(checked > 5, `${state}: only ${checked} text nodes found`);
  return failures.map((f) => `${state}: "${f.text}" ${f.color} on ${f.background} = ${f.ratio}:1 < ${f.need}:1 (${f.where})`);
}

/** Six runs (every palette colour), each in another status, one with an error. */
function sixRuns(): RecordedRun[] {
  const cfg = run.summary.config as { training: Record<string, unknown> };
  const statuses: RunSummary['status'][] = ['completed', 'running', 'failed', 'stopped', 'queued', 'pruned'];
  return statuses.map((status, k) => ({
    ...run,
    summary: {
      ...run.summary,
      id: `run-${k}`,
      name: `ner-${status}`,
      status,
      error: status === 'failed' ? { message: 'CUDA out of memory' } : undefined,
      config: { ...cfg, training: { ...cfg.training, lr: 1e-4 * (k + 1) } }, // a row that differs in the hyper-parameter table
    },
    records: run.records.filter((r) => r.type === 'train').map((r) => (r.type === 'train' ? { ...r, loss: r.loss * (1 + k * 0.25) } : r)),
  }));
}

describe('theme contrast (WCAG AA) of the dashboard', () => {
  for (const theme of Object.keys(FIXTURE.themes) as ThemeName[]) {
    const t = FIXTURE.themes[theme];
    test(`${t.name}: every text and every run colour reads against its background`, async () => {
      const failures: string[] = [];
      // one run: header, curves, confusion matrix with examples, reports, config
      let d = await DashboardPage.open(browser, server, { themeVars: t, width: 1200 });
      await d.play([run]);
      await d.page.waitForSelector('[data-chart="val-metrics"] canvas');
      failures.push(...(await textFailures(d, 'run/curves')));
      await d.page.screenshot({ path: join(OUT, `theme-${theme}-run.png`), fullPage: true });
      await d.clickTab('confusion');
      await d.page.waitForSelector('svg.confusion');
      const ex = run.misclassified.validation[0];
      await d.page.click(`svg.confusion .cell[data-gold="${ex.gold}"][data-pred="${ex.pred}"]`);
      await d.send({ type: 'misclassified', runId: run.summary.id, split: 'validation', examples: run.misclassified.validation });
      await d.page.waitForSelector('ul.examples li');
      failures.push(...(await textFailures(d, 'run/confusion')));
      await d.page.screenshot({ path: join(OUT, `theme-${theme}-confusion.png`), fullPage: true });
      await d.clickTab('reports');
      failures.push(...(await textFailures(d, 'run/reports')));
      await d.clickTab('config');
      failures.push(...(await textFailures(d, 'run/config')));
      await d.page.close();
      // six runs compared: every palette colour, every status
      d = await DashboardPage.open(browser, server, { themeVars: t, width: 1200 });
      const runs = sixRuns();
      await d.play(runs, { mode: 'compare' });
      await d.page.waitForFunction(() => document.querySelectorAll('.run-list .swatch').length === 6);
      await d.page.waitForSelector('[data-chart="loss"] canvas');
      failures.push(...(await textFailures(d, 'compare/curves')));
      const bg = rgbOf(await d.page.evaluate(() => getComputedStyle(document.body).backgroundColor));
      const swatches = await d.page.$$eval('.run-list .swatch', (els) => els.map((e) => getComputedStyle(e).backgroundColor));
      assert.equal(new Set(swatches).size, 6, `six distinct run colours: ${swatches.join(' ')}`);
      for (const s of swatches) {
        const c = rgbOf(s);
        if (c.length > 3 && c[3] < 1) failures.push(`run colour ${s} is translucent`);
        if (ratio(c, bg) < 3) failures.push(`run colour ${s} on the chart background: ${ratio(c, bg).toFixed(2)}:1 < 3:1`);
      }
      // and the loss chart is drawn in exactly those colours (what the canvas holds, not just the swatches)
      const drawn = await d.page.evaluate((colors) => {
        const c = document.querySelector<HTMLCanvasElement>('[data-chart="loss"] canvas')!;
        const img = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const want = colors.map((s) => s.match(/\d+/g)!.slice(0, 3).map(Number));
        const counts = want.map(() => 0);
        for (let i = 0; i < img.length; i += 4) {
          if (img[i + 3] < 250) continue;
          want.forEach((w, k) => {
            if (Math.abs(img[i] - w[0]) + Math.abs(img[i + 1] - w[1]) + Math.abs(img[i + 2] - w[2]) < 24) counts[k]++;
          });
        }
        return counts;
      }, swatches);
      drawn.forEach((n, k) => {
        if (n < 20) failures.push(`run ${k}'s curve is not drawn in its colour ${swatches[k]} (${n} pixels)`);
      });
      await d.page.screenshot({ path: join(OUT, `theme-${theme}-compare.png`), fullPage: true });
      await d.clickTab('config');
      failures.push(...(await textFailures(d, 'compare/config')));
      await d.page.close();
      assert.deepEqual(failures, [], `${t.name}:\n${failures.join('\n')}`);
    });
  }

  test('the text check finds a failure: grey text on grey', async () => {
    const d = await DashboardPage.open(browser, server, { themeVars: FIXTURE.themes.light });
    await d.play([run]);
    await d.page.evaluate(() => {
      const p = document.createElement('p');
      p.textContent = 'faint words';
      p.style.color = '#bbbbbb';
      document.body.append(p);
    });
    const found = (await textFailures(d, 'probe')).filter((f) => f.includes('faint words'));
    assert.equal(found.length, 1);
    assert.match(found[0], /"faint words" rgb\(187, 187, 187\) on rgb\(255, 255, 255\) = 1\.9\d?:1 < 4\.5:1/);
    await d.page.close();
  });
});
