// Semantic checks: cross-field rules the schema does not express, so their messages can name both sides.

import * as os from 'node:os';
import { lowerIsBetter, TASK_METRICS } from '../metrics';
import { isObj, type Issue, type JPath, type Obj, type ResolvedConfig } from './types';

function has(raw: Obj, p: string[]): boolean {
  let cur: unknown = raw;
  for (const s of p) {
    if (!isObj(cur) || !(s in cur)) return false;
    cur = cur[s];
  }
  return true;
}

export function semanticIssues(raw: Obj, c: ResolvedConfig): Issue[] {
  const out: Issue[] = [];
  const err = (p: JPath, message: string, at: 'value' | 'key' = 'value') => out.push({ path: p, at, message, severity: 'error' });
  const warn = (p: JPath, message: string, at: 'value' | 'key' = 'value') => out.push({ path: p, at, message, severity: 'warning' });

  // Format vs task.
  if (c.task === 'token-classification' && c.data.format !== 'conll' && c.data.format !== 'parquet')
    err(['data', 'format'], `data.format '${c.data.format}' does not fit task 'token-classification' (token classification reads 'conll' or 'parquet')`);
  if (c.data.hub !== undefined && c.data.format !== 'parquet')
    err(['data', 'hub'], `data.hub reads the Hub's Parquet conversion: set data.format to 'parquet' (not '${c.data.format}')`);
  if (c.task === 'sequence-classification' && c.data.format === 'conll')
    err(['data', 'format'], `data.format 'conll' does not fit task 'sequence-classification' (use 'jsonl', 'csv' or 'parquet')`);

  // Exactly one model source.
  if (has(raw, ['model', 'pretrained']) && has(raw, ['model', 'from_scratch']))
    err(['model', 'from_scratch'], `model.pretrained and model.from_scratch are mutually exclusive — use one`, 'key');
  else if (!has(raw, ['model', 'pretrained']) && !has(raw, ['model', 'from_scratch']))
    err(['model'], `model needs one of 'pretrained' (a local Hugging Face folder or a Hub id) or 'from_scratch'`, 'key');
  if (has(raw, ['model', 'revision']) && !has(raw, ['model', 'pretrained']))
    err(['model', 'revision'], `model.revision needs model.pretrained (a Hub id)`, 'key');

  const f = c.model.fromScratch;
  if (f && !c.model.pretrained) {
    if (f.hidden % f.heads !== 0) {
      const at: JPath = has(raw, ['model', 'from_scratch', 'heads'])
        ? ['model', 'from_scratch', 'heads']
        : has(raw, ['model', 'from_scratch', 'hidden'])
          ? ['model', 'from_scratch', 'hidden']
          : ['model', 'from_scratch'];
      err(at, `model.from_scratch.hidden (${f.hidden}) must be divisible by model.from_scratch.heads (${f.heads})`, at.length === 2 ? 'key' : 'value');
    }
    if (c.data.maxLength > f.maxPositions) {
      const at: JPath =
        has(raw, ['data', 'max_length']) || !has(raw, ['model', 'from_scratch', 'max_positions'])
          ? ['data', 'max_length']
          : ['model', 'from_scratch', 'max_positions'];
      err(at, `data.max_length (${c.data.maxLength}) exceeds model.from_scratch.max_positions (${f.maxPositions})`);
    }
    if (c.model.peft.kind !== 'none')
      warn(['model', 'peft'], `model.peft '${c.model.peft.kind}' freezes randomly initialized encoder weights of a from_scratch model; use 'none'`);
  }

  // Windows must advance.
  if (c.data.overflow === 'window' && c.data.stride >= c.data.maxLength - 2) {
    err(
      ['data', 'stride'],
      `data.stride (${c.data.stride}) must be less than data.max_length - 2 (${c.data.maxLength - 2}, the room left after [CLS] and [SEP]) when overflow is 'window'`,
    );
  }

  // Labels: each once.
  const seenLabels = new Map<string, number>();
  (c.labels ?? []).forEach((l, i) => {
    const first = seenLabels.get(l);
    if (first !== undefined) err(['labels', i], `label '${l}' is listed twice in labels (first as item ${first + 1})`);
    else seenLabels.set(l, i);
  });

  // Validation data.
  const hasValidation = c.data.validation !== undefined || c.data.validationSplit !== undefined;
  if (c.training.earlyStopping && !hasValidation)
    err(['training', 'early_stopping'], `training.early_stopping needs validation data: set data.validation or data.validation_split`, 'key');
  if (c.data.validation !== undefined && c.data.validationSplit !== undefined)
    warn(['data', 'validation_split'], `data.validation_split is ignored because data.validation is set`);

  // Warmup.
  if (has(raw, ['training', 'warmup_ratio']) && has(raw, ['training', 'warmup_steps']))
    err(['training', 'warmup_steps'], `training.warmup_ratio and training.warmup_steps are mutually exclusive — set one`);

  // Metrics the task produces.
  const metrics: readonly string[] = TASK_METRICS[c.task];
  const metricMsg = (key: string, v: string) => `${key} '${v}' is not produced by ${c.task} (one of: ${metrics.join(', ')})`;
  if (!metrics.includes(c.evaluation.metric))
    err(has(raw, ['evaluation', 'metric']) ? ['evaluation', 'metric'] : ['evaluation'], metricMsg('evaluation.metric', c.evaluation.metric));
  const es = c.training.earlyStopping;
  if (es) {
    if (!metrics.includes(es.metric))
      err(
        has(raw, ['training', 'early_stopping', 'metric']) ? ['training', 'early_stopping', 'metric'] : ['training', 'early_stopping'],
        metricMsg('training.early_stopping.metric', es.metric),
      );
    const lowerBetter = lowerIsBetter(es.metric);
    if (lowerBetter !== (es.mode === 'min'))
      warn(
        has(raw, ['training', 'early_stopping', 'mode']) ? ['training', 'early_stopping', 'mode'] : ['training', 'early_stopping'],
        `training.early_stopping.mode '${es.mode}' with metric '${es.metric}': ${lowerBetter ? 'lower' : 'higher'} is better, so mode should be '${lowerBetter ? 'min' : 'max'}'`,
      );
  }

  // Optimizer.
  if (c.training.optimizer === 'adamw' && c.training.lr > 1e-2)
    warn(['training', 'lr'], `training.lr ${c.training.lr} is unusually large for adamw (typical: 1e-5 to 1e-3)`);
  if (c.training.optimizer === 'adamw' && has(raw, ['training', 'momentum']))
    warn(['training', 'momentum'], `training.momentum is only used by optimizer 'sgd'`);
  if (c.training.optimizer === 'sgd')
    for (const k of ['adam_beta1', 'adam_beta2', 'adam_eps'])
      if (has(raw, ['training', k])) warn(['training', k], `training.${k} is only used by optimizer 'adamw'`);

  out.push(...resourceIssues(raw, c));
  return out;
}

/** The smallest normal float32: the update runs in float32, where a smaller lr or adam_eps is 0 (or a denormal that flushes to 0). */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
/** Bytes per token of one micro-batch's feeds: input ids, attention mask and labels, int64 each. */
const FEED_BYTES_PER_TOKEN = 24;
/** Optimizer steps per ONNX Runtime call when steps_per_run is 'auto' (its starting value). */
const AUTO_STEPS_PER_RUN = 4;

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/**
 * Settings bounded by numbers (float32) and by this machine (cores, memory), checked before
 * anything is allocated: threads beyond the cores made ONNX Runtime crash, and a batch of one call
 * beyond memory grew until the kernel killed the trainer.
 */
export function resourceIssues(raw: Obj, c: ResolvedConfig, machine = { cores: os.availableParallelism(), memory: os.totalmem() }): Issue[] {
  const out: Issue[] = [];
  const t = c.training;
  const err = (p: JPath, message: string) => out.push({ path: p, at: 'value', message, severity: 'error' });
  if (c.threads > machine.cores)
    err(['threads'], `threads (${c.threads}) is more than this machine's ${machine.cores} cores; use 0 (all cores) or at most ${machine.cores}`);
  const K = typeof t.stepsPerRun === 'number' ? t.stepsPerRun : AUTO_STEPS_PER_RUN;
  const tokens = K * t.gradientAccumulation * t.batchSize * c.data.maxLength;
  const bytes = tokens * FEED_BYTES_PER_TOKEN;
  // The feeds are held twice (the trainer's arrays and ONNX Runtime's tensors) besides the model's activations.
  if (bytes > machine.memory / 4) {
    const at: JPath = has(raw, ['training', 'gradient_accumulation']) ? ['training', 'gradient_accumulation'] : ['training', 'batch_size'];
    err(
      at,
      `one ONNX Runtime call would be fed ${K} steps × ${t.gradientAccumulation} micro-batches (training.gradient_accumulation) × ${t.batchSize} examples (training.batch_size) × ${c.data.maxLength} tokens (data.max_length) = ${tokens.toExponential(2)} tokens, ${gib(bytes)} of inputs alone — more than a quarter of this machine's ${gib(machine.memory)}; lower training.batch_size or training.gradient_accumulation`,
    );
  }
  if (t.lr < FLOAT32_MIN_NORMAL)
    err(
      ['training', 'lr'],
      `training.lr ${t.lr} is 0 in float32, where the update runs (the smallest usable value is about 1.2e-38): the run would train nothing`,
    );
  if (t.optimizer === 'adamw' && t.adamEps < FLOAT32_MIN_NORMAL)
    err(
      has(raw, ['training', 'adam_eps']) ? ['training', 'adam_eps'] : ['training'],
      `training.adam_eps ${t.adamEps} is 0 in float32, where the update runs (it must be at least 1.2e-38; typical 1e-8): the update would divide 0 by 0`,
    );
  if (t.warmupSteps !== undefined && t.maxSteps !== undefined && t.warmupSteps >= t.maxSteps)
    out.push({
      path: ['training', 'warmup_steps'],
      at: 'value',
      severity: 'warning',
      message: `training.warmup_steps (${t.warmupSteps}) is not less than training.max_steps (${t.maxSteps}): the learning rate never reaches training.lr (at most ${formatLr((t.lr * t.maxSteps) / Math.max(1, t.warmupSteps))})`,
    });
  return out;
}

const formatLr = (v: number) => v.toExponential(2);
