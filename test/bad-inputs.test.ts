// Bad and hostile inputs not covered elsewhere (docs/bad-inputs.md lists them all, with the test
// that checks each): over-long data lines, hostile configs, an absurd safetensors header,
// malformed tokenizer files, webview messages that try to reach outside a run, Markdown in run
// names, workspace trust, and a config edited after its run.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { HostToWebview } from '../src/shared/protocol';
import { runTrain } from '../src/trainer/commands';
import { configHash, validateConfigText } from '../src/shared/config/config';
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
import { checkOpenFile, isInside, readMisclassifiedIn, safeExportName } from '../src/extension/core/webviewGuard';
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
  it('a YAML alias bomb is refused quickly', () => {
    const bomb = [
      'a: &a [x,x,x,x,x,x,x,x,x]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    ].join('\n');
    const t0 = Date.now();
    const r = validateConfigText(bomb, F);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(r.config, undefined);
    assert.match(r.errors[0].message, /alias/i);
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
      assert.equal(config!.data.test, path.join(ws.dir, 'gone', 'test.txt'));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('bad inputs: checkpoints and tokenizer files', () => {
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

  it('openFile opens only files the run refers to (data files, misclassified examples)', async () => {
    const { base, calls, s } = setup();
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'train.txt'), line: 3 });
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'dev.txt'), line: 1 }); // relative in the config: resolved against baseDir
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'test.txt'), line: 4 });
    await s.receive({ type: 'openFile', file: '/etc/passwd', line: 1 });
    await s.receive({ type: 'openFile', file: path.join(base, 'data', '..', '..', 'etc', 'passwd'), line: 1 });
    await s.receive({ type: 'openFile', file: 'data/train.txt', line: 1 });
    await s.receive({ type: 'openFile', file: path.join(base, 'data', 'train.txt'), line: -1 });
    await s.receive({ type: 'openFile', file: path.join(base, 'runs', 'r1', 'run.json'), line: 1 });
    assert.deepEqual(calls.slice(0, 3), [
      `open ${path.join(base, 'data', 'train.txt')}:3`,
      `open ${path.join(base, 'data', 'dev.txt')}:1`,
      `open ${path.join(base, 'data', 'test.txt')}:4`,
    ]);
    assert.equal(calls.length, 8);
    assert.ok(
      calls.slice(3).every((c) => c.startsWith('log dashboard: refused openFile')),
      calls.join('\n'),
    );
  });

  it('requestMisclassified reads only inside that run folder; malformed examples are dropped', async () => {
    const { base, dir, posted, s } = setup();
    await s.receive({ type: 'requestMisclassified', runId: 'r1', split: 'test' });
    await s.receive({ type: 'requestMisclassified', runId: '../r1', split: 'test' });
    await s.receive({ type: 'requestMisclassified', runId: 'other', split: 'test' });
    assert.equal(posted.length, 1);
    assert.equal((posted[0] as Extract<HostToWebview, { type: 'misclassified' }>).examples.length, 1);
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
