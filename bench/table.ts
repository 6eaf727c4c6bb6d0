// Experiments table benchmark in headless Chromium: 10,000 synthetic runs (test/helpers/table-rows)
// delivered as the host sends them; time to the first frame drawn, a sort (header click to the next
// frame), a filter expression (Enter to the next frame), and frame times while scrolling the whole
// table (requestAnimationFrame intervals), beside two peers measured in the same run: the page's
// idle frame interval, and scrolling a static copy of the same rows with no script (what drawing
// these cells costs the machine at all).
// Run: npm run build && npm run bench:table [-- --runs 10000 --seconds 5]

import { DashboardPage, launchBrowser, printMeasures, startServer } from '../test/helpers/webview-host';
import { synthRows } from '../test/helpers/table-rows';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 10_000);
const SECONDS = arg('seconds', 5);

// Runs in the page: timestamps from performance.now() and requestAnimationFrame, so the driver's
// round trips are not measured.
const PAGE_BENCH = `async ({ rows, seconds }) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const count = () => document.querySelector('.count')?.textContent ?? '';
  const firstId = () => [...document.querySelectorAll('.body .row')].sort((a, b) => a.dataset.index - b.dataset.index).find((r) => r.dataset.id)?.dataset.id;
  const frames = async (ms, step) => {
    const out = [];
    const grid = document.querySelector('.grid');
    let last = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const ts = await new Promise((r) => requestAnimationFrame(r));
      if (last) out.push(ts - last);
      last = ts;
      if (step) {
        grid.scrollTop += step;
        if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 1) grid.scrollTop = 0;
      }
    }
    return out;
  };
  const long = [];
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) long.push(e.duration); });
  try { obs.observe({ type: 'longtask' }); } catch {}

  let t = performance.now();
  window.postMessage({ type: 'rows', rows }, '*');
  while (!/^[0-9,]+ runs/.test(count()) || !count().startsWith(rows.length.toLocaleString('en-US'))) await new Promise((r) => setTimeout(r, 0));
  await frame();
  const firstRender = performance.now() - t;
  const domRows = document.querySelectorAll('.body .row').length;

  const sorts = [];
  for (const key of ['best_f1', 'training.lr', 'best_f1', 'status']) {
    const before = firstId();
    t = performance.now();
    document.querySelector('[role="columnheader"][data-key="' + key + '"]').click();
    await frame();
    sorts.push(performance.now() - t);
    void before;
  }

  const filters = [];
  const box = document.querySelector('input.filter');
  for (const text of ['f1 > 0.9 and training.lr < 1e-4', 'baseline', '', 'status = completed or f1 < 0.7']) {
    t = performance.now();
    box.value = text;
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await frame();
    filters.push(performance.now() - t);
  }
  box.value = '';
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await frame();

  const idle = await frames(2000, 0);
  const longBefore = long.length;
  const scroll = await frames(seconds * 1000, 40);
  const scrollLong = long.slice(longBefore);
  const domAfter = document.querySelectorAll('.body .row').length;

  // The peer: the same rows' cells as a static page (400 rows copied in normal flow, no script
  // while scrolling) in a scroller of the same size: what drawing them costs this machine at all.
  const grid = document.querySelector('.grid');
  const copy = grid.cloneNode(false);
  copy.className = 'grid';
  const shown = [...grid.querySelectorAll('.body .row')].filter((r) => r.dataset.id);
  for (let i = 0; i < 400; i++) {
    const r = shown[i % shown.length].cloneNode(true);
    r.style.transform = '';
    r.style.position = 'static';
    copy.append(r);
  }
  grid.replaceWith(copy);
  const staticScroll = await (async () => {
    const out = [];
    let last = 0;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const ts = await new Promise((r) => requestAnimationFrame(r));
      if (last) out.push(ts - last);
      last = ts;
      copy.scrollTop += 40;
      if (copy.scrollTop + copy.clientHeight >= copy.scrollHeight - 1) copy.scrollTop = 0;
    }
    return out;
  })();
  obs.disconnect();
  return { firstRender, domRows, sorts, filters, idle, scroll, scrollLong, domAfter, staticScroll };
}`;

interface Result {
  firstRender: number;
  domRows: number;
  sorts: number[];
  filters: number[];
  idle: number[];
  scroll: number[];
  scrollLong: number[];
  domAfter: number;
  staticScroll: number[];
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const [browser, server] = await Promise.all([launchBrowser(), startServer()]);
  try {
    const d = await DashboardPage.open(browser, server, { path: '/table', theme: 'dark', width: 1400, height: 900 });
    const r = await d.page.evaluate<Result>(`(${PAGE_BENCH})(${JSON.stringify({ rows: synthRows(RUNS), seconds: SECONDS })})`);
    const over = r.scroll.filter((f) => f > 16.7 * 1.5).length;
    const rows: [string, string][] = [
      ['runs', RUNS.toLocaleString('en-US')],
      ['first render (rows message to first frame)', ms(r.firstRender)],
      ['rows in the DOM', `${r.domRows} (after scrolling: ${r.domAfter})`],
      ['sort (header click to next frame), median of 4', ms(q(r.sorts, 0.5))],
      ['sort, slowest', ms(Math.max(...r.sorts))],
      ['filter (Enter to next frame), median of 4', ms(q(r.filters, 0.5))],
      ['filter, slowest', ms(Math.max(...r.filters))],
      ['idle frame interval p50 / p95 (the peer)', `${ms(q(r.idle, 0.5))} / ${ms(q(r.idle, 0.95))}`],
      [`scroll frame interval p50 / p95 (40 px a frame, ${SECONDS} s)`, `${ms(q(r.scroll, 0.5))} / ${ms(q(r.scroll, 0.95))}`],
      ['scroll frame interval max', ms(Math.max(...r.scroll))],
      ['peer: static copy of the rows, scroll p50 / p95', `${ms(q(r.staticScroll, 0.5))} / ${ms(q(r.staticScroll, 0.95))}`],
      ['scroll frames > 25 ms', `${over} of ${r.scroll.length} (${((100 * over) / r.scroll.length).toFixed(1)}%)`],
      ['long tasks (> 50 ms) while scrolling', r.scrollLong.length ? `${r.scrollLong.length}, max ${Math.max(...r.scrollLong).toFixed(0)} ms` : '0'],
    ];
    printMeasures(rows, d.errors);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
