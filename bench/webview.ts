// Dashboard webview benchmark in headless Chromium: load a 1,000,000-point loss history (in
// chunks, as the host sends it), then append 100 points a second for ~10 s, and report the history
// load time and frame times (from requestAnimationFrame timestamps in the page).
// Run: npm run build && node --import tsx bench/webview.ts [--points 1000000] [--seconds 10]

import { DashboardPage, launchBrowser, printMeasures, startServer } from '../test/helpers/webview-host';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const POINTS = arg('points', 1_000_000);
const SECONDS = arg('seconds', 10);
const CHUNK = 50_000;

// Runs in the page: records are generated there (a million objects through the test driver would
// measure the driver, not the dashboard) and delivered with window.postMessage like VS Code does.
const PAGE_BENCH = `async ({ points, seconds, chunk }) => {
  const rec = (s) => ({ type: 'train', step: s, epoch: s / 10000, loss: 2 * Math.exp(-s / 2e5) + 0.05 + 0.1 * Math.abs(Math.sin(s * 12.9898) * 43758.5453 % 1),
    lr: 1e-3 * Math.min(1, s / 1e4) * (1 - s / (points + 2e4)), gradNorm: 1, stepsPerSec: 10, samplesPerSec: 320 + 30 * Math.sin(s / 500), time: 1.7e12 + s * 100 });
  const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const points_ = () => Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points') ?? 0);
  const t0 = performance.now();
  for (let i = 1; i <= points; i += chunk) {
    const records = [];
    for (let s = i; s < Math.min(points + 1, i + chunk); s++) records.push(rec(s));
    window.postMessage({ type: 'history', runId: 'bench', records, done: i + chunk > points }, '*');
    await new Promise((r) => setTimeout(r, 0)); // let the page handle it, as separate IPC messages would
  }
  while (points_() < points) await nextFrame();
  await nextFrame();
  const loadMs = performance.now() - t0;

  // live: 100 points a second (one append every 10 ms), frame times from rAF timestamps
  const frames = [];
  let last = 0, running = true;
  const loop = (ts) => { if (last) frames.push(ts - last); last = ts; if (running) requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  const long = [];
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) long.push(e.duration); });
  try { obs.observe({ type: 'longtask' }); } catch {}
  let s = points + 1;
  const start = performance.now();
  await new Promise((done) => {
    const timer = setInterval(() => {
      const due = Math.floor((performance.now() - start) / 10) + points + 1;
      const records = [];
      while (s <= due) records.push(rec(s++));
      if (records.length) window.postMessage({ type: 'append', runId: 'bench', records }, '*');
      if (performance.now() - start >= seconds * 1000) { clearInterval(timer); done(); }
    }, 10);
  });
  while (points_() < s - 1) await nextFrame();
  running = false;
  obs.disconnect();
  return { loadMs, frames, appended: s - 1 - points, finalPoints: points_(), longTasks: long };
}`;

async function main(): Promise<void> {
  const [browser, server] = await Promise.all([launchBrowser(), startServer()]);
  try {
    const d = await DashboardPage.open(browser, server, { theme: 'dark', width: 1280, height: 900 });
    await d.send({
      type: 'init',
      mode: 'run',
      runs: [{ id: 'bench', name: 'bench', dir: '/runs/bench', status: 'running', configPath: '/x.finetune.yaml', step: 0, totalSteps: POINTS * 2 }],
    });
    const r = await d.page.evaluate<{ loadMs: number; frames: number[]; appended: number; finalPoints: number; longTasks: number[] }>(
      `(${PAGE_BENCH})(${JSON.stringify({ points: POINTS, seconds: SECONDS, chunk: CHUNK })})`,
    );
    const sorted = [...r.frames].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    const over = r.frames.filter((f) => f > 16.7 * 1.5).length;
    const rows: [string, string][] = [
      ['history points', POINTS.toLocaleString('en-US')],
      ['history load (chunks of 50k, to first frame drawn)', `${r.loadMs.toFixed(0)} ms`],
      ['live appends', `${r.appended} points in ${SECONDS} s (1 message / 10 ms)`],
      ['frames measured', String(r.frames.length)],
      ['frame time p50', `${q(0.5).toFixed(1)} ms`],
      ['frame time p95', `${q(0.95).toFixed(1)} ms`],
      ['frame time max', `${sorted[sorted.length - 1].toFixed(1)} ms`],
      ['frames > 25 ms', `${over} (${((100 * over) / r.frames.length).toFixed(1)}%)`],
      ['long tasks (> 50 ms) during appends', r.longTasks.length ? `${r.longTasks.length}, max ${Math.max(...r.longTasks).toFixed(0)} ms` : '0'],
      ['points on the chart at the end', r.finalPoints.toLocaleString('en-US')],
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
