// Loads the PyTorch reference fixture (scripts/torch_reference.py) and builds the same programs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Builder } from '../../src/trainer/engine/builder';
import type { TypedData, Tensor } from '../../src/trainer/engine/ir';
import type { OptimizerConfig } from '../../src/trainer/engine/optim';
import type { FeedDef, ParamDef, ProgramSpec } from '../../src/trainer/engine/program';
import { tokenClassificationLoss, type BertConfig } from '../../src/trainer/models/bert';
import { emitMlp } from '../../src/trainer/models/mlp';

export interface JsonTensor {
  shape: number[];
  data: number[];
}
export interface Case {
  optimizer: OptimizerConfig & Record<string, unknown>;
  clipNorm: number | null;
  lrs: number[];
  initial: Record<string, JsonTensor>;
  losses: number[];
  gradNorms: number[];
  gradsStep1: Record<string, JsonTensor>;
  final: Record<string, JsonTensor>;
  batch: Record<string, JsonTensor>;
  sizes?: number[];
  config?: BertConfig;
}
export interface Fixture {
  torch: string;
  mlp: Case;
  mlp_sgd: Case;
  encoder: Case;
}

export function loadFixture(): Fixture {
  return JSON.parse(fs.readFileSync(path.join(path.dirname(__filename), '..', 'fixtures', 'torch_reference.json'), 'utf8'));
}

const decays = (name: string) => name.endsWith('.weight') && !name.includes('LayerNorm');

export function paramsOf(c: Case): ParamDef[] {
  return Object.entries(c.initial).map(([name, t]) => ({ name, shape: t.shape, data: Float32Array.from(t.data), decay: decays(name) }));
}

/** The program spec of a fixture case, and its K stacked micro-batches as feeds. */
export function specOf(c: Case): { spec: ProgramSpec; batches: Record<string, TypedData>; steps: number } {
  const steps = c.lrs.length;
  const feeds: FeedDef[] = Object.entries(c.batch).map(([name, t]) => ({
    name,
    dtype: name === 'x' ? 'float32' : 'int64',
    shape: t.shape.slice(1),
  }));
  const batches: Record<string, TypedData> = Object.fromEntries(
    Object.entries(c.batch).map(([name, t]) => [name, name === 'x' ? Float32Array.from(t.data) : BigInt64Array.from(t.data.map((v) => BigInt(v)))]),
  );
  let loss: (b: Builder, P: Map<string, Tensor>, batch: Map<string, Tensor>) => Tensor;
  if (c.sizes) {
    const layers = c.sizes.length - 1;
    loss = (b, P, batch) => b.softmaxCrossEntropy(emitMlp(b, P, layers, batch.get('x')!), batch.get('y')!)[0];
  } else {
    const cfg = c.config!;
    loss = (b, P, batch) =>
      tokenClassificationLoss(b, P, cfg, { inputIds: batch.get('input_ids')!, attentionMask: batch.get('attention_mask')! }, batch.get('labels')!, {
        training: false,
      }).loss;
  }
  const spec: ProgramSpec = { params: paramsOf(c), batch: feeds, loss, optimizer: c.optimizer, clipNorm: c.clipNorm ?? undefined };
  return { spec, batches, steps };
}

/** max |a - b| / max |b|: error relative to the tensor's scale. */
export function relMaxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

export function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
