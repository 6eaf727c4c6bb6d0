// Model inputs from a tokenizer (tokenize.ts): NER sentences (words + IOB2 tag ids) and
// classification texts become [CLS] sub-tokens [SEP] features, with word <-> sub-token
// alignment, truncation and windowing. Nothing is padded here.

import type { Tok } from './tokenize';

/** The loss ignores positions labelled with this. */
export const IGNORE_LABEL = -100;

// ---------------------------------------------------------------------------------------------
// NER features

/** NER features: sentence words and IOB2 tag ids → model inputs. */
export interface TokenFeature {
  inputIds: number[];
  attentionMask: number[];
  /** The word's tag id on the first sub-token of each word this window labels; -100 elsewhere. */
  labels: number[];
  /** per position: index of the word in the sentence, null for specials/padding */
  wordIds: (number | null)[];
  sentence: number;
  /** index of the window within its sentence (0 when the sentence fits) */
  window: number;
}

export interface EncodeStats {
  sentences: number;
  /** features produced */
  windows: number;
  /** sentences that lost sub-tokens: words dropped ('truncate') or a word longer than maxLength-2 cut */
  truncatedSentences: number;
  /** words left out entirely ('truncate') */
  droppedWords: number;
  /** sentences whose sub-tokens + [CLS] + [SEP] exceed maxLength */
  overlongSentences: number;
}

/**
 * NER features: [CLS] sub-tokens [SEP], not padded (attentionMask all 1s).
 * The first sub-token of a word carries its label; its other sub-tokens, [CLS] and [SEP] get -100.
 * A word that encodes to nothing gets [UNK]; a word longer than maxLength-2 sub-tokens is cut to its
 * first maxLength-2.
 *
 * overflow 'truncate': the words that do not fit are dropped.
 * overflow 'window': an over-long sentence becomes windows of whole words, each as long as fits;
 * the next window starts early enough to repeat the last words of the previous one, as many as fit
 * in `stride` sub-tokens (and always leaving room for the first new word). Labelling rule: a word in
 * several windows is labelled in the window where it has the most context, i.e. where
 * min(sub-tokens before it, sub-tokens after it) within the window is largest (the earlier window
 * on ties); other windows give it -100. So every word is labelled in exactly one feature, and at
 * prediction time (pass any label, e.g. 0) the positions whose label is not -100 are the ones to read.
 */
export function encodeTokenSentences(
  tok: Tok,
  sentences: { words: string[]; labels: number[] }[],
  opts: { maxLength: number; overflow: 'window' | 'truncate'; stride: number },
): { features: TokenFeature[]; stats: EncodeStats } {
  const { maxLength, overflow } = opts;
  if (!Number.isInteger(maxLength) || maxLength < 3) throw new Error(`encodeTokenSentences: maxLength must be an integer >= 3 (got ${maxLength})`);
  const budget = maxLength - 2;
  const stride = Math.max(0, Math.floor(opts.stride));
  const { clsId, sepId, unkId } = tok.info;
  const features: TokenFeature[] = [];
  const stats: EncodeStats = { sentences: 0, windows: 0, truncatedSentences: 0, droppedWords: 0, overlongSentences: 0 };

  const feature = (
    sentence: number,
    window: number,
    pieces: number[][],
    labels: number[],
    from: number,
    to: number,
    labelled: (w: number) => boolean,
  ): TokenFeature => {
    const f: TokenFeature = { inputIds: [clsId], attentionMask: [], labels: [IGNORE_LABEL], wordIds: [null], sentence, window };
    for (let w = from; w < to; w++) {
      pieces[w].forEach((id, k) => {
        f.inputIds.push(id);
        f.labels.push(k === 0 && labelled(w) ? labels[w] : IGNORE_LABEL);
        f.wordIds.push(w);
      });
    }
    f.inputIds.push(sepId);
    f.labels.push(IGNORE_LABEL);
    f.wordIds.push(null);
    f.attentionMask = new Array<number>(f.inputIds.length).fill(1);
    return f;
  };

  sentences.forEach((s, si) => {
    if (s.words.length !== s.labels.length) {
      throw new Error(`encodeTokenSentences: sentence ${si} has ${s.words.length} words but ${s.labels.length} labels`);
    }
    stats.sentences++;
    let cut = false;
    let fullLength = 0;
    const pieces = s.words.map((w) => {
      let ids = tok.encodeWord(w);
      if (ids.length === 0) ids = [unkId];
      fullLength += ids.length;
      if (ids.length > budget) {
        cut = true;
        ids = ids.slice(0, budget);
      }
      return ids;
    });
    const lengths = pieces.map((p) => p.length);
    const total = lengths.reduce((a, b) => a + b, 0);
    const n = s.words.length;
    if (fullLength > budget) stats.overlongSentences++;

    if (total <= budget) {
      features.push(feature(si, 0, pieces, s.labels, 0, n, () => true));
      if (cut) stats.truncatedSentences++;
      return;
    }

    if (overflow === 'truncate') {
      let end = 0;
      let used = 0;
      while (end < n && used + lengths[end] <= budget) used += lengths[end++];
      features.push(feature(si, 0, pieces, s.labels, 0, end, () => true));
      stats.truncatedSentences++;
      stats.droppedWords += n - end;
      return;
    }

    // windows [start, end) of whole words
    const windows: [number, number][] = [];
    let start = 0;
    for (;;) {
      let end = start;
      let used = 0;
      while (end < n && used + lengths[end] <= budget) used += lengths[end++];
      windows.push([start, end]);
      if (end >= n) break;
      let next = end;
      let overlap = 0;
      while (next - 1 > start && overlap + lengths[next - 1] <= stride && overlap + lengths[next - 1] + lengths[end] <= budget) {
        overlap += lengths[--next];
      }
      start = next;
    }
    // owner window of each word: the most context (min of sub-tokens before/after it in the window)
    const owner = new Array<number>(n).fill(-1);
    const bestContext = new Array<number>(n).fill(-1);
    windows.forEach(([from, to], wi) => {
      const windowLength = lengths.slice(from, to).reduce((a, b) => a + b, 0);
      let before = 0;
      for (let w = from; w < to; w++) {
        const context = Math.min(before, windowLength - before - lengths[w]);
        if (context > bestContext[w]) {
          bestContext[w] = context;
          owner[w] = wi;
        }
        before += lengths[w];
      }
    });
    windows.forEach(([from, to], wi) => features.push(feature(si, wi, pieces, s.labels, from, to, (w) => owner[w] === wi)));
    if (cut) stats.truncatedSentences++;
  });
  stats.windows = features.length;
  return { features, stats };
}

// ---------------------------------------------------------------------------------------------
// Text classification features

export interface TextFeature {
  inputIds: number[];
  attentionMask: number[];
  label: number;
  /** index of the text in the input */
  index: number;
}

export interface TextEncodeStats {
  texts: number;
  /** texts whose sub-tokens were cut to maxLength-2 (overflow 'truncate') */
  truncated: number;
  /** texts whose sub-tokens + [CLS] + [SEP] exceed maxLength */
  overlong: number;
  /** features produced (one per text, more for an over-long text with overflow 'window') */
  windows: number;
}

/**
 * Text classification features: [CLS] sub-tokens [SEP], not padded; `index` is the text's index.
 *
 * overflow 'truncate' (the default here): the text's sub-tokens are cut to maxLength-2.
 * overflow 'window': an over-long text becomes windows of maxLength-2 sub-tokens, each starting
 * `stride` sub-tokens before the previous one ends, except the last, which ends with the text (so
 * it overlaps its predecessor by at least `stride`); every window
 * is a feature with the text's label and index, and a prediction pools the windows' logits
 * (`poolWindows` in train/evaluate.ts).
 */
export function encodeTexts(
  tok: Tok,
  texts: { text: string; label: number }[],
  opts: { maxLength: number; overflow?: 'window' | 'truncate'; stride?: number },
): { features: TextFeature[]; stats: TextEncodeStats } {
  const { maxLength } = opts;
  if (!Number.isInteger(maxLength) || maxLength < 3) throw new Error(`encodeTexts: maxLength must be an integer >= 3 (got ${maxLength})`);
  const budget = maxLength - 2;
  const step = budget - Math.min(budget - 1, Math.max(0, Math.floor(opts.stride ?? 0)));
  const { clsId, sepId } = tok.info;
  const stats: TextEncodeStats = { texts: texts.length, truncated: 0, overlong: 0, windows: 0 };
  const features: TextFeature[] = [];
  const feature = (ids: number[], label: number, index: number): TextFeature => {
    const inputIds = [clsId, ...ids, sepId];
    return { inputIds, attentionMask: new Array<number>(inputIds.length).fill(1), label, index };
  };
  texts.forEach(({ text, label }, index) => {
    const ids = tok.encodeText(text);
    if (ids.length <= budget) {
      features.push(feature(ids, label, index));
      return;
    }
    stats.overlong++;
    if (opts.overflow !== 'window') {
      features.push(feature(ids.slice(0, budget), label, index));
      stats.truncated++;
      return;
    }
    for (let start = 0; ; start += step) {
      const last = start + budget >= ids.length;
      if (last) start = ids.length - budget; // the last window ends with the text and is full
      features.push(feature(ids.slice(start, start + budget), label, index));
      if (last) break;
    }
  });
  stats.windows = features.length;
  return { features, stats };
}
