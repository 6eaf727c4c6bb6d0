// A tiny BERT token classifier made and saved by Transformers, with a tokenizer saved by
// BertTokenizerFast (scripts/hf_reference.py; versions in the fixture): our tokenizer gives its
// ids, our logits are Transformers', 5 AdamW steps (linear warmup schedule, clipping, weight decay)
// match a plain PyTorch training loop over the Transformers model, and LoRA matches PEFT's.
// Tolerances: float32 on both sides; logits within 1e-5 of their scale, losses 1e-4 relative,
// weights after 5 steps 1e-5 absolute (they move by ~3e-3).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Builder } from '../src/trainer/engine/builder';
import { Graph } from '../src/trainer/engine/ir';
import { serializeModel } from '../src/trainer/engine/onnx';
import { TrainProgram, type ParamDef } from '../src/trainer/engine/program';
import { Session } from '../src/trainer/engine/session';
import { bertParamShapes, tokenClassificationLogits, tokenClassificationLoss } from '../src/trainer/models/bert';
import { loadHfModel } from '../src/trainer/models/hf';
import { loadTokenizer } from '../src/trainer/tokenize';
import { readSafetensors } from '../src/trainer/io/safetensors';
import { maxAbsErr, relMaxErr } from './helpers/reference';

const FIX = path.join(path.dirname(__filename), 'fixtures');
const FOLDER = path.join(FIX, 'hf-tiny-bert');
interface Steps {
  lrs: number[];
  losses: number[];
}
const ref = JSON.parse(fs.readFileSync(path.join(FIX, 'hf_reference.json'), 'utf8')) as {
  versions: Record<string, string>;
  sentence: string[];
  wordIds: number[][];
  corpus: { words: string[]; wordIds: number[][] }[];
  inputIds: number[][];
  attentionMask: number[][];
  logits: number[];
  labels: number[][];
  training: Steps & { weightDecay: number; clip: number; noDecay: string[]; finalClassifier: number[] };
  lora: Steps & {
    rank: number;
    alpha: number;
    targets: string[];
    initial: Record<string, { shape: number[]; data: number[] }>;
    final: Record<string, number[]>;
  };
};
const B = ref.inputIds.length;
const T = ref.inputIds[0].length;
const STEPS = ref.training.lrs.length;
const int64 = (rows: number[][]) => BigInt64Array.from(rows.flat().map(BigInt));
const versions = Object.entries(ref.versions)
  .map(([k, v]) => `${k} ${v}`)
  .join(', ');

/** The fixture's batch repeated once per step (K steps in one run). */
function batches(): Record<string, BigInt64Array> {
  const rep = (rows: number[][]) => {
    const one = int64(rows);
    const all = new BigInt64Array(STEPS * one.length);
    for (let k = 0; k < STEPS; k++) all.set(one, k * one.length);
    return all;
  };
  return { input_ids: rep(ref.inputIds), attention_mask: rep(ref.attentionMask), labels: rep(ref.labels) };
}

async function fiveSteps(params: ParamDef[], frozen: ParamDef[], loraScale?: number) {
  const hf = loadHfModel(FOLDER, { numLabels: 7, head: 'token' });
  const prog = await TrainProgram.create(
    {
      params,
      frozen,
      batch: ['input_ids', 'attention_mask', 'labels'].map((name) => ({ name, dtype: 'int64' as const, shape: [B, T] })),
      loss: (b, P, batch) =>
        tokenClassificationLoss(b, P, hf.config, { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! }, batch.get('labels')!, {
          training: false,
          loraScale,
        }).loss,
      optimizer: { kind: 'adamw', weightDecay: ref.training.weightDecay },
      clipNorm: ref.training.clip,
    },
    { threads: 1 },
  );
  return { prog, r: await prog.run(batches(), ref.training.lrs) };
}

const decays = (name: string) => !ref.training.noDecay.some((s) => name.endsWith(s));

describe(`a Transformers checkpoint and tokenizer (${versions})`, () => {
  it('the tokenizer gives BertTokenizerFast’s ids for a sentence and a corpus of accents, CJK, emoji and long words', () => {
    const tok = loadTokenizer(FOLDER);
    assert.equal(tok.info.lowercase, true);
    for (const { words, wordIds } of [{ words: ref.sentence, wordIds: ref.wordIds }, ...ref.corpus])
      assert.deepEqual(
        words.map((w) => tok.encodeWord(w)),
        wordIds,
        words.join(' '),
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
    // Only real tokens: what a padded position gets is nobody's concern.
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

  it('5 AdamW steps (linear warmup schedule, clipping, weight decay) match losses and weights of PyTorch’s loop', async () => {
    const hf = loadHfModel(FOLDER, { numLabels: 7, head: 'token' });
    const params = bertParamShapes(hf.config).map((p) => ({ name: p.name, shape: p.shape, data: hf.params.get(p.name)!, decay: decays(p.name) }));
    const start = new Map(params.map((p) => [p.name, Float32Array.from(p.data)]));
    const { prog, r } = await fiveSteps(params, []);
    assert.ok(relMaxErr(r.losses, ref.training.losses) < 1e-4, `losses ${Array.from(r.losses)} vs ${ref.training.losses}`);
    assert.ok(ref.training.losses[STEPS - 1] < ref.training.losses[0], 'the reference loss falls');
    assert.ok(maxAbsErr(prog.params.get('classifier.weight')!, ref.training.finalClassifier) < 1e-5);
    // every parameter, not only the head: a wrong gradient anywhere in the encoder shows here
    const final = readSafetensors(path.join(FIX, 'hf_reference_final.safetensors')).tensors;
    assert.deepEqual([...final.keys()].sort(), params.map((p) => p.name).sort(), 'the same parameters');
    for (const p of params) {
      const t = final.get(p.name)!;
      const theirs = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
      const ours = prog.params.get(p.name)!;
      if (p.name.endsWith('attention.self.key.bias')) {
        // Softmax over keys ignores a shift shared by all keys, so this bias's true gradient is 0 and
        // both sides hold rounding noise, which AdamW scales up to steps of about lr: compare the bound.
        const bound = ref.training.lrs.reduce((a, b) => a + b, 0) * 1.01;
        for (const x of [ours, theirs]) assert.ok(maxAbsErr(x, start.get(p.name)!) <= bound, `${p.name}: moved more than the sum of the lrs`);
        continue;
      }
      const err = maxAbsErr(ours, theirs);
      assert.ok(err < 1e-5, `${p.name}: max abs error ${err}`);
    }
  });

  it('LoRA (rank, alpha, targets query and value) matches PEFT’s LoraConfig: losses and final adapters', async () => {
    const hf = loadHfModel(FOLDER, { numLabels: 7, head: 'token' });
    const lora = ref.lora;
    assert.deepEqual(
      Object.keys(lora.initial).filter((n) => n.includes('.lora_')).length,
      hf.config.layers * lora.targets.length * 2,
      'PEFT put adapters on every target of every layer',
    );
    const params = Object.entries(lora.initial).map(([name, t]) => ({ name, shape: t.shape, data: Float32Array.from(t.data), decay: decays(name) }));
    const frozen = bertParamShapes(hf.config)
      .filter((p) => !lora.initial[p.name])
      .map((p) => ({ name: p.name, shape: p.shape, data: hf.params.get(p.name)!, decay: decays(p.name) }));
    const { prog, r } = await fiveSteps(params, frozen, lora.alpha / lora.rank);
    assert.ok(relMaxErr(r.losses, lora.losses) < 1e-4, `losses ${Array.from(r.losses)} vs PEFT ${lora.losses}`);
    for (const [name, data] of Object.entries(lora.final)) assert.ok(maxAbsErr(prog.params.get(name)!, data) < 1e-5, `${name} after 5 steps`);
  });
});
