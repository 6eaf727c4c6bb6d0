// The extension's core driving the REAL trainer (dist/trainer.js, built by `npm test` first) on
// plain Node, no `vscode`: forked runs through the queue and the trainer-process layer, a graceful
// stop and a resume, a trainer killed mid-run, a run found again after a window reload (followed
// through its files, stopped with SIGTERM), and bad input (half-typed configs, unreadable run
// folders, deleting one run among similar names). Tiny runs (tinyWorkspace) keep it to seconds.

import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { EvalRecord, TrainerEvent, TrainRecord } from '../src/shared/protocol';
import { checkFiles, validateConfigText } from '../src/shared/config/config';
import { keyAtOffset } from '../src/extension/core/configKeys';
import { quickFixes, toRange } from '../src/extension/core/diagnostics';
import { LiveRuns } from '../src/extension/core/live';
import { planRerun, planRuns, type PlannedRun } from '../src/extension/core/plan';
import { RunQueue } from '../src/extension/core/queue';
import { classifyRunning, contextValue } from '../src/extension/core/runs';
import { RunStore } from '../src/extension/core/store';
import { markRunFailed, trainerArgs, trainerForkOptions, TrainerProcess, type TrainerOutcome } from '../src/extension/core/trainerProcess';
import { RunsWatcher } from '../src/extension/core/watcher';
import { tinyWorkspace } from './helpers/tinyrun';
import { deleteRunFolder, inspectRun, isPidAlive, MetricsTail, readRun, type RunRecord, scanRunsFolder, scanRunsFolderDetailed } from '../src/shared/run';

const ROOT = path.resolve(path.dirname(__filename), '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const LONG = { 'training.epochs': 20 };

/** Every trainer started here, killed at the end if a failed test left one running. */
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Polls a condition (no fixed sleeps): resolves with its first truthy value. */
async function until<T>(what: string, f: () => T | undefined | null | false, timeoutMs = 30_000, everyMs = 20): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A forked trainer as the launcher forks it (IPC channel, piped output, no tsx in its execArgv), wrapped by the core's TrainerProcess. */
interface Forked {
  child: ChildProcess;
  tp: TrainerProcess;
  events: TrainerEvent[];
  /** Signals the core sent through child.kill (none when the trainer exits by itself). */
  kills: (NodeJS.Signals | number | undefined)[];
}

function forkTrainer(args: string[], runDir: string, stopTimeoutMs = 30_000): Forked {
  const child = fork(TRAINER, args, { ...trainerForkOptions(runDir), detached: false }); // in the test's group, so it ends with the test
  children.add(child);
  const kills: Forked['kills'] = [];
  const kill = child.kill.bind(child);
  child.kill = (sig?: NodeJS.Signals | number) => {
    kills.push(sig);
    return kill(sig);
  };
  const tp = new TrainerProcess(child, { runDir, stopTimeoutMs });
  const events: TrainerEvent[] = [];
  tp.on('event', (e) => events.push(e));
  return { child, tp, events, kills };
}

const argsOf = (p: PlannedRun) => trainerArgs({ configPath: p.configPath, runDir: p.dir, overrides: p.overrides, device: 'cpu' });

/** The next event of a kind (rejects if the trainer ends first). */
function nextEvent<K extends TrainerEvent['type']>(tp: TrainerProcess, type: K): Promise<Extract<TrainerEvent, { type: K }>> {
  return new Promise((resolve, reject) => {
    const on = (e: TrainerEvent) => {
      if (e.type !== type) return;
      tp.off('event', on);
      resolve(e as Extract<TrainerEvent, { type: K }>);
    };
    tp.on('event', on);
    void tp.done.then((o) =>
      reject(new Error(`the trainer ended (${o.status}: ${o.message ?? ''}) before a '${type}' event; stderr:\n${o.stderrTail.join('\n')}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const info = (dir: string) => readRun(dir)!.info;

describe('extension core + real trainer: forked runs through the queue', () => {
  it('events arrive over IPC in order, run.json ends completed, the trainer exits by itself, the queue then starts the next run', async () => {
    const ws = tinyWorkspace();
    const runsDir = path.join(ws.dir, '.finetune', 'runs');
    const a = planRuns(ws.config, runsDir).runs[0];
    const b = planRuns(ws.config, runsDir).runs[0];
    assert.notEqual(a.dir, b.dir);
    const forked = new Map<string, Forked>();
    const startedAt = new Map<string, number>();
    const queue = new RunQueue(() => 1);
    const job = (p: PlannedRun) => ({
      id: p.dir,
      run: () => {
        startedAt.set(p.dir, Date.now());
        const f = forkTrainer(argsOf(p), p.dir);
        forked.set(p.dir, f);
        return f.tp.done;
      },
    });
    queue.enqueue(job(a), job(b));
    assert.deepEqual(queue.running, [a.dir]);
    assert.deepEqual(queue.pending, [b.dir]);
    assert.equal(info(b.dir).status, 'queued');

    const fa = forked.get(a.dir)!;
    const outcome: TrainerOutcome = await fa.tp.done;
    const aEnded = Date.now();
    assert.deepEqual([outcome.status, outcome.code, outcome.signal, outcome.crashed], ['completed', 0, null, false], outcome.message);
    assert.deepEqual(fa.kills, [], 'the core never signalled the trainer: it exited by itself');
    assert.deepEqual([fa.child.exitCode, fa.child.signalCode, fa.child.connected], [0, null, false]);

    // Order (log lines aside, which may come at any time): started, then train/eval records with steps that never go back, completed last.
    const types = fa.events.map((e) => e.type).filter((t) => t !== 'log');
    assert.equal(types[0], 'started', types.join(' '));
    assert.equal(types[types.length - 1], 'completed', types.join(' '));
    assert.equal(types.filter((t) => t === 'started' || t === 'completed').length, 2);
    const firstTrain = types.indexOf('train');
    const firstEval = types.indexOf('eval');
    assert.ok(firstTrain > 0 && firstEval > firstTrain, types.join(' '));
    const started = fa.events.find((e) => e.type === 'started') as Extract<TrainerEvent, { type: 'started' }>;
    assert.equal(path.resolve(started.runDir!), path.resolve(a.dir));
    const trains = fa.events.filter((e): e is TrainRecord => e.type === 'train');
    const evals = fa.events.filter((e): e is EvalRecord => e.type === 'eval');
    for (let i = 1; i < trains.length; i++) assert.ok(trains[i].step > trains[i - 1].step, `train steps ${trains.map((t) => t.step)}`);
    let step = 0;
    for (const e of fa.events)
      if (e.type === 'train' || e.type === 'eval' || e.type === 'completed') {
        assert.ok(e.step >= step, `${e.type} at step ${e.step} after step ${step}`);
        step = e.step;
      }
    assert.deepEqual([...new Set(evals.map((e) => e.split))], ['validation', 'test']);
    assert.equal(trains[trains.length - 1].step, started.totalSteps);

    // run.json and metrics.jsonl say the same as the events.
    const ra = info(a.dir);
    assert.equal(ra.status, 'completed');
    assert.equal(ra.step, ra.totalSteps);
    assert.ok(ra.endedAt && ra.final && typeof ra.final.test_f1 === 'number');
    assert.equal(contextValue({ dir: a.dir, info: ra }), 'run-completed-model');
    const fileRecords = new MetricsTail(path.join(a.dir, 'metrics.jsonl')).read().records;
    assert.deepEqual(
      fileRecords.filter((r) => r.type === 'train').map((r) => r.step),
      trains.map((t) => t.step),
    );
    assert.deepEqual(
      fileRecords.filter((r) => r.type === 'eval').map((r) => `${r.split}@${r.step}`),
      evals.map((e) => `${e.split}@${e.step}`),
    );

    // The slot is freed and the second run starts (not before the first ended).
    await until('the second run to start', () => queue.running.includes(b.dir));
    assert.ok(!queue.running.includes(a.dir));
    assert.ok(startedAt.get(b.dir)! >= aEnded);
    const fb = forked.get(b.dir)!;
    await until('the second run to report started', () => fb.events.some((e) => e.type === 'started') || fb.child.exitCode !== null);
    await queue.idle();
    assert.deepEqual(queue.running, []);
    assert.equal((await fb.tp.done).status, 'completed');
    assert.equal(info(b.dir).status, 'completed');
    assert.deepEqual(fb.kills, []);
  });
});

describe('extension core + real trainer: stop and resume', () => {
  it('a stop request ends the run `stopped` with a checkpoint; --resume completes it', async () => {
    const ws = tinyWorkspace();
    const runsDir = path.join(ws.dir, '.finetune', 'runs');
    const p = planRerun({ configPath: ws.config, overrides: LONG }, runsDir); // a longer run, the way a rerun with overrides is planned
    const f = forkTrainer(argsOf(p), p.dir);
    await nextEvent(f.tp, 'train');
    assert.equal(info(p.dir).status, 'running');
    assert.equal(info(p.dir).pid, f.child.pid);
    // The trainer started with malloc's transparent huge pages (shared/trainerEnv.ts).
    if (process.platform === 'linux')
      assert.ok(fs.readFileSync(`/proc/${f.child.pid}/environ`, 'utf8').split('\0').includes('GLIBC_TUNABLES=glibc.malloc.hugetlb=1'));
    f.tp.stop();
    assert.equal(f.tp.stopping, true);
    // Node reports a failed IPC write as an 'error' on the child; the trainer is still running and must not be written off.
    f.child.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    const o = await f.tp.done;
    // A stopped run exits 3 (README "Exit codes"), and the core still reads it as stopped, not as a crash.
    assert.deepEqual([o.status, o.code, o.signal, o.crashed], ['stopped', 3, null, false], `${o.message}\n${o.stderrTail.join('\n')}`);
    assert.deepEqual(f.kills, [], 'stopped over IPC, not by a signal');
    const stopped = f.events.find((e) => e.type === 'stopped') as Extract<TrainerEvent, { type: 'stopped' }>;
    assert.ok(stopped, f.events.map((e) => e.type).join(' '));
    assert.equal(path.resolve(stopped.checkpoint!), path.join(p.dir, 'checkpoints', 'last'));
    assert.ok(fs.existsSync(path.join(p.dir, 'checkpoints', 'last')));
    const s = info(p.dir);
    assert.equal(s.status, 'stopped');
    assert.equal(s.step, stopped.step);
    assert.ok(s.totalSteps && s.step < s.totalSteps, `stopped at ${s.step} of ${s.totalSteps}`);
    assert.equal(contextValue({ dir: p.dir, info: s }), 'run-stopped-resumable');
    assert.equal(markRunFailed(p.dir, 'x'), false, 'a stopped run is left as it is');

    const r = forkTrainer(trainerArgs({ resume: p.dir, device: 'cpu' }), p.dir);
    const firstTrain = await nextEvent(r.tp, 'train');
    assert.ok(firstTrain.step > stopped.step, `resumed at step ${firstTrain.step} after stopping at ${stopped.step}`);
    const o2 = await r.tp.done;
    assert.equal(o2.status, 'completed', `${o2.message}\n${o2.stderrTail.join('\n')}`);
    const done = info(p.dir);
    assert.equal(done.status, 'completed');
    assert.equal(done.step, done.totalSteps);
    assert.equal(path.resolve(done.resumedFrom!), path.join(p.dir, 'checkpoints', 'last'));
    assert.equal((done.config as { training: { epochs: number } }).training.epochs, 20);
  });
});

describe('extension core + real trainer: a trainer that dies', () => {
  it('SIGKILL mid-run (forked): the core marks it failed with a clear reason', async () => {
    const ws = tinyWorkspace();
    const p = planRerun({ configPath: ws.config, overrides: LONG }, path.join(ws.dir, '.finetune', 'runs'));
    const f = forkTrainer(argsOf(p), p.dir);
    await nextEvent(f.tp, 'train');
    process.kill(f.child.pid!, 'SIGKILL'); // as the system's out-of-memory killer would
    const o = await f.tp.done;
    assert.deepEqual([o.status, o.crashed, o.signal], ['failed', true, 'SIGKILL']);
    assert.match(o.message!, /^the trainer process was killed \(SIGKILL\)/);
    const r = info(p.dir);
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.message, o.message);
    assert.ok(r.endedAt);
  });

  it('a trainer that exits with errors on stderr: the failure carries those lines', async () => {
    const ws = tinyWorkspace();
    const p = planRuns(ws.config, path.join(ws.dir, '.finetune', 'runs')).runs[0];
    // an override the validator rejects: the trainer prints the errors to stderr and exits with code 2
    const f = forkTrainer(trainerArgs({ configPath: p.configPath, runDir: p.dir, overrides: { 'training.lr': -1 }, device: 'cpu' }), p.dir);
    const o = await f.tp.done;
    assert.deepEqual([o.status, o.code, o.crashed], ['failed', 2, false]);
    assert.ok(
      o.stderrTail.some((l) => /training\.lr/.test(l)),
      o.stderrTail.join('\n'),
    );
    assert.match(o.message!, /^invalid config:\n.*:\d+:\d+: .*training\.lr/);
    const r = info(p.dir);
    assert.equal(r.status, 'failed');
    assert.match(r.error!.message, /training\.lr/);
  });

  it('SIGKILL of a run the window did not start: the liveness check finds it gone and marks it failed', async () => {
    const ws = tinyWorkspace();
    const runsDir = path.join(ws.dir, '.finetune', 'runs');
    const p = planRerun({ configPath: ws.config, overrides: LONG }, runsDir);
    const child = spawn(process.execPath, [TRAINER, ...argsOf(p)], { stdio: 'ignore', detached: true });
    children.add(child);
    const store = new RunStore();
    store.addFolder(runsDir);
    const pid = await until('run.json to say running', () => {
      const r = store.refresh(p.dir);
      return r?.info.status === 'running' && r.info.step > 0 && r.info.pid;
    });
    assert.deepEqual(
      classifyRunning(store.all()).live.map((r) => r.dir),
      [p.dir],
    );
    process.kill(pid, 'SIGKILL');
    await exited(child);
    assert.equal(isPidAlive(pid), false);
    const { live, stale } = classifyRunning(store.all());
    assert.deepEqual([live.length, stale.map((r) => r.dir)], [0, [p.dir]]);
    for (const r of stale) assert.equal(markRunFailed(r.dir, `the trainer process ${r.info.pid} exited without recording a result`), true);
    const r = store.refresh(p.dir)!;
    assert.equal(r.info.status, 'failed');
    assert.equal(r.info.error?.message, `the trainer process ${pid} exited without recording a result`);
  });
});

describe('extension core + real trainer: reattach after a window reload', () => {
  it('a detached run is found from its folder, followed through metrics.jsonl, and stopped with SIGTERM', async () => {
    const ws = tinyWorkspace();
    const runsDir = path.join(ws.dir, '.finetune', 'runs');
    const p = planRerun({ configPath: ws.config, overrides: LONG }, runsDir);
    // Started by an earlier window: its own process group, nobody holding its IPC channel or output.
    const child = spawn(process.execPath, [TRAINER, ...argsOf(p)], { stdio: 'ignore', detached: true });
    children.add(child);

    // The new window: scan the runs folder, watch it, follow what runs.
    const store = new RunStore();
    const live = new LiveRuns();
    const watcher = new RunsWatcher([], 50);
    const metricsEvents: number[] = [];
    watcher.on('run', (dir) => {
      store.refresh(dir);
      live.sync(store.all());
    });
    watcher.on('metrics', (dir) => {
      metricsEvents.push(live.metrics(dir).length);
    });
    try {
      store.addFolder(runsDir);
      watcher.add(runsDir);
      const running = await until('the run to be found running', () => {
        const r = store.refresh(p.dir);
        return r?.info.status === 'running' && r.info.pid ? r : undefined;
      });
      assert.equal(running.info.pid, child.pid);
      assert.equal(isPidAlive(running.info.pid), true);
      const { live: alive, stale } = classifyRunning(store.all());
      assert.deepEqual([alive.map((r) => r.dir), stale.length], [[p.dir], 0]);
      assert.deepEqual(live.sync(store.all()), [p.dir]);

      // Followed through its files: metrics.jsonl grows, the latest step and an ETA follow.
      const first = await until('train records from metrics.jsonl', () => live.last(p.dir)?.step);
      await until('metrics.jsonl to grow', () => (live.last(p.dir)?.step ?? 0) > first && metricsEvents.some((n) => n > 0));
      const total = store.get(p.dir)!.info.totalSteps;
      assert.ok(total && total > live.last(p.dir)!.step);
      assert.ok((live.eta(p.dir, total) ?? -1) > 0);

      // Stop, as the launcher does for a run it does not own: SIGTERM to the pid in run.json.
      const pid = running.info.pid!;
      process.kill(pid, 'SIGTERM');
      const stopped = await until('run.json to say stopped', () => {
        const r = store.get(p.dir);
        return r?.info.status === 'stopped' ? r : undefined;
      });
      const { code, signal } = await exited(child);
      assert.deepEqual([code, signal], [3, null], 'exit code 3: stopped');
      assert.equal(isPidAlive(pid), false);
      assert.ok(stopped.info.step < total);
      assert.ok(fs.existsSync(path.join(p.dir, 'checkpoints', 'last')));
      assert.equal(contextValue(stopped), 'run-stopped-resumable');
      assert.deepEqual(live.sync(store.all()), []);
      assert.deepEqual(classifyRunning(store.all()), { live: [], stale: [] });
    } finally {
      await watcher.close();
    }
  });
});

describe('extension core: bad input', () => {
  it('half-typed YAML gives diagnostics and never throws', () => {
    const ws = tinyWorkspace();
    const full = fs.readFileSync(ws.config, 'utf8');
    const named = ['training:\n  lr: 1e-', 'model: {from_scratch: {lay'];
    const texts = [
      ...named,
      '',
      ':',
      '- a\n- b',
      'training: [',
      'training:\n\tlr: 1',
      'sweep:\n  training.lr: [1e-3, ',
      'data: {train: "unterminated',
      '{"name": "x", "training": {"lr": ',
      '\u0000\uffff',
      'a: *nope',
      'a: &x [*x]',
    ];
    for (let i = 0; i <= full.length; i += 3) texts.push(full.slice(0, i));
    const file = ws.config;
    const check = (text: string) => {
      const { config, errors } = validateConfigText(text, file);
      const lines = text.split('\n');
      for (const e of errors) {
        const r = toRange(e, text);
        assert.ok(
          r.startLine >= 0 && r.endLine < lines.length && r.startLine <= r.endLine,
          `${JSON.stringify(r)} for ${JSON.stringify(e)} in ${JSON.stringify(text)}`,
        );
        assert.ok(r.startCharacter >= 0 && r.endCharacter <= Math.max(1, lines[r.endLine].length), `${JSON.stringify(r)} in ${JSON.stringify(text)}`);
        quickFixes(e, text);
      }
      if (config) checkFiles(config, text, file);
      const offsets = text.length <= 80 ? Array.from({ length: text.length + 1 }, (_, i) => i) : [0, text.length >> 1, text.length - 1, text.length];
      for (const off of offsets) keyAtOffset(text, off);
      return errors;
    };
    for (const t of texts) assert.doesNotThrow(() => check(t), JSON.stringify(t));
    const lr = check(named[0]).filter((e) => e.severity === 'error');
    assert.ok(lr.length > 0);
    assert.ok(
      lr.some((e) => toRange(e, named[0]).startLine === 1 && /training\.lr|number/.test(e.message)),
      JSON.stringify(lr),
    );
    const flow = check(named[1]).filter((e) => e.severity === 'error');
    assert.ok(flow.length > 0);
    assert.equal(toRange(flow[0], named[1]).startLine, 0);
    assert.deepEqual(
      check(full).filter((e) => e.severity === 'error'),
      [],
    );
  });

  it('run folders whose run.json cannot be read are listed as unreadable with the reason', () => {
    const ws = tinyWorkspace();
    const runsDir = path.join(ws.dir, '.finetune', 'runs');
    const good = planRuns(ws.config, runsDir).runs[0].dir;
    const mk = (name: string, runJson?: string | 'dir') => {
      const d = path.join(runsDir, name);
      fs.mkdirSync(d, { recursive: true });
      if (runJson === 'dir') fs.mkdirSync(path.join(d, 'run.json'));
      else if (runJson !== undefined) fs.writeFileSync(path.join(d, 'run.json'), runJson);
      return d;
    };
    const garbage = mk('garbage', '\u0000\u0001 not json {{');
    const empty = mk('empty', '');
    const folder = mk('folder-named-run-json', 'dir');
    const noStatus = mk('no-status', '{"id": "no-status"}');
    const list = mk('array', '[1, 2]');
    mk('being-created'); // no run.json yet: not a run folder (yet), not a problem
    fs.writeFileSync(path.join(runsDir, 'stray.txt'), 'x');

    const { runs, unreadable } = scanRunsFolderDetailed(runsDir);
    assert.deepEqual(
      runs.map((r) => r.dir),
      [good],
    );
    assert.deepEqual(
      scanRunsFolder(runsDir).map((r) => r.dir),
      [good],
    );
    const why = Object.fromEntries(unreadable.map((u) => [path.basename(u.dir), u.reason]));
    assert.deepEqual(Object.keys(why).sort(), ['array', 'empty', 'folder-named-run-json', 'garbage', 'no-status']);
    assert.match(why.garbage, /^run\.json is not valid JSON \(.+\)$/);
    assert.equal(why.empty, 'run.json is empty');
    assert.equal(why['folder-named-run-json'], 'run.json is a folder, not a file');
    assert.equal(why['no-status'], 'run.json has no run status');
    assert.match(why.array, /not a JSON object/);
    assert.equal(readRun(garbage), undefined);
    assert.equal(inspectRun(path.join(runsDir, 'being-created')), undefined);

    // The store lists them too, and forgets the reason once the file is good (or gone).
    const store = new RunStore();
    store.addFolder(runsDir);
    assert.deepEqual(
      store.all().map((r) => r.dir),
      [good],
    );
    assert.deepEqual(
      store
        .unreadable()
        .map((u) => u.dir)
        .sort(),
      [list, empty, folder, garbage, noStatus].sort(),
    );
    fs.writeFileSync(path.join(noStatus, 'run.json'), JSON.stringify({ ...info(good), id: 'no-status', name: 'fixed' }));
    assert.equal(store.refresh(noStatus)?.info.name, 'fixed');
    fs.rmSync(path.join(empty, 'run.json'));
    assert.equal(store.refresh(empty), undefined);
    assert.deepEqual(
      store
        .unreadable()
        .map((u) => path.basename(u.dir))
        .sort(),
      ['array', 'folder-named-run-json', 'garbage'],
    );
    fs.writeFileSync(path.join(good, 'run.json'), '{"torn'); // a known run mid-write keeps its last good state
    assert.equal(store.refresh(good)?.info.status, 'queued');
    assert.ok(!store.unreadable().some((u) => u.dir === good));
    store.rescan();
    assert.deepEqual(
      store
        .unreadable()
        .map((u) => path.basename(u.dir))
        .sort(),
      ['array', 'folder-named-run-json', 'garbage', path.basename(good)].sort(),
    );
  });

  it('deleting a run removes only that folder, not siblings with similar names', () => {
    const ws = tinyWorkspace();
    const runsDir = path.join(ws.dir, '.finetune', 'runs');
    const base = planRuns(ws.config, runsDir).runs[0].dir;
    const make = (name: string) => {
      const d = path.join(runsDir, name);
      fs.cpSync(base, d, { recursive: true });
      fs.writeFileSync(path.join(d, 'run.json'), JSON.stringify({ ...info(base), id: name, name }));
      fs.writeFileSync(path.join(d, 'metrics.jsonl'), '{"type":"train","step":1}\n');
      return d;
    };
    const abc = make('abc');
    const siblings = ['abc-1', 'abcd', 'abc.bak', 'abc copy', 'xabc'].map(make);
    fs.writeFileSync(path.join(runsDir, 'abc.txt'), 'not a run');
    const garbage = make('abc-garbage');
    fs.writeFileSync(path.join(garbage, 'run.json'), 'garbage');

    const store = new RunStore();
    store.addFolder(runsDir);
    deleteRunFolder(abc + path.sep); // a trailing separator changes nothing
    store.remove(abc);
    assert.equal(fs.existsSync(abc), false);
    assert.ok(readRun(base));
    for (const d of siblings) {
      assert.ok(fs.existsSync(path.join(d, 'metrics.jsonl')), d);
      assert.equal(readRun(d)?.info.id, path.basename(d));
    }
    assert.ok(fs.existsSync(path.join(runsDir, 'abc.txt')));
    assert.deepEqual(
      store
        .all()
        .map((r) => path.basename(r.dir))
        .sort(),
      [path.basename(base), ...siblings.map((d) => path.basename(d))].sort(),
    );

    // An unreadable run can be deleted too; a folder that is no run (the runs folder, a folder without run.json) cannot.
    deleteRunFolder(garbage);
    store.remove(garbage);
    assert.equal(fs.existsSync(garbage), false);
    assert.deepEqual(store.unreadable(), []);
    assert.throws(() => deleteRunFolder(runsDir), /not a run folder/);
    assert.throws(() => deleteRunFolder(path.join(runsDir, 'missing')), /not a run folder/);
    fs.mkdirSync(path.join(runsDir, 'plain'));
    assert.throws(() => deleteRunFolder(path.join(runsDir, 'plain')), /not a run folder/);
    assert.ok(fs.existsSync(path.join(runsDir, 'plain')));
    assert.equal(fs.readdirSync(runsDir).length, 1 + siblings.length + 2); // base, siblings, abc.txt, plain
    const rs: RunRecord[] = scanRunsFolder(runsDir);
    assert.equal(rs.length, 1 + siblings.length);
  });
});
