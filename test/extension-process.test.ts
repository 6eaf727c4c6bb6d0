// Following and running trainers without VS Code: the incremental metrics reader, ETA, the
// queue with concurrency, planning (sweeps → queued run folders), the trainer process wrapper
// (stop, crash → failed), the dashboard session protocol, and the run-folder watcher.

import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { HostToWebview, TrainRecord } from '../src/shared/protocol';
import { chunk, DashboardSession } from '../src/extension/core/dashboardCore';
import { EtaTracker, estimateEta, formatEta } from '../src/extension/core/eta';
import { planRerun, planRuns } from '../src/extension/core/plan';
import { RunQueue } from '../src/extension/core/queue';
import { crashMessage, markRunFailed, trainerArgs, TrainerProcess, type ChildLike } from '../src/extension/core/trainerProcess';
import { RunsWatcher } from '../src/extension/core/watcher';
import { MetricsTail, readLaunch, readRun, type RunRecord } from '../src/shared/run';

const ROOT = path.resolve(path.dirname(__filename), '..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ft-ext-proc-'));
const train = (step: number, time?: number): TrainRecord => ({
  type: 'train',
  step,
  epoch: step / 100,
  loss: 1 / step,
  lr: 1e-3,
  gradNorm: 1,
  stepsPerSec: 4,
  samplesPerSec: 128,
  ...(time !== undefined ? { time } : {}),
});
const line = (r: unknown) => JSON.stringify(r) + '\n';
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('extension: incremental metrics reader', () => {
  it('reads appends only, holds a torn last line until it is complete', () => {
    const file = path.join(tmp(), 'metrics.jsonl');
    const tail = new MetricsTail(file);
    assert.deepEqual(tail.read(), { records: [], reset: false, skipped: 0 });
    fs.writeFileSync(file, line(train(1)) + line(train(2)));
    assert.deepEqual(
      tail.read().records.map((r) => r.step),
      [1, 2],
    );
    assert.deepEqual(tail.read().records, []);
    const torn = line(train(3));
    fs.appendFileSync(file, torn.slice(0, 20));
    assert.deepEqual(tail.read().records, []);
    fs.appendFileSync(file, torn.slice(20) + line({ type: 'eval', split: 'validation', step: 3, epoch: 0.03, metrics: { f1: 0.5 } }));
    const r = tail.read();
    assert.deepEqual(
      r.records.map((x) => `${x.type}${x.step}`),
      ['train3', 'eval3'],
    );
    assert.equal(tail.offset, fs.statSync(file).size);
  });

  it('skips bad complete lines, handles multi-byte text split across reads', () => {
    const file = path.join(tmp(), 'metrics.jsonl');
    const ev = { type: 'eval', split: 'test', step: 9, epoch: 1, metrics: { f1: 1 }, perClass: { 'Zürich–Ω': { precision: 1, recall: 1, f1: 1, support: 1 } } };
    fs.writeFileSync(file, 'garbage\n' + line(ev) + line(train(10)));
    const tail = new MetricsTail(file, 7); // tiny chunks: lines and characters cross chunk borders
    const r = tail.read();
    assert.equal(r.skipped, 1);
    assert.deepEqual(
      r.records.map((x) => x.step),
      [9, 10],
    );
    assert.deepEqual(r.records[0], ev);
  });

  it('starts over after truncation and after rotation (a new file)', () => {
    const dir = tmp();
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, line(train(1)) + line(train(2)) + line(train(3)));
    const tail = new MetricsTail(file);
    assert.equal(tail.read().records.length, 3);
    fs.writeFileSync(file, line(train(1)));
    assert.deepEqual(tail.read(), { records: [train(1)], reset: true, skipped: 0 });
    fs.writeFileSync(path.join(dir, 'new.jsonl'), line(train(7)) + line(train(8)) + line(train(9)) + line(train(10)));
    fs.renameSync(path.join(dir, 'new.jsonl'), file);
    const rot = tail.read();
    assert.equal(rot.reset, true);
    assert.deepEqual(
      rot.records.map((r) => r.step),
      [7, 8, 9, 10],
    );
    fs.rmSync(file);
    assert.equal(tail.read().reset, true);
  });
});

describe('extension: ETA', () => {
  it('from wall-clock progress over a recent window (evaluation pauses count)', () => {
    const samples = [
      { step: 0, time: 0 },
      { step: 100, time: 10_000 },
      { step: 200, time: 20_000 },
    ];
    assert.equal(estimateEta({ step: 200, totalSteps: 1000, samples, now: 20_000 }), 80);
    assert.equal(estimateEta({ step: 200, totalSteps: 1000, samples, now: 25_000 }), 75); // time since the last record counts
    const slow = [
      { step: 0, time: 0 },
      { step: 100, time: 10_000 },
      { step: 110, time: 200_000 },
      { step: 120, time: 210_000 },
    ];
    assert.equal(estimateEta({ step: 120, totalSteps: 220, samples: slow, now: 210_000, windowMs: 60_000 }), 100);
  });

  it('falls back to steps/s, then to the average since the start; unknown without a total', () => {
    assert.equal(estimateEta({ step: 10, totalSteps: 110, stepsPerSec: 4 }), 25);
    assert.equal(estimateEta({ step: 10, totalSteps: 110, startedAt: 0, now: 10_000 }), 100);
    assert.equal(estimateEta({ step: 10 }), undefined);
    assert.equal(estimateEta({ step: 110, totalSteps: 110 }), 0);
    const t = new EtaTracker();
    t.add([train(10, 1000), train(20, 3000), train(20, 4000), { type: 'eval' }, train(30, 5000)]);
    assert.equal(t.last?.step, 30);
    assert.equal(t.eta(130, undefined, 5000), 20);
    // Every step's record (64 per call, one call a second): an evaluation pause 30 s ago still
    // counts, as when a call brought one record (samples are thinned, not cut to the last 256).
    const k = new EtaTracker();
    let step = 0;
    const block = (time: number) => k.add(Array.from({ length: 64 }, () => train(++step, time)));
    for (let s = 1; s <= 100; s++) block(s * 1000);
    for (let s = 0; s < 30; s++) block(160_000 + s * 1000); // after a 60 s evaluation
    const perBlock = [...Array(100).keys()].map((i) => ({ step: 64 * (i + 1), time: (i + 1) * 1000 }));
    for (let s = 0; s < 30; s++) perBlock.push({ step: 6400 + 64 * (s + 1), time: 160_000 + s * 1000 });
    const expected = estimateEta({ step, totalSteps: 20_000, samples: perBlock, now: 189_000 })!;
    assert.ok(expected > (20_000 - step) / 64 + 30, `${expected}: the pause counts`);
    assert.ok(Math.abs(k.eta(20_000, undefined, 189_000)! - expected) < expected * 0.02, `${k.eta(20_000, undefined, 189_000)} vs ${expected}`);
    assert.equal(formatEta(42), '42 s');
    assert.equal(formatEta(3900), '1 h 05 min');
  });
});

describe('extension: run queue', () => {
  it('runs at most `concurrency` jobs at once, in order, and continues after a failure', async () => {
    let limit = 2;
    const q = new RunQueue(() => limit);
    let active = 0;
    let peak = 0;
    const order: string[] = [];
    const errors: string[] = [];
    q.on('error', (id) => errors.push(id));
    const job = (id: string, ms: number, fail = false) => ({
      id,
      run: async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(id);
        await delay(ms);
        active--;
        if (fail) throw new Error('boom');
      },
    });
    q.enqueue(job('a', 30), job('b', 10, true), job('c', 10), job('d', 10), job('e', 10));
    assert.deepEqual(q.running, ['a', 'b']);
    assert.deepEqual(q.pending, ['c', 'd', 'e']);
    q.enqueue(job('a', 1)); // same run twice: ignored
    assert.equal(q.cancel('e'), true);
    assert.equal(q.cancel('a'), false);
    await q.idle();
    assert.equal(peak, 2);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
    assert.deepEqual(errors, ['b']);
    limit = 1;
    peak = 0;
    q.enqueue(job('x', 5), job('y', 5), job('z', 5));
    await q.idle();
    assert.equal(peak, 1);
  });
});

describe('extension: planning runs', () => {
  const data = path.join(ROOT, 'examples', 'ner', 'data');
  const config = (extra = '') =>
    `name: tiny\ntask: token-classification\nmodel: {from_scratch: {layers: 1, hidden: 16, heads: 2}}\ndata: {format: conll, train: ${data}/train.txt, validation: ${data}/dev.txt}\n${extra}`;

  it('a sweep becomes one queued run folder per combination, written at once', () => {
    const dir = tmp();
    const file = path.join(dir, 'tiny.finetune.yaml');
    fs.writeFileSync(file, config('sweep:\n  training.lr: [5.0e-4, 1.0e-3]\n  training.batch_size: [8, 16]\n'));
    const runsDir = path.join(dir, '.finetune', 'runs');
    const { runs } = planRuns(file, runsDir, new Date('2026-11-29T12:00:00Z'));
    assert.equal(runs.length, 4);
    assert.deepEqual(
      runs.map((r) => r.name),
      ['tiny[lr=0.0005,batch_size=8]', 'tiny[lr=0.0005,batch_size=16]', 'tiny[lr=0.001,batch_size=8]', 'tiny[lr=0.001,batch_size=16]'],
    );
    for (const r of runs) {
      const info = readRun(r.dir)!.info;
      assert.equal(info.status, 'queued');
      assert.equal(info.name, r.name);
      assert.equal(info.configPath, file);
      const c = info.config as { training: { lr: number; batchSize: number } };
      assert.equal(c.training.lr, r.overrides['training.lr']);
      assert.equal(c.training.batchSize, r.overrides['training.batch_size']);
      assert.deepEqual(readLaunch(r.dir), { configPath: file, overrides: r.overrides });
    }
    assert.deepEqual(trainerArgs({ configPath: file, runDir: runs[0].dir, overrides: runs[0].overrides, device: 'cpu', threads: 2 }), [
      'train',
      file,
      '--json',
      '--run-dir',
      runs[0].dir,
      '--set',
      'training.lr=0.0005',
      '--set',
      'training.batch_size=8',
      '--set',
      'name="tiny[lr=0.0005,batch_size=8]"',
      '--device',
      'cpu',
      '--threads',
      '2',
    ]);
    assert.deepEqual(trainerArgs({ resume: runs[0].dir, device: 'config', threads: 0 }), ['train', '--json', '--resume', runs[0].dir]);
    const again = planRerun(readLaunch(runs[1].dir)!, runsDir);
    assert.equal(readRun(again.dir)!.info.name, 'tiny[lr=0.0005,batch_size=16]');
  });

  it('a config with errors plans nothing', () => {
    const dir = tmp();
    const file = path.join(dir, 'bad.finetune.yaml');
    fs.writeFileSync(file, config('training: {lr: -1}\n'));
    assert.throws(() => planRuns(file, path.join(dir, 'runs')), /training\.lr/);
    assert.equal(fs.existsSync(path.join(dir, 'runs')) && fs.readdirSync(path.join(dir, 'runs')).length, false);
  });
});

/** A fake forked trainer. */
class FakeChild extends EventEmitter implements ChildLike {
  pid = 4242;
  stdout = new PassThrough();
  stderr = new PassThrough();
  connected = true;
  sent: unknown[] = [];
  signals: (string | number | undefined)[] = [];
  send(m: unknown) {
    this.sent.push(m);
    return true;
  }
  kill(sig?: NodeJS.Signals | number) {
    this.signals.push(sig);
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null) {
    this.stdout.end();
    this.stderr.end();
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

function runningRun(): string {
  const dir = tmp();
  fs.writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      id: path.basename(dir),
      name: 'r',
      configPath: '/w/x.finetune.yaml',
      configHash: '',
      config: null,
      status: 'running',
      createdAt: new Date().toISOString(),
      host: os.hostname(),
      versions: {},
      step: 40,
      epoch: 0.4,
      pid: 4242,
    }),
  );
  return dir;
}

describe('extension: trainer process', () => {
  it('a crash (exit by signal, no final event) marks the run failed with the last stderr line', async () => {
    const dir = runningRun();
    const child = new FakeChild();
    const tp = new TrainerProcess(child, { runDir: dir });
    const events: string[] = [];
    tp.on('event', (e) => events.push(e.type));
    child.emit('message', train(40));
    child.stderr.write('warming up\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n');
    await delay(5);
    child.exit(null, 'SIGABRT');
    const o = await tp.done;
    assert.deepEqual(events, ['train']);
    assert.equal(o.status, 'failed');
    assert.equal(o.crashed, true);
    assert.match(o.message!, /terminated by SIGABRT: FATAL ERROR: .*heap out of memory/);
    const info = readRun(dir)!.info;
    assert.equal(info.status, 'failed');
    assert.match(info.error!.message, /SIGABRT/);
    assert.ok(info.endedAt);
  });

  it('exit code null and no signal, or a bare non-zero code, is a crash too; a reported failure is kept as the trainer wrote it', async () => {
    const dir = runningRun();
    const c1 = new FakeChild();
    const p1 = new TrainerProcess(c1, { runDir: dir });
    c1.exit(null, null);
    assert.equal((await p1.done).crashed, true);
    assert.equal(readRun(dir)!.info.status, 'failed');

    const dir2 = runningRun();
    const c2 = new FakeChild();
    const p2 = new TrainerProcess(c2, { runDir: dir2 });
    c2.emit('message', { type: 'failed', error: 'loss is NaN at step 40' });
    fs.writeFileSync(
      path.join(dir2, 'run.json'),
      JSON.stringify({ ...readRun(dir2)!.info, status: 'failed', error: { message: 'loss is NaN at step 40', step: 40 } }),
    );
    c2.exit(1, null);
    const o2 = await p2.done;
    assert.deepEqual([o2.status, o2.crashed, o2.message], ['failed', false, 'loss is NaN at step 40']);
    assert.deepEqual(readRun(dir2)!.info.error, { message: 'loss is NaN at step 40', step: 40 });
  });

  it('exit code 3 (stopped) without its event is a stop, not a crash: the run stays stopped', async () => {
    const dir = runningRun();
    const child = new FakeChild();
    const tp = new TrainerProcess(child, { runDir: dir });
    // What the trainer wrote before its 'stopped' event was lost with the closing channel.
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...readRun(dir)!.info, status: 'stopped' }));
    child.exit(3, null);
    const o = await tp.done;
    assert.deepEqual([o.status, o.crashed, o.code], ['stopped', false, 3]);
    assert.equal(readRun(dir)!.info.status, 'stopped');
  });

  it('stop sends {type:"stop"}, then kills after the timeout; a completed run is not touched', async () => {
    const dir = runningRun();
    const child = new FakeChild();
    const tp = new TrainerProcess(child, { runDir: dir, stopTimeoutMs: 30 });
    tp.stop();
    assert.deepEqual(child.sent, [{ type: 'stop' }]);
    assert.deepEqual(child.signals, []);
    await delay(60);
    assert.deepEqual(child.signals, ['SIGKILL']);
    child.exit(null, 'SIGKILL');
    const o = await tp.done;
    assert.equal(o.status, 'failed');
    assert.match(o.message!, /did not stop in time and was killed/);

    const dir2 = runningRun();
    const c2 = new FakeChild();
    c2.connected = false; // no IPC: SIGTERM instead
    const p2 = new TrainerProcess(c2, { runDir: dir2, stopTimeoutMs: 1000 });
    p2.stop();
    assert.deepEqual(c2.signals, ['SIGTERM']);
    c2.emit('message', { type: 'stopped', step: 40, checkpoint: '/x' });
    fs.writeFileSync(path.join(dir2, 'run.json'), JSON.stringify({ ...readRun(dir2)!.info, status: 'stopped' }));
    c2.exit(0, null);
    assert.equal((await p2.done).status, 'stopped');
    assert.equal(readRun(dir2)!.info.status, 'stopped');
    assert.equal(markRunFailed(dir2, 'x'), false);
  });

  it('a real forked process that dies by SIGKILL after reporting progress', async () => {
    const dir = runningRun();
    const script = path.join(tmp(), 'fake-trainer.js');
    fs.writeFileSync(
      script,
      `process.send(${JSON.stringify(train(41))});\nconsole.log('{"type":"log","level":"info","message":"hi"}');\nconsole.error('about to die');\nsetTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);\n`,
    );
    const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const tp = new TrainerProcess(child, { runDir: dir });
    const lines: string[] = [];
    const events: string[] = [];
    tp.on('line', (l, s) => lines.push(`${s}:${l}`));
    tp.on('event', (e) => events.push(e.type));
    const o = await tp.done;
    assert.equal(o.signal, 'SIGKILL');
    assert.equal(o.crashed, true);
    assert.match(o.message!, /killed \(SIGKILL\)/);
    assert.deepEqual(events, ['train']); // stdout JSON is for the log; events come over IPC
    assert.ok(lines.includes('stderr:about to die'));
    assert.equal(readRun(dir)!.info.status, 'failed');
  });

  it('crash messages', () => {
    assert.match(crashMessage(134, null, ['JavaScript heap out of memory']), /ran out of memory \(exit code 134\)/);
    assert.match(crashMessage(3, null, []), /exited with code 3 without reporting a result/);
    assert.match(crashMessage(null, 'SIGKILL', []), /possibly by the system for using too much memory/);
  });
});

describe('extension: dashboard session', () => {
  function setup(records: number) {
    const dir = tmp();
    const info = {
      id: 'run-1',
      name: 'r',
      configPath: '/w/x.finetune.yaml',
      configHash: '',
      config: { baseDir: '/w', data: { train: '/d/train.txt', validation: '/d/dev.txt' } },
      status: 'running' as const,
      createdAt: '',
      host: '',
      versions: {},
      step: 5,
      totalSteps: 100,
      epoch: 0,
    };
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(info));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), Array.from({ length: records }, (_, i) => line(train(i + 1))).join(''));
    fs.writeFileSync(
      path.join(dir, 'misclassified-validation.json'),
      JSON.stringify({ step: 5, examples: [{ file: '/d/dev.txt', line: 3, gold: 'B-PER', pred: 'O' }] }),
    );
    const posted: HostToWebview[] = [];
    const calls: string[] = [];
    const run: RunRecord = { dir, info };
    const s = new DashboardSession([dir], {
      post: (m) => posted.push(m),
      getRun: (d) => (path.resolve(d) === path.resolve(dir) ? run : undefined),
      eta: () => 42,
      stop: (d) => calls.push(`stop ${d}`),
      openFile: (f, l) => calls.push(`open ${f}:${l}`),
      save: (f, n, d) => void calls.push(`save ${f} ${n} ${typeof d === 'string' ? d : Buffer.from(d).toString()}`),
      log: (m) => calls.push(`log ${m}`),
      warn: (m) => calls.push(`warn ${m}`),
    });
    return { dir, posted, calls, s };
  }

  it('sends nothing before ready; then init, history in chunks of at most 5000, status', async () => {
    const { dir, posted, s } = setup(12_001);
    s.metricsChanged(dir);
    s.runChanged(dir);
    assert.equal(posted.length, 0);
    await s.receive({ type: 'ready' });
    assert.deepEqual(
      posted.map((m) => m.type),
      ['init', 'history', 'history', 'history', 'status'],
    );
    const h = posted.filter((m) => m.type === 'history');
    assert.deepEqual(
      h.map((m) => [m.records.length, m.done]),
      [
        [5000, false],
        [5000, false],
        [2001, true],
      ],
    );
    assert.deepEqual(posted[posted.length - 1], { type: 'status', run: (posted[0] as Extract<HostToWebview, { type: 'init' }>).runs[0], etaSeconds: 42 });
    posted.length = 0;
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), line(train(12_002)));
    s.metricsChanged(dir);
    assert.deepEqual(posted, [{ type: 'append', runId: 'run-1', records: [train(12_002)] }]);
    assert.deepEqual(chunk([]), [[]]);
  });

  it('an empty run still gets one history message with done; every webview message is handled', async () => {
    const { dir, posted, calls, s } = setup(0);
    await s.receive({ type: 'ready' });
    assert.deepEqual(
      posted.filter((m) => m.type === 'history'),
      [{ type: 'history', runId: 'run-1', records: [], done: true }],
    );
    await s.receive({ type: 'stop', runId: 'run-1' });
    await s.receive({ type: 'openFile', file: '/d/dev.txt', line: 3 });
    await s.receive({ type: 'requestMisclassified', runId: 'run-1', split: 'validation' });
    await s.receive({ type: 'requestMisclassified', runId: 'run-1', split: 'test' });
    await s.receive({ type: 'export', format: 'csv', suggestedName: 'a.csv', data: 'x,y' });
    await s.receive({ type: 'export', format: 'png', suggestedName: 'a.png', data: Buffer.from('PNG').toString('base64'), base64: true });
    await s.receive({ type: 'error', message: 'oops' });
    await s.receive({ type: 'stop' }); // invalid: no runId
    assert.deepEqual(calls.slice(0, 5), [`stop ${dir}`, 'open /d/dev.txt:3', 'save csv a.csv x,y', 'save png a.png PNG', 'log dashboard: oops']);
    assert.match(calls[5], /ignored an invalid message/);
    const mis = posted.filter((m) => m.type === 'misclassified');
    assert.deepEqual(
      mis.map((m) => [m.split, m.examples.length]),
      [
        ['validation', 1],
        ['test', 0],
      ],
    );
  });
});

describe('extension: run folder watcher', () => {
  it('reports new runs, run.json changes, metrics appends and removed runs (no polling)', async () => {
    const runs = path.join(tmp(), 'runs');
    const w = new RunsWatcher([runs], 50);
    const seen: string[] = [];
    w.on('run', (d) => seen.push(`run ${path.basename(d)}`));
    w.on('metrics', (d) => seen.push(`metrics ${path.basename(d)}`));
    w.on('removed', (d) => seen.push(`removed ${path.basename(d)}`));
    w.on('folder', (d) => seen.push(`folder ${path.basename(d)}`));
    await delay(150); // the runs folder does not exist yet: its parent is watched for it
    try {
      const until = async (what: string) => {
        for (let i = 0; i < 100 && !seen.includes(what); i++) await delay(20);
        assert.ok(seen.includes(what), `${what} in ${JSON.stringify(seen)}`);
      };
      fs.mkdirSync(path.join(runs, 'a', 'checkpoints'), { recursive: true });
      await until('folder runs');
      await delay(150);
      fs.writeFileSync(path.join(runs, 'a', 'run.json'), '{}');
      await until('run a');
      fs.appendFileSync(path.join(runs, 'a', 'metrics.jsonl'), line(train(1)));
      await until('metrics a');
      fs.writeFileSync(path.join(runs, 'a', 'checkpoints', 'x.bin'), 'x');
      fs.rmSync(path.join(runs, 'a'), { recursive: true });
      await until('removed a');
      assert.ok(!seen.some((s) => s.includes('x.bin')));
    } finally {
      await w.close();
    }
  });
});
