// Sweeps in the extension, the pure side (src/extension/core/sweeps.ts): a config's runs split into
// its sweeps and the rest, a sweep's progress, best and pruned trials, a driver that died shown as
// interrupted, the sweep store reading sweep.json files, the driver's arguments; and the trial pool
// that runs up to N trials at once (src/shared/sweep/pool.ts).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  describeSweep,
  splitBySweep,
  sweepArgs,
  sweepDirFromLine,
  sweepOfRun,
  sweepProgress,
  sweepState,
  SweepStore,
  queuedTrialRefusal,
  trialNote,
  type SweepRecord,
} from '../src/extension/core/sweeps';
import type { RunInfo, RunRecord } from '../src/shared/run';
import { writeSweep, type SweepInfo, type SweepTrial } from '../src/shared/sweep/folder';
import { TrialPool } from '../src/shared/sweep/pool';
import { RunsWatcher } from '../src/extension/core/watcher';
import { configLens } from '../src/extension/core/history';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ft-ext-sweeps-'));
const CFG = path.resolve('/ws/tune.finetune.yaml');
const RUNS = path.resolve('/ws/.finetune/runs');

function trial(number: number, status: SweepTrial['status'], value?: number, prunedAt?: number): SweepTrial {
  return {
    number,
    params: { 'training.lr': 10 ** -(3 + number / 10) },
    runDir: path.join(RUNS, `t${number}`),
    status,
    ...(value !== undefined ? { value } : {}),
    ...(prunedAt !== undefined ? { pruned: { step: prunedAt, rung: 0 } } : {}),
    startedAt: '2026-11-30T10:00:00.000Z',
  };
}

function sweep(o: Partial<SweepInfo> & { trials: SweepTrial[] }): SweepInfo {
  return {
    version: 1,
    id: '20261130-100000-tune',
    name: 'tune',
    configPath: CFG,
    overrides: {},
    method: 'tpe',
    space: { 'training.lr': { kind: 'loguniform', low: 1e-5, high: 1e-3 } },
    metric: 'f1',
    mode: 'max',
    total: 8,
    earlyTermination: { type: 'asha', minSteps: 20, reductionFactor: 2, minEarlyStoppingRate: 0, bootstrapCount: 0 },
    concurrency: 2,
    sampler: { kind: 'tpe', seed: 3 },
    status: 'running',
    pid: 4242,
    host: os.hostname(),
    createdAt: '2026-11-30T10:00:00.000Z',
    updatedAt: '2026-11-30T10:05:00.000Z',
    ...o,
  };
}

const run = (dir: string, status: RunInfo['status'] = 'completed', configPath = CFG): RunRecord => ({
  dir,
  info: {
    id: path.basename(dir),
    name: path.basename(dir),
    configPath,
    configHash: 'x',
    config: null,
    status,
    createdAt: '2026-11-30T10:00:00.000Z',
  } as RunInfo,
});

const FIVE = [trial(0, 'completed', 0.61), trial(1, 'pruned', 0.2, 22), trial(2, 'completed', 0.74), trial(3, 'running'), trial(4, 'pruned', 0.3, 22)];

describe('extension: sweeps in the run history', () => {
  it("splits a config's runs into its sweeps (trials by number) and the runs of no sweep", () => {
    // Out of order, as an executor that records trials as they end could write them.
    const s: SweepRecord = { dir: '/ws/.finetune/sweeps/a', info: sweep({ trials: [FIVE[3], FIVE[0], FIVE[4], FIVE[1], FIVE[2]] }) };
    const other: SweepRecord = { dir: '/ws/.finetune/sweeps/b', info: sweep({ configPath: '/ws/other.finetune.yaml', trials: [trial(7, 'completed', 1)] }) };
    const runs = [...[4, 2, 0, 3, 1].map((n) => run(path.join(RUNS, `t${n}`))), run(path.join(RUNS, 'plain')), run(path.join(RUNS, 't7'))];
    const { sweeps, rest } = splitBySweep(CFG, runs, [other, s], () => 'running');
    assert.equal(sweeps.length, 1, "only this config's sweep");
    assert.deepEqual(
      sweeps[0].trials.map((t) => [t.trial.number, path.basename(t.run.dir)]),
      [0, 1, 2, 3, 4].map((n) => [n, `t${n}`]),
    );
    // t7 is a trial of another config's sweep, but it is not in this group's runs either way: it stays out of this sweep.
    assert.deepEqual(
      rest.map((r) => path.basename(r.dir)),
      ['plain', 't7'],
    );
    // A trial whose run folder is not known (not scanned yet) is left out, not shown broken.
    const some = splitBySweep(CFG, runs.slice(0, 2), [s], () => 'running');
    assert.deepEqual(
      some.sweeps[0].trials.map((t) => t.trial.number),
      [2, 4],
    );
    assert.equal(sweepOfRun(path.join(RUNS, 't3'), [other, s])?.dir, s.dir);
    assert.equal(sweepOfRun(path.join(RUNS, 'plain'), [other, s]), undefined);
  });

  it('progress n/budget, the best trial and its value, pruned trials', () => {
    const info = sweep({ trials: FIVE });
    assert.deepEqual(sweepProgress(info), { done: 4, total: 8, running: 1, pruned: 2 });
    const d = describeSweep({ dir: '/ws/.finetune/sweeps/a', info }, 'running');
    assert.equal(d.label, 'tpe sweep 4/8');
    assert.equal(d.description, 'best f1 0.7400 (#2) · 2 pruned · 1 running');
    assert.equal(d.contextValue, 'sweep-running');
    // The tooltip says the settings.
    for (const s of [
      'tpe, seed 3',
      'f1 \\(max\\)',
      'ASHA: min\\_steps 20, reduction\\_factor 2',
      '| at once | 2 |',
      'loguniform \\[0.00001, 0.001\\]',
      '| best trial | #2: training.lr=0.0006310 |',
    ])
      assert.ok(d.tooltip.includes(s), `${s} in ${d.tooltip}`);
    // A min sweep: the lowest value is best.
    const low = describeSweep({ dir: 'x', info: sweep({ mode: 'min', metric: 'loss', trials: FIVE }) }, 'completed');
    assert.match(low.description, /^best loss 0\.2000 \(#1\)/);
    assert.equal(trialNote(info, FIVE[2]).prefix, '#2 ★ best');
    assert.deepEqual(trialNote(info, FIVE[1]), { prefix: '#1', pruned: true, best: false, prunedAt: 22 });
    assert.equal(trialNote(info, FIVE[0]).prefix, '#0');
    // Nothing finished yet: no best.
    assert.equal(describeSweep({ dir: 'x', info: sweep({ trials: [trial(0, 'running')] }) }, 'running').description, '1 running');
  });

  it('a running sweep whose process is gone is interrupted, with Resume sweep; another host is taken at its word', () => {
    const alive = new Set([4242]);
    const isAlive = (pid: number) => alive.has(pid);
    const host = os.hostname();
    assert.equal(sweepState(sweep({ trials: FIVE }), isAlive, host), 'running');
    assert.equal(sweepState(sweep({ trials: FIVE, pid: 999 }), isAlive, host), 'interrupted');
    assert.equal(sweepState(sweep({ trials: FIVE, pid: undefined }), isAlive, host), 'interrupted');
    assert.equal(sweepState(sweep({ trials: FIVE, pid: 999, host: 'login-2' }), isAlive, host), 'running');
    assert.equal(sweepState(sweep({ trials: FIVE, status: 'stopped', pid: undefined }), isAlive, host), 'stopped');
    assert.equal(sweepState(sweep({ trials: FIVE, status: 'completed', pid: 999 }), isAlive, host), 'completed');
    const d = describeSweep({ dir: 'x', info: sweep({ trials: FIVE, pid: 999 }) }, 'interrupted');
    assert.equal(d.contextValue, 'sweep-interrupted');
    assert.match(d.description, / · interrupted$/);
    assert.match(d.tooltip, /interrupted \\\(its process 999 is gone\\\): Resume sweep continues it/);
  });

  it("Rerun leaves a sweep's queued trial to its sweep: a Slurm job waiting, a free place in the pool, or Resume sweep", () => {
    const isAlive = (pid: number) => pid === 4242;
    const waiting = { ...trial(5, 'running'), job: { id: '1234', state: 'PENDING', reason: 'Priority' } };
    const slurm = { dir: '/ws/.finetune/sweeps/s', info: sweep({ trials: [...FIVE, waiting], host: os.hostname() }) };
    assert.equal(queuedTrialRefusal(waiting.runDir, [slurm], isAlive), 'it is trial #5 of sweep tune, which starts it as Slurm job 1234 (pending)');
    const local = { dir: '/ws/.finetune/sweeps/l', info: sweep({ trials: [trial(5, 'running')], host: os.hostname() }) };
    assert.equal(queuedTrialRefusal(waiting.runDir, [local], isAlive), 'it is trial #5 of sweep tune, which starts it when a place in its pool is free');
    const gone = { dir: '/ws/.finetune/sweeps/l', info: sweep({ trials: [trial(5, 'running')], host: os.hostname(), pid: 999 }) };
    assert.equal(queuedTrialRefusal(waiting.runDir, [gone], isAlive), 'it is trial #5 of sweep tune, which is interrupted: continue it with Resume sweep');
    // A queued run of no sweep (left by a closed window) is Rerun's to start in place.
    assert.equal(queuedTrialRefusal(path.join(RUNS, 'plain'), [slurm, local], isAlive), undefined);
  });

  it("a config's CodeLens shows its running sweep (progress, best, Stop sweep), or Resume of its interrupted one", () => {
    const rec = (o: Partial<SweepInfo>) => ({ dir: `/ws/.finetune/sweeps/${o.id ?? 'a'}`, info: sweep({ trials: FIVE, ...o }) });
    const titles = (l: ReturnType<typeof configLens>) => l.map((x) => `${x.title} → ${x.command} ${JSON.stringify(x.arguments)}`);
    const running = configLens({ configPath: CFG, runs: [], sweepSize: 8, sweeps: [{ record: rec({ id: 'a' }), state: 'running' }] });
    assert.deepEqual(titles(running), [
      '$(sync~spin) tpe sweep 4/8 · best f1 0.7400 (#2) · 2 pruned · 1 running → finetune.runs.focus []',
      '$(debug-stop) Stop sweep → finetune.stopSweep ["/ws/.finetune/sweeps/a"]',
      `▶ Start sweep (8 runs) → finetune.start ${JSON.stringify([CFG])}`,
    ]);
    // The newest of this config's sweeps is interrupted: Resume it; an older completed one and another config's sweep add nothing.
    const sweeps = [
      { record: rec({ id: '20261130-090000-tune', status: 'completed' }), state: 'completed' as const },
      { record: rec({ id: '20261130-110000-tune' }), state: 'interrupted' as const },
      { record: rec({ id: '20261130-120000-other', configPath: path.resolve('/ws/other.finetune.yaml') }), state: 'running' as const },
    ];
    const resume = configLens({ configPath: CFG, runs: [], sweepSize: 8, sweeps });
    assert.deepEqual(
      resume.filter((l) => l.command.endsWith('Sweep') || l.title.startsWith('$(sync~spin)')).map((l) => [l.title, l.arguments]),
      [['$(debug-continue) Resume sweep (4/8)', ['/ws/.finetune/sweeps/20261130-110000-tune']]],
    );
    // Untrusted: nothing to start or resume.
    assert.ok(!configLens({ configPath: CFG, runs: [], sweeps, trusted: false }).some((l) => l.command === 'finetune.resumeSweep'));
  });

  it('the sweep store reads sweep folders, follows sweep.json changes and forgets a folder that went', () => {
    const root = path.join(tmp(), '.finetune', 'sweeps');
    const a = path.join(root, 'a');
    fs.mkdirSync(a, { recursive: true });
    writeSweep(a, sweep({ trials: FIVE.slice(0, 2) }));
    fs.mkdirSync(path.join(root, 'not-a-sweep'));
    fs.writeFileSync(path.join(root, 'not-a-sweep', 'sweep.json'), '{ half');
    const store = new SweepStore();
    let changes = 0;
    store.on('change', () => changes++);
    assert.equal(store.addFolder(root), true);
    assert.equal(store.addFolder(root), false);
    assert.deepEqual(
      store.all().map((s) => s.dir),
      [a],
    );
    writeSweep(a, sweep({ trials: FIVE }));
    assert.equal(store.refresh(a)?.info.trials.length, 5);
    fs.rmSync(a, { recursive: true });
    assert.equal(store.refresh(a), undefined);
    assert.deepEqual(store.all(), []);
    assert.ok(changes >= 3);
  });

  it('the watcher reports a sweep.json that is rewritten, and a sweep folder that goes', async () => {
    const root = path.join(tmp(), '.finetune', 'sweeps');
    const a = path.join(root, 'a');
    fs.mkdirSync(a, { recursive: true });
    writeSweep(a, sweep({ trials: [] }));
    const w = new RunsWatcher([root], 50);
    const seen: string[] = [];
    w.on('sweep', (d) => seen.push(path.basename(d)));
    const until = async (n: number) => {
      for (let i = 0; i < 500 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen.length >= n, `${n} sweep events in ${JSON.stringify(seen)}`);
    };
    try {
      await new Promise<void>((r) => w.once('ready', () => r()));
      writeSweep(a, sweep({ trials: FIVE })); // replaced atomically, as the driver does
      await until(1);
      await new Promise((r) => setTimeout(r, 100));
      fs.rmSync(a, { recursive: true });
      await until(2);
      assert.deepEqual(seen.slice(0, 2), ['a', 'a']);
    } finally {
      await w.close();
    }
  });

  it("the driver's arguments and the sweep folder it names", () => {
    assert.deepEqual(sweepArgs({ configPath: CFG, concurrency: 2, device: 'cpu', threads: 1 }), [
      'sweep',
      CFG,
      '--concurrency',
      '2',
      '--device',
      'cpu',
      '--threads',
      '1',
    ]);
    assert.deepEqual(sweepArgs({ resume: '/ws/.finetune/sweeps/a', device: 'config' }), ['sweep', '--resume', '/ws/.finetune/sweeps/a']);
    assert.throws(() => sweepArgs({}), /a config path or a sweep folder/);
    assert.equal(
      sweepDirFromLine('sweep: tpe sweep of 8 trials by f1 (max), 2 at a time, in /ws/.finetune/sweeps/20261130-100000-tune'),
      '/ws/.finetune/sweeps/20261130-100000-tune',
    );
    assert.equal(sweepDirFromLine('sweep: random sweep of 3 trials by f1 (max) in /a b/sweeps/x'), '/a b/sweeps/x');
    assert.equal(sweepDirFromLine('sweep: grid sweep of 4 trials by loss (min) in /work in progress/sweeps/x'), '/work in progress/sweeps/x');
    assert.equal(sweepDirFromLine('sweep: trial 1/3: tiny[lr=0.0184]'), undefined);
  });
});

describe('sweep: the trial pool (N trials at once)', () => {
  it('never runs more than N, starts the next as soon as one ends, and drains', async () => {
    const pool = new TrialPool(2);
    let running = 0;
    let most = 0;
    const ends: (() => void)[] = [];
    const order: string[] = [];
    const job = (name: string) =>
      new Promise<void>((resolve) => {
        running++;
        most = Math.max(most, running);
        order.push(`start ${name}`);
        ends.push(() => {
          running--;
          order.push(`end ${name}`);
          resolve();
        });
      });
    const scheduler = (async () => {
      for (const name of ['a', 'b', 'c', 'd']) {
        await pool.slot();
        pool.launch(job(name));
      }
      await pool.drain();
      order.push('drained');
    })();
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    assert.deepEqual(order, ['start a', 'start b']);
    ends[1](); // b ends first: c takes its slot
    await tick();
    await tick();
    assert.deepEqual(order, ['start a', 'start b', 'end b', 'start c']);
    ends[0]();
    await tick();
    await tick();
    ends[2]();
    ends[3]();
    await scheduler;
    assert.equal(most, 2);
    assert.deepEqual(order.slice(-1), ['drained']);
    assert.equal(pool.size, 0);
  });

  it('a trial that throws frees its slot and is reported', async () => {
    const errors: unknown[] = [];
    const pool = new TrialPool(1, (e) => errors.push(e));
    await pool.slot();
    pool.launch(Promise.reject(new Error('spawn failed')));
    await pool.slot(); // would wait forever if the failed trial kept its slot
    pool.launch(Promise.resolve());
    await pool.drain();
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['spawn failed'],
    );
  });
});
