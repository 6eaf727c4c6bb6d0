// Predictions of a run's exported model (model.onnx, labels.json, tokenizer/) on one text, encoded
// as the run's data was: the run's max_length (never more than the model's position table), its
// overflow and stride. Long inputs are windowed and merged (NER: per word, as evaluation does) or
// pooled (classification: the mean of the windows' logits), batched like evaluation.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedConfig } from '../shared/config/config';
import { readRunInfo, runPaths } from '../shared/run';
import { Session } from './engine/session';
import { encodeTexts, encodeTokenSentences } from './encode';
import { extractEntities } from './metrics/seqeval';
import { loadTokenizer, type Tok } from './tokenize';
import { Evaluator, forEachWordLogits, poolWindows } from './train/evaluate';

/** labels.json: the task, the label names, and maxLength, the model's position table. */
export interface ExportedLabels {
  task: 'token-classification' | 'sequence-classification';
  labels: string[];
  maxLength?: number;
}

export interface Exported {
  dir: string;
  model: string;
  labels: ExportedLabels;
  tokenizer: Tok;
  tokenizerDir: string;
}

/** A run's exported model: model.onnx, or with `int8` model.int8.onnx (made by `finetune export --int8`). */
export function readExported(runDir: string, o: { int8?: boolean } = {}): Exported {
  const dir = path.resolve(runDir);
  const p = runPaths(dir);
  if (!fs.existsSync(p.model)) {
    // A folder that does not exist, one that is not a run, and a run that did not finish are different mistakes.
    const info = readRunInfo(dir);
    const name = path.basename(p.model);
    if (info.status === 'completed') throw new Error(`${dir} has no exported ${name}, though the run completed (was the file removed?)`);
    throw new Error(
      `${dir} has no exported ${name}: the run is ${info.status}, not completed${info.status === 'stopped' ? ' (finish it with train --resume)' : ''}`,
    );
  }
  if (o.int8 && !fs.existsSync(p.modelInt8))
    throw new Error(`${dir} has no ${path.basename(p.modelInt8)}: make it from ${path.basename(p.model)} with: finetune export --int8 ${runDir}`);
  const labels = JSON.parse(fs.readFileSync(p.labels, 'utf8')) as ExportedLabels;
  return { dir, model: o.int8 ? p.modelInt8 : p.model, labels, tokenizer: loadTokenizer(p.tokenizer), tokenizerDir: p.tokenizer };
}

export interface LengthSettings {
  maxLength: number;
  overflow: 'window' | 'truncate';
  stride: number;
  /** why maxLength is less than the run's data.max_length, when it is */
  note?: string;
}

/**
 * How a run's inputs are encoded at inference: data.max_length, overflow and stride from the run's
 * resolved config, with max_length capped at the model's positions (labels.json maxLength) and then
 * the stride at most half of it. Without a config (model files copied alone): the positions, 'window', and
 * the schema's default stride.
 */
export function lengthSettings(config: ResolvedConfig | null | undefined, positions: number | undefined): LengthSettings {
  const d = config?.data;
  const wanted = d?.maxLength ?? positions ?? 512;
  const maxLength = Math.min(wanted, positions ?? wanted);
  // The run's stride as it is (the config check keeps it below max_length - 2); when max_length is
  // capped, or without a config, the schema's default rule: at most (max_length - 2) / 2.
  const half = Math.max(0, Math.floor((maxLength - 2) / 2));
  const stride = d && maxLength === wanted ? Math.min(d.stride, maxLength - 3) : Math.min(d?.stride ?? 32, half);
  const note = maxLength < wanted ? `data.max_length ${wanted} exceeds the model's ${positions} positions; using ${maxLength}` : undefined;
  return { maxLength, overflow: d?.overflow ?? 'window', stride, note };
}

/** The run's config from run.json, or null when the folder has none (exported files copied alone). */
export function runConfig(dir: string): ResolvedConfig | null {
  try {
    return readRunInfo(dir).config as ResolvedConfig | null;
  } catch {
    return null;
  }
}

export type Prediction = (
  | { task: 'token-classification'; words: string[]; tags: string[]; entities: { type: string; text: string; start: number; end: number }[] }
  | { task: 'sequence-classification'; label: string; probs: Record<string, number> }
) & {
  /** sub-tokens of the text (without [CLS]/[SEP]) */
  subTokens: number;
  /** model inputs it took (windows) */
  windows: number;
  maxLength: number;
  overflow: 'window' | 'truncate';
  stride: number;
  /** what was cut when overflow is 'truncate' and the text is longer than max_length */
  truncated?: string;
  note?: string;
};

/** Words of a text for NER: letters/digits (with an apostrophe suffix) or single other characters. */
export function splitWords(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?|[^\s\p{L}\p{N}]/gu) ?? [];
}

export async function predictText(runDir: string, text: string, o: { threads?: number; int8?: boolean } = {}): Promise<Prediction> {
  const x = readExported(runDir, { int8: o.int8 });
  const s = lengthSettings(runConfig(x.dir), x.labels.maxLength);
  const L = x.labels.labels;
  const C = L.length;
  const session = await Session.create(
    fs.readFileSync(x.model),
    [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'sequence'] },
    ],
    o.threads ? { threads: o.threads } : {},
    x.model,
  );
  const token = x.labels.task === 'token-classification';
  const ev = new Evaluator(session, { head: token ? 'token' : 'sequence', numLabels: C });
  const argmax = (l: Float32Array, off: number) => {
    let b = 0;
    for (let c = 1; c < C; c++) if (l[off + c] > l[off + b]) b = c;
    return b;
  };
  const common = { maxLength: s.maxLength, overflow: s.overflow, stride: s.stride, ...(s.note ? { note: s.note } : {}) };
  try {
    if (token) {
      const words = splitWords(text);
      const { features, stats } = encodeTokenSentences(x.tokenizer, [{ words, labels: words.map(() => 0) }], s);
      const logits = await ev.logits(features);
      const tags = words.map(() => 'O');
      forEachWordLogits(features, logits, C, (_, w, l, off) => {
        tags[w] = L[argmax(l, off)];
      });
      const entities = extractEntities([tags]).map((e) => ({ type: e.type, text: words.slice(e.start, e.end).join(' '), start: e.start, end: e.end }));
      const subTokens = words.reduce((n, w) => n + Math.max(1, x.tokenizer.encodeWord(w).length), 0);
      const truncated =
        stats.droppedWords > 0
          ? `overflow 'truncate': ${stats.droppedWords} of ${words.length} words beyond ${s.maxLength} sub-tokens were not read (tagged O)`
          : undefined;
      return { task: 'token-classification', words, tags, entities, subTokens, windows: features.length, ...common, ...(truncated ? { truncated } : {}) };
    }
    const { features, stats } = encodeTexts(x.tokenizer, [{ text, label: 0 }], s);
    const pooled = poolWindows(features, await ev.logits(features), 1, C)[0];
    const max = Math.max(...pooled);
    const exp = Array.from(pooled, (v) => Math.exp(v - max));
    const z = exp.reduce((a, b) => a + b, 0);
    const subTokens = x.tokenizer.encodeText(text).length;
    const truncated = stats.truncated ? `overflow 'truncate': only the first ${s.maxLength - 2} of ${subTokens} sub-tokens were read` : undefined;
    return {
      task: 'sequence-classification',
      label: L[argmax(pooled, 0)],
      probs: Object.fromEntries(L.map((l, i) => [l, exp[i] / z])),
      subTokens,
      windows: features.length,
      ...common,
      ...(truncated ? { truncated } : {}),
    };
  } finally {
    await ev.release();
  }
}
