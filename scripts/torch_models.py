"""PyTorch versions of the engine's reference models (functional, parameters in a dict with
Hugging Face / torch names). Shared by scripts/torch_reference.py and bench/engine_torch.py."""
import math

import torch
import torch.nn.functional as F


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


def bert_token_logits(P, c, ids, mask, training=False, lora=None):
    """lora: optional {"scale": alpha/rank, "A": {prefix: (r, in)}, "B": {prefix: (out, r)}}, applied
    functionally as PEFT does without merging: y = x W^T + b + scale * (x A^T) B^T."""
    B, T = ids.shape
    H, nh = c["hidden"], c["heads"]
    d = H // nh
    eps = c["layerNormEps"]
    ln = lambda x, p: F.layer_norm(x, (H,), P[p + ".weight"], P[p + ".bias"], eps)
    x = (P["bert.embeddings.word_embeddings.weight"][ids]
         + P["bert.embeddings.position_embeddings.weight"][torch.arange(T)]
         + P["bert.embeddings.token_type_embeddings.weight"][0])
    hd = lambda t: F.dropout(t, c["hiddenDropout"], training) if training and c["hiddenDropout"] > 0 else t
    ad = lambda t: F.dropout(t, c["attentionDropout"], training) if training and c["attentionDropout"] > 0 else t
    x = hd(ln(x.reshape(B * T, H), "bert.embeddings.LayerNorm"))
    bias = ((1.0 - mask.float()) * -10000.0).reshape(B, 1, 1, T)
    for i in range(c["layers"]):
        L = f"bert.encoder.layer.{i}"
        def lin(t, n, L=L):
            y = F.linear(t, P[f"{L}.{n}.weight"], P[f"{L}.{n}.bias"])
            key = f"{L}.{n}"
            if lora is not None and key in lora["A"]:
                y = y + lora["scale"] * F.linear(F.linear(t, lora["A"][key]), lora["B"][key])
            return y
        q = (lin(x, "attention.self.query") / math.sqrt(d)).reshape(B, T, nh, d).permute(0, 2, 1, 3)
        k = lin(x, "attention.self.key").reshape(B, T, nh, d).permute(0, 2, 3, 1)
        v = lin(x, "attention.self.value").reshape(B, T, nh, d).permute(0, 2, 1, 3)
        probs = ad(torch.softmax(q @ k + bias, dim=-1))
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B * T, H)
        x = ln(hd(lin(ctx, "attention.output.dense")) + x, f"{L}.attention.output.LayerNorm")
        h = F.gelu(lin(x, "intermediate.dense"))
        x = ln(hd(lin(h, "output.dense")) + x, f"{L}.output.LayerNorm")
    return F.linear(hd(x), P["classifier.weight"], P["classifier.bias"])


