// Evaluation: the forward-only graph over a split, predictions per word (NER: the first sub-token
// of each word decides) or per text, and the reports: seqeval entity scores, scikit-learn's token
// report, the confusion matrix, accuracy, loss, and the misclassified examples.

import type { EvalRecord, MisclassifiedExample, PrfJson } from '../../shared/protocol';
import { serializeModel } from '../engine/onnx';
import { Session, type HostTensor, type SessionOptions } from '../engine/session';
import { accuracy, classificationReport, confusionMatrix } from '../metrics/report';
import { entityReport, type Mode, type PRF } from '../metrics/seqeval';
import type { TextFeature, TokenFeature } from '../encode';
import type { RunData } from './dataset';
import { inferenceGraph, type ModelSetup } from './model';

/** A misclassified example, as saved in misclassified-<split>.json for the dashboard. */
export type Misclassified = MisclassifiedExample;

interface Encoded {
  inputIds: number[];
  attentionMask: number[];
}

export const EVAL_BATCH = 32;

function prf(p: PRF): PrfJson {
  const clean = (x: number) => (Number.isFinite(x) ? x : 0);
  return { precision: clean(p.precision), recall: clean(p.recall), f1: clean(p.f1), support: p.support };
}

/**
 * Windows merged into one prediction per word: each word is decided by the first sub-token of the
 * one window that labels it (encodeTokenSentences picks the window where the word has the most
 * context). Calls `fn` for every labelled word, in feature order, with that window's logits and
 * the offset of the word's C logits in it. Words no window labels (overflow 'truncate') are skipped.
 * Evaluation and `finetune predict` both read predictions through this.
 */
export function forEachWordLogits(
  features: TokenFeature[],
  logits: Float32Array[],
  C: number,
  fn: (sentence: number, word: number, l: Float32Array, offset: number, label: number) => void,
): void {
  features.forEach((f, i) => {
    f.labels.forEach((lab, p) => {
      if (lab >= 0) fn(f.sentence, f.wordIds[p]!, logits[i], p * C, lab);
    });
  });
}

/**
 * Windows pooled into one prediction per text: the mean of its windows' logits (C each), for texts
 * 0..n-1. A text of one window keeps its logits exactly. Evaluation and `finetune predict` both pool
 * through this.
 */
export function poolWindows(features: TextFeature[], logits: Float32Array[], n: number, C: number): Float32Array[] {
  const sum = Array.from({ length: n }, () => new Float64Array(C));
  const count = new Array<number>(n).fill(0);
  features.forEach((f, i) => {
    for (let c = 0; c < C; c++) sum[f.index][c] += logits[i][c];
    count[f.index]++;
  });
  return sum.map((s, t) => Float32Array.from(s, (v) => v / count[t]));
}

export interface EvalModel {
  head: 'token' | 'sequence';
  numLabels: number;
  /** Parameter shapes when weights are fed as inputs. */
  shapes?: Map<string, number[]>;
}

export class Evaluator {
  constructor(
    private readonly session: Session,
    private readonly m: EvalModel,
  ) {}

  /** Evaluation during training: the inference graph with the weights as inputs. */
  static async create(m: ModelSetup, opts: SessionOptions): Promise<Evaluator> {
    const g = inferenceGraph(m, true);
    const session = await Session.create(serializeModel(g), g.inputs, opts, 'evaluation graph');
    return new Evaluator(session, { head: m.head, numLabels: m.config.numLabels, shapes: m.shapes });
  }

  /** Logits of each feature: (length, C) for tokens, (C) for sequences, in input order. */
  async logits(features: Encoded[], params?: Map<string, Float32Array>): Promise<Float32Array[]> {
    const C = this.m.numLabels;
    const order = features.map((_, i) => i).sort((a, b) => features[a].inputIds.length - features[b].inputIds.length);
    const out = new Array<Float32Array>(features.length);
    const weights: Record<string, HostTensor> = {};
    for (const [name, data] of params ?? []) weights[name] = { dtype: 'float32', shape: this.m.shapes!.get(name)!, data };
    for (let s = 0; s < order.length; s += EVAL_BATCH) {
      const ids = order.slice(s, s + EVAL_BATCH);
      const T = Math.max(...ids.map((i) => features[i].inputIds.length));
      const B = ids.length;
      const inputIds = new BigInt64Array(B * T);
      const mask = new BigInt64Array(B * T);
      ids.forEach((i, r) => {
        const f = features[i];
        for (let t = 0; t < f.inputIds.length; t++) {
          inputIds[r * T + t] = BigInt(f.inputIds[t]);
          mask[r * T + t] = BigInt(f.attentionMask[t]);
        }
      });
      const res = await this.session.run({
        ...weights,
        input_ids: { dtype: 'int64', shape: [B, T], data: inputIds },
        attention_mask: { dtype: 'int64', shape: [B, T], data: mask },
      });
      const logits = res.logits.data as Float32Array;
      const per = this.m.head === 'token' ? T * C : C;
      ids.forEach((i, r) => {
        const len = this.m.head === 'token' ? features[i].inputIds.length * C : C;
        out[i] = logits.slice(r * per, r * per + len);
      });
    }
    return out;
  }

  async evaluate(
    data: RunData,
    split: 'validation' | 'test',
    params: Map<string, Float32Array> | undefined,
    o: { step: number; epoch: number; mode: Mode; maxMisclassified: number },
  ): Promise<{ record: EvalRecord; misclassified: Misclassified[] }> {
    const part = data[split];
    if (!part) throw new Error(`no ${split} data`);
    return scoreLogits(data, split, await this.logits(part.features, params), o);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * The evaluation record of a split from its features' logits (as Evaluator.logits returns them):
 * loss, metrics, per-class report, confusion matrix, and the first misclassified examples. Also
 * scores logits computed elsewhere (the int8 benchmark scores PyTorch's with it).
 */
export function scoreLogits(
  data: RunData,
  split: 'validation' | 'test',
  logits: Float32Array[],
  o: { step: number; epoch: number; mode: Mode; maxMisclassified: number },
): { record: EvalRecord; misclassified: Misclassified[] } {
  const C = data.labels.length;
  let lossSum = 0;
  let lossCount = 0;
  const argmaxAndLoss = (l: Float32Array, off: number, gold: number) => {
    let best = 0;
    let max = -Infinity;
    for (let c = 0; c < C; c++)
      if (l[off + c] > max) {
        max = l[off + c];
        best = c;
      }
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(l[off + c] - max);
    lossSum += Math.log(z) - (l[off + gold] - max);
    lossCount++;
    return best;
  };
  const misclassified: Misclassified[] = [];
  const time = Date.now();
  if (data.task === 'token-classification') {
    const sentences = data[split]!.examples;
    const pred: string[][] = sentences.map((s) => s.words.map(() => 'O'));
    forEachWordLogits(data[split]!.features, logits, C, (sentence, word, l, off, lab) => {
      pred[sentence][word] = data.labels[argmaxAndLoss(l, off, lab)];
    });
    const gold = sentences.map((s) => s.tags);
    const ents = entityReport(gold, pred, { mode: o.mode, scheme: 'IOB2' });
    const goldFlat = gold.flat();
    const predFlat = pred.flat();
    const tokenReport = classificationReport(goldFlat, predFlat, { labels: data.labels });
    const nonO = classificationReport(goldFlat, predFlat, { labels: data.labels.filter((l) => l !== 'O') });
    sentences.forEach((s, si) =>
      s.words.forEach((_, w) => {
        if (misclassified.length < o.maxMisclassified && gold[si][w] !== pred[si][w]) {
          misclassified.push({ file: s.file, line: s.tokenLines[w], words: s.words, position: w, gold: gold[si][w], pred: pred[si][w] });
        }
      }),
    );
    const metrics = {
      loss: lossSum / Math.max(1, lossCount),
      f1: prf(ents.micro).f1,
      precision: prf(ents.micro).precision,
      recall: prf(ents.micro).recall,
      accuracy: accuracy(goldFlat, predFlat),
      token_f1: prf(nonO.micro).f1,
    };
    return {
      record: {
        type: 'eval',
        split,
        step: o.step,
        epoch: o.epoch,
        metrics,
        time,
        perClass: Object.fromEntries(Object.entries(ents.perType).map(([k, v]) => [k, prf(v)])),
        averages: { micro: prf(ents.micro), macro: prf(ents.macro), weighted: prf(ents.weighted) },
        tokenReport: Object.fromEntries(Object.entries(tokenReport.perClass).map(([k, v]) => [k, prf(v)])),
        confusion: { labels: data.labels, matrix: confusionMatrix(goldFlat, predFlat, data.labels) },
      },
      misclassified,
    };
  }
  const examples = data[split]!.examples;
  const features = data[split]!.features;
  const gold = new Array<number>(examples.length);
  for (const f of features) gold[f.index] = f.label;
  const pooled = poolWindows(features, logits, examples.length, C);
  const goldL = gold.map((g) => data.labels[g]);
  const predL = pooled.map((l, i) => data.labels[argmaxAndLoss(l, 0, gold[i])]);
  const report = classificationReport(goldL, predL, { labels: data.labels });
  examples.forEach((e, i) => {
    if (misclassified.length < o.maxMisclassified && goldL[i] !== predL[i]) {
      misclassified.push({ file: e.file, line: e.line, text: e.text, gold: goldL[i], pred: predL[i] });
    }
  });
  return {
    record: {
      type: 'eval',
      split,
      step: o.step,
      epoch: o.epoch,
      time,
      metrics: {
        loss: lossSum / Math.max(1, lossCount),
        accuracy: report.accuracy,
        f1: prf(report.macro).f1,
        precision: prf(report.macro).precision,
        recall: prf(report.macro).recall,
      },
      perClass: Object.fromEntries(Object.entries(report.perClass).map(([k, v]) => [k, prf(v)])),
      averages: { micro: prf(report.micro), macro: prf(report.macro), weighted: prf(report.weighted) },
      confusion: { labels: data.labels, matrix: confusionMatrix(goldL, predL, data.labels) },
    },
    misclassified,
  };
}
