#!/usr/bin/env python3
"""A tiny random BERT token classifier in Hugging Face layout, and PyTorch's numbers for it.

Writes test/fixtures/hf-tiny-bert/ (config.json, model.safetensors with Hugging Face names,
vocab.txt, tokenizer_config.json) and test/fixtures/hf_reference.json with: the WordPiece ids of a
sentence (greedy longest-match-first, as BERT's tokenizer does), logits for a padded batch, and
the losses and final classifier weights of 3 AdamW steps (weight decay on weights only, clipping
at 1.0, dropout off); and test/fixtures/hf_reference_final.safetensors with every parameter after
those steps. The tests read these files and never need PyTorch.

Run (Debian): apt-get install python3-torch libopenblas0-pthread
              /usr/bin/python3 scripts/hf_reference.py
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import bert_params, bert_token_logits  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FOLDER = os.path.join(ROOT, "test", "fixtures", "hf-tiny-bert")
OUT = os.path.join(ROOT, "test", "fixtures", "hf_reference.json")
FINAL = os.path.join(ROOT, "test", "fixtures", "hf_reference_final.safetensors")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "bank", "of", "in", "met", "said", ".", ",",
         "mar", "##ia", "##io", "ro", "##ssi", "lis", "##bon", "north", "##wind", "un", "##aff", "##able",
         "a", "b", "c", "d", "e", "##a", "##b", "##c", "##d", "##e", "today", "people", "city", "new", "york"]
LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
SENTENCE = ["Maria", "Rossi", "of", "Northwind", "Bank", "met", "people", "in", "Lisbon", "today", "."]


def wordpiece(word, vocab):
    """Greedy longest-match-first, as BertTokenizer's WordpieceTokenizer (after lower-casing)."""
    word = word.lower()
    ids, start = [], 0
    while start < len(word):
        end, cur = len(word), None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                cur = piece
                break
            end -= 1
        if cur is None:
            return [vocab["[UNK]"]]
        ids.append(vocab[cur])
        start = end
    return ids


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(3)
    torch.set_num_threads(1)
    c = {"vocabSize": len(VOCAB), "hidden": 16, "layers": 2, "heads": 2, "intermediate": 32, "maxPositions": 32,
         "typeVocabSize": 2, "layerNormEps": 1e-12, "hiddenDropout": 0.0, "attentionDropout": 0.0, "numLabels": len(LABELS)}
    P = bert_params(c)
    os.makedirs(FOLDER, exist_ok=True)
    save_safetensors(os.path.join(FOLDER, "model.safetensors"), P)
    with open(os.path.join(FOLDER, "config.json"), "w") as f:
        json.dump({
            "architectures": ["BertForTokenClassification"], "model_type": "bert", "vocab_size": len(VOCAB),
            "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32,
            "max_position_embeddings": 32, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
            "id2label": {str(i): l for i, l in enumerate(LABELS)}, "label2id": {l: i for i, l in enumerate(LABELS)},
        }, f, indent=2)
    with open(os.path.join(FOLDER, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(FOLDER, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer"}, f)

    vocab = {w: i for i, w in enumerate(VOCAB)}
    word_ids = [wordpiece(w, vocab) for w in SENTENCE]
    ids = [vocab["[CLS]"]] + [i for w in word_ids for i in w] + [vocab["[SEP]"]]
    T = len(ids)
    short = ids[:6] + [vocab["[SEP]"]]
    batch = torch.tensor([ids, short + [0] * (T - len(short))])
    mask = torch.tensor([[1] * T, [1] * len(short) + [0] * (T - len(short))])
    logits = bert_token_logits(P, c, batch, mask).reshape(2, T, -1)

    labels = torch.randint(0, len(LABELS), (2, T))
    labels[mask == 0] = -100
    labels[:, 0] = -100
    params = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    decay = [v for k, v in params.items() if k.endswith(".weight") and "LayerNorm" not in k]
    rest = [v for k, v in params.items() if not (k.endswith(".weight") and "LayerNorm" not in k)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(bert_token_logits(params, c, batch, mask), labels.reshape(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
        losses.append(float(loss))
    out = {
        "torch": torch.__version__, "sentence": SENTENCE, "wordIds": word_ids, "inputIds": batch.tolist(), "attentionMask": mask.tolist(),
        "logits": [float(v) for v in logits.reshape(-1).tolist()], "labels": labels.tolist(), "losses": losses,
        "finalClassifier": [float(v) for v in params["classifier.weight"].detach().reshape(-1).tolist()],
    }
    with open(OUT, "w") as f:
        json.dump(out, f)
    # every parameter after the 3 steps (the test compares all of them, not only the classifier)
    save_safetensors(FINAL, {k: v.detach() for k, v in params.items()})
    print(f"wrote {os.path.relpath(FOLDER)}, {os.path.relpath(OUT)} and {os.path.relpath(FINAL)}", file=sys.stderr)


if __name__ == "__main__":
    main()
