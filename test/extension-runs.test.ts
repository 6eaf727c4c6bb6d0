// The run history's pure side: scanning run folders, grouping by config, what an item shows,
// running runs after a reload, and edits to a run folder (rename, notes, delete, export).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RunStore } from '../src/extension/core/store';
import {
  classifyRunning,
  contextValue,
  describeRun,
  formatAgo,
  formatDuration,
  groupByConfig,
  keyMetric,
  parseTags,
  runsFolderFor,
  toRunSummary,
} from '../src/extension/core/runs';
import { deleteRunFolder, exportModel, readRun, type RunInfo, scanRunsFolder, shortRunId, updateRunInfo } from '../src/shared/run';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ft-ext-runs-'));

/** A run.json like the trainer writes (trimmed resolved config). */
function runInfo(o: {
  id: string;
  configPath: string;
  status?: RunInfo['status'];
  lr?: number;
  batchSize?: number;
  createdAt?: string;
  best?: number;
  test?: number;
  pid?: number;
  host?: string;
  step?: number;
  totalSteps?: number;
}): RunInfo {
  const baseDir = path.dirname(o.configPath);
  return {
    id: o.id,
    name: o.id.replace(/^\d{8}-\d{6}-/, ''),
    configPath: o.configPath,
    configHash: 'x',
    status: o.status ?? 'completed',
    createdAt: o.createdAt ?? '2026-11-29T10:00:00.000Z',
    startedAt: o.createdAt ?? '2026-11-29T10:00:00.000Z',
    endedAt: o.status === 'running' ? undefined : new Date(Date.parse(o.createdAt ?? '2026-11-29T10:00:00.000Z') + 277_000).toISOString(),
    host: o.host ?? os.hostname(),
    pid: o.pid,
    versions: { finetune: '0.1.0' },
    step: o.step ?? 1000,
    totalSteps: o.totalSteps ?? 1000,
    epoch: 8,
    config: {
      name: 'ner-scratch',
      task: 'token-classification',
      configPath: o.configPath,
      baseDir,
      model: {
        fromScratch: { layers: 2, hidden: 128, heads: 4, intermediate: 512, maxPositions: 128, minFrequency: 5, lowercase: false },
        dropout: 0.1,
        attentionDropout: 0.1,
        peft: { kind: 'none' },
      },
      data: { format: 'conll', train: path.join(baseDir, 'data/train.txt'), maxLength: 64, overflow: 'window', stride: 16 },
      training: { epochs: 8, batchSize: o.batchSize ?? 32, optimizer: 'adamw', lr: o.lr ?? 0.001, weightDecay: 0.01, warmupRatio: 0.1, schedule: 'linear' },
      evaluation: { every: 'epoch', metric: 'f1', mode: 'default', maxMisclassified: 200 },
      device: 'auto',
      threads: 0,
      seed: 42,
    },
    best: o.best !== undefined ? { metric: 'f1', value: o.best, step: 875, checkpoint: '/x/checkpoints/best' } : undefined,
    final: o.test !== undefined ? { test_f1: o.test, test_loss: 0.0101, best_f1: o.best ?? o.test } : undefined,
  };
}

function writeRun(runsDir: string, info: RunInfo): string {
  const dir = path.join(runsDir, info.id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(info, null, 2));
  return dir;
}

describe('extension: run folders', () => {
  it('scans a runs folder: folders with a valid run.json only', () => {
    const root = tmp();
    const runs = path.join(root, '.finetune', 'runs');
    const cfg = path.join(root, 'ner.finetune.yaml');
    writeRun(runs, runInfo({ id: '20261129-100000-ner', configPath: cfg, best: 0.99, test: 0.985 }));
    writeRun(runs, runInfo({ id: '20261129-110000-ner', configPath: cfg, status: 'running', step: 420, totalSteps: 1000 }));
    fs.mkdirSync(path.join(runs, 'empty'));
    fs.mkdirSync(path.join(runs, 'torn'));
    fs.writeFileSync(path.join(runs, 'torn', 'run.json'), '{"id": "torn", "sta');
    fs.writeFileSync(path.join(runs, 'stray.txt'), 'not a run');
    const found = scanRunsFolder(runs);
    assert.deepEqual(found.map((r) => r.info.id).sort(), ['20261129-100000-ner', '20261129-110000-ner']);
    assert.deepEqual(scanRunsFolder(path.join(root, 'missing')), []);
    assert.equal(readRun(path.join(runs, 'torn')), undefined);
  });

  it('groups runs by config, newest first, groups by their newest run', () => {
    const root = tmp();
    const runs = path.join(root, 'runs');
    const a = path.join(root, 'a', 'ner.finetune.yaml');
    const b = path.join(root, 'b', 'cls.finetune.yaml');
    writeRun(runs, runInfo({ id: '20261129-090000-a1', configPath: a, createdAt: '2026-11-29T09:00:00Z' }));
    writeRun(runs, runInfo({ id: '20261129-120000-a2', configPath: a, createdAt: '2026-11-29T12:00:00Z' }));
    writeRun(runs, runInfo({ id: '20261129-100000-b1', configPath: b, createdAt: '2026-11-29T10:00:00Z' }));
    writeRun(runs, runInfo({ id: '20261129-130000-b2', configPath: path.join(root, 'b', '.', 'cls.finetune.yaml'), createdAt: '2026-11-29T13:00:00Z' }));
    const groups = groupByConfig(scanRunsFolder(runs));
    assert.deepEqual(
      groups.map((g) => g.label),
      ['cls.finetune.yaml', 'ner.finetune.yaml'],
    );
    assert.deepEqual(
      groups[0].runs.map((r) => r.info.id),
      ['20261129-130000-b2', '20261129-100000-b1'],
    );
    assert.deepEqual(
      groups[1].runs.map((r) => r.info.id),
      ['20261129-120000-a2', '20261129-090000-a1'],
    );
  });

  it('describes a run: key metric, duration, progress, tooltip with hyper-parameters', () => {
    const cfg = '/w/ner.finetune.yaml';
    const done = { dir: '/w/.finetune/runs/r1', info: runInfo({ id: '20261129-100000-ner', configPath: cfg, best: 0.9903, test: 0.9851 }) };
    assert.deepEqual(keyMetric(done.info), { name: 'f1', value: 0.9851, source: 'test' });
    const d = describeRun(done, Date.parse('2026-11-29T12:00:00Z'));
    assert.equal(d.label, 'ner');
    assert.equal(d.description, `test f1 0.9851 · 4 min 37 s · ${shortRunId('20261129-100000-ner')}`);
    assert.match(d.tooltip, /\| lr \| 0\.001 \|/);
    assert.match(d.tooltip, /\| batch size \| 32 \|/);
    assert.match(d.tooltip, /from scratch 2×128, 4 heads/);
    assert.match(d.tooltip, /\| test f1 \\?\(best checkpoint\\?\) \| 0\.9851 \|/);

    const running = {
      dir: '/w/r2',
      info: runInfo({ id: 'r2', configPath: cfg, status: 'running', step: 420, totalSteps: 1000, best: 0.95, createdAt: '2026-11-29T11:58:00Z' }),
    };
    assert.equal(describeRun(running, Date.parse('2026-11-29T12:00:00Z')).description, `42% · val f1 0.9500 · 2 min 00 s · ${shortRunId('r2')}`);
    assert.equal(toRunSummary(running).step, 420);
    assert.equal(toRunSummary(running).task, 'token-classification');

    // A pruned sweep trial says so once, with the step its sweep gives (the tree's trial prefix does not repeat it).
    const pruned = { dir: '/w/r3', info: runInfo({ id: 'r3', configPath: cfg, status: 'pruned', best: 0.5 }) };
    assert.equal(
      describeRun(pruned, Date.parse('2026-11-29T12:00:00Z'), { prunedAt: 22 }).description,
      `val f1 0.5000 · 4 min 37 s · pruned @ 22 · ${shortRunId('r3')}`,
    );
    assert.match(describeRun(pruned).description, / · pruned · /);
  });

  it('formats durations and ages', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    assert.equal(formatAgo('2026-11-29T11:59:50Z', now), 'just now');
    assert.equal(formatAgo('2026-11-29T11:55:00Z', now), '5 min ago');
    assert.equal(formatAgo('2026-11-29T10:00:00Z', now), '2 h ago');
    assert.equal(formatAgo('2026-11-26T12:00:00Z', now), '3 d ago');
    assert.equal(formatAgo(undefined, now), '');
    assert.equal(formatDuration(42), '42 s');
    assert.equal(formatDuration(3725), '1 h 02 min');
  });

  it('context values say what can be done with a run', () => {
    const root = tmp();
    const cfg = path.join(root, 'x.finetune.yaml');
    const stopped = writeRun(root, runInfo({ id: 's', configPath: cfg, status: 'stopped' }));
    fs.mkdirSync(path.join(stopped, 'checkpoints', 'last'), { recursive: true });
    const done = writeRun(root, runInfo({ id: 'c', configPath: cfg }));
    fs.writeFileSync(path.join(done, 'model.onnx'), 'onnx');
    const failed = writeRun(root, runInfo({ id: 'f', configPath: cfg, status: 'failed' }));
    assert.equal(contextValue(readRun(stopped)!), 'run-stopped-resumable');
    assert.equal(contextValue(readRun(done)!), 'run-completed-model');
    assert.equal(contextValue(readRun(failed)!), 'run-failed');
  });

  it('after a reload: running runs with a live pid are followed, dead ones are stale, other hosts are left alone', () => {
    const cfg = '/w/x.finetune.yaml';
    const mk = (id: string, pid: number, host?: string) => ({ dir: `/w/${id}`, info: runInfo({ id, configPath: cfg, status: 'running', pid, host }) });
    const runs = [
      mk('alive', process.pid),
      mk('dead', 2 ** 22 + 12345),
      mk('remote', 1, 'another-host'),
      { dir: '/w/done', info: runInfo({ id: 'done', configPath: cfg }) },
    ];
    const { live, stale } = classifyRunning(runs);
    assert.deepEqual(
      live.map((r) => r.info.id),
      ['alive'],
    );
    assert.deepEqual(
      stale.map((r) => r.info.id),
      ['dead'],
    );
  });

  it('renames, annotates and tags a run in run.json (atomically, other fields kept)', () => {
    const root = tmp();
    const dir = writeRun(root, runInfo({ id: 'r', configPath: '/w/x.finetune.yaml', best: 0.9 }));
    updateRunInfo(dir, { name: 'baseline', notes: 'first try', tags: parseTags('lr, baseline  lr') });
    const r = readRun(dir)!;
    assert.equal(r.info.name, 'baseline');
    assert.equal(r.info.notes, 'first try');
    assert.deepEqual(r.info.tags, ['lr', 'baseline']);
    assert.equal(r.info.best?.value, 0.9);
    updateRunInfo(dir, { notes: undefined });
    assert.equal('notes' in JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')), false);
    assert.deepEqual(fs.readdirSync(dir), ['run.json']);
  });

  it('deletes only that run folder, and only a run folder', () => {
    const root = tmp();
    const a = writeRun(root, runInfo({ id: 'a', configPath: '/w/x.finetune.yaml' }));
    const b = writeRun(root, runInfo({ id: 'b', configPath: '/w/x.finetune.yaml' }));
    fs.mkdirSync(path.join(a, 'checkpoints', 'best'), { recursive: true });
    deleteRunFolder(a);
    assert.equal(fs.existsSync(a), false);
    assert.equal(fs.existsSync(b), true);
    assert.throws(() => deleteRunFolder(root), /not a run folder/);
    assert.equal(fs.existsSync(b), true);
  });

  it('exports model.onnx, labels.json and tokenizer/ and will not overwrite silently', () => {
    const root = tmp();
    const dir = writeRun(root, runInfo({ id: 'm', configPath: '/w/x.finetune.yaml' }));
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'onnx-bytes');
    fs.writeFileSync(path.join(dir, 'labels.json'), '{"labels":["O"]}');
    fs.mkdirSync(path.join(dir, 'tokenizer'));
    fs.writeFileSync(path.join(dir, 'tokenizer', 'tokenizer.json'), '{}');
    const dest = path.join(root, 'out');
    assert.deepEqual(
      exportModel(dir, dest).map((p) => path.basename(p)),
      ['model.onnx', 'labels.json', 'tokenizer'],
    );
    assert.equal(fs.readFileSync(path.join(dest, 'tokenizer', 'tokenizer.json'), 'utf8'), '{}');
    assert.throws(
      () => exportModel(dir, dest),
      (e: NodeJS.ErrnoException) => e.code === 'EEXIST',
    );
    assert.equal(exportModel(dir, dest, true).length, 3);
    const noModel = writeRun(root, runInfo({ id: 'n', configPath: '/w/x.finetune.yaml', status: 'failed' }));
    assert.throws(() => exportModel(noModel, dest), /no model\.onnx/);
  });

  it('the runs folder: setting (relative to the workspace), else <workspace>/.finetune/runs', () => {
    assert.equal(runsFolderFor({ workspaceFolder: '/w' }), path.join('/w', '.finetune', 'runs'));
    assert.equal(runsFolderFor({ workspaceFolder: '/w', setting: 'experiments/runs' }), path.join('/w', 'experiments', 'runs'));
    assert.equal(runsFolderFor({ workspaceFolder: '/w', setting: '/data/runs' }), '/data/runs');
    assert.equal(runsFolderFor({ configPath: '/c/x.finetune.yaml' }), path.join('/c', '.finetune', 'runs'));
  });

  it('the store keeps the last good state through a torn run.json and drops deleted runs', () => {
    const root = tmp();
    const dir = writeRun(root, runInfo({ id: 'r', configPath: '/w/x.finetune.yaml', status: 'running', step: 10 }));
    const store = new RunStore();
    const changes: string[][] = [];
    store.on('change', (d) => changes.push(d));
    store.addFolder(root);
    assert.equal(store.all().length, 1);
    fs.writeFileSync(path.join(dir, 'run.json'), '{"id":');
    assert.equal(store.refresh(dir)?.info.step, 10);
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(runInfo({ id: 'r', configPath: '/w/x.finetune.yaml', status: 'running', step: 20 })));
    assert.equal(store.refresh(dir)?.info.step, 20);
    assert.equal(store.byId('r')?.dir, dir);
    fs.rmSync(dir, { recursive: true });
    store.refresh(dir);
    assert.equal(store.all().length, 0);
    assert.ok(changes.length >= 3);
  });
});
