// Datasets by Hub id: one split of a dataset's Parquet conversion (refs/convert/parquet,
// <config>/<split>/0000.parquet), downloaded into the Hugging Face cache in Python's layout
// (datasets--org--name) from the Hub-compatible server of test/helpers/hubserver.ts. No outside network.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readParquetTokens } from '../src/trainer/data/parquet';
import { resolveHubDatasetSplit } from '../src/trainer/hub/dataset';
import { hubEnv } from '../src/trainer/hub/env';
import { commitOf, HubServer } from './helpers/hubserver';

const FIX = path.resolve(path.dirname(__filename), 'fixtures/parquet');
const nerTrain = fs.readFileSync(path.join(FIX, 'ner-train.parquet'));
const nerDev = fs.readFileSync(path.join(FIX, 'ner-dev.parquet'));
const ID = 'org/tiny-ner';
const COMMIT = commitOf('tiny-ner-parquet');
const server = new HubServer({
  [`datasets/${ID}`]: {
    commit: COMMIT,
    refs: ['refs/convert/parquet'],
    files: { 'default/train/0000.parquet': nerTrain, 'default/validation/0000.parquet': nerDev, 'README.md': Buffer.from('# tiny\n') },
  },
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-hubds-'));
const envFor = (home: string, extra: Record<string, string> = {}) => hubEnv({ HF_HOME: home, HF_ENDPOINT: server.url, ...extra });
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

before(() => server.start());
after(() => server.stop());

describe('hub datasets: the Parquet conversion of a split', () => {
  it("downloads only the split's files into datasets--org--name, as Python lays them out; offline then reads the cache", async () => {
    const home = tmp();
    server.seen.length = 0;
    const files = await resolveHubDatasetSplit(ID, 'train', { env: envFor(home) });
    const repo = path.join(home, 'hub', 'datasets--org--tiny-ner');
    assert.deepEqual(files, [path.join(repo, 'snapshots', COMMIT, 'default/train/0000.parquet')]);
    assert.equal(fs.readFileSync(path.join(repo, 'refs/refs/convert/parquet'), 'utf8'), COMMIT);
    assert.equal(fs.readlinkSync(files[0]), path.join('..', '..', '..', '..', 'blobs', sha256(nerTrain)));
    assert.deepEqual(fs.readFileSync(files[0]), nerTrain);
    assert.ok(server.seen.some((r) => r.url === `/api/datasets/${ID}/revision/refs%2Fconvert%2Fparquet`));
    assert.ok(!server.seen.some((r) => r.url.includes('validation') || r.url.includes('README')));
    assert.equal((await readParquetTokens(files[0])).sentences.length, 60);

    server.seen.length = 0;
    assert.deepEqual(await resolveHubDatasetSplit(ID, 'train', { env: envFor(home, { HF_HUB_OFFLINE: '1' }) }), files);
    assert.equal(server.seen.length, 0);
    await assert.rejects(
      resolveHubDatasetSplit(ID, 'validation', { env: envFor(home, { HF_HUB_OFFLINE: '1' }) }),
      /HF_HUB_OFFLINE is set and dataset org\/tiny-ner \(config default, split validation\) is not in the Hugging Face cache/,
    );
  });

  it('an unknown split or config names what the conversion has; an unknown dataset is a 404 naming it', async () => {
    const home = tmp();
    await assert.rejects(
      resolveHubDatasetSplit(ID, 'dev', { env: envFor(home) }),
      /split dev\): the Parquet conversion has no such config\/split \(it has: default\/train, default\/validation\)/,
    );
    await assert.rejects(
      resolveHubDatasetSplit(ID, 'train', { env: envFor(home), config: 'other' }),
      /config other, split train\): the Parquet conversion has no such/,
    );
    await assert.rejects(
      resolveHubDatasetSplit('org/none', 'train', { env: envFor(home) }),
      /dataset org\/none: no such dataset, or no Parquet conversion \(refs\/convert\/parquet\), on .* \(HTTP 404\)/,
    );
  });

  it('a cut download resumes; wrong bytes are refused and leave no blob', async () => {
    const home = tmp();
    server.faults = { cutOnce: 'default/validation/0000.parquet' };
    const [f] = await resolveHubDatasetSplit(ID, 'validation', { env: envFor(home) });
    assert.deepEqual(fs.readFileSync(f), nerDev);
    const other = tmp();
    server.faults = { corrupt: 'default/train/0000.parquet' };
    await assert.rejects(resolveHubDatasetSplit(ID, 'train', { env: envFor(other) }), /failed checksum verification/);
    assert.deepEqual(fs.readdirSync(path.join(other, 'hub', 'datasets--org--tiny-ner', 'blobs')), []);
    server.faults = {};
  });
});
