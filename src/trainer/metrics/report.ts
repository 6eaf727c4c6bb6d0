// Token/label-level metrics with the same numbers as scikit-learn's classification_report,
// confusion_matrix and accuracy_score (sklearn >= 1.3 rules), plus Python-compatible text formatting.
// Written from scikit-learn's documented behaviour; no code is shared with it.

import type { PRF } from './common';
import { compareCodePoints, formatFixed, padStartCodePoints } from './common';

export type { PRF } from './common';

export interface ClassificationReport {
  labels: string[];
  perClass: Record<string, PRF>;
  /** Fraction of all tokens whose prediction equals the gold label (NaN for empty input). */
  accuracy: number;
  macro: PRF;
  weighted: PRF;
  /** Micro average over `labels` only. */
  micro: PRF;
  /**
   * True when `labels` covers every label seen in gold and pred, so micro F1 equals accuracy and
   * sklearn prints an "accuracy" row instead of "micro avg". Absent is read as true.
   */
  microIsAccuracy?: boolean;
}

export interface ClassificationReportOptions {
  /** Labels to report, in this order. Default: sorted union of gold and pred. */
  labels?: string[];
  /** Value for precision/recall/F1 whose denominator is 0 (sklearn's 'warn' behaves as 0). */
  zeroDivision?: 0 | 1;
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

function checkSameLength(gold: readonly unknown[], pred: readonly unknown[]): void {
  if (gold.length !== pred.length) {
    throw new Error(`gold and pred have different lengths: ${gold.length} vs ${pred.length}`);
  }
}

function labelIndex(labels: string[]): Map<string, number> {
  const index = new Map<string, number>();
  labels.forEach((l, i) => {
    if (index.has(l)) throw new Error(`duplicate label ${JSON.stringify(l)} in labels`);
    index.set(l, i);
  });
  return index;
}

/** Fraction of positions where pred equals gold (sklearn.metrics.accuracy_score); NaN for empty input. */
export function accuracy(gold: string[], pred: string[]): number {
  checkSameLength(gold, pred);
  if (gold.length === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === pred[i]) correct++;
  return correct / gold.length;
}

/**
 * sklearn.metrics.confusion_matrix(gold, pred, labels=labels): rows = gold label, columns = predicted
 * label, in `labels` order. Unlike sklearn (which silently drops them), a gold or predicted value that is
 * not in `labels` throws.
 */
export function confusionMatrix(gold: string[], pred: string[], labels: string[]): number[][] {
  checkSameLength(gold, pred);
  if (labels.length === 0) throw new Error("'labels' should contain at least one label");
  const index = labelIndex(labels);
  const m = labels.map(() => labels.map(() => 0));
  for (let i = 0; i < gold.length; i++) {
    const r = index.get(gold[i]);
    if (r === undefined) throw new Error(`unknown label ${JSON.stringify(gold[i])} in gold at index ${i}`);
    const c = index.get(pred[i]);
    if (c === undefined) throw new Error(`unknown label ${JSON.stringify(pred[i])} in pred at index ${i}`);
    m[r][c]++;
  }
  return m;
}

const div = (num: number, den: number, zd: number): number => (den === 0 ? zd : num / den);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]): number => (xs.length === 0 ? NaN : sum(xs) / xs.length);

/**
 * Same numbers as sklearn.metrics.classification_report(gold, pred, labels=..., zero_division=...):
 * precision = tp / predicted, recall = tp / true, F1 = 2 tp / (true + predicted), each zeroDivision when
 * its denominator is 0; macro = unweighted mean over `labels`; weighted = support-weighted mean (the plain
 * mean when all supports are 0); micro = from the counts summed over `labels`.
 * Labels default to the sorted union of gold and pred; tokens whose labels are not listed are ignored
 * (except in `accuracy`, which is over all tokens).
 */
export function classificationReport(gold: string[], pred: string[], opts?: ClassificationReportOptions): ClassificationReport {
  checkSameLength(gold, pred);
  const zd = opts?.zeroDivision ?? 0;
  if (zd !== 0 && zd !== 1) throw new Error(`zeroDivision must be 0 or 1, got ${String(zd)}`);
  const seen = new Set<string>([...gold, ...pred]);
  const labels = opts?.labels ? [...opts.labels] : [...seen].sort(compareCodePoints);
  const index = labelIndex(labels);
  const microIsAccuracy = [...seen].every((l) => index.has(l));

  const tp = labels.map(() => 0);
  const nPred = labels.map(() => 0);
  const nTrue = labels.map(() => 0);
  for (let i = 0; i < gold.length; i++) {
    const g = index.get(gold[i]);
    const p = index.get(pred[i]);
    if (g !== undefined) nTrue[g]++;
    if (p !== undefined) nPred[p]++;
    if (g !== undefined && g === p) tp[g]++;
  }

  const prf = (t: number, p: number, s: number) => ({
    precision: div(t, p, zd),
    recall: div(t, s, zd),
    f1: div(2 * t, s + p, zd),
  });
  const rows = labels.map((_, i) => prf(tp[i], nPred[i], nTrue[i]));
  const perClass: Record<string, PRF> = {};
  labels.forEach((l, i) => {
    perClass[l] = { ...rows[i], support: nTrue[i] };
  });

  const support = sum(nTrue);
  const micro: PRF = { ...prf(sum(tp), sum(nPred), support), support };
  const col = (k: 'precision' | 'recall' | 'f1') => rows.map((r) => r[k]);
  const macro: PRF = { precision: mean(col('precision')), recall: mean(col('recall')), f1: mean(col('f1')), support };
  const wavg = (xs: number[]) => (support === 0 ? mean(xs) : sum(xs.map((x, i) => x * nTrue[i])) / support);
  const weighted: PRF = {
    precision: wavg(col('precision')),
    recall: wavg(col('recall')),
    f1: wavg(col('f1')),
    support,
  };

  return { labels, perClass, accuracy: accuracy(gold, pred), macro, weighted, micro, microIsAccuracy };
}

/**
 * Text like sklearn's classification_report (default digits 2). When the labels cover everything seen,
 * the micro row is printed as "accuracy" (its F1 only), otherwise as "micro avg".
 */
export function formatClassificationReport(r: ClassificationReport, digits = 2): string {
  const width = Math.max(...r.labels.map((l) => [...l].length), 'weighted avg'.length, digits);
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const num = (x: number) => ' ' + padStartCodePoints(formatFixed(x, digits), 9);
  const row = (name: string, m: PRF) =>
    `${padStartCodePoints(name, width)} ${num(m.precision)}${num(m.recall)}${num(m.f1)} ${padStartCodePoints(String(m.support), 9)}\n`;

  let out = `${padStartCodePoints('', width)} ${headers.map((h) => ' ' + padStartCodePoints(h, 9)).join('')}\n\n`;
  for (const l of r.labels) out += row(l, r.perClass[l]);
  out += '\n';
  if (r.microIsAccuracy ?? true) {
    const blank = ' ' + ' '.repeat(9);
    out += `${padStartCodePoints('accuracy', width)} ${blank}${blank}${num(r.micro.f1)} ${padStartCodePoints(String(r.micro.support), 9)}\n`;
  } else {
    out += row('micro avg', r.micro);
  }
  out += row('macro avg', r.macro);
  out += row('weighted avg', r.weighted);
  return out;
}
