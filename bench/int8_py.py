#!/usr/bin/env python3
"""PyTorch side of `npm run bench:int8` (bench/int8.ts): the run's checkpoint loaded with Transformers,
float32 or dynamically quantized (torch.ao.quantization.quantize_dynamic on nn.Linear, qint8), run on
the same padded batches as ours.

  int8_py.py <checkpoint folder> <batches.json> <fp32|int8> <threads> <logits out (float32 binary)>

batches.json: {"batches": [{"input_ids": [[...]], "attention_mask": [[...]], "lengths": [...]}, ...]}.
Writes each feature's logits (its own length × labels, in batch order) and prints one JSON line: the
seconds of one timed pass over all batches (after one warm-up pass), torch's version, peak RSS.
"""
import json
import resource
import sys
import time
import warnings

import numpy as np
import torch
from transformers import AutoModelForTokenClassification

folder, batches_file, mode, threads, out = sys.argv[1:6]
torch.set_num_threads(int(threads))
warnings.filterwarnings("ignore")  # torch.ao.quantization's deprecation notice

model = AutoModelForTokenClassification.from_pretrained(folder).eval()
if mode == "int8":
    model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
batches = [
    (torch.tensor(b["input_ids"], dtype=torch.long), torch.tensor(b["attention_mask"], dtype=torch.long), b["lengths"])
    for b in json.load(open(batches_file))["batches"]
]


def one_pass():
    outs = []
    for ids, mask, _ in batches:
        outs.append(model(input_ids=ids, attention_mask=mask).logits)
    return outs


with torch.inference_mode():
    one_pass()
    t0 = time.perf_counter()
    outs = one_pass()
    sec = time.perf_counter() - t0
flat = [o[r, :n].numpy() for o, (_, _, lengths) in zip(outs, batches) for r, n in enumerate(lengths)]
np.concatenate([f.reshape(-1) for f in flat]).astype(np.float32).tofile(out)
print(json.dumps({"seconds": sec, "torch": torch.__version__, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
