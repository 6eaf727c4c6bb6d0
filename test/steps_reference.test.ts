// Our trainer against PyTorch, step by step: a tiny Hugging Face BERT token classifier (saved by
// transformers) trained with shuffle off and dropout 0 on the same sentences, AdamW settings,
// warmup + linear decay and gradient clipping as scripts/step_losses_reference.py trained it with
// PyTorch. Every optimizer step's loss (training.logging_steps 1, K steps per call) must match
// within 1e-4 relative; grad norms and learning rates too. The fixtures are committed: no PyTorch here.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { TrainRecord, TrainerEvent } from '../src/shared/protocol';
import { loadConfig } from '../src/shared/config/config';
import { readMetrics } from '../src/shared/run';
import { loadRunData } from '../src/trainer/train/dataset';
import { train } from '../src/trainer/train/trainer';

const FIX = path.join(path.dirname(__filename), 'fixtures');
const FOLDER = path.join(FIX, 'steps-reference');
const ref = JSON.parse(fs.readFileSync(path.join(FIX, 'steps_reference.json'), 'utf8')) as {
  torch: string;
  labels: string[];
  settings: {
    batch_size: number;
    epochs: number;
    lr: number;
    weight_decay: number;
    adam_beta1: number;
    adam_beta2: number;
    adam_eps: number;
    warmup_steps: number;
    schedule: string;
    grad_clip: number;
    max_length: number;
    no_decay: string[];
  };
  inputIds: number[][];
  steps: { step: number; loss: number; gradNorm: number; lr: number }[];
};

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

function workspace(stepsPerRun: number): string {
  const s = ref.settings;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-steps-ref-'));
  const config = path.join(dir, 'ref.finetune.yaml');
  fs.writeFileSync(
    config,
    `name: steps-reference
task: token-classification
model:
  pretrained: ${JSON.stringify(FOLDER)}
  dropout: 0
  attention_dropout: 0
data:
  format: conll
  train: ${JSON.stringify(path.join(FOLDER, 'train.txt'))}
  max_length: ${s.max_length}
training:
  shuffle: false
  logging_steps: 1
  steps_per_run: ${stepsPerRun}
  epochs: ${s.epochs}
  batch_size: ${s.batch_size}
  optimizer: adamw
  lr: ${s.lr}
  weight_decay: ${s.weight_decay}
  adam_beta1: ${s.adam_beta1}
  adam_beta2: ${s.adam_beta2}
  adam_eps: ${s.adam_eps}
  no_decay: ${JSON.stringify(s.no_decay)}
  warmup_steps: ${s.warmup_steps}
  schedule: ${s.schedule}
  grad_clip: ${s.grad_clip}
device: cpu
threads: 1
seed: 5
`,
  );
  return config;
}

describe('per-step losses against PyTorch (scripts/step_losses_reference.py)', () => {
  it('the same sentences give the same labels and input ids as transformers’ BertTokenizerFast', async () => {
    const data = await loadRunData(loadConfig(workspace(4)));
    assert.deepEqual(data.labels, ref.labels, "the trainer's label order is the checkpoint's id2label");
    assert.deepEqual(
      (data.train.features as { inputIds: number[] }[]).map((f) => f.inputIds),
      ref.inputIds,
    );
  });

  for (const K of [1, 4])
    it(`shuffle off, dropout 0, ${K} step${K > 1 ? 's' : ''} per call: every step's loss within 1e-4 of PyTorch's`, async () => {
      const config = workspace(K);
      const res = await train({ config: loadConfig(config), runDir: path.join(path.dirname(config), 'run'), emit: (_e: TrainerEvent) => {} });
      assert.equal(res.status, 'completed');
      const records = readMetrics(res.runDir).filter((r): r is TrainRecord => r.type === 'train');
      assert.deepEqual(
        records.map((r) => r.step),
        ref.steps.map((s) => s.step),
      );
      let worst = 0;
      for (const [i, s] of ref.steps.entries()) {
        const r = records[i];
        worst = Math.max(worst, rel(r.loss, s.loss));
        assert.ok(rel(r.loss, s.loss) < 1e-4, `step ${s.step}: loss ${r.loss} vs PyTorch ${s.loss}`);
        assert.ok(rel(r.gradNorm, s.gradNorm) < 1e-4, `step ${s.step}: grad norm ${r.gradNorm} vs PyTorch ${s.gradNorm}`);
        assert.ok(Math.abs(r.lr - s.lr) <= 1e-12 * s.lr + 1e-15, `step ${s.step}: lr ${r.lr} vs ${s.lr}`);
      }
      // The losses move (the comparison is not of a model that does not learn).
      assert.ok(ref.steps[ref.steps.length - 1].loss < ref.steps[0].loss * 0.9, 'the reference loss falls');
      console.log(`# max relative loss difference to PyTorch ${ref.torch} (K=${K}): ${worst.toExponential(2)}`);
    });
});
