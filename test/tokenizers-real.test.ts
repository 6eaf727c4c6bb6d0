// Tokenizers of real models: tiny cased and uncased WordPiece (BERT) and byte-level BPE (RoBERTa)
// tokenizers, trained and saved by the real `tokenizers`/`transformers` libraries
// (scripts/tokenizer_reference.py), each as tokenizer.json and as the legacy files (vocab.txt;
// vocab.json + merges.txt). Our loader and encoder must give exactly what Hugging Face gives:
// the input ids, the word of each position and the positions run_ner.py labels (words with
// is_split_into_words=True, add_prefix_space=True for RoBERTa), and the ids of plain texts.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { encodeTexts, encodeTokenSentences, IGNORE_LABEL } from '../src/trainer/encode';
import { loadTokenizer } from '../src/trainer/tokenize';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'tokenizers');

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

const KINDS: Record<string, { kind: 'wordpiece' | 'bpe'; lowercase: boolean; files: Record<string, string[]> }> = {
  'bert-cased': { kind: 'wordpiece', lowercase: false, files: { json: ['tokenizer.json'], legacy: ['vocab.txt'] } },
  'bert-uncased': { kind: 'wordpiece', lowercase: true, files: { json: ['tokenizer.json'], legacy: ['vocab.txt'] } },
  roberta: { kind: 'bpe', lowercase: false, files: { json: ['tokenizer.json'], legacy: ['vocab.json', 'merges.txt'] } },
};

it('the fixtures cover every kind and form', () => {
  assert.deepEqual(Object.keys(expected.kinds).sort(), Object.keys(KINDS).sort());
  for (const [kind, { files }] of Object.entries(KINDS)) {
    assert.deepEqual(Object.keys(expected.kinds[kind]).sort(), ['json', 'legacy']);
    for (const [form, names] of Object.entries(files)) {
      const dir = path.join(FIXTURES, kind, form);
      for (const name of names) assert.ok(fs.existsSync(path.join(dir, name)), `${kind}/${form} has ${name}`);
      if (form === 'legacy') assert.ok(!fs.existsSync(path.join(dir, 'tokenizer.json')), `${kind}/legacy has no tokenizer.json`);
    }
  }
});

for (const [kind, spec] of Object.entries(KINDS)) {
  for (const form of Object.keys(spec.files)) {
    describe(`${kind} from ${spec.files[form].join(' + ')}`, () => {
      const dir = path.join(FIXTURES, kind, form);
      const cases = expected.kinds[kind][form];
      const tok = loadTokenizer(dir);

      it('is read as the right kind, with its specials and casing', () => {
        assert.equal(tok.info.kind, spec.kind);
        assert.equal(tok.info.lowercase, spec.lowercase);
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
          assert.deepEqual(f.inputIds, c.input_ids, `ids\n ours: ${tokens.join(' ')}\n   hf: ${c.tokens.join(' ')}`);
          assert.deepEqual(f.wordIds, c.word_ids);
          assert.deepEqual(f.labels, c.labels);
          assert.ok(f.labels.every((l, i) => l === IGNORE_LABEL || f.wordIds[i] === l));
        });
      }

      for (const c of cases.texts) {
        it(`text ${JSON.stringify(c.text.slice(0, 40))}: Hugging Face's ids`, () => {
          const { features } = encodeTexts(tok, [{ text: c.text, label: 0 }], { maxLength: 512 });
          assert.deepEqual(features[0].inputIds, c.input_ids, `hf: ${c.tokens.join(' ')}`);
        });
      }
    });
  }
}
