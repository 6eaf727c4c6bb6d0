// Models by Hub id: model.pretrained as `org/name`, resolved and downloaded into the Hugging Face
// cache in Python's layout, against a Hub-compatible server on 127.0.0.1 (test/helpers/hubserver.ts)
// serving the tiny checkpoint of test/fixtures/hf-tiny-bert. No outside network.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkFiles, ConfigValidationError, loadConfig, validateConfigText, type ResolvedConfig } from '../src/shared/config/config';
import type { TrainerEvent } from '../src/shared/protocol';
import { formatBytes } from '../src/shared/hfCache';
import { readRunInfo } from '../src/shared/run';
import { hubEnv } from '../src/trainer/hub/env';
import { blobLockPath, withFileLock } from '../src/trainer/hub/lock';
import { HubStopped, resolveHubModel } from '../src/trainer/hub/resolve';
import { train } from '../src/trainer/train/trainer';
import { commitOf, gitSha1, HubServer, sha256, useHubEnv } from './helpers/hubserver';
import { tinyWorkspace } from './helpers/tinyrun';

const FOLDER = path.resolve(path.dirname(__filename), 'fixtures/hf-tiny-bert');
/** The weights' size as the progress lines show it (e.g. 28.0 kB). */
const SIZE = formatBytes(fs.statSync(path.join(FOLDER, 'model.safetensors')).size).replace('.', '\\.');
const tiny = () => Object.fromEntries(fs.readdirSync(FOLDER).map((f) => [f, fs.readFileSync(path.join(FOLDER, f))]));

const TINY = 'org/tiny-bert';
const COMMIT = commitOf('tiny');
const weights = fs.readFileSync(path.join(FOLDER, 'model.safetensors'));
const server = new HubServer({
  // Extra files a run does not need: never fetched.
  [TINY]: { commit: COMMIT, files: { ...tiny(), 'README.md': Buffer.from('# tiny\n'), 'pytorch_model.bin': Buffer.alloc(64, 1) } },
  'org/pickled': {
    commit: commitOf('pickled'),
    files: { 'config.json': tiny()['config.json'], 'vocab.txt': tiny()['vocab.txt'], 'pytorch_model.bin': Buffer.alloc(64, 1) },
  },
  'org/sharded': {
    commit: commitOf('sharded'),
    files: {
      'config.json': tiny()['config.json'],
      'vocab.txt': tiny()['vocab.txt'],
      'model.safetensors.index.json': Buffer.from(JSON.stringify({ metadata: {}, weight_map: { 'a.weight': 'model-00001-of-00001.safetensors' } })),
      'model-00001-of-00001.safetensors': weights,
    },
  },
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-hub-'));
const envFor = (home: string, extra: Record<string, string> = {}) => hubEnv({ HF_HOME: home, HF_ENDPOINT: server.url, ...extra });
const repoDir = (home: string, id: string) => path.join(home, 'hub', `models--${id.replace('/', '--')}`);
/** Every file under a folder, as relative paths. */
const tree = (dir: string): string[] =>
  fs.existsSync(dir)
    ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => !fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.isDirectory()).sort()
    : [];

before(() => server.start());
after(() => server.stop());

describe('model.pretrained as a Hub id', () => {
  it('a config with a Hub id validates without network; a mistyped local path is still a missing folder', () => {
    const dir = tmp();
    const file = path.join(dir, 'x.finetune.yaml');
    fs.mkdirSync(path.join(dir, 'models'));
    fs.writeFileSync(path.join(dir, 'train.txt'), 'EU B-ORG\n');
    const text = (pre: string, extra = '') => `task: token-classification\nmodel: { pretrained: ${pre}${extra} }\ndata: { format: conll, train: train.txt }\n`;
    /** Schema, semantic and file-system problems, as the editor and the CLI report them. */
    const problems = (t: string) => {
      const v = validateConfigText(t, file);
      return v.config ? [...v.errors, ...checkFiles(v.config, t, file)] : v.errors;
    };
    const ok = validateConfigText(text(TINY, ', revision: v1'), file);
    assert.deepEqual(problems(text(TINY, ', revision: v1')), []);
    assert.equal(ok.config!.model.pretrained, TINY);
    assert.equal(ok.config!.model.revision, 'v1');
    assert.deepEqual(problems(text('bert-base-cased')), []);
    const typo = problems(text('models/bert'));
    assert.match(typo.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'), /^2:\d+ model\.pretrained: folder not found: .*models\/bert/);
    fs.mkdirSync(path.join(dir, 'models', 'bert'));
    assert.match(
      problems(text('./models/bert', ', revision: v1'))
        .map((e) => e.message)
        .join('\n'),
      /model\.revision applies to a Hub id/,
    );
    assert.match(
      problems('task: token-classification\nmodel: { from_scratch: {}, revision: v1 }\ndata: { format: conll, train: train.txt }\n')
        .map((e) => e.message)
        .join('\n'),
      /model\.revision needs model\.pretrained/,
    );
  });

  it('a run downloads into the cache in Python layout; a second run with HF_HUB_OFFLINE=1 uses the cache', async () => {
    const home = tmp();
    const restore = useHubEnv(home, server.url);
    try {
      const ws = tinyWorkspace();
      fs.writeFileSync(
        ws.config,
        fs
          .readFileSync(ws.config, 'utf8')
          .replace(/from_scratch: .*/, `pretrained: ${TINY}`)
          .replace('epochs: 2', 'epochs: 1\n  max_steps: 2')
          .replace('max_length: 48', 'max_length: 32'),
      );
      const events: TrainerEvent[] = [];
      const res = await train({ config: loadConfig(ws.config), runDir: path.join(ws.dir, 'a'), emit: (e) => events.push(e) });
      assert.equal(res.status, 'completed', JSON.stringify(readRunInfo(res.runDir).error));
      assert.equal((readRunInfo(res.runDir).config as ResolvedConfig).model.pretrained, TINY, 'run.json keeps the id');
      const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
      assert.ok(
        logs.some((m) => new RegExp(`model\\.safetensors: ${SIZE} of ${SIZE} \\(100%\\), [\\d.]+ (kB|MB)/s`).test(m)),
        logs.join('\n'),
      );
      // The same progress as typed events, for the extension's notification.
      const downloads = events.flatMap((e) => (e.type === 'download' ? [e] : []));
      const w = downloads.find((e) => e.file === 'model.safetensors' && e.done);
      assert.ok(w, JSON.stringify(downloads));
      assert.equal(w.model, TINY);
      assert.equal(w.bytes, weights.length);
      assert.equal(w.total, weights.length);
      assert.ok(w.rate >= 0);

      // Python's layout: refs/main → commit; snapshot files are relative symlinks into blobs/, named by etag.
      const repo = repoDir(home, TINY);
      assert.equal(fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8'), COMMIT);
      const files = tiny();
      const expected = Object.keys(files).sort();
      assert.deepEqual(fs.readdirSync(path.join(repo, 'snapshots', COMMIT)).sort(), expected, 'only the needed files (no README.md, no pytorch_model.bin)');
      for (const f of expected) {
        const etag = f.endsWith('.safetensors') ? sha256(files[f]) : gitSha1(files[f]);
        assert.equal(fs.readlinkSync(path.join(repo, 'snapshots', COMMIT, f)), `../../blobs/${etag}`);
        assert.ok(fs.readFileSync(path.join(repo, 'blobs', etag)).equals(files[f]));
      }
      assert.deepEqual(fs.readdirSync(path.join(repo, 'blobs')).length, expected.length, 'no .incomplete left');

      const n = server.seen.length;
      process.env.HF_HUB_OFFLINE = '1';
      const again = await train({ config: loadConfig(ws.config), runDir: path.join(ws.dir, 'b'), emit: () => {} });
      assert.equal(again.status, 'completed');
      assert.equal(server.seen.length, n, 'offline: no request');
    } finally {
      restore();
    }
  });

  it('offline without the model cached: a clear error', async () => {
    await assert.rejects(
      resolveHubModel(TINY, { env: envFor(tmp(), { HF_HUB_OFFLINE: '1' }) }),
      /HF_HUB_OFFLINE is set and org\/tiny-bert is not in the Hugging Face cache/,
    );
  });

  it('a gated repo: 401 names the token; the token file of the CLI login is sent', async () => {
    server.faults = { token: 'hf_secret' };
    try {
      const home = tmp();
      await assert.rejects(resolveHubModel(TINY, { env: envFor(home) }), /gated or private \(HTTP 401.*set HF_TOKEN or log in with `huggingface-cli login`/);
      await assert.rejects(resolveHubModel(TINY, { env: envFor(home, { HF_TOKEN: 'hf_wrong' }) }), /the token from HF_TOKEN was refused/);
      fs.writeFileSync(path.join(home, 'token'), 'hf_secret\n');
      const snap = await resolveHubModel(TINY, { env: envFor(home) });
      assert.ok(fs.existsSync(path.join(snap, 'model.safetensors')));
    } finally {
      server.faults = {};
    }
  });

  it('an unknown id: 404 names it', async () => {
    await assert.rejects(resolveHubModel('org/nope', { env: envFor(tmp()) }), /org\/nope: no such model on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\)/);
    await assert.rejects(resolveHubModel(TINY, { revision: 'v9', env: envFor(tmp()) }), /org\/tiny-bert \(revision v9\): no such model.*404/);
  });

  it('a stop request during the download: the run ends stopped, the partial file is kept and a later run completes it', async () => {
    const home = tmp();
    await assert.rejects(
      resolveHubModel(TINY, { env: envFor(home), shouldStop: () => true }),
      (e: Error) => e instanceof HubStopped && /stopped while downloading/.test(e.message),
    );
    const blobs = fs.readdirSync(path.join(repoDir(home, TINY), 'blobs'));
    assert.ok(blobs.length === 1 && blobs[0].endsWith('.incomplete'), blobs.join());
    const snap = await resolveHubModel(TINY, { env: envFor(home) });
    assert.ok(fs.readFileSync(path.join(snap, 'model.safetensors')).equals(weights));

    const restore = useHubEnv(tmp(), server.url);
    try {
      const ws = tinyWorkspace();
      fs.writeFileSync(ws.config, fs.readFileSync(ws.config, 'utf8').replace(/from_scratch: .*/, `pretrained: ${TINY}`));
      const events: TrainerEvent[] = [];
      const res = await train({ config: loadConfig(ws.config), runDir: path.join(ws.dir, 's'), emit: (e) => events.push(e), shouldStop: () => true });
      assert.equal(res.status, 'stopped');
      assert.equal(readRunInfo(res.runDir).status, 'stopped');
      assert.deepEqual(events.at(-1), { type: 'stopped', step: 0 });
    } finally {
      restore();
    }
  });

  it('a connection cut mid-file: the download resumes with a Range request', async () => {
    server.faults = { cutOnce: 'model.safetensors' };
    const home = tmp();
    const from = server.seen.length;
    const snap = await resolveHubModel(TINY, { env: envFor(home) });
    // The resume GET carries a Range from the resolve URL through the redirect to the CDN.
    const ranges = server.seen.slice(from).filter((r) => r.range && r.url.startsWith('/cdn/'));
    assert.equal(ranges.length, 1, JSON.stringify(server.seen.slice(from)));
    assert.match(ranges[0].range!, /^bytes=[1-9]\d*-$/);
    assert.ok(fs.readFileSync(path.join(snap, 'model.safetensors')).equals(weights));
  });

  it('wrong bytes: a checksum error and nothing left in the cache', async () => {
    server.faults = { corrupt: 'model.safetensors' };
    try {
      const home = tmp();
      await assert.rejects(resolveHubModel(TINY, { env: envFor(home) }), /model\.safetensors failed checksum verification .*sha256/);
      const repo = repoDir(home, TINY);
      assert.deepEqual(
        tree(path.join(repo, 'blobs')).filter((f) => f.startsWith(sha256(weights))),
        [],
        'no blob or .incomplete',
      );
      assert.ok(!fs.existsSync(path.join(repo, 'snapshots', COMMIT, 'model.safetensors')));
      server.faults = {};
      const snap = await resolveHubModel(TINY, { env: envFor(home) });
      assert.ok(fs.readFileSync(path.join(snap, 'model.safetensors')).equals(weights), 'a later download succeeds');
    } finally {
      server.faults = {};
    }
  });

  it('a repo with only pytorch_model.bin: a clear error naming safetensors', async () => {
    await assert.rejects(resolveHubModel('org/pickled', { env: envFor(tmp()) }), /org\/pickled has only pytorch_model\.bin .*model\.safetensors/);
  });

  it('a sharded checkpoint: the index and its shards are fetched', async () => {
    const snap = await resolveHubModel('org/sharded', { env: envFor(tmp()) });
    assert.deepEqual(fs.readdirSync(snap).sort(), ['config.json', 'model-00001-of-00001.safetensors', 'model.safetensors.index.json', 'vocab.txt']);
  });

  it("data.max_length past the checkpoint's positions: a config error at the max_length line, before the data or model is touched; the editor's checks say it once cached", async () => {
    const home = tmp();
    const restore = useHubEnv(home, server.url);
    try {
      const ws = tinyWorkspace();
      // The tiny checkpoint has max_position_embeddings 32; the config asks for 48.
      const text = fs.readFileSync(ws.config, 'utf8').replace(/from_scratch: .*/, `pretrained: ${TINY}`);
      fs.writeFileSync(ws.config, text);
      const line = text.split('\n').findIndex((l) => /^\s*max_length: 48/.test(l)) + 1;
      const want = new RegExp(
        `^${ws.config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:\\d+: data\\.max_length \\(48\\) exceeds the model's max_position_embeddings \\(32\\) in .*config\\.json; set data\\.max_length to 32 or less$`,
      );
      // Before the download the editor cannot know (no network): no problem.
      const problems = () => {
        const v = validateConfigText(text, ws.config);
        return [...v.errors, ...checkFiles(v.config!, text, ws.config)].map((e) => `${e.line}: ${e.message}`);
      };
      assert.deepEqual(problems(), []);
      const runDir = path.join(ws.dir, 'a');
      await assert.rejects(
        train({ config: loadConfig(ws.config), runDir, emit: () => {} }),
        (e: Error) => e instanceof ConfigValidationError && want.test(e.message),
      );
      const info = readRunInfo(runDir);
      assert.equal(info.status, 'failed');
      assert.match(String(info.error?.message), want);
      assert.ok(!fs.existsSync(path.join(runDir, 'checkpoints')), 'no checkpoint');
      assert.ok(!/training sentences/.test(fs.readFileSync(path.join(runDir, 'train.log'), 'utf8')), 'the data was not read');
      // Now cached: the shared checks (the editor's diagnostics, loadConfig) report it at the max_length line.
      assert.deepEqual(
        problems().map((p) => p.replace(/ in .*config\.json/, '')),
        [`${line}: data.max_length (48) exceeds the model's max_position_embeddings (32); set data.max_length to 32 or less`],
      );
      assert.throws(
        () => loadConfig(ws.config),
        (e: Error) => want.test(e.message),
      );
    } finally {
      restore();
    }
  });

  it('two processes downloading the same model: one downloads each blob under .locks/, the other waits and reuses it', async () => {
    const home = tmp();
    const env = { ...process.env, HF_HOME: home, HF_ENDPOINT: server.url, HF_HUB_CACHE: '', HF_TOKEN: '', HF_HUB_OFFLINE: '' };
    const child = () => {
      const p = spawn(process.execPath, ['--import', 'tsx', path.join(path.dirname(__filename), 'helpers/hubresolve-child.ts'), TINY], { env });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      return { out: () => out, done: new Promise<number | null>((ok) => p.once('exit', ok)) };
    };
    // The weights trickle until the second process waits for them, then come at full speed.
    server.faults = { slow: { file: 'model.safetensors', bytesPerSecond: 500 } };
    const from = server.seen.length;
    const weightsGets = () => server.seen.slice(from).filter((r) => r.method === 'GET' && r.url === `/cdn/${sha256(weights)}`);
    try {
      const a = child();
      const deadline = Date.now() + 60_000;
      while (!weightsGets().length && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      assert.equal(weightsGets().length, 1, `the first process never fetched the weights: ${a.out()}`);
      const lock = path.join(home, 'hub', '.locks', 'models--org--tiny-bert', `${sha256(weights)}.lock`);
      assert.ok(fs.existsSync(lock), "the lock is held at huggingface_hub's path while downloading");
      const b = child();
      while (!/waiting for it/.test(b.out()) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      server.faults.slow!.bytesPerSecond = 1e9;
      const [ra, rb] = await Promise.all([a.done, b.done]);
      assert.equal(ra, 0, a.out());
      assert.equal(rb, 0, b.out());
      assert.equal(weightsGets().length, 1, `the weights were downloaded once:\n${a.out()}\n---\n${b.out()}`);
      assert.match(b.out(), /model\.safetensors: another process \(pid \d+\) is downloading it into the cache; waiting for it/);
      const snap = /snapshot: (.*)/.exec(b.out())![1];
      assert.equal(snap, /snapshot: (.*)/.exec(a.out())![1]);
      assert.ok(fs.readFileSync(path.join(snap, 'model.safetensors')).equals(weights));
      const repo = repoDir(home, TINY);
      assert.deepEqual(
        fs.readdirSync(path.join(repo, 'blobs')).filter((f) => f.endsWith('.incomplete')),
        [],
      );
      assert.deepEqual(fs.readdirSync(path.dirname(lock)), [], 'every lock released');
    } finally {
      server.faults = {};
    }
  });

  it("a stale lock (its process gone, or an old empty one that Python's filelock left) is taken over; a live one is waited for", async () => {
    const repo = path.join(tmp(), 'hub', 'models--org--x');
    const lock = blobLockPath(repo, 'abc');
    assert.equal(lock, path.join(path.dirname(repo), '.locks', 'models--org--x', 'abc.lock'));
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(lock, JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), token: 'x' }));
    assert.equal(await withFileLock(lock, async () => 'ran'), 'ran');
    assert.ok(!fs.existsSync(lock), 'released');
    fs.writeFileSync(lock, '');
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(lock, old, old);
    assert.equal(await withFileLock(lock, async () => 'ran'), 'ran');
    // Held by a live process (this one): the second waits until the first releases.
    const order: string[] = [];
    let release = () => {};
    const first = withFileLock(lock, () => new Promise<void>((ok) => (release = () => (order.push('first done'), ok()))));
    const second = withFileLock(
      lock,
      async () => void order.push('second ran'),
      () => order.push('second waits'),
    );
    await new Promise((ok) => setTimeout(ok, 500));
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['second waits', 'first done', 'second ran']);
  });

  it('HF_HUB_CACHE wins over HF_HOME; the default is ~/.cache/huggingface/hub', () => {
    assert.equal(hubEnv({ HF_HOME: '/h', HF_HUB_CACHE: '/c' }).cache, '/c');
    assert.equal(hubEnv({ HF_HOME: '/h' }).cache, '/h/hub');
    assert.equal(hubEnv({}).cache, path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
    assert.equal(hubEnv({}).endpoint, 'https://huggingface.co');
  });
});
