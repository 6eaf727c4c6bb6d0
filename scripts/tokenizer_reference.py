#!/usr/bin/env python3
"""Tiny real tokenizers and Hugging Face's encodings of them, for test/tokenizers-real.test.ts.

Trains, with the real `tokenizers` library, a tiny cased WordPiece (BERT), an uncased WordPiece and a
byte-level BPE (RoBERTa) on sentences of examples/ner/data/train.txt, and saves each in two forms:

  json/    tokenizer.json + tokenizer_config.json (what save_pretrained writes today)
  legacy/  vocab.txt (WordPiece) or vocab.json + merges.txt (byte-level BPE), with
           tokenizer_config.json and special_tokens_map.json, and no tokenizer.json
  <form>-<what>/  one of these with settings changed in tokenizer_config.json (VARIANTS)

Then loads every folder with `transformers.AutoTokenizer` and writes, for a set of test sentences,
what Hugging Face gives: for words (is_split_into_words=True, with add_prefix_space=True for RoBERTa
as run_ner.py does) the input ids, word_ids and the positions run_ner.py labels (the first sub-token
of each word); for texts the input ids. Output: test/fixtures/tokenizers/<kind>/<form>/ and
test/fixtures/tokenizers/expected.json. The tests read these committed files and need no Python.

Training is not deterministic (the Rust trainers break ties between equally frequent pairs in hash-map
order), so a rerun may make other, equally valid, vocabularies; the expectations are always made with
the tokenizers written next to them, so the committed set stays consistent.

Run with the reference environment (scripts/setup_reference_venv.sh):
  .cache/py/bin/python scripts/tokenizer_reference.py
"""

import json
import re
import shutil
from pathlib import Path

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "tokenizers"
TRAIN = ROOT / "examples" / "ner" / "data" / "train.txt"

# A few accented words and punctuation, so that the vocabularies hold such characters.
EXTRA_TRAINING = ["Café in Zürich , São Paulo and Málaga .", "Ørsted met Renée in Köln .", "THE U.S. -- don't e-mail (x@y.com) 100% 3rd !?"]

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis"
# Over WordPiece's max_input_chars_per_word (100): the whole word becomes [UNK].
OVERLONG_WORD = "Supercalifragilistic" * 6

# Sentences as words (NER input). Each exercises something: casing, accents, punctuation inside a
# word (one word, several pre-tokens), characters not in the vocabulary, long words, digits.
WORD_SENTENCES = [
    ["Rifael", "Elvisaer", ",", "the", "chief", "executive", "of", "Misizu", "Media", ",", "arrived", "."],
    ["THE", "The", "the", "tHe", "MISIZU", "misizu"],
    ["Café", "Zürich", "naïve", "RÉSUMÉ", "São", "Paulo", "Ørsted"],
    ["Don't", "stop", "--", "e-mail", "x@y.com", "(", "U.S.", ")", "!?"],
    ["☃", "北京", "𝔘nicode", "Ω", "ß", "ﬁne"],
    [LONG_WORD, "and", OVERLONG_WORD, "end"],
    ["1,234.56", "2026", "%", "3rd"],
    ["a"],
    # special-token text inside words: matched as the special token, as the libraries do
    ["a", "[MASK]", "<mask>", "x<s>y", "b"],
    # a word that normalizes to nothing (zero-width space): Hugging Face gives it no sub-token
    ["a", "\u200b", "b"],
]

TEXTS = [
    "Rifael Elvisaer, the chief executive of Misizu Media, arrived in Rarastan on Monday.",
    "THE Café in Zürich -- naïve RÉSUMÉ; don't e-mail x@y.com!",
    "  leading and  double spaces\tand a tab\nand a newline ",
    "☃ 北京 𝔘nicode " + LONG_WORD,
]

# Extra forms: the form copied, with these settings put in its tokenizer_config.json (None: no
# tokenizer_config.json). transformers' BertTokenizer and RobertaTokenizer rebuild the normalizer
# and pre-tokenizer from these settings, even over a tokenizer.json.
VARIANTS = {
    "bert-cased": {
        "legacy-strip-accents": ("legacy", {"strip_accents": True}),
        "json-lowercase": ("json", {"do_lower_case": True}),
        "json-only": ("json", None),
    },
    "bert-uncased": {
        "legacy-keep-accents": ("legacy", {"strip_accents": False, "tokenize_chinese_chars": False}),
        "json-keep-accents": ("json", {"strip_accents": False}),
    },
    "roberta": {
        "legacy-prefix-space": ("legacy", {"add_prefix_space": True}),
        "json-prefix-space": ("json", {"add_prefix_space": True}),
        # (no "json-only": without a tokenizer class transformers ignores add_prefix_space=True and
        # glues the words of is_split_into_words together)
    },
}

SPECIALS = {
    "bert": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    "roberta": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
}


def training_sentences(limit=400):
    sentences, words = [], []
    for line in TRAIN.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if words:
                sentences.append(" ".join(words))
                words = []
            continue
        if parts[0] != "-DOCSTART-":
            words.append(parts[0])
        if len(sentences) >= limit:
            break
    if words:
        sentences.append(" ".join(words))
    return sentences[:limit] + EXTRA_TRAINING


def train_wordpiece(lowercase):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=SPECIALS["bert"])
    tok.train_from_iterator(training_sentences(), trainer)
    return tok


def train_byte_bpe():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=SPECIALS["roberta"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_sentences(), trainer)
    return tok


def fresh(folder):
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


SCALAR_ARRAY = re.compile(r'\[((?:\n *(?:"(?:[^"\\]|\\.)*"|-?\d+|null|true|false),?)+)\n *\]')


def write_json(file, value):
    """Indented JSON with each array of scalars (ids, tokens, words) on one line."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    text = SCALAR_ARRAY.sub(lambda m: "[" + re.sub(r"\n *", " ", m.group(1)).strip() + "]", text)
    file.write_text(text + "\n", encoding="utf-8")


def save_forms(kind, raw):
    """The json/ and legacy/ folders of one tokenizer."""
    base = OUT / kind
    if kind.startswith("bert"):
        lowercase = kind == "bert-uncased"
        vocab = [t for t, _ in sorted(raw.get_vocab().items(), key=lambda kv: kv[1])]
        hf = transformers.BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=lowercase)
        json_dir = fresh(base / "json")
        hf.save_pretrained(json_dir)
        legacy = fresh(base / "legacy")
        (legacy / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
        write_json(legacy / "tokenizer_config.json", {"do_lower_case": lowercase, "tokenizer_class": "BertTokenizer"})
        names = dict(zip(["pad_token", "unk_token", "cls_token", "sep_token", "mask_token"], SPECIALS["bert"]))
        write_json(legacy / "special_tokens_map.json", names)
    else:
        vocab = raw.get_vocab()
        model = json.loads(raw.to_str())["model"]
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
        hf = transformers.RobertaTokenizer(vocab=vocab, merges=merges)
        json_dir = fresh(base / "json")
        hf.save_pretrained(json_dir)
        legacy = fresh(base / "legacy")
        raw.model.save(str(legacy))  # vocab.json + merges.txt
        write_json(legacy / "tokenizer_config.json", {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False, "trim_offsets": True})
        s, pad, e, unk, mask = SPECIALS["roberta"]
        write_json(
            legacy / "special_tokens_map.json",
            {"bos_token": s, "cls_token": s, "eos_token": e, "sep_token": e, "pad_token": pad, "unk_token": unk, "mask_token": mask},
        )
    for f in json_dir.iterdir():
        if f.name not in ("tokenizer.json", "tokenizer_config.json"):
            f.unlink()
    forms = {"json": json_dir, "legacy": legacy}
    # The same files with settings changed in tokenizer_config.json.
    for name, (source, settings) in VARIANTS.get(kind, {}).items():
        folder = fresh(base / name)
        for f in forms[source].iterdir():
            shutil.copy(f, folder / f.name)
        if settings is None:
            (folder / "tokenizer_config.json").unlink()
        else:
            config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
            write_json(folder / "tokenizer_config.json", {**config, **settings})
        forms[name] = folder
    return forms


def expectations(folder, kind):
    """Hugging Face's encodings of WORD_SENTENCES and TEXTS with the tokenizer in folder."""
    extra = {"add_prefix_space": True} if kind == "roberta" else {}
    words_tok = AutoTokenizer.from_pretrained(str(folder), **extra)
    text_tok = AutoTokenizer.from_pretrained(str(folder))
    words_out = []
    for words in WORD_SENTENCES:
        enc = words_tok(words, is_split_into_words=True)
        word_ids = enc.word_ids()
        # run_ner.py (label_all_tokens=False): the word's label on its first sub-token, -100 elsewhere;
        # the "label" here is the word's index.
        labels, previous = [], None
        for w in word_ids:
            labels.append(-100 if w is None or w == previous else w)
            previous = w
        words_out.append(
            {"words": words, "input_ids": enc["input_ids"], "tokens": enc.tokens(), "word_ids": word_ids, "labels": labels}
        )
    texts_out = [{"text": t, "input_ids": text_tok(t)["input_ids"], "tokens": text_tok(t).tokens()} for t in TEXTS]
    return {"tokenizer_class": type(words_tok).__name__, "words": words_out, "texts": texts_out}


def main():
    fresh(OUT)
    trained = {"bert-cased": train_wordpiece(False), "bert-uncased": train_wordpiece(True), "roberta": train_byte_bpe()}
    expected = {"generator": f"scripts/tokenizer_reference.py (tokenizers {tokenizers.__version__}, transformers {transformers.__version__})", "kinds": {}}
    for kind, raw in trained.items():
        forms = save_forms(kind, raw)
        per_form = {form: expectations(folder, kind) for form, folder in forms.items()}
        a, b = per_form["json"], per_form["legacy"]
        if a["words"] != b["words"] or a["texts"] != b["texts"]:
            raise SystemExit(f"{kind}: Hugging Face encodes differently from tokenizer.json and from the legacy files")
        for name in VARIANTS.get(kind, {}):
            print(f"{kind}/{name}: words as {'json' if per_form[name]['words'] == a['words'] else 'OTHER'}, texts as {'json' if per_form[name]['texts'] == a['texts'] else 'OTHER'}")
        expected["kinds"][kind] = per_form
    write_json(OUT / "expected.json", expected)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
