// Tokenization through @huggingface/tokenizers: loading folders, vocabularies, NER/text features.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeTexts, encodeTokenSentences, type TokenFeature } from '../src/trainer/encode';
import { poolWindows } from '../src/trainer/train/evaluate';
import { buildWordPieceVocab, loadTokenizer, tokenizerFromVocab, writeTokenizerFolder, type Tok } from '../src/trainer/tokenize';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-tokenize-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
let dirs = 0;
const folder = (files: Record<string, string>) => {
  const dir = path.join(TMP, `t${dirs++}`);
  fs.mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
};

// A small hand-written BERT vocabulary (ids = line numbers).
const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'un',
  '##aff',
  '##able',
  'the',
  ',',
  '.',
  'a',
  '##b',
  '##c',
  'b',
  'c',
  'runs',
  'run',
  '##s',
  'x',
  '##x',
];
const id = (t: string) => VOCAB.indexOf(t);
const vocabTxt = VOCAB.join('\n') + '\n';

describe('loadTokenizer: vocab.txt-only folder', () => {
  it('builds a lowercasing BERT WordPiece tokenizer and splits "unaffable" into known pieces', () => {
    const dir = folder({ 'vocab.txt': vocabTxt });
    const tok = loadTokenizer(dir);
    assert.deepEqual(tok.info, {
      kind: 'wordpiece',
      vocabSize: VOCAB.length,
      clsId: 2,
      sepId: 3,
      padId: 0,
      unkId: 1,
      lowercase: true,
      source: path.join(dir, 'vocab.txt'),
    });
    assert.deepEqual(tok.encodeWord('unaffable'), [id('un'), id('##aff'), id('##able')]);
    assert.deepEqual(tok.encodeWord('UnAffable'), [id('un'), id('##aff'), id('##able')]);
    assert.deepEqual(tok.encodeWord('zzz'), [id('[UNK]')]);
    assert.deepEqual(tok.encodeWord('   '), [id('[UNK]')], 'a non-empty word that encodes to nothing is [UNK]');
    assert.deepEqual(tok.encodeText('The unaffable, runs.'), [id('the'), id('un'), id('##aff'), id('##able'), id(','), id('runs'), id('.')]);
    assert.equal(tok.decode(tok.encodeText('The unaffable, runs.')), 'the unaffable, runs.');
    assert.equal(tok.decode([]), '');
    const json = tok.toJSON() as {
      model: { type: string; vocab: Record<string, number> };
      normalizer: { type: string; lowercase: boolean };
      post_processor: { type: string };
    };
    assert.equal(json.model.type, 'WordPiece');
    assert.equal(json.model.vocab['##aff'], 6);
    assert.equal(json.normalizer.type, 'BertNormalizer');
    assert.equal(json.post_processor.type, 'TemplateProcessing');
  });

  it('respects do_lower_case from tokenizer_config.json and opts.lowercase', () => {
    const cased = loadTokenizer(folder({ 'vocab.txt': vocabTxt, 'tokenizer_config.json': JSON.stringify({ do_lower_case: false }) }));
    assert.equal(cased.info.lowercase, false);
    assert.deepEqual(cased.encodeWord('UnAffable'), [id('[UNK]')]);
    assert.deepEqual(cased.encodeWord('unaffable'), [id('un'), id('##aff'), id('##able')]);
    const told = loadTokenizer(folder({ 'vocab.txt': vocabTxt }), { lowercase: false });
    assert.equal(told.info.lowercase, false);
    assert.deepEqual(told.encodeWord('The'), [id('[UNK]')]);
  });

  it('errors name the folder and what is missing', () => {
    const empty = folder({});
    assert.throws(
      () => loadTokenizer(empty),
      (e: Error) => e.message.includes(empty) && /tokenizer\.json/.test(e.message) && /vocab\.txt/.test(e.message),
    );
    const noCls = folder({ 'vocab.txt': VOCAB.filter((t) => t !== '[CLS]').join('\n') });
    assert.throws(
      () => loadTokenizer(noCls),
      (e: Error) => e.message.includes(noCls) && e.message.includes('[CLS]'),
    );
    const gone = path.join(TMP, 'no-such-folder');
    assert.throws(
      () => loadTokenizer(gone),
      (e: Error) => e.message.includes(gone),
    );
  });
});

describe('buildWordPieceVocab', () => {
  const corpus = ['the', 'cat', 'The', 'dog', 'cat', 'the', 'bird', "Don't", 'ant', 'ant'];

  it('specials first, then words by count (ties alphabetical) with minFrequency, then characters', () => {
    const vocab = buildWordPieceVocab(corpus, { minFrequency: 2, lowercase: true });
    assert.deepEqual(vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    // the: 3 (The lowercased), ant: 2, cat: 2 — dog, bird, don, t, ' are below minFrequency
    assert.deepEqual(vocab.slice(5, 8), ['the', 'ant', 'cat']);
    const chars = vocab.slice(8);
    for (const ch of 'thecatdogbirdn') {
      assert.ok(chars.includes(ch) || vocab.slice(5, 8).includes(ch), `char ${ch}`);
      assert.ok(chars.includes(`##${ch}`), `##${ch}`);
    }
    assert.ok(chars.includes("'"), 'punctuation split off by the pre-tokenizer is a character');
    assert.ok(!chars.includes("##'"), 'no continuation form for characters the pre-tokenizer isolates');
    assert.ok(!vocab.includes('The') && !vocab.includes("don't"));
    assert.equal(new Set(vocab).size, vocab.length, 'no duplicates');
    // characters: most frequent first (t: the×3, cat×2, ant×2, t×1 → 8)
    assert.equal(chars[0], 't');
    assert.equal(chars[1], '##t');
  });

  it('minFrequency 1 keeps every word; lowercase false keeps case', () => {
    const vocab = buildWordPieceVocab(corpus, { minFrequency: 1, lowercase: false });
    for (const w of ['the', 'The', 'cat', 'dog', 'bird', 'Don', "'", 't', 'ant']) assert.ok(vocab.includes(w), w);
    assert.deepEqual(vocab.slice(5, 9), ['ant', 'cat', 'the', "'"]);
  });

  it('unseen words fall back to characters instead of [UNK]', () => {
    const tok = tokenizerFromVocab(buildWordPieceVocab(['cat', 'cat', 'dog'], { minFrequency: 2, lowercase: true }), { lowercase: true });
    const vocab = (tok.toJSON() as { model: { vocab: Record<string, number> } }).model.vocab;
    const names = (ids: number[]) => ids.map((i) => Object.keys(vocab).find((k) => vocab[k] === i));
    assert.deepEqual(names(tok.encodeWord('cat')), ['cat']);
    assert.deepEqual(names(tok.encodeWord('Dog')), ['d', '##o', '##g'], 'below minFrequency: characters');
    assert.deepEqual(names(tok.encodeWord('god')), ['g', '##o', '##d']);
    assert.deepEqual(names(tok.encodeWord('catdog')), ['cat', '##d', '##o', '##g']);
    assert.equal(tok.decode(tok.encodeWord('tag')), 'tag');
    assert.deepEqual(tok.encodeWord('zebra'), [tok.info.unkId], 'a character never seen is [UNK]');
  });

  it('maxSize caps the vocabulary, keeping characters before rare words', () => {
    const words = ['ab', 'ab', 'ab', 'ba', 'ba', 'cc'];
    const full = buildWordPieceVocab(words, { minFrequency: 1, lowercase: true });
    assert.deepEqual(full, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'ab', 'ba', 'cc', 'a', '##a', 'b', '##b', 'c', '##c']);
    const capped = buildWordPieceVocab(words, { minFrequency: 1, lowercase: true, maxSize: 12 });
    assert.deepEqual(capped, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'ab', 'a', '##a', 'b', '##b', 'c', '##c']);
    const tiny = buildWordPieceVocab(words, { minFrequency: 1, lowercase: true, maxSize: 7 });
    assert.deepEqual(tiny, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', '##a']);
    assert.throws(() => buildWordPieceVocab(words, { minFrequency: 1, lowercase: true, maxSize: 3 }));
  });
});

describe('loadTokenizer: tokenizer.json folder, writeTokenizerFolder round trip', () => {
  const vocab = buildWordPieceVocab('The quick brown fox jumps over the lazy dog . The dog sleeps'.split(' '), { minFrequency: 2, lowercase: true });
  const built = tokenizerFromVocab(vocab, { lowercase: true });
  const texts = ['The quick brown fox jumps over the lazy dog.', 'Zebras sleep, dogs JUMP!', 'thedog'];

  it('loads a tokenizer.json (+ tokenizer_config.json) folder', () => {
    const dir = folder({
      'tokenizer.json': JSON.stringify(built.toJSON()),
      'tokenizer_config.json': JSON.stringify({
        do_lower_case: true,
        cls_token: '[CLS]',
        sep_token: '[SEP]',
        pad_token: '[PAD]',
        unk_token: '[UNK]',
        mask_token: '[MASK]',
      }),
    });
    const tok = loadTokenizer(dir);
    assert.deepEqual(tok.info, { ...built.info, source: path.join(dir, 'tokenizer.json') });
    assert.equal(tok.info.kind, 'wordpiece');
    assert.equal(tok.info.vocabSize, vocab.length);
    for (const t of texts) assert.deepEqual(tok.encodeText(t), built.encodeText(t), t);
    // without tokenizer_config.json, the standard special-token names are found
    const bare = loadTokenizer(folder({ 'tokenizer.json': JSON.stringify(built.toJSON()) }));
    assert.deepEqual(bare.info, { ...built.info, source: bare.info.source });
  });

  it('writeTokenizerFolder → loadTokenizer gives identical ids (tokenizer.json and vocab.txt)', () => {
    for (const original of [built, loadTokenizer(folder({ 'vocab.txt': vocabTxt }))]) {
      const dir = path.join(TMP, `written${dirs++}`, 'nested');
      writeTokenizerFolder(dir, original);
      for (const f of ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json']) assert.ok(fs.existsSync(path.join(dir, f)), f);
      const again = loadTokenizer(dir);
      assert.deepEqual({ ...again.info, source: '' }, { ...original.info, source: '' });
      assert.deepEqual(again.toJSON(), original.toJSON());
      for (const t of [...texts, 'The unaffable runs.']) assert.deepEqual(again.encodeText(t), original.encodeText(t), t);
      // vocab.txt alone (with the written config) is the same tokenizer
      fs.rmSync(path.join(dir, 'tokenizer.json'));
      const fromVocab = loadTokenizer(dir);
      assert.equal(fromVocab.info.vocabSize, original.info.vocabSize);
      for (const t of [...texts, 'The unaffable runs.']) assert.deepEqual(fromVocab.encodeText(t), original.encodeText(t), t);
    }
  });
});

describe('encodeTokenSentences', () => {
  const tok: Tok = loadTokenizer(folder({ 'vocab.txt': vocabTxt }));
  const CLS = id('[CLS]');
  const SEP = id('[SEP]');
  const I = -100;

  it('labels the first sub-token of each word; other sub-tokens and specials get -100', () => {
    const { features, stats } = encodeTokenSentences(tok, [{ words: ['The', 'unaffable', 'runs', '.'], labels: [0, 1, 2, 0] }], {
      maxLength: 16,
      overflow: 'truncate',
      stride: 0,
    });
    assert.equal(features.length, 1);
    const f = features[0];
    assert.deepEqual(f.inputIds, [CLS, id('the'), id('un'), id('##aff'), id('##able'), id('runs'), id('.'), SEP]);
    assert.deepEqual(f.labels, [I, 0, 1, I, I, 2, 0, I]);
    assert.deepEqual(f.wordIds, [null, 0, 1, 1, 1, 2, 3, null]);
    assert.deepEqual(f.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal(f.sentence, 0);
    assert.equal(f.window, 0);
    assert.deepEqual(stats, { sentences: 1, windows: 1, truncatedSentences: 0, droppedWords: 0, overlongSentences: 0 });
  });

  it('truncate drops the words that do not fit and counts them', () => {
    const sentences = [
      { words: ['a', 'unaffable', 'the', 'x'], labels: [1, 2, 3, 4] }, // 1+3+1+1 = 6 sub-tokens
      { words: ['b'], labels: [5] },
      { words: [], labels: [] },
    ];
    const { features, stats } = encodeTokenSentences(tok, sentences, { maxLength: 6, overflow: 'truncate', stride: 0 });
    assert.equal(features.length, 3);
    assert.deepEqual(features[0].inputIds, [CLS, id('a'), id('un'), id('##aff'), id('##able'), SEP]);
    assert.deepEqual(features[0].labels, [I, 1, 2, I, I, I]);
    assert.deepEqual(features[1].labels, [I, 5, I]);
    assert.deepEqual(features[2].inputIds, [CLS, SEP]);
    assert.ok(features.every((f) => f.inputIds.length <= 6));
    assert.deepEqual(
      features.map((f) => f.sentence),
      [0, 1, 2],
    );
    assert.deepEqual(stats, { sentences: 3, windows: 3, truncatedSentences: 1, droppedWords: 2, overlongSentences: 1 });
  });

  it('a word longer than maxLength-2 sub-tokens is cut to its first sub-tokens', () => {
    const { features, stats } = encodeTokenSentences(tok, [{ words: ['unaffable', 'a'], labels: [7, 8] }], { maxLength: 4, overflow: 'window', stride: 1 });
    assert.deepEqual(
      features.map((f) => f.inputIds),
      [
        [CLS, id('un'), id('##aff'), SEP],
        [CLS, id('a'), SEP],
      ],
    );
    assert.deepEqual(
      features.map((f) => f.labels),
      [
        [I, 7, I, I],
        [I, 8, I],
      ],
    );
    assert.equal(stats.truncatedSentences, 1);
    assert.equal(stats.overlongSentences, 1);
  });

  it('window: every word labelled exactly once, windows ≤ maxLength, overlapping by about stride', () => {
    const pool = ['the', 'unaffable', 'runs', 'a', 'abc', ',', 'x', 'run', 'bc', '.'];
    const words = Array.from({ length: 60 }, (_, i) => pool[(i * 7) % pool.length]);
    const labels = words.map((_, i) => i % 9);
    const maxLength = 12;
    const stride = 4;
    const { features, stats } = encodeTokenSentences(
      tok,
      [
        { words: ['a'], labels: [3] },
        { words, labels },
      ],
      { maxLength, overflow: 'window', stride },
    );
    const windows = features.filter((f) => f.sentence === 1);
    assert.ok(windows.length > 3);
    assert.deepEqual(
      windows.map((f) => f.window),
      windows.map((_, i) => i),
    );
    assert.equal(stats.windows, features.length);
    assert.deepEqual({ ...stats, windows: 0 }, { sentences: 2, windows: 0, truncatedSentences: 0, droppedWords: 0, overlongSentences: 1 });

    const labelledAt = new Map<number, number[]>();
    for (const f of windows) {
      assert.ok(f.inputIds.length <= maxLength, `window ${f.window} has ${f.inputIds.length} tokens`);
      assert.equal(f.inputIds[0], CLS);
      assert.equal(f.inputIds[f.inputIds.length - 1], SEP);
      assert.equal(f.labels.length, f.inputIds.length);
      assert.equal(f.wordIds.length, f.inputIds.length);
      f.labels.forEach((label, p) => {
        if (label === I) return;
        const w = f.wordIds[p]!;
        assert.equal(label, labels[w]);
        assert.notEqual(f.wordIds[p - 1], w, 'labels sit on first sub-tokens');
        labelledAt.set(w, [...(labelledAt.get(w) ?? []), f.window]);
      });
    }
    for (let w = 0; w < words.length; w++) assert.equal(labelledAt.get(w)?.length, 1, `word ${w} labelled once`);

    // whole words only, consecutive windows overlap by 1..stride sub-tokens, and cover the sentence in order
    const wordsOf = (f: TokenFeature) => [...new Set(f.wordIds.filter((w): w is number => w !== null))];
    const reconstructed: number[] = [];
    for (let i = 0; i < windows.length; i++) {
      const ws = wordsOf(windows[i]);
      for (const w of ws) {
        const n = windows[i].wordIds.filter((x) => x === w).length;
        assert.equal(n, tok.encodeWord(words[w]).length, `word ${w} whole in window ${i}`);
      }
      if (i > 0) {
        const prev = wordsOf(windows[i - 1]);
        const shared = ws.filter((w) => prev.includes(w));
        const overlapTokens = windows[i].wordIds.filter((w) => w !== null && shared.includes(w)).length;
        assert.ok(overlapTokens >= 1 && overlapTokens <= stride, `overlap ${overlapTokens}`);
      }
      for (const w of ws) if (!reconstructed.includes(w)) reconstructed.push(w);
    }
    assert.deepEqual(
      reconstructed,
      words.map((_, i) => i),
    );
  });

  it('window labels a word where it has the most context', () => {
    // 8 one-token words, maxLength 6 (4 words a window), stride 2: windows [0-3], [2-5], [4-7]
    const words = ['a', 'b', 'c', 'x', 'a', 'b', 'c', 'x'];
    const labels = [0, 1, 2, 3, 4, 5, 6, 7];
    const { features } = encodeTokenSentences(tok, [{ words, labels }], { maxLength: 6, overflow: 'window', stride: 2 });
    assert.deepEqual(
      features.map((f) => f.wordIds),
      [
        [null, 0, 1, 2, 3, null],
        [null, 2, 3, 4, 5, null],
        [null, 4, 5, 6, 7, null],
      ],
    );
    // word 2: context 1 in window 0 (before 2, after 1) and in window 1 (before 0) → window 0;
    // word 3: context 0 in window 0, 1 in window 1 → window 1
    assert.deepEqual(
      features.map((f) => f.labels),
      [
        [I, 0, 1, 2, I, I],
        [I, I, 3, 4, I, I],
        [I, I, 5, 6, 7, I],
      ],
    );
  });

  it('rejects mismatched words/labels and a too small maxLength', () => {
    assert.throws(() => encodeTokenSentences(tok, [{ words: ['a', 'b'], labels: [0] }], { maxLength: 8, overflow: 'window', stride: 0 }), /sentence 0/);
    assert.throws(() => encodeTokenSentences(tok, [], { maxLength: 2, overflow: 'window', stride: 0 }), /maxLength/);
  });
});

describe('encodeTexts', () => {
  it('[CLS] text [SEP], truncated to maxLength and counted', () => {
    const tok = loadTokenizer(folder({ 'vocab.txt': vocabTxt }));
    const { features, stats } = encodeTexts(
      tok,
      [
        { text: 'The unaffable runs.', label: 1 },
        { text: 'a b', label: 0 },
        { text: '', label: 2 },
      ],
      { maxLength: 6 },
    );
    assert.deepEqual(stats, { texts: 3, truncated: 1, overlong: 1, windows: 3 });
    assert.deepEqual(features[0], { inputIds: [2, id('the'), id('un'), id('##aff'), id('##able'), 3], attentionMask: [1, 1, 1, 1, 1, 1], label: 1, index: 0 });
    assert.deepEqual(features[1], { inputIds: [2, id('a'), id('b'), 3], attentionMask: [1, 1, 1, 1], label: 0, index: 1 });
    assert.deepEqual(features[2].inputIds, [2, 3]);
    assert.equal(features[2].index, 2);
  });

  it("overflow 'window': windows of maxLength-2 sub-tokens overlapping by stride, the last ending with the text", () => {
    const tok = loadTokenizer(folder({ 'vocab.txt': vocabTxt }));
    const text = 'a b a b a b a b a'; // 9 sub-tokens
    const ids = tok.encodeText(text);
    assert.equal(ids.length, 9);
    const { features, stats } = encodeTexts(
      tok,
      [
        { text: 'a b', label: 0 },
        { text, label: 1 },
      ],
      { maxLength: 6, overflow: 'window', stride: 1 },
    );
    assert.deepEqual(stats, { texts: 2, truncated: 0, overlong: 1, windows: 4 });
    assert.deepEqual(features[0].inputIds, [2, id('a'), id('b'), 3]);
    // budget 4, step 3: [0,4) [3,7), then the last is [5,9) (ends with the text, full length)
    assert.deepEqual(
      features.slice(1).map((f) => f.inputIds),
      [
        [2, ...ids.slice(0, 4), 3],
        [2, ...ids.slice(3, 7), 3],
        [2, ...ids.slice(5, 9), 3],
      ],
    );
    assert.ok(features.slice(1).every((f) => f.index === 1 && f.label === 1));
  });
});

describe('poolWindows', () => {
  it("a text's logits are the mean over its windows; a one-window text keeps its own exactly", () => {
    const f = (index: number) => ({ inputIds: [], attentionMask: [], label: 0, index });
    const pooled = poolWindows(
      [f(0), f(1), f(1), f(1)],
      [Float32Array.of(0.1, -0.3), Float32Array.of(1, 2), Float32Array.of(3, -2), Float32Array.of(2, 3)],
      2,
      2,
    );
    assert.deepEqual(Array.from(pooled[0]), Array.from(Float32Array.of(0.1, -0.3)));
    assert.deepEqual(Array.from(pooled[1]), [2, 1]);
  });
});
