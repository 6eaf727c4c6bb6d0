// A tiny random BERT in Hugging Face layout (written by scripts/hf_reference.py with PyTorch):
// our tokenizer gives BERT's WordPiece ids, our logits and first training steps match PyTorch's.
// Tolerances: float32 on both sides; logits within 1e-5 of their scale, losses 1e-5 relative,
// weights after 3 AdamW steps 1e-5 absolute (they move by ~3e-3).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Builder } from '../src/trainer/engine/builder';
import { Graph } from '../src/trainer/engine/ir';
import { serializeModel } from '../src/trainer/engine/onnx';
import { TrainProgram } from '../src/trainer/engine/program';
import { Session } from '../src/trainer/engine/session';
import { bertParamShapes, tokenClassificationLogits, tokenClassificationLoss } from '../src/trainer/models/bert';
import { loadHfModel } from '../src/trainer/models/hf';
import { loadTokenizer } from '../src/trainer/tokenize';
import { readSafetensors } from '../src/trainer/io/safetensors';
import { maxAbsErr, relMaxErr } from './helpers/reference';

const FIX = path.join(path.dirname(__filename), 'fixtures');
const FOLDER = path.join(FIX, 'hf-tiny-bert');
const ref = JSON.parse(fs.readFileSync(path.join(FIX, 'hf_reference.json'), 'utf8')) as {
  sentence: string[];
  wordIds: number[][];
  inputIds: number[][];
  attentionMask: number[][];
  logits: number[];
  labels: number[][];
  losses: number[];
  finalClassifier: number[];
};
const B = ref.inputIds.length;
const T = ref.inputIds[0].length;
const int64 = (rows: number[][]) => BigInt64Array.from(rows.flat().map(BigInt));

describe('Hugging Face folder vs PyTorch (tiny BERT)', () => {
  it('the vocab.txt tokenizer gives BERT WordPiece ids', () => {
    const tok = loadTokenizer(FOLDER);
    assert.equal(tok.info.lowercase, true);
    assert.deepEqual(
      ref.sentence.map((w) => tok.encodeWord(w)),
      ref.wordIds,
    );
  });

  it('logits of a padded batch match', async () => {
    const hf = loadHfModel(FOLDER, { numLabels: 7, head: 'token' });
    assert.deepEqual(hf.initializedHead, []);
    const g = new Graph('golden');
    const b = new Builder(g);
    const P = new Map(
      [...hf.params].map(([n, d]) => [n, g.initializer(n, 'float32', bertParamShapes(hf.config).find((p) => p.name === n)!.shape, d)] as const),
    );
    const inputIds = g.input('input_ids', 'int64', ['batch', 'sequence']);
    const attentionMask = g.input('attention_mask', 'int64', ['batch', 'sequence']);
    g.output(tokenClassificationLogits(b, P, hf.config, { inputIds, attentionMask }, { training: false }), 'logits');
    const s = await Session.create(serializeModel(g), g.inputs, { threads: 1 });
    const out = await s.run({
      input_ids: { dtype: 'int64', shape: [B, T], data: int64(ref.inputIds) },
      attention_mask: { dtype: 'int64', shape: [B, T], data: int64(ref.attentionMask) },
    });
    const logits = out.logits.data as Float32Array;
    // Only real tokens: padded positions differ by design (-10000 vs PyTorch's own mask constant is irrelevant there).
    const C = 7;
    const ours: number[] = [];
    const theirs: number[] = [];
    ref.attentionMask.forEach((row, bi) =>
      row.forEach((m, t) => {
        if (!m) return;
        for (let c = 0; c < C; c++) {
          ours.push(logits[(bi * T + t) * C + c]);
          theirs.push(ref.logits[(bi * T + t) * C + c]);
        }
      }),
    );
    assert.ok(relMaxErr(ours, theirs) < 1e-5, `logits error ${relMaxErr(ours, theirs)}`);
  });

  it('3 AdamW steps with clipping and weight decay match losses and weights', async () => {
    const hf = loadHfModel(FOLDER, { numLabels: 7, head: 'token' });
    const shapes = bertParamShapes(hf.config);
    const prog = await TrainProgram.create(
      {
        params: shapes.map((p) => ({
          name: p.name,
          shape: p.shape,
          data: hf.params.get(p.name)!,
          decay: p.name.endsWith('.weight') && !p.name.includes('LayerNorm'),
        })),
        batch: ['input_ids', 'attention_mask', 'labels'].map((name) => ({ name, dtype: 'int64' as const, shape: [B, T] })),
        loss: (b, P, batch) =>
          tokenClassificationLoss(b, P, hf.config, { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! }, batch.get('labels')!, {
            training: false,
          }).loss,
        optimizer: { kind: 'adamw', weightDecay: 0.01 },
        clipNorm: 1,
      },
      { threads: 1 },
    );
    const rep = (rows: number[][]) => {
      const one = int64(rows);
      const all = new BigInt64Array(3 * one.length);
      for (let k = 0; k < 3; k++) all.set(one, k * one.length);
      return all;
    };
    const r = await prog.run({ input_ids: rep(ref.inputIds), attention_mask: rep(ref.attentionMask), labels: rep(ref.labels) }, [1e-3, 1e-3, 1e-3]);
    assert.ok(relMaxErr(r.losses, ref.losses) < 1e-5, `losses ${Array.from(r.losses)} vs ${ref.losses}`);
    assert.ok(maxAbsErr(prog.params.get('classifier.weight')!, ref.finalClassifier) < 1e-5);
    // every parameter, not only the head: a wrong gradient anywhere in the encoder shows here
    const final = readSafetensors(path.join(FIX, 'hf_reference_final.safetensors')).tensors;
    assert.deepEqual([...final.keys()].sort(), shapes.map((p) => p.name).sort(), 'the same parameters');
    for (const p of shapes) {
      const t = final.get(p.name)!;
      const theirs = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
      const ours = prog.params.get(p.name)!;
      if (p.name.endsWith('attention.self.key.bias')) {
        // Softmax over keys ignores a shift shared by all keys, so this bias's true gradient is 0 and
        // both sides hold rounding noise, which AdamW scales up to steps of about lr: compare the bound.
        const start = hf.params.get(p.name)!;
        for (const x of [ours, theirs]) assert.ok(maxAbsErr(x, start) <= 3 * 1e-3 * 1.01, `${p.name}: moved more than 3 steps of lr`);
        continue;
      }
      const err = maxAbsErr(ours, theirs);
      assert.ok(err < 1e-6, `${p.name}: max abs error ${err}`);
    }
  });
});
