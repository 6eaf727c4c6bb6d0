#!/usr/bin/env python3
"""PyTorch side of `npm run bench:engine`: the same models, AdamW, clipping and thread count.

Usage: engine_torch.py <mlp|encoder> <threads> <steps>   -> prints one JSON line
"""
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from torch_models import bert_token_logits, mlp_forward  # noqa: E402

from bench_configs import CONFIGS  # noqa: E402  (bench/bench_configs.py, shared with nothing else)


def main():
    name, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = CONFIGS[name]
    if name == "mlp":
        sizes, B = cfg["sizes"], cfg["batch"]
        params = {}
        for i in range(len(sizes) - 1):
            params[f"fc{i}.weight"] = torch.randn(sizes[i + 1], sizes[i]) * 0.02
            params[f"fc{i}.bias"] = torch.zeros(sizes[i + 1])
        x = torch.randn(B, sizes[0])
        y = torch.randint(0, sizes[-1], (B,))
        loss_fn = lambda P: F.cross_entropy(mlp_forward(P, x, len(sizes) - 1), y)
    else:
        c, B, T = cfg["model"], cfg["batch"], cfg["seq"]
        from torch_models import bert_params
        params = {k: v * 0.1 for k, v in bert_params(c).items()}
        ids = torch.randint(1, c["vocabSize"], (B, T))
        mask = torch.ones(B, T, dtype=torch.long)
        mask[::2, T * 3 // 4:] = 0
        labels = torch.where(mask.bool(), torch.randint(0, c["numLabels"], (B, T)), torch.full((B, T), -100))
        loss_fn = lambda P: F.cross_entropy(bert_token_logits(P, c, ids, mask, training=True), labels.reshape(-1), ignore_index=-100)
    P = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    decay = [v for k, v in P.items() if k.endswith(".weight") and "LayerNorm" not in k]
    rest = [v for k, v in P.items() if not (k.endswith(".weight") and "LayerNorm" not in k)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-4)
    times = []
    for s in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(P)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
        if s >= 2:  # two warm-up steps
            times.append((time.perf_counter() - t0) * 1000)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ms_per_step": statistics.median(times), "peak_rss_mb": rss_mb, "loss": float(loss),
                      "params": sum(v.numel() for v in P.values()), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
