"""TensorBoard's own reader (EventAccumulator) against a run's metrics.jsonl.

usage: python tensorboard_check.py TENSORBOARD_DIR METRICS.json   (the records, as a JSON list)
Prints a JSON list of problems (empty: every scalar is there, at its step and value, and no other).

The tags are the run-folder contract (docs/architecture.md): a train record is train/loss,
train/lr, train/grad_norm and train/tokens_per_sec; a validation record's metrics are eval/<metric>,
a test record's test/<metric>. Values are compared as the float32 an event file holds.
"""

import json
import math
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TRAIN_TAGS = {"train/loss": "loss", "train/lr": "lr", "train/grad_norm": "gradNorm", "train/tokens_per_sec": "tokensPerSec"}


def expected(records):
    want = {}
    for r in records:
        if r["type"] == "train":
            values = {tag: r.get(field) for tag, field in TRAIN_TAGS.items()}
        elif r["type"] == "eval":
            prefix = "eval" if r["split"] == "validation" else "test"
            values = {f"{prefix}/{k}": v for k, v in r["metrics"].items()}
        else:
            continue
        for tag, v in values.items():
            if v is not None and math.isfinite(v):
                want.setdefault(tag, {})[r["step"]] = float(np.float32(v))
    return want


def main(tb_dir, metrics_file):
    with open(metrics_file, encoding="utf-8") as f:
        want = expected(json.load(f))
    acc = EventAccumulator(tb_dir, size_guidance={"scalars": 0})
    acc.Reload()
    got = {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}
    problems = []
    for tag in sorted(set(want) | set(got)):
        if tag not in got:
            problems.append(f"{tag}: in metrics.jsonl, not in the event files")
            continue
        if tag not in want:
            problems.append(f"{tag}: in the event files, not in metrics.jsonl")
            continue
        if sorted(got[tag]) != sorted(want[tag]):
            problems.append(f"{tag}: steps {sorted(got[tag])} vs metrics.jsonl {sorted(want[tag])}")
            continue
        bad = [(s, got[tag][s], want[tag][s]) for s in want[tag] if got[tag][s] != want[tag][s]]
        if bad:
            problems.append(f"{tag}: values differ at (step, event, metrics.jsonl) {bad[:3]}")
    if not want:
        problems.append("metrics.jsonl has no scalars")
    print(json.dumps(problems))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
