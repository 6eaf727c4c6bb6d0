// A tiny NER setup in a temp folder: the first sentences of the bundled example data and a
// small from-scratch config, for trainer tests that run in seconds.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(path.dirname(__filename), '..', '..');

export function sentencesOf(file: string, n: number): string {
  const blocks = fs
    .readFileSync(path.join(ROOT, file), 'utf8')
    .split(/\n\s*\n/)
    .filter((b) => b.trim() && !b.startsWith('-DOCSTART-'));
  return blocks.slice(0, n).join('\n\n') + '\n';
}

export function tinyWorkspace(extraYaml = '', opts: { train?: number; dev?: number } = {}): { dir: string; config: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-test-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'train.txt'), sentencesOf('examples/ner/data/train.txt', opts.train ?? 160));
  fs.writeFileSync(path.join(dir, 'data', 'dev.txt'), sentencesOf('examples/ner/data/dev.txt', opts.dev ?? 40));
  fs.writeFileSync(path.join(dir, 'data', 'test.txt'), sentencesOf('examples/ner/data/test.txt', 40));
  const config = path.join(dir, 'tiny.finetune.yaml');
  fs.writeFileSync(
    config,
    `name: tiny
task: token-classification
model:
  from_scratch: { layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 64, min_frequency: 3 }
  dropout: 0.1
  attention_dropout: 0.1
data:
  format: conll
  train: data/train.txt
  validation: data/dev.txt
  test: data/test.txt
  max_length: 48
training:
  epochs: 2
  batch_size: 8
  lr: 2.0e-3
  warmup_ratio: 0.1
  steps_per_run: 4
evaluation: { every: epoch, metric: f1 }
threads: 1
seed: 7
${extraYaml}`,
  );
  return { dir, config };
}
