"""Parquet written by Hugging Face `datasets` (Dataset.to_parquet, ClassLabel features), and how
`datasets` reads the same files back.

usage: python parquet_check.py OUT_DIR
Writes OUT_DIR/ner-{train,test}.parquet (tokens: list of strings, ner_tags: list of ClassLabel) and
OUT_DIR/cls-{train,test}.parquet (text, label: ClassLabel), then prints
{"names": {"ner": [...], "cls": [...]}, "rows": {file name: rows as load_dataset("parquet") gives
them, labels as their names}}.

The ClassLabel names are in an order that is not sorted and include a name no row uses, so a reader
that takes the names from the data instead of the features is caught.
"""

import json
import sys
from pathlib import Path

from datasets import ClassLabel, Dataset, Features, List, Value, load_dataset

NER_NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
CLS_NAMES = ["weather", "sports", "politics", "business", "science"]  # no row is science

NER = {
    "train": [
        (["Maria", "Rossi", "visited", "Lisbon", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"]),
        (["Northwind", "Bank", "hired", "Café", "Zürich", "staff"], ["B-ORG", "I-ORG", "O", "B-ORG", "I-ORG", "O"]),
        (["北京", "is", "far", "🙂"], ["B-LOC", "O", "O", "O"]),
        (["The", "Euro", "fell"], ["O", "B-MISC", "O"]),
    ],
    "test": [(["Ana", "Costa", "left", "Porto"], ["B-PER", "I-PER", "O", "B-LOC"])],
}
CLS = {
    "train": [("Storms closed roads .", "weather"), ("The match ended in a draw .", "sports"), ("Leaders met to discuss the treaty .", "politics"),
              ("Shares fell after the merger talks failed .", "business")],
    "test": [("Heavy rain is expected on Sunday .", "weather")],
}


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    ner_features = Features({"tokens": List(Value("string")), "ner_tags": List(ClassLabel(names=NER_NAMES))})
    cls_features = Features({"text": Value("string"), "label": ClassLabel(names=CLS_NAMES)})
    rows = {}
    for split, sentences in NER.items():
        ds = Dataset.from_dict({"tokens": [w for w, _ in sentences], "ner_tags": [[NER_NAMES.index(t) for t in tags] for _, tags in sentences]}, features=ner_features)
        ds.to_parquet(str(out / f"ner-{split}.parquet"))
    for split, records in CLS.items():
        ds = Dataset.from_dict({"text": [t for t, _ in records], "label": [CLS_NAMES.index(l) for _, l in records]}, features=cls_features)
        ds.to_parquet(str(out / f"cls-{split}.parquet"))
    # What datasets reads back from the files alone (features from their `huggingface` metadata).
    for kind in ("ner", "cls"):
        files = {split: str(out / f"{kind}-{split}.parquet") for split in ("train", "test")}
        loaded = load_dataset("parquet", data_files=files, cache_dir=str(out / ".hf-datasets-cache"))
        for split, ds in loaded.items():
            if kind == "ner":
                names = ds.features["ner_tags"].feature.names
                rows[f"{kind}-{split}.parquet"] = [{"words": r["tokens"], "tags": [names[t] for t in r["ner_tags"]]} for r in ds]
            else:
                names = ds.features["label"].names
                rows[f"{kind}-{split}.parquet"] = [{"text": r["text"], "label": names[r["label"]]} for r in ds]
    print(json.dumps({"names": {"ner": NER_NAMES, "cls": CLS_NAMES}, "rows": rows}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
