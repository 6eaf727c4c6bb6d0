#!/usr/bin/env python3
"""A tiny BERT token classifier made and saved by Transformers, and what Transformers, tokenizers and
PEFT compute with it, for test/hf_golden.test.ts and test/labels.test.ts.

Writes test/fixtures/hf-tiny-bert/ (BertForTokenClassification(config).save_pretrained: config.json,
model.safetensors; BertTokenizerFast.save_pretrained: tokenizer.json, tokenizer_config.json, and the
vocab.txt it was built from) and test/fixtures/hf_reference.json with:
- the tokenizer's ids of every word of a sentence and of a corpus with accents, CJK, emoji and long
  words (is_split_into_words=True, as run_ner.py encodes);
- the model's logits for a padded batch;
- 5 AdamW steps of the model (weight decay on all but biases and LayerNorm weights,
  get_linear_schedule_with_warmup, clip_grad_norm_ 1.0, dropout 0): the learning rate of each step,
  losses, and the final classifier weights;
- the same 5 steps with PEFT LoRA (LoraConfig r=4, alpha=8, targets query and value, dropout 0,
  the classifier trained in full): PEFT's initial adapters, the losses and the final adapters;
and test/fixtures/hf_reference_final.safetensors with every parameter after the 5 AdamW steps.
The tests read these files and never need Python.

Run: PIP_INDEX_URL=file:///opt/pypi/simple test/compat/setup.sh && .cache/compat-py/bin/python scripts/hf_reference.py
"""
import json
import os
import sys

import peft
import tokenizers
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast, get_linear_schedule_with_warmup
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FOLDER = os.path.join(ROOT, "test", "fixtures", "hf-tiny-bert")
OUT = os.path.join(ROOT, "test", "fixtures", "hf_reference.json")
FINAL = os.path.join(ROOT, "test", "fixtures", "hf_reference_final.safetensors")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "bank", "of", "in", "met", "said", ".", ",",
         "mar", "##ia", "##io", "ro", "##ssi", "lis", "##bon", "north", "##wind", "un", "##aff", "##able",
         "a", "b", "c", "d", "e", "##a", "##b", "##c", "##d", "##e", "today", "people", "city", "new", "york",
         "cafe", "zu", "##ric", "##h", "北", "京", "##s", "pneu", "##mono", "##ultra", "##micro", "##scopic"]
LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
SENTENCE = ["Maria", "Rossi", "of", "Northwind", "Bank", "met", "people", "in", "Lisbon", "today", "."]
# Accents (stripped by an uncased BERT), CJK (one piece per character), emoji and symbols (not in the
# vocabulary), a long word of many pieces, one over max_input_chars_per_word (100) and mixed punctuation.
CORPUS = [
    ["Café", "Zürich", "MARÍA", "naïve", "Ørsted"],
    ["北京", "in", "東京", "today"],
    ["🙂", "people", "👩‍💻", "☃", "new🙂york"],
    ["Pneumonoultramicroscopicsilicovolcanoconiosis", "Unaffable", "a" * 101],
    ["U.S.", "e-mail", "don't", "(", "x@y.com", ")"],
]
STEPS, WARMUP, LR, WD, CLIP = 5, 2, 1e-3, 0.01, 1.0
NO_DECAY = ("bias", "LayerNorm.weight")


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def word_ids(tok, words):
    enc = tok(words, is_split_into_words=True, add_special_tokens=False)
    out = [[] for _ in words]
    for i, w in zip(enc["input_ids"], enc.word_ids()):
        out[w].append(i)
    return out


def train(model, named, batch, mask, labels):
    """5 steps as the Hugging Face Trainer takes them, spelled out; returns lrs and losses."""
    groups = [
        {"params": [p for n, p in named if not n.endswith(NO_DECAY)], "weight_decay": WD},
        {"params": [p for n, p in named if n.endswith(NO_DECAY)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR)
    sched = get_linear_schedule_with_warmup(opt, WARMUP, STEPS)
    lrs, losses = [], []
    model.train()  # dropout is 0: train mode changes nothing but is what a training loop uses
    for _ in range(STEPS):
        lrs.append(sched.get_last_lr()[0])
        loss = model(input_ids=batch, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in named], CLIP)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    return lrs, losses


def main():
    torch.manual_seed(3)
    torch.set_num_threads(1)
    os.makedirs(FOLDER, exist_ok=True)
    for f in os.listdir(FOLDER):
        os.remove(os.path.join(FOLDER, f))
    with open(os.path.join(FOLDER, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(VOCAB) + "\n")
    tok = BertTokenizerFast(vocab_file=os.path.join(FOLDER, "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(FOLDER)

    config = BertConfig(
        vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)},
    )
    model = BertForTokenClassification(config)
    with torch.no_grad():  # weights of a larger scale than the 0.02 init, so the logits differ
        for n, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0, 0.2)
    model.save_pretrained(FOLDER)

    ids = tok(SENTENCE, is_split_into_words=True)["input_ids"]
    T = len(ids)
    short = ids[:6] + [tok.sep_token_id]
    batch = torch.tensor([ids, short + [tok.pad_token_id] * (T - len(short))])
    mask = torch.tensor([[1] * T, [1] * len(short) + [0] * (T - len(short))])
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=batch, attention_mask=mask).logits

    labels = torch.randint(0, len(LABELS), (2, T))
    labels[mask == 0] = -100
    labels[:, 0] = -100
    base_state = {k: v.clone() for k, v in model.state_dict().items()}
    lrs, losses = train(model, list(model.named_parameters()), batch, mask, labels)
    final_classifier = flat(model.classifier.weight)
    # Every parameter after the 5 steps, not only the head: a wrong gradient anywhere shows.
    save_file({n: p.detach().contiguous() for n, p in model.named_parameters()}, FINAL)

    # LoRA through PEFT on the same (reloaded) base model and batch.
    model.load_state_dict(base_state)
    torch.manual_seed(5)
    lora = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["query", "value"], modules_to_save=["classifier"]))
    canon = lambda n: n.replace("base_model.model.", "").replace(".default", "").replace("classifier.modules_to_save.", "classifier.")
    trained = [(canon(n), p) for n, p in lora.named_parameters() if p.requires_grad]
    lora_init = {n: {"shape": list(p.shape), "data": flat(p)} for n, p in trained}
    lora_lrs, lora_losses = train(lora, trained, batch, mask, labels)
    lora_final = {n: flat(p) for n, p in trained}

    out = {
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "peft": peft.__version__},
        "sentence": SENTENCE, "wordIds": word_ids(tok, SENTENCE),
        "corpus": [{"words": words, "wordIds": word_ids(tok, words)} for words in CORPUS],
        "inputIds": batch.tolist(), "attentionMask": mask.tolist(), "logits": flat(logits), "labels": labels.tolist(),
        "training": {"weightDecay": WD, "clip": CLIP, "noDecay": list(NO_DECAY), "lrs": lrs, "losses": losses, "finalClassifier": final_classifier},
        "lora": {"rank": 4, "alpha": 8, "targets": ["query", "value"], "initial": lora_init, "lrs": lora_lrs, "losses": lora_losses, "final": lora_final},
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f)
    print(f"wrote {os.path.relpath(FOLDER)}, {os.path.relpath(OUT)} and {os.path.relpath(FINAL)}", file=sys.stderr)


if __name__ == "__main__":
    main()
