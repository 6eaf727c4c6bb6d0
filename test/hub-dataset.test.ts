// Datasets by Hub id: one split of a dataset's Parquet conversion (refs/convert/parquet,
// <config>/<split>/0000.parquet), downloaded into the Hugging Face cache in Python's layout
// (datasets--org--name) from the Hub-compatible server of test/helpers/hubserver.ts. No outside network.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkFiles, loadConfig, validateConfigText } from '../src/shared/config/config';
import type { TrainerEvent } from '../src/shared/protocol';
import { readRunInfo } from '../src/shared/run';
import { readParquetTokens } from '../src/trainer/data/parquet';
import { train } from '../src/trainer/train/trainer';
import { cardClassLabels, resolveHubDatasetSplit } from '../src/trainer/hub/dataset';
import { hubEnv } from '../src/trainer/hub/env';
import { commitOf, HubServer, useHubEnv } from './helpers/hubserver';

const FIX = path.resolve(path.dirname(__filename), 'fixtures/parquet');
const nerTrain = fs.readFileSync(path.join(FIX, 'ner-train.parquet'));
const nerDev = fs.readFileSync(path.join(FIX, 'ner-dev.parquet'));
const ID = 'org/tiny-ner';
const COMMIT = commitOf('tiny-ner-parquet');
const CLASS_NAMES = ['weather', 'sports', 'politics', 'business'];
// A dataset card as the Hub writes them: a YAML header with dataset_info.features[].dtype.class_label.names.
const CARD = `---
license: cc-by-4.0
dataset_info:
  features:
  - name: text
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
${CLASS_NAMES.map((n, i) => `          '${i}': ${n}`).join('\n')}
  splits:
  - name: train
    num_examples: 20
---
# cls-card
`;
const server = new HubServer({
  // Integer labels and no ClassLabel metadata in the Parquet: the names are in the card only.
  'datasets/org/cls-card': {
    commit: commitOf('cls-card'),
    refs: ['refs/convert/parquet'],
    files: { 'default/train/0000.parquet': fs.readFileSync(path.join(FIX, 'cls-int-no-names.parquet')), 'README.md': Buffer.from(CARD) },
  },
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
    // The revision's ref where huggingface_hub 1.33 keeps it (refs/<revision>, so refs/refs/convert/parquet), and nothing else.
    assert.equal(fs.readFileSync(path.join(repo, 'refs/refs/convert/parquet'), 'utf8'), COMMIT);
    assert.deepEqual((fs.readdirSync(path.join(repo, 'refs'), { recursive: true }) as string[]).sort(), ['refs', 'refs/convert', 'refs/convert/parquet']);
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

const CONFIG = `task: token-classification
model:
  from_scratch: { layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 64, min_frequency: 2 }
data:
  format: parquet
  hub: ${ID}
  train: train
  validation: validation
  max_length: 48
training: { epochs: 1, batch_size: 8 }
threads: 1
seed: 7
`;

describe('hub datasets: data.hub in a config', () => {
  it('split names pass the config checks (no file lookup); data.hub needs format parquet', () => {
    const file = path.join(tmp(), 'x.finetune.yaml');
    const errors = (t: string) => {
      const v = validateConfigText(t, file);
      return (v.config ? [...v.errors, ...checkFiles(v.config, t, file)] : v.errors).map((e) => e.message);
    };
    assert.deepEqual(errors(CONFIG), []);
    const v = validateConfigText(CONFIG, file);
    assert.equal(v.config?.data.train, 'train');
    assert.equal(v.config?.data.hubConfig, 'default');
    assert.deepEqual(errors(CONFIG.replace('format: parquet', 'format: conll')), [
      "data.hub reads the Hub's Parquet conversion: set data.format to 'parquet' (not 'conll')",
    ]);
  });

  it('a run trains from the Hub dataset, downloaded into the cache; the labels are its ClassLabel names', async () => {
    const home = tmp();
    const restore = useHubEnv(home, server.url);
    try {
      const dir = tmp();
      const config = path.join(dir, 'hub.finetune.yaml');
      fs.writeFileSync(config, CONFIG);
      const events: TrainerEvent[] = [];
      const res = await train({ config: loadConfig(config), runDir: path.join(dir, 'run'), emit: (e) => events.push(e) });
      assert.equal(res.status, 'completed', JSON.stringify(readRunInfo(res.runDir).error));
      const labels = JSON.parse(fs.readFileSync(path.join(res.runDir, 'labels.json'), 'utf8')) as { labels: string[] };
      assert.deepEqual(labels.labels, ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC']);
      const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
      assert.ok(
        logs.some((m) => /60 training sentences .*, 20 validation;/.test(m)),
        logs.join('\n'),
      );
      assert.ok(fs.existsSync(path.join(home, 'hub', 'datasets--org--tiny-ner', 'snapshots', COMMIT, 'default/validation/0000.parquet')));
    } finally {
      restore();
    }
  });

  it("label names from the dataset card (README.md's dataset_info) when the Parquet has no ClassLabel metadata", async () => {
    const home = tmp();
    const restore = useHubEnv(home, server.url);
    try {
      const dir = tmp();
      const config = path.join(dir, 'card.finetune.yaml');
      fs.writeFileSync(
        config,
        `task: sequence-classification
model:
  from_scratch: { layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 64, min_frequency: 2 }
data: { format: parquet, hub: org/cls-card, train: train, max_length: 32 }
training: { epochs: 1, batch_size: 8 }
threads: 1
`,
      );
      const events: TrainerEvent[] = [];
      const res = await train({ config: loadConfig(config), runDir: path.join(dir, 'run'), emit: (e) => events.push(e) });
      assert.equal(res.status, 'completed', JSON.stringify(readRunInfo(res.runDir).error));
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(res.runDir, 'labels.json'), 'utf8')).labels, CLASS_NAMES);
      const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
      assert.ok(
        logs.some((m) => /the names of 'label' come from the dataset card \(README\.md\) of org\/cls-card/.test(m)),
        logs.join('\n'),
      );
      // The card is cached beside the conversion, at main's commit, as huggingface_hub keeps it.
      const repo = path.join(home, 'hub', 'datasets--org--cls-card');
      assert.equal(fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8'), commitOf('cls-card'));
      assert.equal(fs.readFileSync(path.join(repo, 'snapshots', commitOf('cls-card'), 'README.md'), 'utf8'), CARD);
    } finally {
      restore();
    }
  });

  it('card label names: per config, a ClassLabel or a list of them, names as a list or a map; none when absent', () => {
    const card = `---
dataset_info:
- config_name: conll2003
  features:
  - name: tokens
    sequence: string
  - name: ner_tags
    sequence:
      class_label:
        names:
          '0': O
          '1': B-PER
          '2': I-PER
- config_name: other
  features:
  - name: ner_tags
    dtype:
      list:
        class_label:
          names: [O, B-LOC, I-LOC]
---
text
`;
    assert.deepEqual(cardClassLabels(card, 'conll2003', 'ner_tags'), ['O', 'B-PER', 'I-PER']);
    assert.deepEqual(cardClassLabels(card, 'other', 'ner_tags'), ['O', 'B-LOC', 'I-LOC']);
    assert.equal(cardClassLabels(card, 'default', 'ner_tags'), undefined);
    assert.equal(cardClassLabels(card, 'conll2003', 'tokens'), undefined);
    assert.deepEqual(cardClassLabels(CARD, 'default', 'label'), CLASS_NAMES);
    assert.equal(cardClassLabels('# no header\n', 'default', 'label'), undefined);
    assert.equal(cardClassLabels('---\n: [\n---\n', 'default', 'label'), undefined);
  });
});
