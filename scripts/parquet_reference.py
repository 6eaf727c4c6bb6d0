"""Writes the Parquet fixtures of test/fixtures/parquet/ with the real Hugging Face `datasets` library,
so the tests read files as `Dataset.to_parquet` (and the Hub's Parquet conversion) writes them: snappy
compression and the `huggingface` key-value metadata naming the ClassLabel names.

The rows are the first sentences / records of the bundled examples, so a test can compare them with
the same data read from CoNLL / JSON Lines. Environment: scripts/setup_reference_venv.sh (datasets and
pyarrow are pinned in scripts/requirements-reference.txt). Run from the repository root:
    .cache/py/bin/python scripts/parquet_reference.py
"""

import json
import os

import datasets
import pyarrow.parquet as pq
from datasets import ClassLabel, Dataset, Features, Sequence, Value

OUT = "test/fixtures/parquet"
NER_TRAIN, NER_DEV = 60, 20  # sentences
CLS_TRAIN, CLS_DEV = 60, 20  # records


def conll_sentences(path, n):
    out, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    out.append((words, tags))
                words, tags = [], []
                continue
            fields = line.split()
            if fields[0] == "-DOCSTART-":
                continue
            words.append(fields[0])
            tags.append(fields[-1])
    if words:
        out.append((words, tags))
    return out[:n]


def jsonl_records(path, n):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()][:n]


def main():
    os.makedirs(OUT, exist_ok=True)
    train = conll_sentences("examples/ner/data/train.txt", NER_TRAIN)
    dev = conll_sentences("examples/ner/data/dev.txt", NER_DEV)
    # CoNLL-2003's order, as in the Hub's conll2003 (not sorted: the names come from the metadata)
    tag_names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    ner_features = Features(
        {"id": Value("string"), "tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=tag_names))}
    )
    for name, sents in (("ner-train", train), ("ner-dev", dev)):
        rows = {"id": [str(i) for i in range(len(sents))], "tokens": [w for w, _ in sents], "ner_tags": [[tag_names.index(t) for t in ts] for _, ts in sents]}
        Dataset.from_dict(rows, features=ner_features).to_parquet(f"{OUT}/{name}.parquet")  # snappy, as the Hub's conversion
    # tags as strings, no ClassLabel: the names are the values
    Dataset.from_dict({"tokens": [w for w, _ in dev], "ner_tags": [t for _, t in dev]}).to_parquet(f"{OUT}/ner-dev-strings.parquet")

    ctrain = jsonl_records("examples/textcls/data/train.jsonl", CLS_TRAIN)
    cdev = jsonl_records("examples/textcls/data/dev.jsonl", CLS_DEV)
    class_names = sorted({r["label"] for r in ctrain + cdev}, reverse=True)  # not the sorted order the reader would pick
    cls_features = Features({"text": Value("string"), "label": ClassLabel(names=class_names)})
    for name, recs in (("cls-train", ctrain), ("cls-dev", cdev)):
        rows = {"text": [r["text"] for r in recs], "label": [class_names.index(r["label"]) for r in recs]}
        ds = Dataset.from_dict(rows, features=cls_features)
        if name == "cls-train":
            ds.to_parquet(f"{OUT}/{name}.parquet")
        else:  # zstd (hyparquet-compressors), the same `huggingface` metadata
            pq.write_table(ds.data.table, f"{OUT}/{name}.parquet", compression="zstd")

    # bad files: integer labels without names, a missing column, wrong types
    Dataset.from_dict({"text": [r["text"] for r in cdev], "label": [class_names.index(r["label"]) for r in cdev]}).to_parquet(
        f"{OUT}/cls-int-no-names.parquet"
    )
    Dataset.from_dict({"sentence": [r["text"] for r in cdev], "label": [r["label"] for r in cdev]}).to_parquet(f"{OUT}/cls-no-text.parquet")
    Dataset.from_dict({"tokens": [" ".join(w) for w, _ in dev], "ner_tags": [t for _, t in dev]}).to_parquet(f"{OUT}/ner-tokens-string.parquet")
    Dataset.from_dict({"tokens": [w for w, _ in dev], "ner_tags": [t[:-1] for _, t in dev]}).to_parquet(f"{OUT}/ner-length-mismatch.parquet")
    # BIOES tags (read as IOB2, like CoNLL) and a tag that is no tag
    Dataset.from_dict({"tokens": [["Rifael", "Elvisaer", "arrived", "in", "Rarastan"]], "ner_tags": [["B-PER", "E-PER", "O", "O", "S-LOC"]]}).to_parquet(
        f"{OUT}/ner-bioes.parquet"
    )
    Dataset.from_dict({"tokens": [["a", "b"], ["Rarastan", "c"]], "ner_tags": [["O", "O"], ["LOC", "O"]]}).to_parquet(f"{OUT}/ner-bad-tag.parquet")
    print("datasets", datasets.__version__, "wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
