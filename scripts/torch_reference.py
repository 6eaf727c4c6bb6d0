#!/usr/bin/env python3
"""PyTorch reference numbers for the engine's golden tests.

Builds small models with fixed weights -- an MLP (Linear/ReLU) and a 2-layer BERT-style
transformer encoder (embeddings, LayerNorm, attention with a padding mask, GELU, dropout off,
token-classification head, cross-entropy with ignore_index -100) -- and runs 5 optimizer steps
(AdamW with weight decay on weights only and global-norm clipping; SGD with momentum for the MLP),
with a different learning rate each step. It writes the initial parameters, the batches, the
losses, the gradient norms, the step-1 gradients and the final parameters to
test/fixtures/torch_reference.json. The tests read that file and never need PyTorch.

Run (Debian): apt-get install python3-torch libopenblas0-pthread
              /usr/bin/python3 scripts/torch_reference.py
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch_reference.json")
STEPS = 5
LRS = [1e-2, 8e-3, 6e-3, 4e-3, 2e-3]


def tensor_json(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def int_json(t):
    return {"shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}


# ---- models (functional, parameters in a dict with Hugging Face / torch names) -------------------

def mlp_forward(P, x, layers):
    h = x
    for i in range(layers):
        h = F.linear(h, P[f"fc{i}.weight"], P[f"fc{i}.bias"])
        if i + 1 < layers:
            h = F.relu(h)
    return h


def mlp_params(sizes):
    P = {}
    for i in range(len(sizes) - 1):
        P[f"fc{i}.weight"] = torch.randn(sizes[i + 1], sizes[i]) * 0.3
        P[f"fc{i}.bias"] = torch.randn(sizes[i + 1]) * 0.1
    return P


def bert_params(c):
    H, I = c["hidden"], c["intermediate"]
    P = {}

    def w(name, *shape):
        P[name] = torch.randn(*shape) * 0.2

    def ln(prefix):
        P[prefix + ".weight"] = 1 + 0.1 * torch.randn(H)
        P[prefix + ".bias"] = 0.1 * torch.randn(H)

    def lin(prefix, o, i):
        w(prefix + ".weight", o, i)
        P[prefix + ".bias"] = 0.1 * torch.randn(o)

    w("bert.embeddings.word_embeddings.weight", c["vocabSize"], H)
    w("bert.embeddings.position_embeddings.weight", c["maxPositions"], H)
    w("bert.embeddings.token_type_embeddings.weight", c["typeVocabSize"], H)
    ln("bert.embeddings.LayerNorm")
    for i in range(c["layers"]):
        p = f"bert.encoder.layer.{i}"
        for n in ("query", "key", "value"):
            lin(f"{p}.attention.self.{n}", H, H)
        lin(f"{p}.attention.output.dense", H, H)
        ln(f"{p}.attention.output.LayerNorm")
        lin(f"{p}.intermediate.dense", I, H)
        lin(f"{p}.output.dense", H, I)
        ln(f"{p}.output.LayerNorm")
    lin("classifier", c["numLabels"], H)
    return P


def bert_token_logits(P, c, ids, mask):
    B, T = ids.shape
    H, nh = c["hidden"], c["heads"]
    d = H // nh
    eps = c["layerNormEps"]
    ln = lambda x, p: F.layer_norm(x, (H,), P[p + ".weight"], P[p + ".bias"], eps)
    x = (P["bert.embeddings.word_embeddings.weight"][ids]
         + P["bert.embeddings.position_embeddings.weight"][torch.arange(T)]
         + P["bert.embeddings.token_type_embeddings.weight"][0])
    x = ln(x.reshape(B * T, H), "bert.embeddings.LayerNorm")
    bias = ((1.0 - mask.float()) * -10000.0).reshape(B, 1, 1, T)
    for i in range(c["layers"]):
        L = f"bert.encoder.layer.{i}"
        lin = lambda t, n: F.linear(t, P[f"{L}.{n}.weight"], P[f"{L}.{n}.bias"])
        q = (lin(x, "attention.self.query") / math.sqrt(d)).reshape(B, T, nh, d).permute(0, 2, 1, 3)
        k = lin(x, "attention.self.key").reshape(B, T, nh, d).permute(0, 2, 3, 1)
        v = lin(x, "attention.self.value").reshape(B, T, nh, d).permute(0, 2, 1, 3)
        probs = torch.softmax(q @ k + bias, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B * T, H)
        x = ln(lin(ctx, "attention.output.dense") + x, f"{L}.attention.output.LayerNorm")
        h = F.gelu(lin(x, "intermediate.dense"))
        x = ln(lin(h, "output.dense") + x, f"{L}.output.LayerNorm")
    return F.linear(x, P["classifier.weight"], P["classifier.bias"])


# ---- training ------------------------------------------------------------------------------------

def train(P, loss_fn, batches, optimizer, clip):
    init = {k: tensor_json(v) for k, v in P.items()}
    params = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    decay = [v for k, v in params.items() if k.endswith(".weight") and "LayerNorm" not in k]
    no_decay = [v for k, v in params.items() if not (k.endswith(".weight") and "LayerNorm" not in k)]
    if optimizer["kind"] == "adamw":
        opt = torch.optim.AdamW([
            {"params": decay, "weight_decay": optimizer["weightDecay"]},
            {"params": no_decay, "weight_decay": 0.0},
        ], lr=LRS[0], betas=(optimizer["beta1"], optimizer["beta2"]), eps=optimizer["eps"])
    else:
        opt = torch.optim.SGD([
            {"params": decay, "weight_decay": optimizer["weightDecay"]},
            {"params": no_decay, "weight_decay": 0.0},
        ], lr=LRS[0], momentum=optimizer["momentum"])
    losses, norms, grads1 = [], [], None
    for s in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = LRS[s]
        opt.zero_grad()
        loss = loss_fn(params, s)
        loss.backward()
        if s == 0:
            grads1 = {k: tensor_json(v.grad) for k, v in params.items()}
        if clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(list(params.values()), clip)
        else:
            norm = torch.norm(torch.stack([torch.norm(v.grad) for v in params.values()]))
        opt.step()
        losses.append(float(loss))
        norms.append(float(norm))
    return {
        "optimizer": optimizer, "clipNorm": clip, "lrs": LRS,
        "initial": init, "losses": losses, "gradNorms": norms, "gradsStep1": grads1,
        "final": {k: tensor_json(v) for k, v in params.items()},
    }


def main():
    out = {"torch": torch.__version__, "note": "generated by scripts/torch_reference.py; do not edit"}
    adamw = {"kind": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.1}

    sizes = [12, 16, 16, 5]
    B = 6
    P = mlp_params(sizes)
    xs = torch.randn(STEPS, B, sizes[0])
    ys = torch.randint(0, sizes[-1], (STEPS, B))
    mlp_loss = lambda params, s: F.cross_entropy(mlp_forward(params, xs[s], len(sizes) - 1), ys[s])
    batches = {"x": tensor_json(xs), "y": int_json(ys)}
    out["mlp"] = {"sizes": sizes, "batch": batches, **train(P, mlp_loss, batches, adamw, 0.5)}
    sgd = {"kind": "sgd", "momentum": 0.9, "weightDecay": 0.05}
    out["mlp_sgd"] = {"sizes": sizes, "batch": batches, **train(P, mlp_loss, batches, sgd, 1.0)}

    c = {"vocabSize": 30, "hidden": 16, "layers": 2, "heads": 2, "intermediate": 32, "maxPositions": 10,
         "typeVocabSize": 2, "layerNormEps": 1e-12, "hiddenDropout": 0.0, "attentionDropout": 0.0, "numLabels": 4}
    Bt, T = 3, 8
    P = bert_params(c)
    ids = torch.randint(1, c["vocabSize"], (STEPS, Bt, T))
    lengths = torch.tensor([[8, 5, 3], [6, 8, 2], [4, 4, 7], [8, 1, 5], [3, 6, 8]])
    mask = (torch.arange(T)[None, None, :] < lengths[:, :, None]).long()
    ids = ids * mask
    labels = torch.randint(0, c["numLabels"], (STEPS, Bt, T))
    labels = torch.where(mask.bool(), labels, torch.full_like(labels, -100))
    labels[0, 0, 2] = -100  # an ignored label on a real token, as sub-word continuations are

    def enc_loss(params, s):
        logits = bert_token_logits(params, c, ids[s], mask[s])
        return F.cross_entropy(logits, labels[s].reshape(-1), ignore_index=-100)

    batches = {"input_ids": int_json(ids), "attention_mask": int_json(mask), "labels": int_json(labels)}
    out["encoder"] = {"config": c, "batch": batches, **train(P, enc_loss, batches, adamw, 1.0)}

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {os.path.relpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
