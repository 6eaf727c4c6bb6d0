// Serving the cross-run plots' test page (test/helpers/plots-page.ts) for test/plots-browser.test.ts
// and bench/plots.ts: the page bundled with esbuild in memory, served on the test host's origin
// under the dashboard's CSP, with a theme's variables and body classes; and synthetic runs.

import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { dashboardHtml, makeNonce } from '../../src/webview/html';
import type { PlotData, PlotPoint } from '../../src/webview/plots/types';
import { COMMON, initScript, ROOT, type PageServer } from './webview-host';

export async function buildPlotsBundle(): Promise<string> {
  const built = await esbuild.build({
    entryPoints: [join(ROOT, 'test/helpers/plots-page.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    logLevel: 'warning',
  });
  return built.outputFiles[0].text;
}

export async function openPlotsPage(
  browser: Browser,
  server: PageServer,
  bundle: string,
  theme: { vars: Record<string, string>; bodyClasses: string[] },
  viewport = { width: 1000, height: 860 },
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 2 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.addInitScript({ content: initScript({ ...COMMON, ...theme.vars }, theme.bodyClasses) });
  const html = dashboardHtml({
    scriptUri: `${server.origin}/plots-test.js`,
    styleUris: [`${server.origin}/media/dashboard.css`],
    cspSource: server.origin,
    nonce: makeNonce(),
    title: 'plots',
  });
  await page.route(`${server.origin}/plots`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.route(`${server.origin}/plots-test.js`, (r) => r.fulfill({ contentType: 'text/javascript', body: bundle }));
  await page.goto(`${server.origin}/plots`);
  await page.waitForFunction(() => 'show' in ((window as unknown as { __plots?: object }).__plots ?? {}));
  return { page, errors };
}

/** 50 runs: lr log-uniform, batch size and optimizer categories, warmup numeric, f1 peaking near lr 3e-4; two without f1. */
export function syntheticRuns(n = 50): PlotData {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const points: PlotPoint[] = Array.from({ length: n }, (_, i) => {
    const lr = 10 ** (-5 + 2 * rnd());
    const f1 = Math.round((0.95 - 0.12 * Math.abs(Math.log10(lr / 3e-4)) - 0.05 * rnd()) * 1000) / 1000;
    return {
      id: `run-${i}`,
      label: `lr=${lr.toExponential(1)} · #${i}`,
      values: {
        'training.lr': lr,
        'training.batch_size': [8, 16, 32][i % 3],
        'training.warmup_ratio': Math.round(rnd() * 20) / 100,
        'training.optimizer': i % 4 === 0 ? 'sgd' : 'adamw',
        best_f1: i === 5 || i === 17 ? null : f1,
      },
    };
  });
  return {
    axes: [
      { key: 'training.lr', label: 'training.lr', kind: 'log' },
      { key: 'training.batch_size', label: 'batch_size', kind: 'category' },
      { key: 'training.warmup_ratio', label: 'warmup_ratio', kind: 'number' },
      { key: 'training.optimizer', label: 'optimizer', kind: 'category' },
      { key: 'best_f1', label: 'best f1', kind: 'number' },
    ],
    colorBy: 'best_f1',
    points,
    highlight: ['run-3', 'run-10'],
  };
}
