// The experiments table's host side without VS Code (src/extension/core/tableRows.ts): runs on disk
// as TableRows, their sweeps, and the session: rows after `ready`, upserts and removals from the
// run store, actions on run folders, pins kept in run.json across a trainer's rewrite.
// Run: node --import tsx --test test/extension-table.test.ts

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RunStore } from '../src/extension/core/store';
import { flattenConfig, rowIdentity, sweepIndex, TableSession, toTableRow, type TableHost } from '../src/extension/core/tableRows';
import type { HostToTable } from '../src/shared/protocol';
import { createRunFolder, defaultRunsFolder, newRunInfo, readRun, RunWriter, updateRunInfo, writeRunInfo, type RunRecord } from '../src/shared/run';
import { shortRunId } from '../src/shared/run/identity';
import { defaultSweepsFolder, writeSweep, type SweepInfo } from '../src/shared/sweep/folder';

/** A resolved config as the trainer writes it into run.json (camelCase, with configPath and baseDir). */
const resolved = (lr: number, batchSize: number) => ({
  task: 'token-classification',
  configPath: '/w/ner.finetune.yaml',
  baseDir: '/w',
  model: { fromScratch: { layers: 2, hidden: 64, heads: 2 }, peft: { kind: 'lora', rank: 8 } },
  data: { train: 'train.txt', maxLength: 128 },
  training: { lr, batchSize, epochs: 3, earlyStopping: null },
  labels: ['O', 'B-PER'],
});

function workspace(): { root: string; runs: string; config: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-table-'));
  const config = path.join(root, 'ner.finetune.yaml');
  fs.writeFileSync(config, 'task: token-classification\n');
  return { root, runs: defaultRunsFolder(root), config };
}

function makeRun(
  runs: string,
  config: string,
  name: string,
  lr: number,
  o: { status?: 'running' | 'completed'; final?: Record<string, number> } = {},
): RunRecord {
  const { id, dir } = createRunFolder(runs, name, new Date(Date.UTC(2026, 10, 30, 12, 0, Math.floor(lr * 1e6) % 60)));
  const info = newRunInfo({ id, name, configPath: config, config: resolved(lr, 32), configHash: 'h', status: o.status ?? 'completed' });
  info.startedAt = '2026-11-30T12:00:00.000Z';
  info.step = 40;
  info.totalSteps = 100;
  if (o.final) info.final = o.final;
  writeRunInfo(dir, info);
  return readRun(dir)!;
}

const ctx = (root: string, sweeps = new Map<string, string>()) => ({
  relative: (f: string) => path.relative(root, f),
  sweepOf: (d: string) => sweeps.get(path.resolve(d)),
});

describe('table rows', () => {
  it('a config flattens to dotted keys as the config writes them (snake_case, peft as written, lists as JSON)', () => {
    const flat = flattenConfig(resolved(3e-4, 16));
    assert.deepEqual(flat, {
      task: 'token-classification',
      'model.from_scratch.layers': 2,
      'model.from_scratch.hidden': 64,
      'model.from_scratch.heads': 2,
      'model.peft.lora.rank': 8,
      'data.train': 'train.txt',
      'data.max_length': 128,
      'training.lr': 3e-4,
      'training.batch_size': 16,
      'training.epochs': 3,
      'training.early_stopping': null,
      labels: '["O","B-PER"]',
    });
  });

  it('a run as a row: identity, status, config relative to the workspace, params, final metrics, a running run’s best so far, pin', () => {
    const w = workspace();
    const done = makeRun(w.runs, w.config, 'ner', 1e-4, { final: { best_f1: 0.9, test_f1: 0.88, test_loss: 0.2 } });
    const row = toTableRow(done, ctx(w.root));
    assert.equal(row.id, done.info.id);
    assert.deepEqual(rowIdentity(done), { label: 'ner', shortId: shortRunId(done.info.id) });
    assert.equal(row.label, 'ner');
    assert.equal(row.config, 'ner.finetune.yaml');
    assert.equal(row.params['training.lr'], 1e-4);
    assert.deepEqual(row.metrics, { best_f1: 0.9, test_f1: 0.88, test_loss: 0.2 });
    assert.equal(row.step, 40);
    assert.equal(row.totalSteps, 100);
    assert.equal(row.pinned, undefined);
    const running = makeRun(w.runs, w.config, 'ner', 2e-4, { status: 'running' });
    const info = readRun(running.dir)!.info;
    info.best = { metric: 'f1', value: 0.7, step: 20, checkpoint: 'best' };
    writeRunInfo(running.dir, info);
    assert.deepEqual(toTableRow(readRun(running.dir)!, ctx(w.root)).metrics, { best_f1: 0.7 });
    updateRunInfo(done.dir, { pinned: true });
    assert.equal(toTableRow(readRun(done.dir)!, ctx(w.root)).pinned, true);
  });

  it('a pin survives the trainer rewriting run.json (a user field)', () => {
    const w = workspace();
    const r = makeRun(w.runs, w.config, 'ner', 1e-4, { status: 'running' });
    const writer = new RunWriter(r.dir, r.info);
    updateRunInfo(r.dir, { pinned: true });
    writer.update({ step: 50 });
    assert.equal(readRun(r.dir)!.info.pinned, true);
    assert.equal(readRun(r.dir)!.info.step, 50);
    updateRunInfo(r.dir, { pinned: false });
    writer.update({ step: 60 });
    assert.equal(readRun(r.dir)!.info.pinned, false, 'an unpin is not undone by the trainer');
  });

  it('sweepIndex: trial run folders → their sweep, from sweep.json beside the config; a broken sweep folder is skipped', () => {
    const w = workspace();
    const a = makeRun(w.runs, w.config, 'ner[lr=1e-4]', 1e-4);
    const b = makeRun(w.runs, w.config, 'ner', 2e-4);
    const sweeps = defaultSweepsFolder(w.root);
    const sdir = path.join(sweeps, '20261130-120000-ner');
    fs.mkdirSync(sdir, { recursive: true });
    const info: SweepInfo = {
      version: 1,
      id: '20261130-120000-ner',
      name: 'ner',
      configPath: w.config,
      overrides: {},
      method: 'random',
      space: {},
      metric: 'f1',
      mode: 'max',
      total: 2,
      sampler: { kind: 'random', seed: 1 },
      status: 'running',
      createdAt: '',
      updatedAt: '',
      trials: [{ number: 0, params: { 'training.lr': 1e-4 }, runDir: a.dir, status: 'completed', startedAt: '' }],
    };
    writeSweep(sdir, info);
    fs.mkdirSync(path.join(sweeps, 'junk'));
    fs.writeFileSync(path.join(sweeps, 'junk', 'sweep.json'), '{');
    const idx = sweepIndex([w.config, w.config]);
    assert.deepEqual([...idx], [[path.resolve(a.dir), `ner (${info.id.slice(-6)})`]]);
    assert.equal(toTableRow(b, ctx(w.root, idx)).sweep, undefined);
    assert.equal(toTableRow(a, ctx(w.root, idx)).sweep, `ner (${info.id.slice(-6)})`);
  });
});

describe('table session', () => {
  function setup(names: [string, string] = ['one', 'two']) {
    const w = workspace();
    const store = new RunStore();
    const r1 = makeRun(w.runs, w.config, names[0], 1e-4);
    const r2 = makeRun(w.runs, w.config, names[1], 2e-4);
    store.addFolder(w.runs);
    const posted: HostToTable[] = [];
    const acts: [string, string[]][] = [];
    const saved: [string, string][] = [];
    const logs: string[] = [];
    const host: TableHost = {
      post: (m) => posted.push(m),
      runs: () => store.all(),
      get: (d) => store.get(d),
      byId: (id) => store.byId(id),
      row: (r) => toTableRow(r, { ...ctx(w.root), identity: (x) => store.identity(x) }),
      act: (a, dirs) => void acts.push([a, dirs]),
      save: (n, d) => void saved.push([n, d]),
      log: (m) => logs.push(m),
    };
    const session = new TableSession(host);
    return { w, store, r1, r2, posted, acts, saved, logs, session };
  }

  it('posts nothing before ready; then every row; store changes as upserts and removals by id', async () => {
    const s = setup();
    s.session.changed([s.r1.dir]);
    assert.deepEqual(s.posted, []);
    await s.session.receive({ type: 'ready' });
    assert.equal(s.posted.length, 1);
    const first = s.posted[0] as HostToTable;
    assert.ok(first.type === 'rows');
    assert.deepEqual(first.rows.map((r) => r.label).sort(), ['lr=1e-4', 'lr=2e-4']);
    updateRunInfo(s.r1.dir, { name: 'renamed', renamed: true });
    s.store.refresh(s.r1.dir);
    s.session.changed([s.r1.dir]);
    const up = s.posted[1] as HostToTable;
    assert.ok(up.type === 'upsert');
    assert.equal(up.rows.find((r) => r.id === s.r1.info.id)?.label, 'renamed');
    fs.rmSync(s.r2.dir, { recursive: true });
    s.store.refresh(s.r2.dir);
    s.session.changed([s.r2.dir]);
    assert.deepEqual(
      (s.posted as HostToTable[]).slice(2).find((m) => m.type === 'remove'),
      { type: 'remove', ids: [s.r2.info.id] },
    );
  });

  it('rows are labelled by what sets a run apart from its config’s other runs; a new sibling relabels the others', async () => {
    const s = setup(['ner', 'ner']);
    await s.session.receive({ type: 'ready' });
    const first = s.posted[0];
    assert.ok(first.type === 'rows');
    assert.deepEqual(first.rows.map((r) => r.label).sort(), ['lr=1e-4', 'lr=2e-4']);
    assert.deepEqual(
      first.rows.map((r) => r.shortId),
      first.rows.map((r) => shortRunId(r.id)),
    );
    // a third run with the same lr as the first: batch size sets it apart, and the first two are relabelled with it
    const cfg = path.join(s.w.root, 'ner.finetune.yaml');
    const { id, dir } = createRunFolder(s.w.runs, 'ner', new Date(Date.UTC(2026, 10, 30, 13)));
    writeRunInfo(dir, newRunInfo({ id, name: 'ner', configPath: cfg, config: resolved(1e-4, 16), configHash: 'h', status: 'running' }));
    s.store.refresh(dir);
    s.session.changed([dir]);
    const up = s.posted[1];
    assert.ok(up.type === 'upsert');
    assert.deepEqual(up.rows.map((r) => r.label).sort(), ['lr=1e-4 · bs=16', 'lr=1e-4 · bs=32', 'lr=2e-4 · bs=32']);
  });

  it('actions name run ids; the host gets their folders (unknown ids dropped); bad messages are logged, not acted on', async () => {
    const s = setup();
    await s.session.receive({ type: 'ready' });
    await s.session.receive({ type: 'action', action: 'compare', ids: [s.r1.info.id, 'nope', s.r2.info.id] });
    assert.deepEqual(s.acts, [['compare', [s.r1.dir, s.r2.dir]]]);
    await s.session.receive({ type: 'action', action: 'format-disk', ids: [s.r1.info.id] });
    await s.session.receive({ type: 'action', action: 'delete', ids: ['nope'] });
    assert.equal(s.acts.length, 1);
    assert.match(s.logs.join('\n'), /ignored an invalid message/);
  });

  it('export: CSV saved under a safe suggested name; other formats refused', async () => {
    const s = setup();
    await s.session.receive({ type: 'export', format: 'csv', suggestedName: '../../etc/passwd', data: 'id\n' });
    await s.session.receive({ type: 'export', format: 'png', suggestedName: 'x.png', data: 'AAAA' });
    assert.deepEqual(s.saved, [['passwd.csv', 'id\n']]);
  });
});
