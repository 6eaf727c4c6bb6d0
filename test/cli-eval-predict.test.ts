// `finetune eval` and `finetune predict` as users run them (dist/trainer.js, built by `npm test`
// before the tests): a tiny run is trained through the CLI, then evaluated and queried.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type { EvalRecord } from '../src/shared/protocol';
import { readRunInfo } from '../src/shared/run';
import { tinyWorkspace } from './helpers/tinyrun';

const ROOT = path.resolve(path.dirname(__filename), '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [TRAINER, ...args], { cwd: ROOT, encoding: 'utf8', input });

describe('finetune eval and predict (dist/trainer.js)', () => {
  let runDir = '';
  let labels: string[] = [];
  let maxLength = 0;

  before(() => {
    assert.ok(fs.existsSync(TRAINER), 'run `npm run build` first');
    const ws = tinyWorkspace('', { train: 64, dev: 16 });
    runDir = path.join(ws.dir, 'run');
    const r = cli(['train', ws.config, '--run-dir', runDir, '--json', '--threads', '1', '--device', 'cpu', '--set', 'training.epochs=1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readRunInfo(runDir).status, 'completed');
    const l = JSON.parse(fs.readFileSync(path.join(runDir, 'labels.json'), 'utf8')) as { labels: string[]; maxLength: number };
    labels = l.labels;
    maxLength = l.maxLength;
  });

  it('eval --json prints the test evaluation of the exported model: the numbers the run recorded for its test split', () => {
    const cores = os.availableParallelism();
    const r = cli(['eval', runDir, '--json', '--threads', String(cores)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^eval: model\\.onnx on cpu, ${cores} threads?$`, 'm'), '--threads reaches the session');
    const rec = JSON.parse(r.stdout.trim()) as EvalRecord;
    assert.equal(rec.type, 'eval');
    assert.equal(rec.split, 'test');
    const f1 = rec.metrics.f1!;
    assert.ok(Number.isFinite(f1) && f1 >= 0 && f1 <= 1, `f1 ${f1}`);
    assert.deepEqual(rec.confusion!.labels, labels);
    // the trainer evaluated the same test file with the best checkpoint, which model.onnx exports
    const final = readRunInfo(runDir).final!;
    assert.ok(Math.abs(f1 - final.test_f1!) < 1e-6, `eval f1 ${f1}, run's test_f1 ${final.test_f1}`);
    assert.ok(Math.abs(rec.metrics.loss! - final.test_loss!) < 1e-4, `eval loss ${rec.metrics.loss}, run's test_loss ${final.test_loss}`);
    const total = rec.confusion!.matrix.flat().reduce((a, b) => a + b, 0);
    const testTokens = fs
      .readFileSync(path.join(path.dirname(runDir), 'data', 'test.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('-DOCSTART-')).length;
    assert.equal(total, testTokens, 'every test token counted once');
  });

  it('eval --split train runs but warns that the numbers measure fit; an unknown split is refused', () => {
    const r = cli(['eval', runDir, '--split', 'train', '--json', '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout.trim()) as EvalRecord).split, 'train');
    assert.match(r.stderr, /warning: evaluating the training split: the model has seen these examples/);
    const bad = cli(['eval', runDir, '--split', 'dev', '--threads', '1']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--split must be test, validation or train, got 'dev'/);
  });

  it('eval --split validation evaluates the validation file; text output names the metrics', () => {
    const r = cli(['eval', runDir, '--split', 'validation', '--json', '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout.trim()) as EvalRecord).split, 'validation');
    const text = cli(['eval', runDir]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stderr, /^eval: model\.onnx on cpu, 1 thread$/m, "without --threads, the run's own threads: 1");
    assert.match(text.stdout, /f1/);
  });

  it("predict --json: one tag per word, from the run's labels, entities made of those words; stdin gives the same", () => {
    const sentence = 'EU rejects German call to boycott British lamb .';
    const r = cli(['predict', runDir, sentence, '--json', '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { words: string[]; tags: string[]; entities: { type: string; text: string }[]; windows: number };
    assert.deepEqual(out.words, sentence.split(' '));
    assert.equal(out.tags.length, out.words.length);
    for (const t of out.tags) assert.ok(labels.includes(t), `tag ${t} is one of the run's labels`);
    for (const e of out.entities) assert.ok(sentence.includes(e.text), `entity '${e.text}' is text of the input`);
    assert.equal(out.windows, 1);
    const viaStdin = cli(['predict', runDir, '-', '--json', '--threads', '1'], sentence);
    assert.equal(viaStdin.status, 0, viaStdin.stderr);
    assert.deepEqual(JSON.parse(viaStdin.stdout.trim()), out);
  });

  it('predict on a text longer than max_length: windows, and still exactly one tag per word', () => {
    const words = Array.from({ length: maxLength * 3 }, (_, i) => ['Paris', 'is', 'in', 'France', 'and', 'Berlin'][i % 6]);
    const r = cli(['predict', runDir, words.join(' '), '--json', '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { words: string[]; tags: string[]; windows: number };
    assert.ok(out.windows > 1, `windows ${out.windows}`);
    assert.equal(out.words.length, words.length);
    assert.equal(out.tags.length, words.length);
  });

  it("export --int8 writes model.int8.onnx; eval --int8 and predict --int8 run it, close to model.onnx's numbers", () => {
    const int8 = path.join(runDir, 'model.int8.onnx');
    // Before the export: --int8 says how to make the file.
    for (const args of [
      ['eval', runDir, '--int8'],
      ['predict', runDir, 'Paris', '--int8'],
    ]) {
      const early = cli(args);
      assert.equal(early.status, 1, `${args[0]} --int8 before the export`);
      assert.match(early.stderr, /has no model\.int8\.onnx: make it from model\.onnx with: finetune export --int8 /);
    }
    const ex = cli(['export', '--int8', runDir, '--json']);
    assert.equal(ex.status, 0, ex.stderr);
    const made = JSON.parse(ex.stdout.trim()) as { model: string; bytes: { fp32: number; int8: number }; matmuls: number };
    assert.equal(made.model, int8);
    assert.equal(fs.statSync(int8).size, made.bytes.int8);
    assert.ok(made.bytes.int8 < made.bytes.fp32 / 2, `${made.bytes.int8} vs ${made.bytes.fp32} bytes`);
    const fp = JSON.parse(cli(['eval', runDir, '--json', '--threads', '1']).stdout.trim()) as EvalRecord;
    const r = cli(['eval', runDir, '--int8', '--json', '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
    const q = JSON.parse(r.stdout.trim()) as EvalRecord;
    assert.notEqual(q.metrics.loss, fp.metrics.loss, 'eval --int8 ran another model than model.onnx');
    assert.ok(Math.abs(q.metrics.loss! - fp.metrics.loss!) < 0.02 * fp.metrics.loss!, `loss ${q.metrics.loss} vs ${fp.metrics.loss}`);
    assert.ok(Math.abs(q.metrics.accuracy! - fp.metrics.accuracy!) <= 0.01, `accuracy ${q.metrics.accuracy} vs ${fp.metrics.accuracy}`);
    const sentence = 'EU rejects German call to boycott British lamb .';
    const tags = (extra: string[]) =>
      (JSON.parse(cli(['predict', runDir, sentence, '--json', '--threads', '1', ...extra]).stdout.trim()) as { tags: string[] }).tags;
    const [t32, t8] = [tags([]), tags(['--int8'])];
    assert.equal(t8.length, t32.length);
    assert.ok(t8.filter((t, i) => t === t32[i]).length >= t32.length - 1, `int8 tags ${t8.join(' ')} vs ${t32.join(' ')}`);
  });

  it('export is refused without --int8, and on a run whose model.onnx is gone, writing nothing', () => {
    const noFlag = cli(['export', runDir]);
    assert.equal(noFlag.status, 1);
    assert.match(noFlag.stderr, /export makes the int8 model \(--int8\)/);
    const copy = path.join(path.dirname(runDir), 'no-model');
    fs.cpSync(runDir, copy, { recursive: true });
    fs.rmSync(path.join(copy, 'model.onnx'));
    fs.rmSync(path.join(copy, 'model.int8.onnx'), { force: true });
    const r = cli(['export', '--int8', copy]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /has no exported model\.onnx, though the run completed/);
    assert.ok(!fs.existsSync(path.join(copy, 'model.int8.onnx')));
  });

  it('eval and predict on a folder with no run fail with a message and a non-zero exit', () => {
    const missing = path.join(path.dirname(runDir), 'no-such-run');
    for (const args of [
      ['eval', missing],
      ['predict', missing, 'some text'],
    ]) {
      const r = cli(args);
      assert.notEqual(r.status, 0, `${args[0]} exit code`);
      assert.ok((r.stderr + r.stdout).includes(missing), `${args[0]} names the folder: ${r.stderr}`);
    }
  });
});
