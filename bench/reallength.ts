// The real-length row of `npm run bench`: training on sentences whose lengths follow a CoNLL-like
// distribution (most short, a long tail), end to end. Ours is the trainer itself (src/trainer/train:
// length-grouped batches padded to length buckets, one K-step program per bucket, built on first
// use); the peer (bench/suite_py.py real) is a PyTorch loop over shuffled batches each padded to its
// longest sequence, as Hugging Face's DataCollatorForTokenClassification pads. Both count the tokens
// the model reads ([CLS] and [SEP] included, padding not) per second of training, and report the
// fraction of the positions they computed that were padding.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigWithWarnings } from '../src/shared/config/config';
import type { TrainerEvent } from '../src/shared/protocol';
import { rng } from '../src/shared/rng';
import { buildWordPieceVocab } from '../src/trainer/tokenize';
import { planEpoch } from '../src/trainer/train/plan';
import { train } from '../src/trainer/train/trainer';

export const REAL = { sentences: 1024, batch: 32, maxLength: 128, seed: 42, model: { layers: 4, hidden: 256, heads: 4, intermediate: 1024 } };

/** Sentence lengths in words: log-normal around 12 words (CoNLL-2003's median is about 12), capped so every sentence fits in maxLength. */
export function realLengths(n: number, seed: number, maxWords: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    // Box-Muller: a standard normal from two uniforms.
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return Math.max(1, Math.min(maxWords, Math.round(Math.exp(Math.log(12) + 0.75 * z))));
  });
}

/**
 * A deterministic CoNLL file of such sentences, made of lowercase invented words that each become
 * exactly one token (every word is in the vocabulary the trainer builds with min_frequency 1), so
 * that a sentence of n words is a sequence of n + 2 tokens on both sides. Also writes the config
 * our side trains with and meta.json (vocabulary size and lengths) for the peer.
 */
export function makeRealData(dir: string, threads: number): { conll: string; config: string; meta: string } {
  fs.mkdirSync(dir, { recursive: true });
  const conll = path.join(dir, 'real.conll');
  const config = path.join(dir, 'real.finetune.yaml');
  const meta = path.join(dir, 'meta.json');
  const r = rng(11);
  const syl = ['ka', 'lo', 'mer', 'tin', 'sa', 'ber', 'gu', 'ri', 'on', 'del', 'fa', 'zu', 'pre', 'ia', 'nor', 'vel'];
  const lexicon = [...new Set(Array.from({ length: 3000 }, (_, i) => syl[i % 16] + syl[(i >> 4) % 16] + syl[Math.floor(r() * 16)]))];
  const tags = ['B-PER', 'I-PER', 'B-ORG', 'B-LOC', 'B-MISC'];
  const lengths = realLengths(REAL.sentences, REAL.seed, REAL.maxLength - 2);
  const lines: string[] = [];
  const words: string[] = [];
  for (const n of lengths) {
    for (let i = 0; i < n; i++) {
      const w = lexicon[Math.floor(lexicon.length * Math.pow(r(), 2))];
      words.push(w);
      lines.push(`${w}\t${r() < 0.15 ? tags[Math.floor(r() * tags.length)] : 'O'}`);
    }
    lines.push('');
  }
  fs.writeFileSync(conll, lines.join('\n') + '\n');
  const vocab = buildWordPieceVocab(words, { minFrequency: 1, lowercase: true, maxSize: 30522 });
  const inVocab = new Set(vocab);
  const missing = words.find((w) => !inVocab.has(w));
  if (missing) throw new Error(`real-length data: '${missing}' is not a whole token of the vocabulary`);
  const m = REAL.model;
  fs.writeFileSync(
    config,
    [
      'name: bench-real',
      'task: token-classification',
      'model:',
      `  from_scratch: { layers: ${m.layers}, hidden: ${m.hidden}, heads: ${m.heads}, intermediate: ${m.intermediate}, max_positions: ${REAL.maxLength}, min_frequency: 1, lowercase: true }`,
      '  dropout: 0.1',
      '  attention_dropout: 0.1',
      'data:',
      '  format: conll',
      '  train: real.conll',
      `  max_length: ${REAL.maxLength}`,
      'training:',
      '  epochs: 1',
      `  batch_size: ${REAL.batch}`,
      '  lr: 5.0e-5',
      '  grad_clip: 1.0',
      `threads: ${threads}`,
      'device: cpu',
      `seed: ${REAL.seed}`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(meta, JSON.stringify({ vocabSize: vocab.length, numLabels: tags.length + 1, ...REAL }));
  return { conll, config, meta };
}

/** Padding share of the positions our trainer computes: its epoch plan (length-grouped, bucket-padded) over these lengths. */
export function ourPadding(tokenLengths: number[]): number {
  const plan = planEpoch(tokenLengths, 0, REAL.seed, REAL.batch, 1, REAL.maxLength, true);
  const computed = plan.reduce((a, s) => a + REAL.batch * s.length, 0);
  const real = tokenLengths.reduce((a, n) => a + n, 0);
  return 1 - real / computed;
}

/** Our side: the trainer on the generated config; tokens/s from the 'started' event to the last step's record. */
export async function workReal(configFile: string, runDir: string) {
  const { config } = loadConfigWithWarnings(configFile, {});
  let started = 0;
  let lastStep = 0;
  let steps = 0;
  fs.rmSync(runDir, { recursive: true, force: true });
  const emit = (e: TrainerEvent) => {
    if (e.type === 'started') started = performance.now();
    if (e.type === 'train') {
      lastStep = performance.now();
      steps = e.step;
    }
    if (e.type === 'failed') throw new Error(e.error);
  };
  const res = await train({ config, runDir, emit });
  if (res.status !== 'completed') throw new Error(`bench-real run ended ${res.status}`);
  const wordsPer: number[] = [];
  let n = 0;
  for (const line of fs.readFileSync(config.data.train, 'utf8').split('\n')) {
    if (line.trim()) n++;
    else if (n) {
      wordsPer.push(n);
      n = 0;
    }
  }
  const tokenLengths = wordsPer.map((w) => w + 2);
  const tokens = tokenLengths.reduce((a, x) => a + x, 0);
  const seconds = (lastStep - started) / 1000;
  fs.rmSync(runDir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      tokens_per_s: tokens / seconds,
      seconds,
      steps,
      tokens,
      padding: ourPadding(tokenLengths),
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}
