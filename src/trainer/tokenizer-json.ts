// tokenizer.json objects for the legacy tokenizer files, built in memory as Hugging Face's
// transformers builds them (BertTokenizer from vocab.txt; RobertaTokenizer from vocab.json +
// merges.txt), so that @huggingface/tokenizers can run them. Reading the files is in tokenize.ts.

export type Json = Record<string, unknown>;

export interface SpecialNames {
  cls: string;
  sep: string;
  pad: string;
  unk: string;
  mask: string;
}

export const BERT_SPECIALS: SpecialNames = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', unk: '[UNK]', mask: '[MASK]' };
export const ROBERTA_SPECIALS: SpecialNames = { cls: '<s>', sep: '</s>', pad: '<pad>', unk: '<unk>', mask: '<mask>' };

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function addedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** The special tokens present in the vocabulary, as added tokens (by id), and an error for a missing required one. */
function specialTokens(ids: Record<string, number>, names: SpecialNames, where: string) {
  const missing = (['unk', 'cls', 'sep', 'pad'] as const).filter((k) => !Object.hasOwn(ids, names[k]));
  if (missing.length > 0) {
    throw new Error(`${where}: the vocabulary has no ${missing.map((k) => names[k]).join(', ')} token${missing.length > 1 ? 's' : ''}`);
  }
  const order = [names.pad, names.unk, names.cls, names.sep, names.mask].filter((t, i, a) => Object.hasOwn(ids, t) && a.indexOf(t) === i);
  return order.map((t) => addedToken(ids[t], t)).sort((a, b) => a.id - b.id);
}

export interface BertOptions {
  lowercase: boolean;
  /** null: strip accents when lowercasing (BertNormalizer's default) */
  stripAccents: boolean | null;
  /** split around CJK characters */
  chineseChars: boolean;
}

/**
 * The tokenizer.json object of a BERT WordPiece tokenizer with this vocabulary (id = index):
 * BertNormalizer, BertPreTokenizer, WordPiece model ('##', unk), TemplateProcessing [CLS] $A [SEP]
 * (pair: [CLS] $A [SEP] $B:1 [SEP]:1), WordPiece decoder. The special tokens present in the
 * vocabulary become added tokens, as the `tokenizers` library writes them.
 */
export function bertTokenizerJson(vocab: string[], opts: BertOptions, names: SpecialNames, where: string): Json {
  const ids: Record<string, number> = {};
  vocab.forEach((token, id) => {
    // vocab.txt lines are ids; a repeated line keeps its first id (the later id is left unused)
    if (!Object.hasOwn(ids, token)) ids[token] = id;
  });
  const added = specialTokens(ids, names, where);
  const special = (t: string) => ({ id: t, ids: [ids[t]], tokens: [t] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: opts.chineseChars,
      strip_accents: opts.stripAccents,
      lowercase: opts.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: names.cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: names.sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: names.cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: names.sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: names.sep, type_id: 1 } },
      ],
      special_tokens: { [names.cls]: special(names.cls), [names.sep]: special(names.sep) },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: names.unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  };
}

/** vocab.json of a byte-level BPE: token → id. */
export function parseBpeVocab(value: Json, file: string): Record<string, number> {
  const ids: Record<string, number> = {};
  for (const [token, id] of Object.entries(value)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new Error(`${file}: the id of ${JSON.stringify(token)} is not an integer >= 0`);
    ids[token] = id;
  }
  return ids;
}

/**
 * merges.txt: one merge a line, two tokens separated by one space, highest priority first; a
 * '#version' line and empty lines are skipped (as the `tokenizers` library reads it).
 */
export function parseMerges(text: string, file: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.length === 0 || line.startsWith('#version')) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '')
      throw new Error(`${file}:${i + 1}: a merge is two tokens separated by one space (got ${JSON.stringify(line)})`);
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

/**
 * The tokenizer.json object of a RoBERTa byte-level BPE tokenizer (what transformers'
 * RobertaTokenizer builds from vocab.json + merges.txt): no normalizer, ByteLevel pre-tokenizer
 * (add_prefix_space as configured), BPE model with no unknown token, RobertaProcessing
 * (<s> $A </s>), ByteLevel decoder. The special tokens present in the vocabulary become added tokens.
 */
export function byteLevelBpeJson(vocab: Record<string, number>, merges: [string, string][], addPrefixSpace: boolean, names: SpecialNames, where: string): Json {
  for (const [a, b] of merges) {
    for (const t of [a, b, a + b])
      if (!Object.hasOwn(vocab, t)) throw new Error(`${where}: the merge "${a} ${b}" uses ${JSON.stringify(t)}, which is not in the vocabulary`);
  }
  const added = specialTokens(vocab, names, where);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [names.sep, vocab[names.sep]],
      cls: [names.cls, vocab[names.cls]],
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** A copy of a pre-tokenizer (or Sequence of them) with every ByteLevel's add_prefix_space set to `on`. */
function byteLevelPrefixSpace(p: unknown, on: boolean): unknown {
  if (!isObject(p)) return p;
  if (p.type === 'ByteLevel') return { ...p, add_prefix_space: on };
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) return { ...p, pretokenizers: p.pretokenizers.map((q) => byteLevelPrefixSpace(q, on)) };
  return p;
}

/** Whether a pre-tokenizer is or holds ByteLevel (whose words carry their leading space). */
export function usesByteLevel(p: unknown): boolean {
  if (!isObject(p)) return false;
  if (p.type === 'ByteLevel') return true;
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) return p.pretokenizers.some(usesByteLevel);
  return false;
}

/**
 * The tokenizer.json with add_prefix_space on: what transformers does for a RoBERTa tokenizer
 * made with add_prefix_space=True, which run_ner.py uses to encode words (is_split_into_words), so
 * that every word, the first included, is encoded as it is mid-sentence.
 */
export function withPrefixSpace(json: Json): Json {
  return { ...json, pre_tokenizer: byteLevelPrefixSpace(json.pre_tokenizer, true) };
}

/**
 * The tokenizer.json with the settings of tokenizer_config.json that transformers' BertTokenizer and
 * RobertaTokenizer apply over it (they rebuild the normalizer and pre-tokenizer from them): for a
 * BertNormalizer, do_lower_case, strip_accents and tokenize_chinese_chars; for ByteLevel,
 * add_prefix_space. Only settings the config states are applied.
 */
export function withConfigSettings(json: Json, config: Json): Json {
  const out = { ...json };
  const n = json.normalizer;
  if (isObject(n) && n.type === 'BertNormalizer') {
    const normalizer = { ...n };
    if (typeof config.do_lower_case === 'boolean') normalizer.lowercase = config.do_lower_case;
    if (typeof config.strip_accents === 'boolean' || config.strip_accents === null) normalizer.strip_accents = config.strip_accents;
    if (typeof config.tokenize_chinese_chars === 'boolean') normalizer.handle_chinese_chars = config.tokenize_chinese_chars;
    out.normalizer = normalizer;
  }
  if (typeof config.add_prefix_space === 'boolean') out.pre_tokenizer = byteLevelPrefixSpace(json.pre_tokenizer, config.add_prefix_space);
  return out;
}
