#!/usr/bin/env python3
"""Per-step losses of a Hugging Face BERT token classifier trained by PyTorch, for test/steps_reference.test.ts.

Writes, all from this script:
  test/fixtures/steps-reference/       a tiny random BertForTokenClassification saved by transformers
                                       (config.json, model.safetensors, tokenizer files) and train.txt,
                                       sentences of examples/ner/data/train.txt (CoNLL)
  test/fixtures/steps_reference.json   the training settings, the input ids of every training example,
                                       and each optimizer step's loss, grad norm (before clipping) and lr

The training is the Hugging Face Trainer's, spelled out so that nothing is left to a sampler:
batches of `batch_size` sentences in file order (the trainer's `training.shuffle: false`), the last
one short; labels on the first sub-token of each word (-100 elsewhere); torch.optim.AdamW with
weight decay on every parameter but biases and LayerNorm weights; transformers'
get_linear_schedule_with_warmup; clip_grad_norm_ at 1.0; dropout 0. The label ids are the
trainer's label order (O, then B-/I- by entity type) and the checkpoint's id2label says the same,
so the comparison does not depend on how a checkpoint's labels are matched to the data's.

Run: scripts/setup_reference_venv.sh && .cache/py/bin/python scripts/step_losses_reference.py
The tests read the committed files and never need PyTorch.
"""
import collections
import json
import os
import sys

import torch
import transformers
from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast, get_linear_schedule_with_warmup

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCE = os.path.join(ROOT, "examples", "ner", "data", "train.txt")
FOLDER = os.path.join(ROOT, "test", "fixtures", "steps-reference")
OUT = os.path.join(ROOT, "test", "fixtures", "steps_reference.json")

# What the trainer's config says too (the test writes its YAML from these).
SETTINGS = {
    "batch_size": 8,
    "epochs": 3,
    "lr": 1e-3,
    "weight_decay": 0.01,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_eps": 1e-8,
    "warmup_steps": 2,
    "schedule": "linear",
    "grad_clip": 1.0,
    "max_length": 48,
    "no_decay": ["bias", "LayerNorm.weight"],
}
SENTENCES = 37  # 5 batches of 8 per epoch, the last of 5
LABELS = ["O", "B-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]  # the source's, in the trainer's order
VOCAB_WORDS = 150


def read_conll(path):
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            if line.startswith("-DOCSTART-"):
                continue
            cols = line.split()
            words.append(cols[0])
            tags.append(cols[-1])
    if words:
        sentences.append((words, tags))
    return sentences


def main():
    torch.manual_seed(11)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    # Vocabulary: special tokens, single characters and their ## forms (so every word has pieces),
    # and the most frequent lower-cased words of the source (so common words are one piece).
    source = read_conll(SOURCE)
    counts = collections.Counter(w.lower() for words, _ in source[:400] for w in words)
    chars = sorted({c for w in counts for c in w if c.isascii() and c.isprintable()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars if c.isalnum()]
    vocab += [w for w, _ in counts.most_common() if len(w) > 1 and w not in vocab][:VOCAB_WORDS]
    os.makedirs(FOLDER, exist_ok=True)
    with open(os.path.join(FOLDER, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab_file=os.path.join(FOLDER, "vocab.txt"), do_lower_case=True)

    # Training sentences, in file order: the first one with each label, then the first others,
    # all of them short enough for max_length (no windows).
    fits = [i for i, (words, tags) in enumerate(source)
            if len(tok(words, is_split_into_words=True)["input_ids"]) <= SETTINGS["max_length"] and all(t in LABELS for t in tags)]
    picked = {next(i for i in fits if label in source[i][1]) for label in LABELS}
    picked |= set([i for i in fits if i not in picked][: SENTENCES - len(picked)])
    chosen = [source[i] for i in sorted(picked)]
    missing = set(LABELS) - {t for _, tags in chosen for t in tags}
    assert not missing, f"the chosen sentences lack {missing}"
    with open(os.path.join(FOLDER, "train.txt"), "w", encoding="utf-8") as f:
        for words, tags in chosen:
            f.write("".join(f"{w}\t{t}\n" for w, t in zip(words, tags)) + "\n")

    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)},
    )
    model = BertForTokenClassification(config)
    model.save_pretrained(FOLDER, safe_serialization=True)
    tok.save_pretrained(FOLDER)

    label_id = {l: i for i, l in enumerate(LABELS)}
    examples = []
    for words, tags in chosen:
        enc = tok(words, is_split_into_words=True)
        labels, prev = [], None
        for w in enc.word_ids():
            labels.append(-100 if w is None or w == prev else label_id[tags[w]])
            prev = w
        examples.append((enc["input_ids"], labels))

    B = SETTINGS["batch_size"]
    per_epoch = (len(examples) + B - 1) // B
    total = per_epoch * SETTINGS["epochs"]
    no_decay = SETTINGS["no_decay"]
    named = list(model.named_parameters())
    groups = [
        {"params": [p for n, p in named if not any(n.endswith(s) for s in no_decay)], "weight_decay": SETTINGS["weight_decay"]},
        {"params": [p for n, p in named if any(n.endswith(s) for s in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=SETTINGS["lr"], betas=(SETTINGS["adam_beta1"], SETTINGS["adam_beta2"]), eps=SETTINGS["adam_eps"])
    sched = get_linear_schedule_with_warmup(opt, SETTINGS["warmup_steps"], total)
    model.train()
    steps = []
    for _ in range(SETTINGS["epochs"]):
        for b in range(0, len(examples), B):
            batch = examples[b : b + B]
            T = max(len(ids) for ids, _ in batch)  # padded to the longest, as DataCollatorForTokenClassification
            ids = torch.tensor([i + [0] * (T - len(i)) for i, _ in batch])
            mask = torch.tensor([[1] * len(i) + [0] * (T - len(i)) for i, _ in batch])
            labels = torch.tensor([l + [-100] * (T - len(l)) for _, l in batch])
            lr = sched.get_last_lr()[0]
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids), labels=labels)
            out.loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), SETTINGS["grad_clip"])
            opt.step()
            sched.step()
            opt.zero_grad()
            steps.append({"step": len(steps) + 1, "loss": float(out.loss.detach()), "gradNorm": float(norm), "lr": lr})

    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({
            "torch": torch.__version__, "transformers": transformers.__version__, "settings": SETTINGS, "labels": LABELS,
            "inputIds": [ids for ids, _ in examples], "steps": steps,
        }, f, indent=1)
    print(f"wrote {os.path.relpath(FOLDER)} and {os.path.relpath(OUT)}: {len(steps)} steps, "
          f"loss {steps[0]['loss']:.4f} → {steps[-1]['loss']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
