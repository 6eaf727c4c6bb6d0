"""Transformers, tokenizers, onnx and onnxruntime judge run folders our trainer wrote.

usage: python check_runs.py SPEC.json   (prints one JSON object: {run name: {check: [problems]}})

SPEC.json is a list of runs: {name, runDir, task, labels, examples, ourIds, eval, predict}, where
examples are the test split's ({words, tags} or {text, label}), ourIds our tokenizer's input ids for
each, eval the `finetune eval --json` record and predict [{text, entities}] from `finetune predict --json`.
Each check returns the problems it found (empty: passed); the node:test driver asserts per check.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer, pipeline
from transformers.utils import logging as hf_logging

TOL = 1e-5
torch.set_num_threads(1)


class Warnings:
    """The warnings transformers logs while loading (a missing or unexpected key is one)."""

    def __init__(self):
        self.lines = []
        import logging

        handler = logging.Handler()
        handler.emit = lambda record: self.lines.append(record.getMessage())
        hf_logging.get_logger().addHandler(handler)
        hf_logging.set_verbosity_warning()


def model_class(task):
    return AutoModelForTokenClassification if task == "token-classification" else AutoModelForSequenceClassification


def load(run, which, warnings):
    """checkpoints/<which> through from_pretrained; the problems: loading-info keys and warnings."""
    folder = Path(run["runDir"]) / "checkpoints" / which
    warnings.lines.clear()
    model, info = model_class(run["task"]).from_pretrained(folder, output_loading_info=True)
    problems = [f"{which}: {k}: {v}" for k, v in info.items() if v]
    problems += [f"{which}: transformers warned: {w}" for w in warnings.lines if "key" in w.lower() or "initialized" in w.lower()]
    id2label = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if id2label != run["labels"]:
        problems.append(f"{which}: id2label {id2label} != the run's labels {run['labels']}")
    model.eval()
    return model, problems


def tokenizer_of(run):
    return AutoTokenizer.from_pretrained(Path(run["runDir"]) / "tokenizer")


def encode(tok, run, example):
    if run["task"] == "token-classification":
        return tok(example["words"], is_split_into_words=True)
    return tok(example["text"])


def batch(ids_list, pad):
    T = max(len(i) for i in ids_list)
    ids = np.full((len(ids_list), T), pad, dtype=np.int64)
    mask = np.zeros((len(ids_list), T), dtype=np.int64)
    for r, i in enumerate(ids_list):
        ids[r, : len(i)] = i
        mask[r, : len(i)] = 1
    return ids, mask


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def check_run(run, warnings):
    out = {}
    best, out["from_pretrained"] = load(run, "best", warnings)
    _, last_problems = load(run, "last", warnings)
    out["from_pretrained"] += last_problems

    tok = tokenizer_of(run)
    problems = [] if tok.is_fast else [f"AutoTokenizer gave a slow tokenizer ({type(tok).__name__})"]
    encodings = [encode(tok, run, e) for e in run["examples"]]
    for k, (enc, ours) in enumerate(zip(encodings, run["ourIds"])):
        if enc["input_ids"] != ours:
            problems.append(f"example {k}: Hugging Face ids {enc['input_ids']} != ours {ours}")
    out["tokenizer"] = problems

    # Logits: Transformers (checkpoints/best, the weights model.onnx was exported from) against
    # model.onnx in onnxruntime, on the test split padded to one batch; only real positions.
    ids, mask = batch([e["input_ids"] for e in encodings], tok.pad_token_id)
    with torch.no_grad():
        theirs = best(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
    sess = ort.InferenceSession(str(Path(run["runDir"]) / "model.onnx"), providers=["CPUExecutionProvider"])
    ours = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    problems = []
    if ours.shape != theirs.shape:
        problems.append(f"model.onnx logits {ours.shape} vs Transformers {theirs.shape}")
    else:
        real = mask.astype(bool) if run["task"] == "token-classification" else slice(None)
        err = rel_err(ours[real], theirs[real])
        if not err <= TOL:
            problems.append(f"model.onnx logits differ from Transformers' by {err:.2e} of their scale (> {TOL})")
    out["onnx_logits"] = problems

    # `finetune eval`'s loss and accuracy recomputed from Transformers' logits: token classification
    # reads each word's first sub-token (word_ids from the Hugging Face tokenizer), as run_ner.py.
    label_id = {l: i for i, l in enumerate(run["labels"])}
    rows = []
    for r, (e, enc) in enumerate(zip(run["examples"], encodings)):
        if run["task"] == "token-classification":
            seen = set()
            for t, w in enumerate(enc.word_ids()):
                if w is not None and w not in seen:
                    seen.add(w)
                    rows.append((theirs[r, t], label_id[e["tags"][w]]))
        else:
            rows.append((theirs[r], label_id[e["label"]]))
    logits = np.stack([l for l, _ in rows]).astype(np.float64)
    gold = np.array([g for _, g in rows])
    logz = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    loss = float(np.mean(logz - logits[np.arange(len(gold)), gold]))
    acc = float(np.mean(logits.argmax(1) == gold))
    ev = run["eval"]["metrics"]
    problems = []
    if not abs(loss - ev["loss"]) <= TOL * abs(loss):
        problems.append(f"eval loss {ev['loss']} vs Transformers' {loss} (relative {abs(loss - ev['loss']) / abs(loss):.2e})")
    if abs(acc - ev["accuracy"]) > 1e-12:
        problems.append(f"eval accuracy {ev['accuracy']} vs Transformers' {acc}")
    out["eval"] = problems

    if run["task"] == "token-classification":
        pipe = pipeline("token-classification", model=best, tokenizer=tok, aggregation_strategy="first", device="cpu")
        problems = []
        for p in run["predict"]:
            theirs_e = [(e["entity_group"], "".join(p["text"][e["start"] : e["end"]].split())) for e in pipe(p["text"])]
            ours_e = [(e["type"], "".join(e["text"].split())) for e in p["entities"]]
            if theirs_e != ours_e:
                problems.append(f"{p['text']!r}: pipeline {theirs_e} vs finetune predict {ours_e}")
        out["pipeline"] = problems

    problems = []
    try:
        onnx.checker.check_model(str(Path(run["runDir"]) / "model.onnx"), full_check=True)
    except Exception as e:  # noqa: BLE001 -- the checker's own message is the report
        problems.append(f"onnx.checker: {type(e).__name__}: {e}")
    out["onnx_checker"] = problems
    return out


def main(spec_file):
    runs = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    warnings = Warnings()
    print(json.dumps({run["name"]: check_run(run, warnings) for run in runs}))


if __name__ == "__main__":
    main(sys.argv[1])
