// Load benchmark (not a test): a history of 10,000 runs and a run with 1,000,000 metrics lines.
//   (a) listing 10,000 runs (50 configs): scan, group, every tree item's label/description/tooltip
//       (with the "config changed since this run" check) and context value;
//   (b) the hover table for training.lr over 10,000 runs;
//   (c) reading 1,000,000 metrics lines with the dashboard's reader (MetricsTail) and cutting
//       them into `history` chunks (dashboardCore.chunk), as a dashboard opening does.
// Run: node --import tsx bench/load.ts [--runs N] [--lines N] [--repeats N]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { configHash, loadConfig, validateConfigText, type ResolvedConfig } from '../src/shared/config/config';
import { chunk } from '../src/extension/core/dashboardCore';
import { ConfigDriftCache, driftText } from '../src/extension/core/drift';
import { hoverTable } from '../src/extension/core/history';
import { contextValue, describeRun, groupByConfig } from '../src/extension/core/runs';
import { RunStore } from '../src/extension/core/store';
import { tinyWorkspace } from '../test/helpers/tinyrun';
import { MetricsTail, readLaunch, type RunInfo } from '../src/shared/run';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 10_000);
const LINES = arg('lines', 1_000_000);
const REPEATS = arg('repeats', 3);
const CONFIGS = 50;
/** The lrs runs cycle through; the config file's own (2e-3) is the last, so 1 run in 4 matches its config as it is now. */
const LRS = [1e-4, 3e-4, 1e-3, 2e-3];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (x: number) => `${x.toFixed(0)} ms`;

function makeRuns(wsDir: string, baseConfig: string): string[] {
  const text = fs.readFileSync(baseConfig, 'utf8');
  const configs: string[] = [];
  const resolved: ResolvedConfig[] = [];
  for (let c = 0; c < CONFIGS; c++) {
    const file = path.join(wsDir, `exp-${String(c).padStart(2, '0')}.finetune.yaml`);
    fs.writeFileSync(file, text.replace(/^name: .*$/m, `name: exp-${c}`));
    configs.push(file);
    resolved.push(loadConfig(file));
  }
  const runsDir = path.join(wsDir, '.finetune', 'runs');
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < RUNS; i++) {
    const c = i % CONFIGS;
    const lr = LRS[i % LRS.length];
    const cfg = { ...resolved[c], training: { ...resolved[c].training, lr } };
    const created = new Date(t0 + i * 11 * 60_000);
    const id = `${created.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-exp-${c}-${i}`;
    const dir = path.join(runsDir, id);
    fs.mkdirSync(dir, { recursive: true });
    const status: RunInfo['status'] = i % 10 === 9 ? 'failed' : 'completed';
    const best = 0.5 + (i % 97) / 250;
    const info = {
      id,
      name: `exp-${c}`,
      configPath: configs[c],
      configHash: configHash(cfg),
      config: cfg,
      status,
      createdAt: created.toISOString(),
      startedAt: created.toISOString(),
      endedAt: new Date(created.getTime() + 60_000).toISOString(),
      host: os.hostname(),
      versions: {},
      step: 40,
      totalSteps: 40,
      epoch: 2,
      best: { metric: 'f1', value: best, step: 40, checkpoint: '' },
      final: { test_f1: best - 0.01 },
      ...(i % 7 === 0 ? { tags: ['baseline'], notes: 'a note' } : {}),
    } as RunInfo;
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(info));
  }
  return configs;
}

function list(runsDir: string): { store: RunStore; items: number; changed: number } {
  const store = new RunStore();
  store.addFolder(runsDir);
  const drift = new ConfigDriftCache();
  let items = 0;
  let changed = 0;
  for (const g of groupByConfig(store.all())) {
    items++;
    for (const r of g.runs) {
      const note = driftText(drift.drift(r.info, readLaunch(r.dir)?.overrides));
      if (note) changed++;
      const d = describeRun(r, Date.now(), { configNote: note });
      if (d.label && d.tooltip && contextValue(r)) items++;
    }
  }
  return { store, items, changed };
}

async function main(): Promise<void> {
  const ws = tinyWorkspace();
  const out: string[] = [];
  let t = performance.now();
  const configs = makeRuns(ws.dir, ws.config);
  out.push(`setup: ${RUNS} run folders written in ${ms(performance.now() - t)}`);
  const runsDir = path.join(ws.dir, '.finetune', 'runs');

  const listing: number[] = [];
  let store!: RunStore;
  for (let i = 0; i < REPEATS; i++) {
    t = performance.now();
    const r = list(runsDir);
    listing.push(performance.now() - t);
    if (r.items !== RUNS + CONFIGS) throw new Error(`listed ${r.items}`);
    const unchanged = Array.from({ length: RUNS }, (_, i) => LRS[i % LRS.length] === 2e-3).filter(Boolean).length;
    if (r.changed !== RUNS - unchanged) throw new Error(`${r.changed} runs say their config changed, expected ${RUNS - unchanged}`);
    store = r.store;
  }
  const scans: number[] = [];
  const drifts: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    t = performance.now();
    const st = new RunStore();
    st.addFolder(runsDir);
    scans.push(performance.now() - t);
    const cache = new ConfigDriftCache();
    t = performance.now();
    for (const r of st.all()) cache.drift(r.info, readLaunch(r.dir)?.overrides);
    drifts.push(performance.now() - t);
  }
  out.push(`(a) of which: scan (read + parse ${RUNS} run.json) median ${ms(median(scans))}; config-changed check for all median ${ms(median(drifts))}`);
  // The extension reads runs folders with addFolderAsync: batches of 200 across event-loop turns.
  const turns: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const st = new RunStore();
    let last = performance.now();
    let longest = 0;
    st.on('change', () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    });
    await st.addFolderAsync(runsDir);
    turns.push(longest);
    if (st.all().length !== RUNS) throw new Error(`async scan listed ${st.all().length}`);
  }
  out.push(`(a) the extension's batched scan of ${RUNS} runs: longest blocking turn median ${ms(median(turns))} (target: responsive, < 50 ms)`);
  out.push(`(a) list ${RUNS} runs (${CONFIGS} configs, with config-changed check): first ${ms(listing[0])}, median ${ms(median(listing))}`);

  const text = fs.readFileSync(configs[0], 'utf8');
  const cfg = validateConfigText(text, configs[0]).config!;
  const hovers: number[] = [];
  for (let i = 0; i < Math.max(5, REPEATS); i++) {
    t = performance.now();
    const md = hoverTable({ key: 'training.lr', configPath: configs[0], runs: store.all(), current: cfg.training.lr });
    hovers.push(performance.now() - t);
    if (!md) throw new Error('no hover');
  }
  out.push(`(b) hover training.lr with ${RUNS} runs: first ${ms(hovers[0])}, median ${ms(median(hovers))}`);

  const run = path.join(ws.dir, 'big');
  fs.mkdirSync(run);
  const file = path.join(run, 'metrics.jsonl');
  const fd = fs.openSync(file, 'w');
  const batch: string[] = [];
  for (let s = 1; s <= LINES; s++) {
    batch.push(
      s % 1000 === 0
        ? JSON.stringify({ type: 'eval', split: 'validation', step: s, epoch: s / 1000, metrics: { loss: 1 / s, f1: 0.9 } })
        : JSON.stringify({
            type: 'train',
            step: s,
            epoch: s / 1000,
            loss: 1 / Math.sqrt(s),
            lr: 1e-3,
            gradNorm: 1,
            stepsPerSec: 40,
            samplesPerSec: 320,
            time: 1.7e12 + s,
          }),
    );
    if (batch.length === 10_000) {
      fs.writeSync(fd, batch.join('\n') + '\n');
      batch.length = 0;
    }
  }
  if (batch.length) fs.writeSync(fd, batch.join('\n') + '\n');
  fs.closeSync(fd);
  const size = fs.statSync(file).size;
  const reads: number[] = [];
  const chunks: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    t = performance.now();
    const { records } = new MetricsTail(file).read();
    reads.push(performance.now() - t);
    if (records.length !== LINES) throw new Error(`read ${records.length}`);
    t = performance.now();
    const parts = chunk(records);
    chunks.push(performance.now() - t);
    if (parts.length !== Math.ceil(LINES / 5000)) throw new Error(`${parts.length} chunks`);
  }
  out.push(
    `(c) read ${LINES} metrics lines (${(size / 1048576).toFixed(0)} MiB): median ${ms(median(reads))}; chunk into ${Math.ceil(LINES / 5000)} history messages: median ${ms(median(chunks))}`,
  );
  // The dashboard reads it asynchronously, a chunk per event-loop turn: the longest single turn is
  // how long the extension host is blocked at worst.
  const blocks: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    let n = 0;
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {}, 1);
    const start = last;
    await new MetricsTail(file).readAsync((recs) => {
      n += recs.length;
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    });
    clearInterval(ticker);
    totals.push(performance.now() - start);
    blocks.push(longest);
    if (n !== LINES) throw new Error(`readAsync read ${n}`);
  }
  out.push(
    `    the dashboard's asynchronous read: total median ${ms(median(totals))}, longest blocking turn median ${ms(median(blocks))} (target: the host stays responsive, turns < 50 ms)`,
  );
  const tail = new MetricsTail(file);
  tail.read();
  fs.appendFileSync(
    file,
    `${JSON.stringify({ type: 'train', step: LINES + 1, epoch: 1, loss: 0.1, lr: 1e-3, gradNorm: 1, stepsPerSec: 40, samplesPerSec: 320 })}\n`,
  );
  t = performance.now();
  const more = tail.read().records.length;
  out.push(`    then one appended line read incrementally: ${(performance.now() - t).toFixed(2)} ms (${more} record)`);
  out.push(`node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
  console.log(out.join('\n'));
  fs.rmSync(ws.dir, { recursive: true, force: true });
}

void main();
