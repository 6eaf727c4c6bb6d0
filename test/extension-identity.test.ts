// Where the extension host names runs by their identity (shared/run/identity.ts): the store's labels
// over all known runs, the runs view item, pick lists, the dashboard's summaries (and a label that
// changes while a panel is open), notifications, and Rename.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RunStore } from '../src/extension/core/store';
import { contextLabel, describeRun, renameFields, runPickItem, toRunSummary } from '../src/extension/core/runs';
import { DashboardSession } from '../src/extension/core/dashboardCore';
import { newRunInfo, RunWriter, shortRunId, updateRunInfo, writeRunInfo, type RunInfo, type RunRecord } from '../src/shared/run';
import type { HostToWebview } from '../src/shared/protocol';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ft-identity-'));

/** A run folder as `Fine-tune: Start` on a sweep over training.lr leaves it: run.json named after the trial, its resolved config. */
function writeSweepRun(runsDir: string, configPath: string, id: string, lr: number): string {
  const name = `textcls[lr=${lr}]`;
  const config = {
    name,
    task: 'sequence-classification',
    configPath,
    baseDir: path.dirname(configPath),
    model: { fromScratch: { layers: 2, hidden: 128, heads: 4 }, dropout: 0.1, peft: { kind: 'none' } },
    training: { epochs: 2, batchSize: 32, lr },
    evaluation: { every: 'epoch', metric: 'accuracy' },
    seed: 42,
  };
  const dir = path.join(runsDir, id);
  fs.mkdirSync(dir, { recursive: true });
  writeRunInfo(dir, { ...newRunInfo({ id, name, configPath, config, configHash: 'h', status: 'completed' }), final: { test_accuracy: 0.9 } });
  return dir;
}

function setup() {
  const root = tmp();
  const cfg = path.join(root, 'textcls.finetune.yaml');
  const runs = path.join(root, '.finetune', 'runs');
  const a = writeSweepRun(runs, cfg, '20261130-180000-textcls-lr-0-0003', 3e-4);
  const b = writeSweepRun(runs, cfg, '20261130-180000-textcls-lr-0-001', 1e-3);
  const store = new RunStore();
  store.addFolder(runs);
  return { root, cfg, runs, a, b, store, rec: (d: string) => store.get(d)! };
}

describe('extension: run identity', () => {
  it('the store labels each run among all runs of its config, and relabels after a rename or a new sibling', () => {
    const { runs, cfg, a, b, store, rec } = setup();
    assert.equal(store.label(rec(a)), 'lr=3e-4');
    assert.equal(store.label(rec(b)), 'lr=1e-3');
    assert.equal(store.identity(rec(a)).shortId, shortRunId(path.basename(a)));
    // Rename: run.json `renamed` and the name; the store's next label is the name
    // `renamed` alone (the name already the config's) makes the name the label
    updateRunInfo(b, { renamed: true });
    store.refresh(b);
    assert.equal(store.label(rec(b)), 'textcls[lr=0.001]');
    updateRunInfo(b, renameFields(rec(b).info, 'baseline', store.label(rec(b)))!);
    store.refresh(b);
    assert.equal(store.label(rec(b)), 'baseline');
    assert.equal(store.label(rec(a)), 'lr=3e-4');
    // a third run with a's lr: the two that now read the same get their short ids
    const c = writeSweepRun(runs, cfg, '20261130-180500-textcls-lr-0-0003', 3e-4);
    store.refresh(c);
    assert.equal(store.label(rec(a)), `lr=3e-4 #${shortRunId(path.basename(a))}`);
    assert.equal(store.label(rec(c)), `lr=3e-4 #${shortRunId(path.basename(c))}`);
  });

  it('a live run’s progress (run.json rewritten, same config) reuses its config’s labels instead of computing them again', () => {
    const { a, store, rec } = setup();
    const before = store.identity(rec(a));
    updateRunInfo(a, { status: 'running' });
    store.refresh(a);
    assert.equal(rec(a).info.status, 'running');
    assert.equal(store.identity(rec(a)), before, 'the same identity object: nothing recomputed');
  });

  it('Rename: a new name is the label (renamed: true); empty goes back to the computed label; unchanged writes nothing', () => {
    const { b, rec } = setup();
    const info = rec(b).info;
    assert.deepEqual(renameFields(info, '  my best run ', 'lr=1e-3'), { name: 'my best run', renamed: true });
    assert.equal(renameFields(info, 'lr=1e-3', 'lr=1e-3'), undefined);
    assert.equal(renameFields(info, '', 'lr=1e-3'), undefined, 'not renamed: nothing to reset');
    const renamed = { ...info, name: 'my best run', renamed: true };
    assert.deepEqual(renameFields(renamed, '', 'my best run'), { name: 'textcls[lr=0.001]', renamed: false });
    assert.equal(renameFields(renamed, 'my best run', 'my best run'), undefined);
  });

  it('a trainer rewriting run.json keeps the rename (name and renamed are user fields)', () => {
    const { b, rec } = setup();
    const w = new RunWriter(b, { ...rec(b).info });
    updateRunInfo(b, { name: 'baseline', renamed: true });
    w.update({ step: 5 });
    const onDisk = JSON.parse(fs.readFileSync(path.join(b, 'run.json'), 'utf8')) as RunInfo;
    assert.equal(onDisk.name, 'baseline');
    assert.equal(onDisk.renamed, true);
    assert.equal(onDisk.step, 5);
  });

  it('the runs view item: the label, the short id at the end of the description, the name in the tooltip', () => {
    const { a, store, rec } = setup();
    const d = describeRun(rec(a), Date.now(), { identity: store.identity(rec(a)) });
    assert.equal(d.label, 'lr=3e-4');
    assert.match(d.description, new RegExp(`· ${shortRunId(path.basename(a))}$`));
    assert.match(d.tooltip, /^\*\*lr=3e-4\*\* — completed/);
    assert.match(d.tooltip, /name: textcls\\\[lr=0\.0003\\\]/);
  });

  it('pick lists: label, then short id; the name and where in the detail', () => {
    const { a, store, rec } = setup();
    const item = runPickItem(rec(a), 'textcls.finetune.yaml', Date.now(), store.identity(rec(a)));
    assert.equal(item.label, 'lr=3e-4');
    assert.match(item.description, new RegExp(`^${shortRunId(path.basename(a))} · completed`));
    assert.equal(item.detail, 'textcls[lr=0.0003] · textcls.finetune.yaml');
  });

  it('notifications name the config too: `textcls · lr=3e-4`; a run labelled by its name is its name', () => {
    const { a, store, rec } = setup();
    assert.equal(contextLabel(rec(a), store.identity(rec(a))), 'textcls · lr=3e-4');
    assert.equal(contextLabel(rec(a)), 'textcls[lr=0.0003]', 'alone, the run is its name');
  });

  it('the dashboard gets each run’s label and short id, and a new label when a sibling changes it', async () => {
    const { runs, cfg, a, b, store, rec } = setup();
    const posted: HostToWebview[] = [];
    const s = new DashboardSession([a, b], {
      post: (m) => posted.push(m),
      getRun: (d) => store.get(d),
      identity: (r: RunRecord) => store.identity(r),
      eta: () => undefined,
      stop: () => {},
      openFile: () => {},
      save: () => {},
      log: () => {},
      warn: () => {},
    });
    await s.receive({ type: 'ready' });
    const init = posted.find((m): m is Extract<HostToWebview, { type: 'init' }> => m.type === 'init')!;
    assert.deepEqual(
      init.runs.map((r) => [r.label, r.shortId]),
      [
        ['lr=3e-4', shortRunId(path.basename(a))],
        ['lr=1e-3', shortRunId(path.basename(b))],
      ],
    );
    assert.equal(toRunSummary(rec(a), store.identity(rec(a))).label, 'lr=3e-4');
    posted.length = 0;
    s.labelsChanged();
    assert.equal(posted.length, 0, 'no change, nothing sent');
    const c = writeSweepRun(runs, cfg, '20261130-180500-textcls-lr-0-0003', 3e-4);
    store.refresh(c);
    s.labelsChanged();
    const status = posted.filter((m): m is Extract<HostToWebview, { type: 'status' }> => m.type === 'status');
    assert.deepEqual(
      status.map((m) => m.run.label),
      [`lr=3e-4 #${shortRunId(path.basename(a))}`],
    );
  });
});
