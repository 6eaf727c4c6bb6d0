// The cross-run plots in headless Chromium (Debian's /usr/bin/chromium via playwright-core): a test
// page (test/helpers/plots-page.ts, bundled here with esbuild) under the dashboard's strict CSP, at
// device pixel ratio 2, with 50 synthetic runs, in VS Code's real theme colours
// (test/fixtures/vscode-themes.json). Checks the pixels drawn, hover, brushing, clicks, contrast.
// Run: node --import tsx --test test/plots-browser.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { PlotData } from '../src/webview/plots/types';
import { buildPlotsBundle, openPlotsPage, syntheticRuns } from './helpers/plots-host';
import { launchBrowser, ROOT, startServer, type PageServer } from './helpers/webview-host';
import FIXTURE from './fixtures/vscode-themes.json';

const OUT = join(ROOT, 'test-output/webview');
type ThemeName = keyof typeof FIXTURE.themes;

let browser: Browser;
let server: PageServer;
let bundle = '';

before(async () => {
  mkdirSync(OUT, { recursive: true });
  bundle = await buildPlotsBundle();
  [browser, server] = await Promise.all([launchBrowser(), startServer()]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

interface Hook {
  brushed: { ids: string[]; active: boolean }[];
  clicked: string[];
}

async function open(theme: ThemeName): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPlotsPage(browser, server, bundle, FIXTURE.themes[theme]);
  await opened.page.evaluate(
    (d) => (window as unknown as { __plots: { show(d: PlotData, x: string, y: string): void } }).__plots.show(d, 'training.lr', 'best_f1'),
    syntheticRuns(),
  );
  await opened.page.waitForFunction(() => document.querySelectorAll('canvas').length === 2);
  return opened;
}

const hook = (page: Page) => page.evaluate<Hook>(() => (window as unknown as { __plots: Hook }).__plots);

/** The RGBA of the canvas's device pixel at CSS (x, y) of plot `which` (0 parallel, 1 scatter). */
async function pixel(page: Page, which: number, x: number, y: number): Promise<[number, number, number, number]> {
  return page.evaluate(
    ({ which, x, y }) => {
      const c = document.querySelectorAll('canvas')[which];
      const dpr = c.width / c.clientWidth;
      return Array.from(c.getContext('2d')!.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data) as [number, number, number, number];
    },
    { which, x, y },
  );
}

const parseRgb = (c: string): [number, number, number] => {
  const m = /rgba?\(([^)]+)\)/.exec(c);
  if (m) return m[1].split(',').map(Number).slice(0, 3) as [number, number, number];
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
};
const lum = ([r, g, b]: readonly number[]) => {
  const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const ratio = (a: readonly number[], b: readonly number[]) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
const near = (a: readonly number[], b: readonly number[], tol = 40) => Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) < tol;

async function canvasBox(page: Page, which: number) {
  return (await page.locator('canvas').nth(which).boundingBox())!;
}

describe('cross-run plots in the browser', () => {
  test('parallel coordinates: HiDPI canvas, every run drawn, the highlighted ones on top in their colour, "—" for missing', async () => {
    const { page, errors } = await open('dark');
    const dims = await page.evaluate(() => {
      const c = document.querySelector('canvas')!;
      return { w: c.width, cw: c.clientWidth, h: c.height, ch: c.clientHeight };
    });
    assert.equal(dims.w, dims.cw * 2, 'canvas backing store at device pixel ratio 2');
    assert.equal(dims.h, dims.ch * 2);
    const bg = parseRgb(FIXTURE.themes.dark.vars['--vscode-editor-background']);
    const data = syntheticRuns();
    // each run's line passes through the point a third of the way from axis 2 to axis 3
    let drawn = 0;
    for (let i = 0; i < data.points.length; i++) {
      const pts = await page.evaluate((i) => (window as unknown as { __plots: { parallelLine(i: number): [number, number][] } }).__plots.parallelLine(i), i);
      const [x0, y0] = pts[2],
        [x1, y1] = pts[3];
      const px = await pixel(page, 0, x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3);
      if (!near(px, bg, 12)) drawn++;
    }
    assert.equal(drawn, data.points.length, 'a line for every run');
    // an empty spot (between axes, above the top) is the background
    const box = await canvasBox(page, 0);
    assert.ok(near(await pixel(page, 0, box.width / 2 + 40, 8), bg, 6), 'background where nothing is drawn');
    // the highlighted run is drawn on top: its colour just right of the batch-size axis, where the
    // lines of every run with the same batch size converge
    const hi = await page.evaluate(() => {
      const p = (window as unknown as { __plots: { parallel: { getTheme(): { colorOf(t: number): string }; getLayout(): { color: Float64Array } } } }).__plots
        .parallel;
      return p.getTheme().colorOf(p.getLayout().color[3]);
    });
    const pts3 = await page.evaluate(() => (window as unknown as { __plots: { parallelLine(i: number): [number, number][] } }).__plots.parallelLine(3));
    const f = 8 / (pts3[2][0] - pts3[1][0]);
    const mid = await pixel(page, 0, pts3[1][0] + 8, pts3[1][1] + (pts3[2][1] - pts3[1][1]) * f);
    assert.ok(near(mid, parseRgb(hi)), `highlighted run drawn in ${hi}, found rgb(${mid.slice(0, 3).join(',')})`);
    // a run without f1 ends at the "—" slot below the f1 axis
    const pts5 = await page.evaluate(() => (window as unknown as { __plots: { parallelLine(i: number): [number, number][] } }).__plots.parallelLine(5));
    const l = await page.evaluate(() => {
      const g = (window as unknown as { __plots: { parallel: { getLayout(): { bottom: number; missingY: number } } } }).__plots.parallel.getLayout();
      return { bottom: g.bottom, missingY: g.missingY };
    });
    assert.equal(pts5[4][1], l.missingY);
    assert.ok(l.missingY > l.bottom + 10);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('hover shows the nearest run and its values; a click on a line reports its id', async () => {
    const { page, errors } = await open('dark');
    const box = await canvasBox(page, 0);
    const pts = await page.evaluate(() => (window as unknown as { __plots: { parallelLine(i: number): [number, number][] } }).__plots.parallelLine(10));
    const x = (pts[1][0] + pts[2][0]) / 2,
      y = (pts[1][1] + pts[2][1]) / 2;
    await page.mouse.move(box.x + x, box.y + y);
    const tip = page.locator('.plot-parallel .plot-tooltip');
    await tip.waitFor({ state: 'visible' });
    const data = syntheticRuns();
    const p = data.points[10];
    const text = await tip.innerText();
    assert.match(text, new RegExp(`^${p.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(text, new RegExp(`batch_size: ${p.values['training.batch_size']}`));
    assert.match(text, new RegExp(`best f1: ${p.values.best_f1}`));
    await page.mouse.click(box.x + x, box.y + y);
    assert.deepEqual((await hook(page)).clicked, ['run-10']);
    await page.mouse.move(box.x + 2, box.y + box.height - 2);
    await tip.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('brushing an axis reports the runs inside; the lines outside turn grey; a click on the axis clears it', async () => {
    const { page, errors } = await open('light');
    const box = await canvasBox(page, 0);
    const l = await page.evaluate(() => {
      const g = (window as unknown as { __plots: { parallel: { getLayout(): { xs: number[]; top: number; bottom: number } } } }).__plots.parallel.getLayout();
      return { xs: g.xs, top: g.top, bottom: g.bottom };
    });
    const data = syntheticRuns();
    const f1s = data.points.map((p) => p.values.best_f1).filter((v): v is number => typeof v === 'number');
    const [min, max] = [Math.min(...f1s), Math.max(...f1s)];
    // drag on the f1 axis from its top to 40 % down: keeps f1 ≥ min + 0.6 (max − min)
    const yTo = Math.round(l.top + 0.4 * (l.bottom - l.top));
    const t = (l.bottom - yTo) / (l.bottom - l.top);
    await page.mouse.move(box.x + l.xs[4], box.y + l.top);
    await page.mouse.down();
    await page.mouse.move(box.x + l.xs[4], box.y + yTo, { steps: 6 });
    await page.mouse.up();
    const want = data.points.filter((p) => typeof p.values.best_f1 === 'number' && (p.values.best_f1 - min) / (max - min) >= t).map((p) => p.id);
    assert.ok(want.length > 5 && want.length < 45, `a brush that splits the runs (${want.length})`);
    const last = (await hook(page)).brushed.at(-1)!;
    assert.deepEqual(last, { ids: want, active: true });
    // a run outside the brush is drawn grey (muted), not in its colour
    const out = data.points.findIndex((p) => !want.includes(p.id) && !data.highlight!.includes(p.id) && typeof p.values.best_f1 === 'number');
    const colours = await page.evaluate((i) => {
      const p = (window as unknown as { __plots: { parallel: { getTheme(): { colorOf(t: number): string }; getLayout(): { color: Float64Array } } } }).__plots
        .parallel;
      return p.getTheme().colorOf(p.getLayout().color[i]);
    }, out);
    const pts = await page.evaluate((i) => (window as unknown as { __plots: { parallelLine(i: number): [number, number][] } }).__plots.parallelLine(i), out);
    // along its segment from warmup to optimizer (lines of other runs may cross a few of the points)
    let inColour = 0;
    for (let k = 1; k <= 9; k++) {
      const f = k / 10;
      const px = await pixel(page, 0, pts[2][0] + (pts[3][0] - pts[2][0]) * f, pts[2][1] + (pts[3][1] - pts[2][1]) * f);
      if (near(px, parseRgb(colours), 30)) inColour++;
    }
    assert.ok(inColour <= 2, `run outside the brush drawn grey, not in its colour ${colours} (${inColour} of 9 points in colour)`);
    // a brush on a second axis narrows further
    await page.mouse.move(box.x + l.xs[3], box.y + l.top - 2);
    await page.mouse.down();
    await page.mouse.move(box.x + l.xs[3], box.y + (l.top + l.bottom) / 2, { steps: 4 }); // the upper half: optimizer "sgd"
    await page.mouse.up();
    const both = data.points.filter((p) => want.includes(p.id) && p.values['training.optimizer'] === 'sgd').map((p) => p.id);
    assert.deepEqual((await hook(page)).brushed.at(-1)!.ids, both);
    // clicks on the axes clear their brushes: all runs again
    await page.mouse.click(box.x + l.xs[3], box.y + l.top + 20);
    await page.mouse.click(box.x + l.xs[4], box.y + l.top + 20);
    assert.deepEqual((await hook(page)).brushed.at(-1), { ids: data.points.map((p) => p.id), active: false });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('dragging an axis title moves the axis', async () => {
    const { page } = await open('dark');
    const box = await canvasBox(page, 0);
    const l = await page.evaluate(() => {
      const g = (window as unknown as { __plots: { parallel: { getLayout(): { xs: number[]; top: number } } } }).__plots.parallel.getLayout();
      return { xs: g.xs, top: g.top };
    });
    await page.mouse.move(box.x + l.xs[0], box.y + l.top - 18);
    await page.mouse.down();
    await page.mouse.move(box.x + (l.xs[2] + l.xs[3]) / 2, box.y + l.top - 18, { steps: 5 });
    await page.mouse.up();
    const keys = await page.evaluate(() =>
      (window as unknown as { __plots: { parallel: { getLayout(): { scales: { axis: { key: string } }[] } } } }).__plots.parallel
        .getLayout()
        .scales.map((s) => s.axis.key),
    );
    assert.deepEqual(keys, ['training.batch_size', 'training.warmup_ratio', 'training.lr', 'training.optimizer', 'best_f1']);
    await page.close();
  });

  test('scatter: dots at their values in their colour, hover tooltip, click reports the run', async () => {
    const { page, errors } = await open('dark');
    const box = await canvasBox(page, 1);
    const [x, y] = await page.evaluate(() => (window as unknown as { __plots: { scatterPoint(id: string): [number, number] } }).__plots.scatterPoint('run-3'));
    const colour = await page.evaluate(() => {
      const p = (
        window as unknown as { __plots: { scatter: { getTheme(): { colorOf(t: number): string }; getLayout(): { color: Float64Array; index: number[] } } } }
      ).__plots.scatter;
      const l = p.getLayout();
      return p.getTheme().colorOf(l.color[l.index.indexOf(3)]);
    });
    const px = await pixel(page, 1, x, y);
    assert.ok(near(px, parseRgb(colour)), `run-3's dot in ${colour}, found rgb(${px.slice(0, 3).join(',')})`);
    assert.match(await page.locator('.plot-scatter canvas').getAttribute('aria-label').then(String), /best f1 against training.lr/);
    await page.mouse.move(box.x + x + 1, box.y + y + 1);
    const tip = page.locator('.plot-scatter .plot-tooltip');
    await tip.waitFor({ state: 'visible' });
    const p = syntheticRuns().points[3];
    assert.ok((await tip.innerText()).includes(`training.lr: ${Number((p.values['training.lr'] as number).toPrecision(3)).toExponential()}`));
    await page.mouse.click(box.x + x + 1, box.y + y + 1);
    assert.deepEqual((await hook(page)).clicked, ['run-3']);
    // the two runs without f1 are counted under the plot, not drawn
    const n = await page.evaluate(() =>
      (window as unknown as { __plots: { scatter: { getLayout(): { missing: number; index: number[] } } } }).__plots.scatter.getLayout(),
    );
    assert.equal(n.missing, 2);
    assert.equal(n.index.length, 48);
    assert.deepEqual(errors, []);
    await page.close();
  });

  for (const theme of Object.keys(FIXTURE.themes) as ThemeName[]) {
    test(`${FIXTURE.themes[theme].name}: plot text 4.5:1 and lines and dots 3:1 against the background (WCAG AA)`, async () => {
      const { page, errors } = await open(theme);
      // A string, not a function: the TS loader would wrap the inner helper in a __name call the page lacks.
      const colours = await page.evaluate<{ background: string; foreground: string; muted: string; scale: string[] }>(`(() => {
        const t = window.__plots.parallel.getTheme();
        const c = document.createElement('canvas').getContext('2d');
        const norm = (s) => { c.fillStyle = '#000'; c.fillStyle = s; return String(c.fillStyle); };
        return { background: norm(t.background), foreground: norm(t.foreground), muted: norm(t.muted), scale: Array.from({ length: 11 }, (_, k) => norm(t.colorOf(k / 10))) };
      })()`);
      const bg = parseRgb(colours.background);
      // translucent muted text is seen blended over the background
      const blend = (c: string): number[] => {
        const m = /rgba\(([^)]+)\)/.exec(c);
        if (!m) return parseRgb(c);
        const [r, g, b, a] = m[1].split(',').map(Number);
        return [r, g, b].map((v, k) => v * a + bg[k] * (1 - a));
      };
      assert.ok(ratio(parseRgb(colours.foreground), bg) >= 4.5, `tick and axis text ${colours.foreground} on ${colours.background}`);
      assert.ok(
        ratio(blend(colours.muted), bg) >= 4.5,
        `"—" and notes in ${colours.muted} on ${colours.background}: ${ratio(blend(colours.muted), bg).toFixed(2)}`,
      );
      for (const c of colours.scale)
        assert.ok(ratio(parseRgb(c), bg) >= 3, `line colour ${c} on ${colours.background}: ${ratio(parseRgb(c), bg).toFixed(2)}:1`);
      // the pixels drawn: the highlighted line against the canvas background, as rendered
      const pts = await page.evaluate(() => (window as unknown as { __plots: { parallelLine(i: number): [number, number][] } }).__plots.parallelLine(3));
      const line = await pixel(page, 0, (pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2);
      const canvasBg = await pixel(page, 0, 4, 4);
      assert.ok(ratio(line, canvasBg) >= 3, `drawn line rgb(${line.slice(0, 3)}) on rgb(${canvasBg.slice(0, 3)}): ${ratio(line, canvasBg).toFixed(2)}:1`);
      // the tooltip's text against its box
      const box = await canvasBox(page, 0);
      await page.mouse.move(box.x + (pts[0][0] + pts[1][0]) / 2, box.y + (pts[0][1] + pts[1][1]) / 2);
      const tip = page.locator('.plot-parallel .plot-tooltip');
      await tip.waitFor({ state: 'visible' });
      const tc = await tip.evaluate((e) => ({ color: getComputedStyle(e).color, bg: getComputedStyle(e).backgroundColor }));
      assert.ok(ratio(parseRgb(tc.color), blend(tc.bg)) >= 4.5, `tooltip ${tc.color} on ${tc.bg}`);
      await page.mouse.move(box.x + 2, box.y + box.height - 2);
      if (theme === 'light' || theme === 'dark') {
        await page
          .locator('section.chart')
          .nth(0)
          .screenshot({ path: join(OUT, `parallel-${theme}.png`) });
        await page
          .locator('section.chart')
          .nth(1)
          .screenshot({ path: join(OUT, `scatter-${theme}.png`) });
      } else await page.screenshot({ path: join(OUT, `plots-${theme}.png`), fullPage: true });
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});
