#!/usr/bin/env python3
"""Summarizes an ORT profile (SessionOptions.profilePrefix / FINETUNE_PROFILE): time per op type.

  python3 bench/profile_summary.py <profile.json> [top]
"""
import collections
import json
import sys

events = json.load(open(sys.argv[1]))
top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
by_op = collections.Counter()
runs = []
for e in events:
    if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
        by_op[e.get("args", {}).get("op_name", "?")] += e["dur"]
    elif e.get("cat") == "Session" and e.get("name") == "model_run":
        runs.append(e["dur"])
total = sum(by_op.values())
print(f"{len(runs)} runs, model_run median {sorted(runs)[len(runs) // 2] / 1000:.1f} ms; kernel time {total / 1000:.1f} ms in all")
for op, us in by_op.most_common(top):
    print(f"  {op:28s} {us / 1000:10.1f} ms  {100 * us / total:5.1f}%")
