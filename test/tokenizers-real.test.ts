// Tokenizers of real models: tiny cased and uncased WordPiece (BERT) and byte-level BPE (RoBERTa)
// tokenizers, trained and saved by the real `tokenizers`/`transformers` libraries
// (scripts/tokenizer_reference.py), each as tokenizer.json and as the legacy files (vocab.txt;
// vocab.json + merges.txt). Our loader and encoder must give exactly what Hugging Face gives:
// the input ids, the word of each position and the positions run_ner.py labels (words with
// is_split_into_words=True, add_prefix_space=True for RoBERTa), and the ids of plain texts.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeTexts, encodeTokenSentences, IGNORE_LABEL } from '../src/trainer/encode';
import { loadTokenizer, writeTokenizerFolder } from '../src/trainer/tokenize';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'tokenizers');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-tokreal-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

interface WordCase {
  words: string[];
  input_ids: number[];
  tokens: string[];
  word_ids: (number | null)[];
  labels: number[];
}
interface TextCase {
  text: string;
  input_ids: number[];
  tokens: string[];
}
interface Expected {
  generator: string;
  kinds: Record<string, Record<string, { tokenizer_class: string; words: WordCase[]; texts: TextCase[] }>>;
}

const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

const KINDS: Record<string, { kind: 'wordpiece' | 'bpe'; lowercase: boolean; legacyFiles: string[] }> = {
  'bert-cased': { kind: 'wordpiece', lowercase: false, legacyFiles: ['vocab.txt'] },
  'bert-uncased': { kind: 'wordpiece', lowercase: true, legacyFiles: ['vocab.txt'] },
  roberta: { kind: 'bpe', lowercase: false, legacyFiles: ['vocab.json', 'merges.txt'] },
};
/** Forms: json* (tokenizer.json), legacy* (the legacy files); a suffix names changed settings in tokenizer_config.json. */
const filesOf = (kind: string, form: string) => (form.startsWith('json') ? ['tokenizer.json'] : KINDS[kind].legacyFiles);
/** Whether the form's tokenizer_config.json changes the casing (see VARIANTS in scripts/tokenizer_reference.py). */
const lowercaseOf = (kind: string, form: string) => (form === 'json-lowercase' ? true : KINDS[kind].lowercase);

it('the fixtures cover every kind, from tokenizer.json and from the legacy files', () => {
  assert.deepEqual(Object.keys(expected.kinds).sort(), Object.keys(KINDS).sort());
  for (const kind of Object.keys(KINDS)) {
    const forms = Object.keys(expected.kinds[kind]);
    assert.ok(forms.includes('json') && forms.includes('legacy'), `${kind}: ${forms.join(', ')}`);
    for (const form of forms) {
      const dir = path.join(FIXTURES, kind, form);
      for (const name of filesOf(kind, form)) assert.ok(fs.existsSync(path.join(dir, name)), `${kind}/${form} has ${name}`);
      if (form.startsWith('legacy')) assert.ok(!fs.existsSync(path.join(dir, 'tokenizer.json')), `${kind}/${form} has no tokenizer.json`);
    }
  }
});

/**
 * Hugging Face's encoding of words with our one difference: a word that normalizes to nothing
 * (e.g. a zero-width space) gets no sub-token there (so no label), and [UNK] carrying its label here,
 * so that every word has a prediction.
 */
function withEmptyWordsAsUnk(c: WordCase, unkId: number): { inputIds: number[]; wordIds: (number | null)[]; labels: number[] } {
  const inputIds: number[] = [];
  const wordIds: (number | null)[] = [];
  const labels: number[] = [];
  const push = (id: number, w: number | null, label: number) => {
    inputIds.push(id);
    wordIds.push(w);
    labels.push(label);
  };
  let next = 0; // the first word not yet placed
  const placeMissing = (upTo: number) => {
    for (; next < upTo; next++) {
      if (c.word_ids.includes(next)) continue;
      // only words of invisible characters vanish
      assert.match(c.words[next], /^[\p{Cc}\p{Cf}\p{Z}\s]+$/u, `Hugging Face drops the word ${JSON.stringify(c.words[next])}`);
      push(unkId, next, next);
    }
  };
  c.input_ids.forEach((id, i) => {
    const w = c.word_ids[i];
    if (w !== null) {
      placeMissing(w);
      next = Math.max(next, w + 1);
    } else if (i === c.input_ids.length - 1) placeMissing(c.words.length);
    push(id, w, c.labels[i]);
  });
  return { inputIds, wordIds, labels };
}

for (const [kind, spec] of Object.entries(KINDS)) {
  for (const form of Object.keys(expected.kinds[kind])) {
    describe(`${kind}/${form}: ${filesOf(kind, form).join(' + ')}`, () => {
      const dir = path.join(FIXTURES, kind, form);
      const cases = expected.kinds[kind][form];
      const tok = loadTokenizer(dir);

      it('is read as the right kind, with its specials and casing', () => {
        assert.equal(tok.info.kind, spec.kind);
        assert.equal(tok.info.lowercase, lowercaseOf(kind, form));
        const first = cases.words[0];
        assert.equal(tok.info.clsId, first.input_ids[0]);
        assert.equal(tok.info.sepId, first.input_ids[first.input_ids.length - 1]);
      });

      for (const c of cases.words) {
        it(`words ${JSON.stringify(c.words.join(' ').slice(0, 40))}: Hugging Face's ids, word ids and labelled positions`, () => {
          // label of word i = i, so a labelled position also says which word it labels
          const { features } = encodeTokenSentences(tok, [{ words: c.words, labels: c.words.map((_, i) => i) }], {
            maxLength: 512,
            overflow: 'truncate',
            stride: 0,
          });
          assert.equal(features.length, 1);
          const f = features[0];
          const tokens = f.inputIds.map((id) => tok.decode([id]));
          const want = withEmptyWordsAsUnk(c, tok.info.unkId);
          assert.deepEqual(f.inputIds, want.inputIds, `ids\n ours: ${tokens.join(' ')}\n   hf: ${c.tokens.join(' ')}`);
          assert.deepEqual(f.wordIds, want.wordIds);
          assert.deepEqual(f.labels, want.labels);
          assert.ok(f.labels.every((l, i) => l === IGNORE_LABEL || f.wordIds[i] === l));
        });
      }

      it('written next to an exported model (writeTokenizerFolder), reads back the same', () => {
        const out = fs.mkdtempSync(path.join(TMP, 'export-'));
        writeTokenizerFolder(out, tok);
        const again = loadTokenizer(out);
        assert.deepEqual(again.info, { ...tok.info, source: again.info.source });
        for (const c of cases.words) assert.deepEqual(c.words.map(again.encodeWord), c.words.map(tok.encodeWord), c.words.join(' '));
        for (const c of cases.texts) assert.deepEqual(again.encodeText(c.text), tok.encodeText(c.text), c.text);
      });

      for (const c of cases.texts) {
        it(`text ${JSON.stringify(c.text.slice(0, 40))}: Hugging Face's ids`, () => {
          const { features } = encodeTexts(tok, [{ text: c.text, label: 0 }], { maxLength: 512 });
          assert.deepEqual(features[0].inputIds, c.input_ids, `hf: ${c.tokens.join(' ')}`);
        });
      }
    });
  }
}

describe('special-token names of legacy folders', () => {
  const copy = (kind: string, files: Record<string, object | undefined>) => {
    const dir = fs.mkdtempSync(path.join(TMP, `${kind}-`));
    fs.cpSync(path.join(FIXTURES, kind, 'legacy'), dir, { recursive: true });
    for (const [name, value] of Object.entries(files)) {
      if (value === undefined) fs.rmSync(path.join(dir, name));
      else fs.writeFileSync(path.join(dir, name), JSON.stringify(value));
    }
    return dir;
  };

  for (const kind of ['bert-cased', 'roberta']) {
    const base = loadTokenizer(path.join(FIXTURES, kind, 'legacy'));
    const idOf = (t: string) => base.encodeText(t)[0];
    const [padName, maskName] = kind === 'roberta' ? ['<pad>', '<mask>'] : ['[PAD]', '[MASK]'];

    it(`${kind}: special_tokens_map.json names them (a string or an AddedToken), tokenizer_config.json wins`, () => {
      const fromMap = loadTokenizer(
        copy(kind, { 'special_tokens_map.json': { cls_token: { content: maskName, lstrip: false } }, 'tokenizer_config.json': {} }),
      );
      assert.equal(fromMap.info.clsId, idOf(maskName));
      const both = loadTokenizer(copy(kind, { 'special_tokens_map.json': { cls_token: maskName }, 'tokenizer_config.json': { cls_token: padName } }));
      assert.equal(both.info.clsId, idOf(padName));
    });

    it(`${kind}: without the config files, the model's usual names (and a vocab.txt lowercases, as BertTokenizer's default)`, () => {
      const bare = loadTokenizer(copy(kind, { 'special_tokens_map.json': undefined, 'tokenizer_config.json': undefined }));
      assert.deepEqual(bare.info, { ...base.info, source: bare.info.source, lowercase: kind !== 'roberta' });
    });
  }
});
