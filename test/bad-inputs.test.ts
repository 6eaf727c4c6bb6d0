// Bad and hostile inputs not covered elsewhere (docs/bad-inputs.md lists them all, with the test
// that checks each): over-long data lines, hostile configs, an absurd safetensors header,
// malformed tokenizer files, webview messages that try to reach outside a run, Markdown in run
// names, workspace trust, and a config edited after its run.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { HostToWebview } from '../src/shared/protocol';
import { runTrain } from '../src/trainer/commands';
import { checkFiles, configHash, validateConfigText } from '../src/shared/config/config';
import { readConll } from '../src/trainer/data/conll';
import { MAX_LINE_BYTES } from '../src/trainer/data/errors';
import { readCsv, readJsonl } from '../src/trainer/data/textcls';
import { parseSafetensors } from '../src/trainer/io/safetensors';
import { loadTokenizer } from '../src/trainer/tokenize';
import { DashboardSession } from '../src/extension/core/dashboardCore';
import { ConfigDriftCache, configDrift, driftText } from '../src/extension/core/drift';
import { configLens, hoverTable } from '../src/extension/core/history';
import { describeRun, mdEscape } from '../src/extension/core/runs';
import { trainingGate, UNTRUSTED_NOTE } from '../src/extension/core/trust';
import { checkOpenFile, isInside, readMisclassifiedIn, runDataFiles, safeExportName } from '../src/extension/core/webviewGuard';
import { tinyWorkspace } from './helpers/tinyrun';
import type { RunInfo, RunRecord } from '../src/shared/run';

const ROOT = path.resolve(path.dirname(__filename), '..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-bad-'));
const TWO_MIB = 'x'.repeat(2 * 1024 * 1024);
const TOO_LONG = new RegExp(`:3: line longer than ${MAX_LINE_BYTES} bytes$`);

function write(name: string, data: string | Uint8Array): string {
  const file = path.join(tmp(), name);
  fs.writeFileSync(file, data);
  return file;
}

describe('bad inputs: data lines over the cap (1 MiB) are refused with file:line', () => {
  it('CoNLL: a 2 MiB line', async () => {
    const file = write('train.txt', `EU\tB-ORG\nrejects\tO\n${TWO_MIB}\tO\n\nPeter\tB-PER\n`);
    await assert.rejects(readConll(file), (e: Error) => e.message.startsWith(`${file}:3: `) && TOO_LONG.test(e.message));
  });
  it('CoNLL: a 2 MiB last line with no newline (never buffered whole)', async () => {
    const file = write('train.txt', `EU\tB-ORG\n\n${TWO_MIB}${TWO_MIB}`);
    await assert.rejects(readConll(file), TOO_LONG);
  });
  it('CoNLL: a line of exactly 1 MiB is still read', async () => {
    const word = 'w'.repeat(MAX_LINE_BYTES - 2);
    const file = write('train.txt', `${word}\tO\r\nEU\tB-ORG\n`);
    const r = await readConll(file);
    assert.equal(r.sentences[0].words[0].length, MAX_LINE_BYTES - 2);
  });
  it('JSON Lines: a 2 MiB line', async () => {
    const file = write('train.jsonl', `{"text":"a","label":"x"}\n\n{"text":"${TWO_MIB}","label":"y"}\n`);
    await assert.rejects(readJsonl(file), (e: Error) => e.message === `${file}:3: line longer than ${MAX_LINE_BYTES} bytes`);
  });
  it('CSV: a 2 MiB line (before the CSV parser sees it)', async () => {
    const file = write('train.csv', `text,label\nfine,a\n"${TWO_MIB}",b\n`);
    await assert.rejects(readCsv(file), (e: Error) => e.message === `${file}:3: line longer than ${MAX_LINE_BYTES} bytes`);
  });
});

describe('bad inputs: data files', () => {
  it('JSON Lines saved as UTF-16 names line 1 and the encoding', async () => {
    const file = write('train.jsonl', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"text":"a","label":"x"}\n', 'utf16le')]));
    await assert.rejects(readJsonl(file), (e: Error) => e.message.startsWith(`${file}:1:1: invalid UTF-8`) && /must be UTF-8 encoded/.test(e.message));
  });
  it('JSON Lines with the wrong field names lists the fields found', async () => {
    const file = write('train.jsonl', '{"sentence":"a","category":"x"}\n');
    await assert.rejects(readJsonl(file), /:1: missing field 'text' \(fields found: 'sentence', 'category'\)/);
  });
  it('a __proto__ field in JSON Lines pollutes nothing', async () => {
    const file = write('train.jsonl', '{"text":"a","label":"x","__proto__":{"polluted":1}}\n');
    const ex = await readJsonl(file);
    assert.equal(ex.length, 1);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  it('CoNLL with Latin-1 bytes in the middle names the line', async () => {
    const file = write('train.txt', Buffer.concat([Buffer.from('EU\tB-ORG\n\nM'), Buffer.from([0xfc]), Buffer.from('nchen\tB-LOC\n')]));
    await assert.rejects(readConll(file), /:3:2: invalid UTF-8 byte sequence at byte 2 of the line/);
  });
  it('an empty validation split (only -DOCSTART-) says there are no sentences', async () => {
    const file = write('dev.txt', '-DOCSTART- -X- O O\n\n');
    await assert.rejects(readConll(file), /no sentences found/);
  });
});

describe('bad inputs: hostile configs', () => {
  const F = '/w/x.finetune.yaml';
  it('a YAML alias bomb is refused without being expanded', () => {
    // 20 levels of 9 aliases each: expanded, it would be 9^20 (about 1.2e19) nodes, which no machine
    // finishes or holds; that it returns at all proves the parser refused it before expanding it.
    const names = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const bomb = [
      `${names[0]}: &${names[0]} [x,x,x,x,x,x,x,x,x]`,
      ...names.slice(1).map((n, i) => `${n}: &${n} [${Array(9).fill(`*${names[i]}`).join(',')}]`),
    ].join('\n');
    const r = validateConfigText(bomb, F);
    assert.equal(r.config, undefined);
    assert.equal(r.errors.length, 1, JSON.stringify(r.errors.map((e) => e.message)));
    assert.match(r.errors[0].message, /alias/i);
    assert.equal(r.errors[0].file, F);
  });
  it('__proto__ and constructor keys are unknown keys (no crash, no pollution)', () => {
    const r = validateConfigText('__proto__: {polluted: 1}\nconstructor: {prototype: {x: 1}}\ntask: token-classification\n', F);
    assert.equal(r.config, undefined);
    assert.ok(
      r.errors.some((e) => /unknown key '__proto__'/.test(e.message)),
      JSON.stringify(r.errors),
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  it('a list, a number, binary junk and deep nesting are errors, not exceptions', () => {
    assert.match(validateConfigText('- a\n- b\n', F).errors[0].message, /must be a mapping of keys to values, got a list/);
    assert.match(validateConfigText('42\n', F).errors[0].message, /got 42/);
    assert.match(validateConfigText('\u0000\u0001\u0002', F).errors[0].message, /must be a mapping/);
    assert.ok(validateConfigText(`x: ${'['.repeat(5000)}`, F).errors.length > 0);
    assert.match(validateConfigText('!!js/function "function(){}"\n', F).errors[0].message, /Unresolved tag/);
  });
  it('a config that fails validation writes nothing, not even a run folder', async () => {
    const ws = tinyWorkspace('training: {lr: -1, epochs: 2, batch_size: 8}\n'.replace(/^/, ''));
    // the appended block repeats `training`: a duplicate key is a validation error
    const before = new Map(fs.readdirSync(ws.dir, { recursive: true }).map((f) => [String(f), fs.statSync(path.join(ws.dir, String(f))).mtimeMs]));
    const runDir = path.join(ws.dir, 'runs', 'failed');
    const err = console.error;
    console.error = () => {};
    try {
      assert.equal(await runTrain({ configPath: ws.config, runDir, overrides: {}, json: true, emit: () => {} }), 2);
    } finally {
      console.error = err;
    }
    assert.equal(fs.existsSync(runDir), false, 'no run folder');
    for (const [f, m] of before) assert.equal(fs.statSync(path.join(ws.dir, f)).mtimeMs, m, `${f} untouched`);
    const after = fs
      .readdirSync(ws.dir, { recursive: true })
      .map(String)
      .filter((f) => !before.has(f));
    assert.deepEqual(after, [], 'nothing new');
  });
  it('relative data paths resolve against the config folder; a missing one is reported with its full path', () => {
    const ws = tinyWorkspace();
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    try {
      const text = fs.readFileSync(ws.config, 'utf8').replace('data/test.txt', 'data/../gone/test.txt');
      const { config } = validateConfigText(text, ws.config);
      const full = path.join(ws.dir, 'gone', 'test.txt');
      assert.equal(config!.data.test, full);
      // the message names the file in full (not as written, not relative to the working folder) at its line in the config
      const errors = checkFiles(config!, text, ws.config);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      const line = text.split('\n').findIndex((l) => l.includes('data/../gone/test.txt')) + 1;
      assert.equal(errors[0].message, `data.test: file not found: ${full}`);
      assert.deepEqual([errors[0].file, errors[0].line], [ws.config, line]);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('bad inputs: checkpoints and tokenizer files', () => {
  it('a tokenizer with more tokens than the model has embedding rows is an error before ONNX Runtime runs', async () => {
    const dir = tmp();
    const ckpt = path.join(dir, 'ckpt');
    fs.cpSync(path.join(ROOT, 'test/fixtures/hf-tiny-bert'), ckpt, { recursive: true });
    fs.rmSync(path.join(ckpt, 'tokenizer.json')); // vocab.txt is then the tokenizer
    const vocab = fs.readFileSync(path.join(ckpt, 'vocab.txt'), 'utf8').trimEnd().split('\n');
    fs.writeFileSync(path.join(ckpt, 'vocab.txt'), [...vocab, 'extra1', 'extra2', 'extra3'].join('\n') + '\n');
    const rows = (JSON.parse(fs.readFileSync(path.join(ckpt, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
    fs.writeFileSync(path.join(dir, 'train.txt'), 'John B-PER\nlives O\nin O\nParis B-LOC\n\nMary B-PER\nsaw O\nBerlin B-LOC\n');
    const config = path.join(dir, 'big-vocab.finetune.yaml');
    fs.writeFileSync(
      config,
      `task: token-classification\nmodel:\n  pretrained: ${ckpt}\ndata:\n  format: conll\n  train: train.txt\n  max_length: 16\ntraining:\n  max_steps: 1\n  batch_size: 2\nthreads: 1\n`,
    );
    await assert.rejects(runTrain({ configPath: config, runDir: path.join(dir, 'run'), overrides: {}, json: true, emit: () => {} }), (e: Error) => {
      assert.match(e.message, new RegExp(`has ${vocab.length + 3} tokens but the model's embeddings have ${rows} rows \\(vocab_size in config\\.json\\)`));
      assert.doesNotMatch(e.message, /onnxruntime|Gather|\x1b\[/i, 'no raw ONNX Runtime dump');
      return true;
    });
  });
  it('a safetensors header claiming more than 100 MiB is refused before it is parsed', () => {
    const n = 100 * 1024 * 1024 + 1;
    const buf = Buffer.alloc(8 + n);
    buf.writeBigUInt64LE(BigInt(n), 0);
    assert.throws(() => parseSafetensors(buf, 'big.safetensors'), /big\.safetensors: header length 104857601 exceeds the 104857600-byte limit/);
  });
  it('a tensor with an absurd shape does not allocate: its byte count does not match', () => {
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1e15, 1e15], data_offsets: [0, 4] } }));
    const buf = Buffer.concat([Buffer.alloc(8), header, Buffer.alloc(4)]);
    buf.writeBigUInt64LE(BigInt(header.length), 0);
    assert.throws(() => parseSafetensors(buf, 'w.safetensors'), /tensor "w": byte count 4 does not match shape/);
  });
  const folder = (files: Record<string, string>) => {
    const dir = tmp();
    for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
    return dir;
  };
  it('a malformed tokenizer.json names the file', () => {
    const dir = folder({ 'tokenizer.json': '{"model": {"type": "WordPiece", "vocab": {' });
    assert.throws(
      () => loadTokenizer(dir),
      (e: Error) => e.message.includes(path.join(dir, 'tokenizer.json')) && /is not valid JSON/.test(e.message),
    );
  });
  it('a tokenizer.json that is a list, or has no model', () => {
    assert.throws(() => loadTokenizer(folder({ 'tokenizer.json': '[1, 2]' })), /does not hold a JSON object/);
    assert.throws(() => loadTokenizer(folder({ 'tokenizer.json': '{"version": "1.0"}' })), /has no "model" object/);
  });
  it('an empty vocab.txt', () => {
    assert.throws(() => loadTokenizer(folder({ 'vocab.txt': '' })), /vocab\.txt is empty/);
  });
  it('byte-level BPE files: merges.txt without vocab.json, a bad merge line, a merge out of the vocabulary, a bad id', () => {
    const vocab = JSON.stringify({ '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, ab: 6 });
    assert.throws(() => loadTokenizer(folder({ 'merges.txt': 'a b\n' })), /has merges\.txt but no vocab\.json/);
    const badLine = folder({ 'vocab.json': vocab, 'merges.txt': '#version: 0.2\na b\nab\n' });
    assert.throws(
      () => loadTokenizer(badLine),
      (e: Error) => e.message.includes(`${path.join(badLine, 'merges.txt')}:3:`) && /two tokens/.test(e.message),
    );
    assert.throws(() => loadTokenizer(folder({ 'vocab.json': vocab, 'merges.txt': 'a c\n' })), /the merge "a c" uses "c", which is not in the vocabulary/);
    assert.throws(() => loadTokenizer(folder({ 'vocab.json': '{"<s>": "0"}', 'merges.txt': '' })), /vocab\.json: the id of "<s>" is not an integer/);
    assert.throws(
      () => loadTokenizer(folder({ 'vocab.json': JSON.stringify({ a: 0 }), 'merges.txt': '' })),
      /the vocabulary has no <unk>, <s>, <\/s>, <pad> tokens/,
    );
  });
});

describe('bad inputs: messages from the webview', () => {
  function setup() {
    const base = tmp();
    const dir = path.join(base, 'runs', 'r1');
    fs.mkdirSync(dir, { recursive: true });
    const data = path.join(base, 'data', 'train.txt');
    const info = {
      id: 'r1',
      name: 'r',
      configPath: path.join(base, 'x.finetune.yaml'),
      configHash: 'h',
      config: { baseDir: base, data: { train: data, validation: 'data/dev.txt' } },
      status: 'completed' as const,
      createdAt: '',
      host: '',
      versions: {},
      step: 5,
      epoch: 1,
    } as RunInfo;
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(info));
    fs.writeFileSync(
      path.join(dir, 'misclassified-test.json'),
      JSON.stringify({
        examples: [
          { file: path.join(base, 'data', 'test.txt'), line: 4, gold: 'a', pred: 'b' },
          { file: '/etc/passwd', line: 1, gold: 'a', pred: 'b' },
          { file: 7, gold: 'x' },
        ],
      }),
    );
    const posted: HostToWebview[] = [];
    const calls: string[] = [];
    const run: RunRecord = { dir, info };
    const s = new DashboardSession([dir], {
      post: (m) => posted.push(m),
      getRun: (d) => (path.resolve(d) === dir ? run : undefined),
      eta: () => undefined,
      stop: (d) => calls.push(`stop ${d}`),
      openFile: (f, l) => calls.push(`open ${f}:${l}`),
      save: (f, n) => void calls.push(`save ${f} ${n}`),
      log: (m) => calls.push(`log ${m}`),
      warn: (m) => calls.push(`warn ${m}`),
    });
    return { base, dir, posted, calls, s };
  }

  it('unknown types and wrong field types are ignored (logged), nothing else happens', async () => {
    const { calls, posted, s } = setup();
    for (const m of [
      null,
      'ready',
      [],
      { type: 'eval' },
      { type: 'deleteRun', dir: '/' },
      { type: 'openFile', file: '/etc/passwd', line: '1' },
      { type: 'openFile', file: 42, line: 1 },
      { type: 'requestMisclassified', runId: 'r1', split: 'train' },
      { type: 'export', format: 'exe', suggestedName: 'a', data: '' },
      { type: 'export', format: 'csv', suggestedName: 'a.csv', data: 5 },
      { type: 'stop', runId: ['r1'] },
    ])
      await s.receive(m);
    assert.equal(posted.length, 0);
    assert.equal(calls.length, 11);
    assert.ok(
      calls.every((c) => c.startsWith('log dashboard: ignored an invalid message')),
      calls.join('\n'),
    );
  });

  it("openFile opens only the run's own data files from its config; names in misclassified-*.json are not trusted", async () => {
    const { base, calls, s } = setup();
    const refused = (file: string) => [
      `log dashboard: refused openFile: ${file} is not one of the run's data files (data.train, data.validation, data.test in its config), so it is not opened`,
      `warn Fine-tune: refused to open a file from the dashboard: ${file} is not one of the run's data files (data.train, data.validation, data.test in its config), so it is not opened.`,
    ];
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'train.txt'), line: 3 });
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'dev.txt'), line: 1 }); // relative in the config: resolved against baseDir
    assert.deepEqual(calls.splice(0), [`open ${path.join(base, 'data', 'train.txt')}:3`, `open ${path.join(base, 'data', 'dev.txt')}:1`]);
    // misclassified-test.json names test.txt and /etc/passwd, but the config has no data.test: both refused, and the user is told
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'test.txt'), line: 4 });
    await s.receive({ type: 'openFile', file: '/etc/passwd', line: 1 });
    await s.receive({ type: 'openFile', file: path.join(base, 'data', '..', '..', 'etc', 'passwd'), line: 1 });
    await s.receive({ type: 'openFile', file: path.join(base, 'runs', 'r1', 'run.json'), line: 1 });
    assert.deepEqual(calls.splice(0), [
      ...refused(path.join(base, 'data', 'test.txt')),
      ...refused('/etc/passwd'),
      ...refused(path.resolve(base, '..', 'etc', 'passwd')),
      ...refused(path.join(base, 'runs', 'r1', 'run.json')),
    ]);
    await s.receive({ type: 'openFile', file: 'data/train.txt', line: 1 });
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'train.txt'), line: -1 });
    assert.equal(calls.length, 4);
    assert.ok(
      calls.every((c) => c.startsWith('log dashboard: refused openFile') || c.startsWith('warn Fine-tune: refused to open')),
      calls.join('\n'),
    );
    // a Hub dataset's splits are names, not files: nothing to open
    assert.deepEqual(runDataFiles({ baseDir: base, data: { hub: 'conll2003', train: 'train', validation: 'validation' } }), []);
  });

  it('requestMisclassified reads only inside that run folder; malformed examples are dropped', async () => {
    const { base, dir, posted, s } = setup();
    await s.receive({ type: 'requestMisclassified', runId: 'r1', split: 'test' });
    await s.receive({ type: 'requestMisclassified', runId: '../r1', split: 'test' });
    await s.receive({ type: 'requestMisclassified', runId: 'other', split: 'test' });
    assert.equal(posted.length, 1);
    assert.equal((posted[0] as Extract<HostToWebview, { type: 'misclassified' }>).examples.length, 2); // shown as data; opening one is checked apart
    // a misclassified file that links out of the run folder is not read
    const outside = path.join(base, 'secret.json');
    fs.writeFileSync(outside, JSON.stringify({ examples: [{ file: '/x', line: 1, gold: 'a', pred: 'b' }] }));
    fs.symlinkSync(outside, path.join(dir, 'misclassified-validation.json'));
    assert.deepEqual(readMisclassifiedIn(dir, 'validation'), []);
    assert.deepEqual(readMisclassifiedIn(dir, '../../secret'), []);
  });

  it('export: a path-like name is reduced to a base name; the user picks the folder', async () => {
    const { calls, s } = setup();
    await s.receive({ type: 'export', format: 'csv', suggestedName: '../../../.bashrc', data: 'x' });
    await s.receive({ type: 'export', format: 'png', suggestedName: 'C:\\Windows\\evil.png', data: '', base64: true });
    await s.receive({ type: 'export', format: 'svg', suggestedName: 'chart<script>.svg', data: '<svg/>' });
    assert.deepEqual(calls, ['save csv bashrc.csv', 'save png evil.png', 'save svg chart_script_.svg']);
    assert.equal(safeExportName('', 'csv'), 'export.csv');
    assert.equal(safeExportName('/', 'png'), 'export.png');
    assert.equal(safeExportName('a\u0000b', 'csv'), 'a_b.csv');
    assert.equal(safeExportName(undefined, 'svg'), 'export.svg');
  });

  it('pure checks: isInside and checkOpenFile', () => {
    assert.ok(isInside('/a/b', '/a/b/c'));
    assert.ok(isInside('/a/b', '/a/b'));
    assert.ok(!isInside('/a/b', '/a/bc'));
    assert.ok(!isInside('/a/b', '/a/b/../c'));
    assert.deepEqual(checkOpenFile('/d/x.txt', 2, ['/d/x.txt']), { ok: true, file: '/d/x.txt', line: 2 });
    assert.equal(checkOpenFile('/d/x.txt\u0000', 2, ['/d/x.txt']).ok, false);
    assert.equal(checkOpenFile('/d/./y/../x.txt', 2, ['/d/x.txt']).ok, true);
    assert.equal(checkOpenFile('/d/x.txt', 0, ['/d/x.txt']).ok, false);
    assert.equal(checkOpenFile('/d/x.txt', 1.5, ['/d/x.txt']).ok, false);
  });
});

describe('bad inputs: run names and values never become Markdown or HTML on the host', () => {
  const HOSTILE = '[x](command:workbench.action.files.delete) <img src=x> | a | b |';
  const run = (over: Partial<RunInfo> = {}): RunRecord => ({
    dir: '/w/runs/r',
    info: {
      id: 'r',
      name: HOSTILE,
      configPath: '/w/x.finetune.yaml',
      configHash: 'h',
      status: 'completed',
      createdAt: '2026-11-29T10:00:00Z',
      startedAt: '2026-11-29T10:00:00Z',
      endedAt: '2026-11-29T10:01:00Z',
      host: '',
      versions: {},
      step: 1,
      epoch: 1,
      best: { metric: 'f1', value: 0.5, step: 1, checkpoint: '' },
      notes: `line one\n# heading ${HOSTILE}\n---`,
      tags: ['<b>', 'a|b'],
      error: { message: `![i](https://x/y.png) ${HOSTILE}` },
      config: { task: 'token-classification', training: { optimizer: '`code` | pipe', lr: 0.001 }, model: { pretrained: '/m/$(trash) [l](command:x)' } },
      ...over,
    },
  });

  it('escapes links, images, HTML, pipes, headings, theme icons and line breaks in the tooltip', () => {
    const d = describeRun(run(), Date.parse('2026-11-29T12:00:00Z'));
    assert.equal(d.label, HOSTILE); // a TreeItem label is plain text
    const t = d.tooltip;
    assert.ok(!/(^|[^\\])\[x\]\(command:/.test(t), t);
    assert.ok(!/(^|[^\\])<img/.test(t), t);
    assert.ok(!/(^|[^\\])!\[/.test(t), t);
    assert.ok(!/(^|[^\\])\$\(trash\)/.test(t), t);
    assert.ok(!/^#/m.test(t.replace(/^\| /gm, '')), t);
    // every table row keeps exactly its three unescaped pipes
    for (const row of t.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| |')))
      assert.equal(row.replace(/\\\|/g, '').split('|').length - 1, 3, row);
    assert.equal(mdEscape('a\nb'), 'a b');
    assert.equal(mdEscape('[x](y)'), '\\[x\\]\\(y\\)');
  });

  it('hover tables escape run names and values with backticks or pipes', () => {
    const r1 = run({ id: 'r1', config: { task: 'token-classification', training: { optimizer: 'a`|`b' } } });
    const md = hoverTable({ key: 'training.optimizer', configPath: '/w/x.finetune.yaml', runs: [r1], now: Date.parse('2026-11-29T12:00:00Z') })!;
    assert.ok(md, 'a table');
    assert.ok(!/(^|[^\\])\[x\]\(command:/.test(md), md);
    assert.ok(!/(^|[^\\])<img/.test(md), md);
    for (const row of md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| value'))) {
      assert.equal(row.replace(/\\\|/g, '').split('|').length - 1, 6, row);
    }
  });
});

describe('workspace trust', () => {
  it('no trainer in an untrusted workspace; the message says why and what to do', () => {
    assert.deepEqual(trainingGate(true, 'start'), { allowed: true });
    for (const a of ['start', 'resume', 'rerun'] as const) {
      const g = trainingGate(false, a, 'tiny');
      assert.equal(g.allowed, false);
      if (!g.allowed) {
        assert.match(g.message, new RegExp(`cannot ${a} tiny in an untrusted workspace`));
        assert.match(g.message, /Manage Workspace Trust/);
        assert.match(g.message, /history, dashboards and config diagnostics work/);
      }
    }
  });
  it('the CodeLens offers no Start and the tooltip says so; package.json declares limited support', () => {
    const lens = configLens({ configPath: '/w/x.finetune.yaml', runs: [], trusted: false });
    assert.ok(!lens.some((l) => l.command === 'finetune.start'));
    assert.match(lens[0].title, /untrusted workspace/);
    assert.ok(configLens({ configPath: '/w/x.finetune.yaml', runs: [] }).some((l) => l.command === 'finetune.start'));
    const r: RunRecord = {
      dir: '/w/r',
      info: { id: 'r', name: 'r', configPath: '', configHash: '', config: null, status: 'stopped', createdAt: '', host: '', versions: {}, step: 0, epoch: 0 },
    };
    assert.match(describeRun(r, Date.now(), { trustNote: UNTRUSTED_NOTE }).tooltip, /not trusted/);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.match(pkg.capabilities.untrustedWorkspaces.description, /no training/i);
  });
});

describe('config edited during or after a run', () => {
  it('configDrift: same, changed, device-only difference, missing, invalid, unknown', () => {
    const ws = tinyWorkspace();
    const text = fs.readFileSync(ws.config, 'utf8');
    const cfg = validateConfigText(text, ws.config).config!;
    const info = { configHash: configHash(cfg), config: cfg };
    assert.equal(configDrift(info, cfg), 'same');
    const edited = validateConfigText(text.replace('lr: 2.0e-3', 'lr: 3.0e-3'), ws.config).config!;
    assert.equal(configDrift(info, edited), 'changed');
    // a run started with a device/threads setting override: not a config change
    const onCuda = { ...cfg, device: 'cuda' as const, threads: 4 };
    assert.equal(configDrift({ configHash: configHash(onCuda), config: onCuda }, cfg), 'same');
    assert.equal(configDrift(info, 'missing'), 'missing');
    assert.equal(configDrift(info, 'invalid'), 'invalid');
    assert.equal(configDrift({ configHash: '', config: null }, cfg), 'unknown');
    assert.equal(driftText('changed'), 'config changed since this run');
    assert.equal(driftText('same'), undefined);
  });
  it('the cache follows edits to the file; the tree text says "config changed since this run"', () => {
    const ws = tinyWorkspace();
    const text = fs.readFileSync(ws.config, 'utf8');
    const cfg = validateConfigText(text, ws.config).config!;
    const info = {
      id: 'r',
      name: 'r',
      configPath: ws.config,
      configHash: configHash(cfg),
      config: cfg,
      status: 'completed',
      createdAt: '',
      host: '',
      versions: {},
      step: 0,
      epoch: 0,
    } as RunInfo;
    const cache = new ConfigDriftCache();
    assert.equal(cache.drift(info), 'same');
    fs.writeFileSync(ws.config, text.replace('epochs: 2', 'epochs: 3 '));
    assert.equal(cache.drift(info), 'changed');
    const d = describeRun({ dir: '/w/r', info }, Date.now(), { configNote: driftText(cache.drift(info)) });
    assert.match(d.description, /^config changed since this run/);
    assert.match(d.tooltip, /config changed since this run/);
    fs.writeFileSync(ws.config, 'task: [');
    assert.equal(cache.drift(info), 'invalid');
    fs.rmSync(ws.config);
    assert.equal(cache.drift(info), 'missing');
  });
});

// ---------------------------------------------------------------------------------------------
// Issue 15: silent wrong results, crashes and unclear messages (docs/bad-inputs.md, "Data and
// settings", "Special files and resources", "Messages").

const CFG = (extra: string, data = 'format: conll\n  train: train.txt') =>
  `# a config\ntask: ${data.includes('conll') ? 'token-classification' : 'sequence-classification'}\nmodel:\n  from_scratch: {layers: 1, hidden: 32, heads: 2}\ndata:\n  ${data}\n${extra}`;
const messages = (text: string, overrides?: Record<string, unknown>) =>
  validateConfigText(text, 'c.finetune.yaml', overrides).errors.map((e) => (e.source ? `${e.source}: ${e.message}` : `${e.line}: ${e.message}`));

describe('bad inputs: data and settings that used to give silent wrong results', () => {
  it('all-O training data is an error naming the file and the tag column (not a 1-label run with f1 0)', async () => {
    const { dir, config } = tinyWorkspace();
    const train = path.join(dir, 'data', 'train.txt');
    fs.writeFileSync(train, 'EU\tO\nrejects\tO\n\nPeter\tO\n');
    const { loadRunData } = await import('../src/trainer/train/dataset');
    const { loadConfig } = await import('../src/shared/config/config');
    await assert.rejects(
      loadRunData(loadConfig(config)),
      (e: Error) =>
        e.message === `${train}: every tag in the training data is 'O' (3 tokens): there is no entity to learn; is data.tag_column (-1) the tag column?`,
    );
  });
  it('a tag with an invisible trailing U+200B is an error at its file:line:column, naming the character', async () => {
    const file = write('train.txt', 'EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\u200b\n');
    await assert.rejects(
      readConll(file),
      (e: Error) => e.message === `${file}:4:12: tag 'B-PER\u200b' contains an invisible character, U+200B (ZERO WIDTH SPACE), at column 12; remove it`,
    );
  });
  it('a JSONL label with an invisible character is an error at its line', async () => {
    const file = write('train.jsonl', '{"text":"a","label":"pos"}\n{"text":"b","label":"pos\u00a0"}\n');
    await assert.rejects(readJsonl(file), (e: Error) =>
      e.message.startsWith(`${file}:2: field 'label': label 'pos\u00a0' contains an invisible character, U+00A0 (NO-BREAK SPACE)`),
    );
  });
  it('a CSV header with the text column twice is an error (not the first one, silently)', async () => {
    const file = write('train.csv', 'text,label,text\na,x,b\n');
    await assert.rejects(readCsv(file), (e: Error) => e.message === `${file}:1: column 'text' appears twice in the header (columns 1 and 3); rename one`);
  });
  it('lr and adam_eps that are 0 in float32 are errors with the bound; warmup_steps >= max_steps warns with numbers', () => {
    assert.deepEqual(messages(CFG('training:\n  lr: 1e-320\n')), [
      '9: training.lr 1e-320 is 0 in float32, where the update runs (the smallest usable value is about 1.2e-38): the run would train nothing',
    ]);
    assert.deepEqual(messages(CFG('training:\n  adam_eps: 1e-320\n')), [
      '9: training.adam_eps 1e-320 is 0 in float32, where the update runs (it must be at least 1.2e-38; typical 1e-8): the update would divide 0 by 0',
    ]);
    assert.deepEqual(messages(CFG('training:\n  max_steps: 10\n  warmup_steps: 10\n  lr: 0.001\n')), [
      '10: training.warmup_steps (10) is not less than training.max_steps (10): the learning rate never reaches training.lr (at most 1.00e-3)',
    ]);
    assert.deepEqual(messages(CFG('training:\n  max_steps: 10\n  warmup_steps: 9\n')), []);
  });
});

describe('bad inputs: resource settings are bounded before anything is allocated', () => {
  it('threads beyond the cores, batch_size 1e9 and a huge gradient_accumulation are config errors at their line', () => {
    const cores = os.availableParallelism();
    assert.deepEqual(messages(CFG(`threads: ${cores + 1}\n`)), [
      `8: threads (${cores + 1}) is more than this machine's ${cores} cores; use 0 (all cores) or at most ${cores}`,
    ]);
    assert.deepEqual(messages(CFG('threads: 100000\n')), ['8: threads must be <= 4096, got 100000']);
    assert.deepEqual(messages(CFG('training:\n  batch_size: 1000000000\n')), ['9: training.batch_size must be <= 65536, got 1000000000']);
    assert.deepEqual(messages(CFG('training:\n  gradient_accumulation: 100000\n')), ['9: training.gradient_accumulation must be <= 65536, got 100000']);
    const [big] = messages(CFG('training:\n  gradient_accumulation: 65536\n  batch_size: 64\n'));
    assert.match(
      big,
      /^9: one ONNX Runtime call would be fed 4 steps × 65536 micro-batches \(training.gradient_accumulation\) × 64 examples .* more than a quarter of this machine's [\d.]+ GiB; lower/,
    );
  });
  it('resourceIssues follows the machine it is given: the same batch fits a large machine and not a small one', async () => {
    const { resourceIssues } = await import('../src/shared/config/semantic');
    const cfg = validateConfigText(CFG('training:\n  batch_size: 64\n  gradient_accumulation: 64\n'), 'c.yaml').config!;
    const tokens = 4 * 64 * 64 * cfg.data.maxLength;
    assert.deepEqual(resourceIssues({}, cfg, { cores: 2, memory: tokens * 24 * 4 }), []);
    assert.equal(resourceIssues({}, cfg, { cores: 2, memory: tokens * 24 * 4 - 1 }).length, 1);
  });
});

describe('bad inputs: special files are refused by type, before they are opened', () => {
  const fifo = () => {
    const p = path.join(tmp(), 'train.txt');
    execFileSync('mkfifo', [p]);
    return p;
  };
  it('/dev/zero and a FIFO as data: refused by type (no endless read, no blocking)', async () => {
    await assert.rejects(readConll('/dev/zero'), (e: Error) => e.message.startsWith('/dev/zero: is a character device (like /dev/zero), not a regular file'));
    const f = fifo();
    await assert.rejects(readJsonl(f), (e: Error) => e.message.startsWith(`${f}: is a FIFO (a named pipe), not a regular file`));
    await assert.rejects(readCsv(f), /is a FIFO/);
  });
  it('a symlink loop is "symlink loop", not "file not found" (reader, config check and config file)', async () => {
    const d = tmp();
    const a = path.join(d, 'a.txt');
    fs.symlinkSync(path.join(d, 'b.txt'), a);
    fs.symlinkSync(a, path.join(d, 'b.txt'));
    await assert.rejects(readConll(a), (e: Error) => e.message.startsWith(`${a}: symlink loop`));
    const { loadConfig } = await import('../src/shared/config/config');
    assert.throws(
      () => loadConfig(a),
      (e: Error) => e.message.startsWith(`${a}:1:1: cannot read config: ${a} symlink loop`),
    );
    const cfg = path.join(d, 'c.finetune.yaml');
    fs.writeFileSync(cfg, CFG('', 'format: conll\n  train: a.txt'));
    assert.throws(
      () => loadConfig(cfg),
      (e: Error) => e.message.includes(`data.train: ${a} symlink loop`),
    );
  });
  it('/dev/zero as the config or as a data path in the config: refused by type', async () => {
    const { loadConfig } = await import('../src/shared/config/config');
    assert.throws(() => loadConfig('/dev/zero'), /cannot read config: \/dev\/zero is a character device/);
    const cfg = write('c.finetune.yaml', CFG('', 'format: conll\n  train: /dev/zero'));
    assert.throws(
      () => loadConfig(cfg),
      (e: Error) =>
        e.message ===
        `${cfg}:7:10: data.train: /dev/zero is a character device (like /dev/zero), not a regular file (refused: reading it could never end or block forever)`,
    );
  });
  it('a huge JSON Lines file is streamed: a long line is refused without reading the file whole (peak RSS stays small)', () => {
    const file = path.join(tmp(), 'big.jsonl');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, '{"text":"a","label":"x"}\n' + 'x'.repeat(MAX_LINE_BYTES + 10) + '\n');
    const chunk = Buffer.alloc(16 << 20, 'y');
    for (let i = 0; i < 20; i++) fs.writeSync(fd, chunk); // 320 MiB after the long line
    fs.closeSync(fd);
    const script = `const {readJsonl}=require(${JSON.stringify(path.join(ROOT, 'src/trainer/data/textcls.ts'))});
const before=process.resourceUsage().maxRSS;
readJsonl(${JSON.stringify(file)}).then(()=>console.log('read'),(e)=>console.log(JSON.stringify({m:e.message,grew:process.resourceUsage().maxRSS-before})));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    fs.rmSync(file);
    const r = JSON.parse(out) as { m: string; grew: number };
    assert.equal(r.m, `${file}:2: line longer than ${MAX_LINE_BYTES} bytes`);
    assert.ok(r.grew < 64 * 1024, `peak RSS grew by ${r.grew} KiB reading a 320 MiB file`);
  });
});

describe('bad inputs: messages that say what is wrong', () => {
  it('NBSP as the CoNLL column separator: says a non-breaking space was found', async () => {
    const file = write('train.txt', 'EU\u00a0B-ORG\n');
    await assert.rejects(
      readConll(file),
      (e: Error) =>
        e.message ===
        `${file}:1: found 1 column, expected at least 2 (a word and a tag, separated by spaces or tabs); the line has a non-breaking space (U+00A0) at column 3, which does not separate columns (use a space or a tab)`,
    );
  });
  it('a config (JSON or YAML) with a BOM is read as without it', () => {
    const json = JSON.stringify({ task: 'token-classification', model: { from_scratch: {} }, data: { format: 'conll', train: 't.txt' } });
    assert.deepEqual(messages('\ufeff' + json), []);
    assert.deepEqual(messages('\ufeff' + CFG('')), []);
    // positions on line 1 are those without the BOM (what editors show)
    const e = validateConfigText('\ufeff{"task": 3}', 'c.json').errors.find((x) => x.message.startsWith('task'));
    assert.equal(e?.column, 10);
  });
  it('multi-document YAML: one message naming the second document line', () => {
    assert.deepEqual(messages(CFG('---\nseed: 1\n')), [
      "8: one document per config; found a second at line 8 (remove the '---' line and what follows, or merge it into the first)",
    ]);
  });
  it('one tab in YAML: one message, no follow-on errors', () => {
    assert.deepEqual(messages(CFG('training:\n  epochs: 1\n\tbatch_size: 8\n  lr: 0.1\n')), ['10: a tab indents line 10; YAML indents with spaces only']);
  });
  it('a --set typo is reported as the --set argument, not at a line of the file', () => {
    assert.deepEqual(messages(CFG(''), { 'training.lrr': 0.1 }), [
      "--set training.lrr=0.1: override 'training.lrr' is not a config key — did you mean 'training.lr'?",
    ]);
  });
  it('format: csv on a JSON Lines file suggests jsonl; format: jsonl on a CSV suggests csv; long headers are cut', async () => {
    const jl = write('train.jsonl', `{"text": "${'Dear team, '.repeat(50)}", "label": "spam"}\n`);
    await assert.rejects(
      readCsv(jl),
      (e: Error) => e.message === `${jl}:1: the first line is a JSON object, not a CSV header: is the file JSON Lines? (set data.format: jsonl)`,
    );
    const csv = write('train.csv', 'text,label\nhello,x\n');
    await assert.rejects(
      readJsonl(csv),
      (e: Error) => e.message.startsWith(`${csv}:1:`) && e.message.endsWith('— this looks like a CSV line, not JSON: is the file CSV? (set data.format: csv)'),
    );
    const wide = write('wide.csv', `${'a'.repeat(100)},label\nx,y\n`);
    await assert.rejects(
      readCsv(wide),
      (e: Error) => e.message === `${wide}:1: missing column 'text' in the header (columns found: '${'a'.repeat(40)}…', 'label')`,
    );
  });
  it('a run folder that cannot be written says where and why, not "ENOENT … mkdir"', async () => {
    const { openRunFolder } = await import('../src/shared/run');
    // /proc refuses new folders (with ENOENT, even for root), like a read-only mount.
    assert.throws(
      () => openRunFolder({ runDir: '/proc/finetune-x/run', runsDir: '', name: 'x' }),
      (e: Error) => e.message === 'cannot write to /proc: it does not accept new folders (read-only) (needed for /proc/finetune-x/run)',
    );
    const file = write('f.txt', 'x');
    assert.throws(
      () => openRunFolder({ runsDir: path.join(file, 'runs'), name: 'x' }),
      (e: Error) => e.message === `cannot write to ${file}: a part of the path is a file, not a folder (needed for ${path.join(file, 'runs')})`,
    );
  });
  it('eval on a folder that does not exist, and on a run that did not complete, say which', async () => {
    const { runEval } = await import('../src/trainer/commands');
    const gone = path.join(tmp(), 'nope');
    await assert.rejects(runEval({ runDir: gone, split: 'test', json: true, emit: () => {} }), (e: Error) => e.message === `no such run folder: ${gone}`);
    const { readRunInfo } = await import('../src/shared/run');
    assert.throws(
      () => readRunInfo(gone),
      (e: Error) => e.message === `no such run folder: ${gone}`,
    ); // --resume reads it first
    const { dir, config } = tinyWorkspace();
    const runDir = path.join(dir, 'run');
    fs.mkdirSync(runDir);
    fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ id: 'r', status: 'stopped', config: null, configPath: config }));
    await assert.rejects(
      runEval({ runDir, split: 'test', json: true, emit: () => {} }),
      (e: Error) => e.message === `${runDir} has no exported model.onnx: the run is stopped, not completed (finish it with train --resume)`,
    );
  });
  it('a checkpoint that cannot be written before any other says there is none to keep', async () => {
    const { saveCheckpoint } = await import('../src/trainer/train/checkpoint');
    const file = write('f.txt', 'x');
    const dir = path.join(file, 'checkpoints', 'last');
    assert.throws(
      () => saveCheckpoint(dir, {} as never, [], new Map(), {} as never, {} as never),
      (e: Error) => e.message.startsWith(`could not write the checkpoint ${dir}: `) && e.message.endsWith('; there is no earlier checkpoint to keep'),
    );
  });
});
