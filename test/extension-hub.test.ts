// Hub models in the editor, without VS Code and without network: the cache rules shared with the
// trainer, the hover on `model.pretrained` (cached, partly cached, not cached, local folder), the
// cached-model list New Config offers. The cache is a temporary HF_HOME holding a fake snapshot in
// the real layout (blobs, refs/main, snapshots/<commit>/<file> → ../../blobs/<etag>).

import { getRepoFolderName } from '@huggingface/hub';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { cachedModelItems, hubIdProblem, newConfigModelChoices, pretrainedHover } from '../src/extension/core/hubModels';
import { guessDataFiles, newConfigText, yamlString } from '../src/extension/core/templates';
import { DownloadTracker, downloadEtaSeconds, downloadMessage } from '../src/extension/core/download';
import type { DownloadEvent } from '../src/shared/protocol';
import { isTrainerEvent } from '../src/shared/protocol';
import { validateConfigText } from '../src/shared/config/config';
import { cachedSnapshot, formatBytes, hubCacheDir, listCachedModels, repoFolder } from '../src/shared/hfCache';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-hfcache-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);

/** Writes a snapshot of `id` at `commit` with `files` (name → bytes) in the real cache layout, refs/main → commit. */
function fakeSnapshot(cache: string, id: string, commit: string, files: Record<string, number>, mtime?: Date): string {
  const repo = repoFolder(cache, id);
  const snap = path.join(repo, 'snapshots', commit);
  fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true });
  fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
  fs.mkdirSync(snap, { recursive: true });
  for (const [f, n] of Object.entries(files)) {
    const etag = `${f.replace(/\W/g, '')}${commit.slice(0, 4)}`.padEnd(40, '0');
    fs.writeFileSync(path.join(repo, 'blobs', etag), Buffer.alloc(n, 1));
    fs.symlinkSync(path.join('..', '..', 'blobs', etag), path.join(snap, f));
  }
  fs.writeFileSync(path.join(repo, 'refs', 'main'), commit);
  if (mtime) fs.utimesSync(snap, mtime, mtime);
  return snap;
}

const home = path.join(tmp, 'hf');
const cache = hubCacheDir({ HF_HOME: home });
const complete = fakeSnapshot(cache, 'org/tiny-bert', COMMIT_A, { 'config.json': 100, 'vocab.txt': 400, 'model.safetensors': 2_000_000 }, new Date(2026, 0, 2));
// no weights yet: an interrupted first download
fakeSnapshot(cache, 'partial-bert', COMMIT_B, { 'config.json': 50, 'tokenizer.json': 70 }, new Date(2026, 0, 1));

describe('hfCache: the cache rules shared by the trainer and the extension', () => {
  it('finds the cache as huggingface_hub does', () => {
    assert.equal(hubCacheDir({ HF_HOME: '/h' }), path.resolve('/h/hub'));
    assert.equal(hubCacheDir({ HF_HOME: '/h', HF_HUB_CACHE: '/c' }), path.resolve('/c'));
    assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), path.resolve('/x/huggingface/hub'));
  });

  it('names repo folders as @huggingface/hub does', () => {
    for (const id of ['bert-base-cased', 'dslim/bert-base-NER'])
      assert.equal(path.basename(repoFolder('/c', id)), getRepoFolderName({ type: 'model', name: id }));
  });

  it('a snapshot is complete with config, tokenizer and weights only', () => {
    assert.equal(cachedSnapshot(repoFolder(cache, 'org/tiny-bert'), 'main'), complete);
    assert.equal(cachedSnapshot(repoFolder(cache, 'org/tiny-bert'), COMMIT_A), complete);
    assert.equal(cachedSnapshot(repoFolder(cache, 'partial-bert'), 'main'), undefined);
    assert.equal(cachedSnapshot(repoFolder(cache, 'org/tiny-bert'), 'v2'), undefined);
  });

  it('lists the cached models newest first, with sizes', () => {
    const list = listCachedModels(cache);
    assert.deepEqual(
      list.map((m) => [m.id, m.size, m.complete, m.commit]),
      [
        ['org/tiny-bert', 2_000_500, true, COMMIT_A],
        ['partial-bert', 120, false, COMMIT_B],
      ],
    );
    assert.deepEqual(listCachedModels(path.join(tmp, 'none')), []);
    const items = cachedModelItems(cache, new Date(2026, 0, 4).getTime());
    assert.deepEqual(
      items.map((i) => [i.id, i.description]),
      [
        ['org/tiny-bert', '2.0 MB · 2 days ago'],
        ['partial-bert', '120 B · incomplete (a run downloads the rest) · 3 days ago'],
      ],
    );
  });

  it('formats sizes', () => {
    assert.deepEqual([532, 17_300, 438_000_000, 1_300_000_000].map(formatBytes), ['532 B', '17.3 kB', '438.0 MB', '1.3 GB']);
  });
});

describe('the hover on model.pretrained', () => {
  it('a cached Hub id: revision → commit, size, cached', () => {
    const h = pretrainedHover('org/tiny-bert', undefined, cache);
    assert.match(h, /\*\*Hub model\*\* `org\/tiny-bert`/);
    assert.match(h, new RegExp(`Revision \`main\` → commit \`${COMMIT_A.slice(0, 12)}\``));
    assert.match(h, /2\.0 MB · cached: a run uses it without downloading/);
    assert.match(h, /config\.json ✓ · tokenizer \(vocab\.txt\) ✓ · weights \(model\.safetensors\) ✓/);
  });

  it('a partly cached Hub id says what is missing', () => {
    const h = pretrainedHover('partial-bert', 'main', cache);
    assert.match(h, /partly cached: a run downloads the missing files/);
    assert.match(h, /tokenizer \(tokenizer\.json\) ✓ · weights ✗/);
  });

  it('a Hub id not in the cache (or another revision) would be downloaded', () => {
    assert.match(pretrainedHover('bert-base-cased', undefined, cache), /Not in the Hugging Face cache .*the first run downloads it/);
    const h = pretrainedHover('org/tiny-bert', 'v2', cache);
    assert.match(h, /at `v2`/);
    assert.match(h, /Not in the Hugging Face cache/);
  });

  it('a local folder: its size and parts', () => {
    const dir = path.join(tmp, 'local-model');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{}');
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), Buffer.alloc(1000));
    const h = pretrainedHover(dir, undefined, cache);
    assert.match(h, /\*\*Local model folder\*\*/);
    assert.match(h, /1\.0 kB · config\.json ✓ · tokenizer \(tokenizer\.json\) ✓ · weights ✗ \(only pytorch_model\.bin/);
    assert.match(pretrainedHover(path.join(tmp, 'nope'), undefined, cache), /does not exist/);
  });
});

describe('New Config with a model', () => {
  it('offers from scratch, the cached models newest first, and a typed Hub id', () => {
    const choices = newConfigModelChoices(cache, new Date(2026, 0, 4).getTime());
    assert.deepEqual(
      choices.map((c) => (c.choice === 'hub' ? `hub:${c.id}` : c.choice)),
      ['scratch', 'hub:org/tiny-bert', 'hub:partial-bert', 'enter'],
    );
    assert.deepEqual(
      newConfigModelChoices(path.join(tmp, 'none')).map((c) => c.choice),
      ['scratch', 'enter'],
    );
    assert.equal(hubIdProblem('dslim/bert-base-NER'), undefined);
    assert.match(hubIdProblem('a/b/c') ?? '', /not a Hub id/);
    assert.match(hubIdProblem('  ') ?? '', /needed/);
  });

  it('the template names the pretrained model, without from_scratch, and validates', () => {
    for (const task of ['token-classification', 'sequence-classification'] as const) {
      const text = newConfigText(task, 'x', 'dslim/bert-base-NER');
      assert.match(text, /^ {2}pretrained: dslim\/bert-base-NER$/m);
      assert.doesNotMatch(text, /^\s*from_scratch:/m);
      const { config, errors } = validateConfigText(text, path.join(tmp, `${task}.finetune.yaml`));
      assert.deepEqual(
        errors.filter((e) => e.severity === 'error'),
        [],
      );
      assert.equal(config?.model.pretrained, 'dslim/bert-base-NER');
      assert.equal(config?.model.fromScratch, undefined);
      assert.equal(config?.training.lr, 3e-5);
    }
    // without a model: from scratch, as before
    const scratch = validateConfigText(newConfigText('token-classification'), path.join(tmp, 'a.finetune.yaml')).config;
    assert.equal(scratch?.model.pretrained, undefined);
    assert.ok(scratch?.model.fromScratch);
  });

  it('New Config names the data files it finds (the folder nearest the config), else one example path', () => {
    const w = path.join(tmp, 'ws-newconfig');
    const put = (rel: string) => {
      fs.mkdirSync(path.dirname(path.join(w, rel)), { recursive: true });
      fs.writeFileSync(path.join(w, rel), 'EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n');
    };
    for (const f of ['corpus/train.txt', 'corpus/dev.txt', 'corpus/test.txt', 'far/away/train.txt', 'node_modules/x/train.txt', 'notes.txt']) put(f);
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const data = guessDataFiles('token-classification', files(w), w);
    assert.deepEqual(data, { train: 'corpus/train.txt', validation: 'corpus/dev.txt', test: 'corpus/test.txt' });
    const cfg = path.join(w, 'ner.finetune.yaml');
    const found = validateConfigText(newConfigText('token-classification', 'ner', undefined, { data }), cfg);
    assert.deepEqual(
      found.errors.filter((e) => e.severity === 'error'),
      [],
      'a config over the files found opens without errors',
    );
    assert.equal(found.config?.data.train, path.join(w, 'corpus/train.txt'));
    // no data of the task's format: one example path (train is required), validation and test commented out
    assert.deepEqual(guessDataFiles('sequence-classification', files(w), w), {});
    const none = newConfigText('sequence-classification', 'cls', undefined, {});
    assert.match(none, /^ {2}train: data\/train\.jsonl +# required: point these at your data$/m);
    assert.match(none, /^ {2}# validation: data\/dev\.jsonl/m);
    assert.match(none, /^ {2}# test: data\/test\.jsonl/m);
    // CSV files found: format csv
    put('cls/train.csv');
    const csv = guessDataFiles('sequence-classification', files(w), w);
    assert.deepEqual(csv, { train: 'cls/train.csv' });
    assert.match(newConfigText('sequence-classification', 'cls', undefined, { data: csv }), /^ {2}format: csv /m);
  });

  it("New Config keeps max_length within the model's positions", () => {
    const text = newConfigText('token-classification', 'x', 'org/tiny', { maxPositions: 32 });
    const c = validateConfigText(text, path.join(tmp, 'short.finetune.yaml')).config;
    assert.equal(c?.data.maxLength, 32);
    assert.match(text, /max_length: 32 +# .*\(the model has 32 positions\)/);
    assert.equal(
      validateConfigText(newConfigText('token-classification', 'x', 'org/big', { maxPositions: 512 }), path.join(tmp, 'b.finetune.yaml')).config?.data
        .maxLength,
      64,
    );
  });

  it('quotes an id YAML would read as something else', () => {
    assert.equal(yamlString('bert-base-cased'), 'bert-base-cased');
    assert.equal(yamlString('true'), '"true"');
    assert.equal(yamlString('1.5'), '"1.5"');
  });
});

describe('download progress notifications', () => {
  const ev = (file: string, bytes: number, total: number, rate: number, done = false): DownloadEvent => ({
    type: 'download',
    model: 'org/m',
    file,
    bytes,
    total,
    rate,
    done,
  });

  it('the download event is a trainer event', () => {
    assert.ok(isTrainerEvent(ev('config.json', 1, 1, 1, true)));
  });

  it('bytes, percent, rate and ETA', () => {
    assert.equal(downloadEtaSeconds(ev('w', 100e6, 400e6, 10e6)), 30);
    assert.equal(downloadEtaSeconds(ev('w', 0, 400e6, 0)), undefined);
    assert.equal(downloadEtaSeconds(ev('w', 400e6, 400e6, 10e6, true)), 0);
    assert.equal(downloadMessage(ev('model.safetensors', 120e6, 438e6, 12.3e6)), 'model.safetensors: 120.0 MB of 438.0 MB (27%) · 12.3 MB/s · ETA 26 s');
    assert.equal(downloadMessage(ev('model.safetensors', 120e6, 438e6, 0)), 'model.safetensors: 120.0 MB of 438.0 MB (27%) · 0 B/s · ETA ?');
    assert.equal(downloadMessage(ev('vocab.txt', 213_460, 213_460, 1e6, true)), 'vocab.txt: 213.5 kB of 213.5 kB (100%) · 1.0 MB/s · done');
  });

  it('the bar follows one file: increments add up to its percent; a new file starts a new notification', () => {
    const t = new DownloadTracker();
    // a small file complete at its first report: fresh and done (no notification needed)
    assert.deepEqual((({ fresh, done }) => ({ fresh, done }))(t.update(ev('config.json', 500, 500, 1e3, true))), { fresh: true, done: true });
    const a = t.update(ev('model.safetensors', 100, 400, 10));
    assert.equal(a.fresh, true);
    assert.equal(a.increment, 25);
    const b = t.update(ev('model.safetensors', 300, 400, 10));
    assert.equal(b.fresh, false);
    assert.equal(b.increment, 50);
    const c = t.update(ev('model.safetensors', 400, 400, 10, true));
    assert.deepEqual([c.fresh, c.increment, c.done], [false, 25, true]);
    // a resumed download that reports fewer bytes never moves the bar back
    const d = t.update(ev('shard-2.safetensors', 200, 400, 10));
    const e = t.update(ev('shard-2.safetensors', 100, 400, 10));
    assert.deepEqual([d.fresh, d.increment, e.fresh, e.increment], [true, 50, false, 0]);
  });
});
