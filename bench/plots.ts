// Cross-run plots benchmark in headless Chromium: a full render (layout + drawing every line or
// dot into the offscreen canvas) of the parallel-coordinates plot and the scatter for 10,000 runs,
// and a hover (nearest-line search + repaint), each the median of several repetitions; 1,000 runs
// measured in the same process as the peer. The machine may be shared: compare the ratio.
// Run: node --import tsx bench/plots.ts [--runs 10000] [--reps 7]

import { buildPlotsBundle, openPlotsPage, syntheticRuns } from '../test/helpers/plots-host';
import { launchBrowser, startServer } from '../test/helpers/webview-host';
import FIXTURE from '../test/fixtures/vscode-themes.json';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 10_000);
const REPS = arg('reps', 7);

// Runs in the page (a string: the TS loader's helpers do not exist there).
const PAGE_BENCH = `async ({ reps }) => {
  const h = window.__plots;
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const par = [], sca = [], hover = [];
  for (let k = 0; k < reps; k++) {
    h.parallel.render(); par.push(h.parallel.lastRenderMs);
    h.scatter.render(); sca.push(h.scatter.lastRenderMs);
    await frame();
  }
  const c = h.parallel.canvas, r = c.getBoundingClientRect();
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    c.dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + r.width * (0.2 + 0.08 * k), clientY: r.top + r.height / 2, bubbles: true }));
    hover.push(performance.now() - t0);
    await frame();
  }
  return { parallel: median(par), scatter: median(sca), hover: median(hover) };
}`;

async function measure(runs: number): Promise<{ parallel: number; scatter: number; hover: number }> {
  const [browser, server, bundle] = await Promise.all([launchBrowser(), startServer(), buildPlotsBundle()]);
  try {
    const { page } = await openPlotsPage(browser, server, bundle, FIXTURE.themes.dark, { width: 1280, height: 900 });
    await page.evaluate(
      (d) => (window as unknown as { __plots: { show(d: unknown, x: string, y: string): void } }).__plots.show(d, 'training.lr', 'best_f1'),
      syntheticRuns(runs),
    );
    return await page.evaluate<{ parallel: number; scatter: number; hover: number }>(`(${PAGE_BENCH})(${JSON.stringify({ reps: REPS })})`);
  } finally {
    await browser.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  const peer = await measure(1_000);
  const big = await measure(RUNS);
  const rows: [string, string, string, string][] = [
    ['parallel coordinates, full render', `${peer.parallel.toFixed(1)} ms`, `${big.parallel.toFixed(1)} ms`, `${(big.parallel / peer.parallel).toFixed(1)}×`],
    ['scatter, full render', `${peer.scatter.toFixed(1)} ms`, `${big.scatter.toFixed(1)} ms`, `${(big.scatter / peer.scatter).toFixed(1)}×`],
    ['parallel hover (nearest line + repaint)', `${peer.hover.toFixed(1)} ms`, `${big.hover.toFixed(1)} ms`, `${(big.hover / peer.hover).toFixed(1)}×`],
  ];
  console.log(`median of ${REPS}, 5 axes, canvas 1280 px wide at device pixel ratio 2`);
  console.log(`| measure | 1,000 runs | ${RUNS.toLocaleString('en-US')} runs | ratio |`);
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
