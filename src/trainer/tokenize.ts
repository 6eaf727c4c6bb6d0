// Tokenization for BERT-family fine-tuning, through @huggingface/tokenizers.
//
// The library does all of the text processing (normalization, pre-tokenization, WordPiece/BPE,
// decoding). This module only
//   - loads a local Hugging Face tokenizer folder: tokenizer.json, or the legacy files (BERT vocab.txt;
//     RoBERTa vocab.json + merges.txt), for which the equivalent tokenizer.json object is built in
//     memory (tokenizer-json.ts),
//   - builds a WordPiece vocabulary from training words (for from-scratch models),
//   - writes a tokenizer folder next to a model.
// Turning sentences and texts into model inputs with a Tok is in encode.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import {
  BERT_SPECIALS,
  bertTokenizerJson,
  byteLevelBpeJson,
  isObject,
  parseBpeVocab,
  parseMerges,
  ROBERTA_SPECIALS,
  type Json,
  type SpecialNames,
  usesByteLevel,
  withConfigSettings,
  withPrefixSpace,
} from './tokenizer-json';

export interface TokenizerInfo {
  kind: 'wordpiece' | 'bpe' | 'other';
  vocabSize: number;
  clsId: number;
  sepId: number;
  padId: number;
  unkId: number;
  lowercase: boolean;
  /** file it came from ('(in memory)' for tokenizerFromVocab) */
  source: string;
}

export interface Tok {
  info: TokenizerInfo;
  /** Sub-token ids of one word (no special tokens). An empty result for a non-empty word maps to [unkId]. */
  encodeWord(word: string): number[];
  /** Sub-token ids of a text (no special tokens). */
  encodeText(text: string): number[];
  /** Text of the ids (special tokens are kept; filter ids first to drop them). */
  decode(ids: number[]): string;
  /** The tokenizer.json object (for export next to an ONNX model). */
  toJSON(): object;
}

// ---------------------------------------------------------------------------------------------
// tokenizer.json / tokenizer_config.json shapes (only the fields read here)

/** Special-token names tried, in order, when tokenizer_config.json does not name them. */
const FALLBACK_NAMES: Record<keyof SpecialNames, string[]> = {
  cls: ['[CLS]', '<s>', '<cls>'],
  sep: ['[SEP]', '</s>', '<sep>'],
  pad: ['[PAD]', '<pad>'],
  unk: ['[UNK]', '<unk>'],
  mask: ['[MASK]', '<mask>'],
};

interface TokInternals {
  json: Json;
  config: Json;
  lib: Tokenizer;
  specials: SpecialNames;
}

/** Internals of the Tok objects made here (for writeTokenizerFolder). */
const internals = new WeakMap<Tok, TokInternals>();

/** A special token in tokenizer_config.json is a string or an AddedToken dict ({ content }). */
function configTokenName(config: Json, key: string): string | undefined {
  const v = config[`${key}_token`];
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** The largest tokenizer file (tokenizer.json, tokenizer_config.json, vocab.txt) read; real ones are tens of MB at most. */
export const MAX_TOKENIZER_FILE_BYTES = 256 * 1024 * 1024;

/** A tokenizer file's text, refusing one over MAX_TOKENIZER_FILE_BYTES before reading it. */
function readTokenizerText(file: string): string {
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_TOKENIZER_FILE_BYTES) throw new Error(`file is ${size} bytes, over the ${MAX_TOKENIZER_FILE_BYTES}-byte limit for tokenizer files`);
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

function readJson(file: string): Json {
  const text = readTokenizerText(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(value)) throw new Error(`${file} does not hold a JSON object`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Tok

function modelKind(json: Json): TokenizerInfo['kind'] {
  const model = isObject(json.model) ? json.model : {};
  if (model.type === 'WordPiece') return 'wordpiece';
  if (model.type === 'BPE') return 'bpe';
  if (model.type === undefined && isObject(model.vocab) && 'continuing_subword_prefix' in model && 'unk_token' in model) {
    return 'merges' in model ? 'bpe' : 'wordpiece'; // the library's own guess for untyped models
  }
  return 'other';
}

/** Whether the normalizer lowercases (BertNormalizer with lowercase, or a Lowercase step). */
function normalizerLowercases(n: unknown): boolean {
  if (!isObject(n)) return false;
  if (n.type === 'BertNormalizer') return n.lowercase === true;
  if (n.type === 'Lowercase') return true;
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) return n.normalizers.some(normalizerLowercases);
  return false;
}

function makeTok(json: Json, config: Json, source: string, where: string, specialsHint?: SpecialNames): Tok {
  const build = (j: Json) => {
    try {
      return new Tokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...j }, config);
    } catch (e) {
      throw new Error(`${where}: cannot build the tokenizer from ${path.basename(source)}: ${(e as Error).message}`);
    }
  };
  const lib = build(json);
  const idOf = (t: string) => lib.token_to_id(t);

  const specials = {} as SpecialNames;
  const missing: string[] = [];
  for (const key of ['cls', 'sep', 'pad', 'unk', 'mask'] as const) {
    const named = specialsHint?.[key] ?? configTokenName(config, key);
    const candidates = named !== undefined ? [named] : FALLBACK_NAMES[key];
    const found = candidates.find((t) => idOf(t) !== undefined);
    if (found !== undefined) specials[key] = found;
    else if (key === 'mask') specials.mask = candidates[0];
    else missing.push(`${key} (${candidates.join(' / ')})`);
  }
  if (missing.length > 0) throw new Error(`${where}: ${path.basename(source)} has no special token for ${missing.join(', ')}`);

  let vocabSize = 0;
  for (const id of lib.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);

  const info: TokenizerInfo = {
    kind: modelKind(json),
    vocabSize,
    clsId: idOf(specials.cls)!,
    sepId: idOf(specials.sep)!,
    padId: idOf(specials.pad)!,
    unkId: idOf(specials.unk)!,
    lowercase: normalizerLowercases(json.normalizer) || config.do_lowercase_and_remove_accent === true,
    source,
  };

  const clean = (ids: number[]) => ids.map((id) => (Number.isInteger(id) ? id : info.unkId));
  const encodeWith = (t: Tokenizer, text: string): number[] => (text.length === 0 ? [] : clean(t.encode(text, { add_special_tokens: false }).ids));
  const encodeText = (text: string) => encodeWith(lib, text);
  // Words as Hugging Face encodes them with is_split_into_words: each alone, and for byte-level BPE
  // with add_prefix_space on (as run_ner.py asks for RoBERTa), so a word is encoded as it is
  // mid-sentence. The space is added by the pre-tokenizer, to each piece between special tokens.
  const wordLib = usesByteLevel(json.pre_tokenizer) ? build(withPrefixSpace(json)) : lib;
  // Words repeat a lot in NER data: cache their ids (bounded).
  const cache = new Map<string, number[]>();
  const encodeWord = (word: string): number[] => {
    const hit = cache.get(word);
    if (hit) return hit.slice();
    let ids = encodeWith(wordLib, word);
    if (ids.length === 0 && word.length > 0) ids = [info.unkId];
    if (cache.size >= 200_000) cache.clear();
    cache.set(word, ids);
    return ids.slice();
  };
  const tok: Tok = {
    info,
    encodeWord,
    encodeText,
    decode: (ids) => (ids.length === 0 ? '' : lib.decode(ids)),
    toJSON: () => structuredClone(json),
  };
  internals.set(tok, { json, config, lib, specials });
  return tok;
}

/** The special-token names a config gives, each else the default. */
function namedSpecials(config: Json, defaults: SpecialNames): SpecialNames {
  const name = (key: keyof SpecialNames) => configTokenName(config, key) ?? defaults[key];
  return { cls: name('cls'), sep: name('sep'), pad: name('pad'), unk: name('unk'), mask: name('mask') };
}

/**
 * From a local Hugging Face folder, in this order:
 *   - tokenizer.json (any model the library runs), with the settings of tokenizer_config.json that
 *     transformers applies over it (do_lower_case, strip_accents, tokenize_chinese_chars for a
 *     BertNormalizer; add_prefix_space for ByteLevel; withConfigSettings),
 *   - vocab.json + merges.txt: RoBERTa byte-level BPE (ByteLevel add_prefix_space from
 *     tokenizer_config.json add_prefix_space, else false),
 *   - vocab.txt: BERT WordPiece (lowercasing: opts.lowercase, else tokenizer_config.json
 *     do_lower_case, else true; strip_accents and tokenize_chinese_chars as the config says),
 * building for the legacy files the tokenizer.json object that transformers builds from them.
 * Settings and special-token names come from tokenizer_config.json, then special_tokens_map.json.
 * Special tokens: the names these give, else (tokenizer.json) the first found among [CLS]/<s>,
 * [SEP]/</s>, [PAD]/<pad>, [UNK]/<unk> or (legacy files) BERT's or RoBERTa's; a missing one is an
 * error. opts.lowercase does not change a tokenizer.json or a BPE.
 */
export function loadTokenizer(dir: string, opts: { lowercase?: boolean } = {}): Tok {
  const where = `tokenizer folder ${dir}`;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${where} does not exist or is not a folder`);
  const file = (name: string) => path.join(dir, name);
  const optionalJson = (name: string) => (fs.existsSync(file(name)) ? readJson(file(name)) : {});
  // tokenizer_config.json wins over special_tokens_map.json, as in transformers
  const config: Json = { ...optionalJson('special_tokens_map.json'), ...optionalJson('tokenizer_config.json') };
  const jsonFile = file('tokenizer.json');
  if (fs.existsSync(jsonFile)) {
    const json = readJson(jsonFile);
    if (!isObject(json.model)) throw new Error(`${where}: ${jsonFile} has no "model" object`);
    return makeTok(withConfigSettings(json, config), config, jsonFile, where);
  }
  const mergesFile = file('merges.txt');
  if (fs.existsSync(mergesFile)) {
    const vocabJson = file('vocab.json');
    if (!fs.existsSync(vocabJson)) throw new Error(`${where} has merges.txt but no vocab.json (a byte-level BPE tokenizer needs both)`);
    const vocab = parseBpeVocab(readJson(vocabJson), vocabJson);
    const merges = parseMerges(readTokenizerText(mergesFile), mergesFile);
    const names = namedSpecials(config, ROBERTA_SPECIALS);
    const json = byteLevelBpeJson(vocab, merges, config.add_prefix_space === true, names, `${where} (vocab.json + merges.txt)`);
    return makeTok(json, config, vocabJson, where, names);
  }
  const vocabFile = file('vocab.txt');
  if (!fs.existsSync(vocabFile)) {
    throw new Error(`${where} has neither tokenizer.json, vocab.json + merges.txt nor vocab.txt (a Hugging Face tokenizer folder needs one of them)`);
  }
  const lines = readTokenizerText(vocabFile).split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new Error(`${where}: ${vocabFile} is empty`);
  const lowercase = opts.lowercase ?? (typeof config.do_lower_case === 'boolean' ? config.do_lower_case : true);
  const stripAccents = typeof config.strip_accents === 'boolean' ? config.strip_accents : null;
  const chineseChars = typeof config.tokenize_chinese_chars === 'boolean' ? config.tokenize_chinese_chars : true;
  const names = namedSpecials(config, BERT_SPECIALS);
  const json = bertTokenizerJson(lines, { lowercase, stripAccents, chineseChars }, names, `${where} (${path.basename(vocabFile)})`);
  // The config may ask for lowercase-and-strip-accents handling of its own; the normalizer does it here.
  const { do_lowercase_and_remove_accent: _ignored, ...rest } = config;
  return makeTok(json, rest, vocabFile, where, names);
}

/** A BERT WordPiece tokenizer over this vocabulary (id = index; needs [UNK], [CLS], [SEP], [PAD]). */
export function tokenizerFromVocab(vocab: string[], opts: { lowercase: boolean }): Tok {
  const json = bertTokenizerJson(vocab, { lowercase: opts.lowercase, stripAccents: null, chineseChars: true }, BERT_SPECIALS, 'tokenizerFromVocab');
  return makeTok(json, { do_lower_case: opts.lowercase }, '(in memory)', 'tokenizerFromVocab', BERT_SPECIALS);
}

// ---------------------------------------------------------------------------------------------
// Vocabulary from training words

const SPECIALS_IN_ORDER = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** Lexicographic by UTF-16 code units (deterministic, locale-free). */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A WordPiece vocabulary from training words for from-scratch models: [PAD]=0, [UNK]=1, [CLS]=2,
 * [SEP]=3, [MASK]=4, then whole words with count >= minFrequency (most frequent first, ties
 * alphabetical), then the single characters seen (most frequent first, ties alphabetical), each
 * followed by its '##' continuation form, so that unseen words split into characters.
 *
 * Words are first normalized and pre-tokenized by the library exactly as the resulting tokenizer
 * will (BertNormalizer with `lowercase`, BertPreTokenizer): "Don't" counts as "don", "'", "t".
 * A '##' form is left out for characters the pre-tokenizer always splits off (punctuation, CJK),
 * and a character already present as a whole word is not repeated.
 *
 * maxSize caps the total. Characters take precedence over whole words under the cap (the least
 * frequent words are left out first), since a missing character turns every word holding it into
 * [UNK]; only when the characters alone do not fit are the least frequent characters left out.
 */
export function buildWordPieceVocab(words: Iterable<string>, opts: { minFrequency: number; lowercase: boolean; maxSize?: number }): string[] {
  const maxSize = opts.maxSize ?? Infinity;
  if (maxSize < SPECIALS_IN_ORDER.length)
    throw new Error(`buildWordPieceVocab: maxSize ${maxSize} is smaller than the ${SPECIALS_IN_ORDER.length} special tokens`);
  const minFrequency = Math.max(1, opts.minFrequency);
  // The library's normalizer and pre-tokenizer, from a tokenizer of the same structure.
  const pipeline = new Tokenizer(
    bertTokenizerJson(SPECIALS_IN_ORDER, { lowercase: opts.lowercase, stripAccents: null, chineseChars: true }, BERT_SPECIALS, 'buildWordPieceVocab'),
    {},
  );
  const normalize = (s: string) => (pipeline.normalizer ? pipeline.normalizer(s) : s);
  const preTokenize = (s: string) => (pipeline.pre_tokenizer ? pipeline.pre_tokenizer(s) : s.split(/\s+/).filter(Boolean));

  const wordCounts = new Map<string, number>();
  const charCounts = new Map<string, number>();
  for (const word of words) {
    for (const piece of preTokenize(normalize(word))) {
      if (SPECIALS_IN_ORDER.includes(piece)) continue;
      wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
      for (const ch of piece) charCounts.set(ch, (charCounts.get(ch) ?? 0) + 1);
    }
  }
  const byCount = (counts: Map<string, number>) => (a: string, b: string) => counts.get(b)! - counts.get(a)! || byText(a, b);

  const wordList = [...wordCounts.keys()].filter((w) => wordCounts.get(w)! >= minFrequency).sort(byCount(wordCounts));
  const wordSet = new Set(wordList);
  const charEntries: string[] = [];
  for (const ch of [...charCounts.keys()].sort(byCount(charCounts))) {
    charEntries.push(ch);
    // a continuation form only for characters that can sit inside a word
    if (preTokenize(normalize(`a${ch}a`)).length === 1) charEntries.push(`##${ch}`);
  }

  // Under the cap: drop the least frequent words first (a dropped single-character word moves back to
  // the character section), then the least frequent characters.
  const budget = maxSize - SPECIALS_IN_ORDER.length;
  let keptWords = wordList.length;
  const charSet = new Set(charEntries);
  let charsAlsoWords = charEntries.filter((c) => wordSet.has(c)).length;
  while (keptWords > 0 && keptWords + charEntries.length - charsAlsoWords > budget) {
    keptWords--;
    if (charSet.has(wordList[keptWords])) charsAlsoWords--;
  }
  const keep = wordList.slice(0, keptWords);
  const inWords = new Set(keep);
  const chars = charEntries.filter((c) => !inWords.has(c)).slice(0, Math.max(0, budget - keep.length));
  return [...SPECIALS_IN_ORDER, ...keep, ...chars];
}

/** tokenizer.json, tokenizer_config.json and, for WordPiece, vocab.txt, in `dir` (created if needed). */
export function writeTokenizerFolder(dir: string, tok: Tok): void {
  const inner = internals.get(tok);
  const json = inner?.json ?? (tok.toJSON() as Json);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json, null, 2) + '\n');

  const config: Json = { ...(inner?.config ?? {}) };
  const specials = inner?.specials;
  if (specials) {
    for (const key of ['cls', 'sep', 'pad', 'unk', 'mask'] as const) {
      if (key !== 'mask' || inner.lib.token_to_id(specials.mask) !== undefined) config[`${key}_token`] = specials[key];
    }
  }
  config.do_lower_case = tok.info.lowercase;
  if (tok.info.kind === 'wordpiece' && config.tokenizer_class === undefined) config.tokenizer_class = 'BertTokenizer';
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');

  if (tok.info.kind === 'wordpiece' && inner) {
    const lines = new Array<string>(tok.info.vocabSize);
    for (const [token, id] of inner.lib.get_vocab(true)) lines[id] = token;
    // an id without a token (a repeated vocab.txt line) gets a placeholder so line numbers stay ids
    for (let i = 0; i < lines.length; i++) if (lines[i] === undefined) lines[i] = `[unused_id_${i}]`;
    fs.writeFileSync(path.join(dir, 'vocab.txt'), lines.join('\n') + '\n');
  }
}
