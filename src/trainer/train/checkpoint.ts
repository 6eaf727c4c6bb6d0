// Checkpoints: a Hugging Face folder (config.json + model.safetensors with BERT names, tokenizer
// files) that Transformers loads, plus what exact resume needs: optimizer state, LoRA adapters and
// the trainer state. A checkpoint folder is written beside its final name and swapped in, so a
// crash never leaves a half-written checkpoint under the final name.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, toFloat32, writeSafetensors } from '../io/safetensors';
import { loadHfModel } from '../models/hf';
import { saveHfModel } from '../models/hfSave';
import { writeTokenizerFolder, type Tok } from '../tokenize';
import { mergeLora, type ModelSetup } from './model';
import type { MetricName } from '../../shared/metrics';
import { writeJsonAtomic } from '../../shared/run';

export interface TrainerState {
  version: 1;
  /** Optimizer steps taken. */
  step: number;
  epoch: number;
  /** Steps of `epoch` already taken (the epoch plan is replayed from here on resume). */
  stepInEpoch: number;
  totalSteps: number;
  best?: { metric: MetricName; value: number; step: number };
  /** Evaluations since early stopping's metric last improved. */
  badEvals: number;
  /** The best value of training.early_stopping.metric so far (runs from before it was kept: undefined). */
  esBest?: { value: number; step: number };
  labels: string[];
  /** Losses of the steps since the last train record (training.logging_steps > 1), so a resumed run averages as an uninterrupted one. */
  pendingLoss?: { sum: number; steps: number; skipped?: number };
  /** fp16 mixed precision: the loss scaler (scale, finite steps in a row) and AdamW's step count, which skips overflowed steps. */
  scaler?: { scale: number; growth: number; optimizerSteps: number };
}

function swapIn(tmp: string, dir: string) {
  const old = `${dir}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Writes a checkpoint folder beside `dir` and swaps it in. On any failure (a full disk) the
 * half-written folder is removed and the previous checkpoint under `dir` is left as it was.
 */
export function saveCheckpoint(dir: string, m: ModelSetup, slots: string[], optimizer: Map<string, Float32Array[]>, state: TrainerState, tok: Tok): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const hadOne = fs.existsSync(dir);
  try {
    writeCheckpoint(tmp, m, slots, optimizer, state, tok);
    swapIn(tmp, dir);
  } catch (e) {
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
    } catch {
      // nothing was written there (its folder could not be made): the error below is the one to report
    }
    const err = e as NodeJS.ErrnoException;
    throw new Error(
      `could not write the checkpoint ${dir}${err.code === 'ENOSPC' ? ' (the disk is full)' : ''}: ${err.message}; ${hadOne ? 'the previous checkpoint is kept' : 'there is no earlier checkpoint to keep'}`,
    );
  }
}

function writeCheckpoint(tmp: string, m: ModelSetup, slots: string[], optimizer: Map<string, Float32Array[]>, state: TrainerState, tok: Tok): void {
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const merged = mergeLora(m);
  saveHfModel(tmp, 'bert', m.config, merged, state.labels, m.head);
  writeTokenizerFolder(tmp, tok);
  const opt: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, arrays] of optimizer) {
    slots.forEach((slot, k) => (opt[`${name}.${slot}`] = { dtype: 'F32', shape: m.shapes.get(name)!, data: arrays[k] }));
  }
  writeSafetensors(path.join(tmp, 'optimizer.safetensors'), opt, { slots: slots.join(',') });
  const adapters = [...m.params].filter(([n]) => n.includes('.lora_'));
  if (adapters.length) {
    writeSafetensors(
      path.join(tmp, 'adapter.safetensors'),
      Object.fromEntries(adapters.map(([n, d]) => [n, { dtype: 'F32' as const, shape: m.shapes.get(n)!, data: d }])),
      { lora_scale: String(m.loraScale ?? 1) },
    );
  }
  writeJsonAtomic(path.join(tmp, 'trainer_state.json'), state);
}

/** The labels a checkpoint was trained with (its trainer state's), or undefined when it records none. */
export function checkpointLabels(dir: string): string[] | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')) as Partial<TrainerState>;
    return Array.isArray(state.labels) && state.labels.length ? state.labels : undefined;
  } catch {
    return undefined; // loadCheckpoint reports a missing or unreadable state
  }
}

/**
 * Restores trained parameters (into `m.params`) and returns the optimizer state and trainer state.
 * With LoRA the frozen base comes from the run's own source and only head and adapters are read.
 */
export function loadCheckpoint(dir: string, m: ModelSetup, slots: string[]): { state: TrainerState; optimizer: Map<string, Float32Array[]> } {
  const statePath = path.join(dir, 'trainer_state.json');
  if (!fs.existsSync(statePath)) throw new Error(`${dir} is not a checkpoint (no trainer_state.json)`);
  const state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as TrainerState;
  const hf = loadHfModel(dir, { numLabels: m.config.numLabels, head: m.head, labels: m.labels });
  const lora = [...m.params.keys()].some((n) => n.includes('.lora_'));
  for (const name of m.trained) {
    if (name.includes('.lora_')) continue;
    const v = hf.params.get(name);
    if (!v) throw new Error(`${dir}/model.safetensors lacks ${name}`);
    m.params.set(name, v);
  }
  if (!lora)
    for (const name of m.frozen) {
      const v = hf.params.get(name);
      if (v) m.params.set(name, v);
    }
  if (lora) {
    const { tensors } = readSafetensors(path.join(dir, 'adapter.safetensors'));
    for (const name of m.trained.filter((n) => n.includes('.lora_'))) {
      const t = tensors.get(name);
      if (!t) throw new Error(`${dir}/adapter.safetensors lacks ${name}`);
      m.params.set(name, toFloat32(t, name));
    }
  }
  const optimizer = new Map<string, Float32Array[]>();
  const { tensors } = readSafetensors(path.join(dir, 'optimizer.safetensors'));
  for (const name of m.trained) {
    optimizer.set(
      name,
      slots.map((slot) => {
        const t = tensors.get(`${name}.${slot}`);
        if (!t) throw new Error(`${dir}/optimizer.safetensors lacks ${name}.${slot}`);
        return toFloat32(t, `${name}.${slot}`);
      }),
    );
  }
  return { state, optimizer };
}
