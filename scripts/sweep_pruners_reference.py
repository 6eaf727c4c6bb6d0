"""Writes test/fixtures/sweep_pruners_reference.json: Optuna's pruning decisions on deterministic
learning curves, for test/sweep-prune.test.ts to compare ours with.

Each scenario runs a set of trials through a pruner — SuccessiveHalvingPruner (our ASHA) or
MedianPruner (our median stopping) — with `concurrency` trials running at once: every tick, each
running trial reports its next (step, value) and asks should_prune(); a pruned trial is told
PRUNED, a trial out of points is told COMPLETE with its last value, and a new trial takes the free
slot at the next tick. The fixture keeps the curves and the event log in Optuna's order: (trial,
step, value, pruned) for each report and (trial, "complete") for each finished trial.

Run: PIP_INDEX_URL=... .cache/py/bin/pip install -r bench/requirements-sweep.txt
     .cache/py/bin/python scripts/sweep_pruners_reference.py
"""

import json
import math
import os

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "sweep_pruners_reference.json")


def curves(seed, n_trials, steps, mode, nan_every=0):
    """Learning curves that rise (or fall) to a per-trial plateau with noise; some end in NaN."""
    rs = np.random.RandomState(seed)
    out = []
    for t in range(n_trials):
        plateau = rs.uniform(0.3, 0.95)
        speed = rs.uniform(0.05, 0.4)
        pts = []
        for i, step in enumerate(steps):
            v = plateau * (1 - math.exp(-speed * (i + 1))) + rs.normal(0, 0.02)
            if mode == "min":
                v = 1 - v
            pts.append([int(step), float(round(v, 6))])
        if nan_every and t % nan_every == nan_every - 1:
            pts[len(pts) // 2][1] = float("nan")
        out.append(pts)
    return out


def pruner_of(p):
    if p["type"] == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=p["min_steps"],
            reduction_factor=p["reduction_factor"],
            min_early_stopping_rate=p["min_early_stopping_rate"],
            bootstrap_count=p["bootstrap_count"],
        )
    return optuna.pruners.MedianPruner(
        n_startup_trials=p["startup_trials"], n_warmup_steps=p["warmup_steps"], interval_steps=p["interval_steps"], n_min_trials=p["min_trials"]
    )


def run(sc):
    study = optuna.create_study(direction="maximize" if sc["mode"] == "max" else "minimize", pruner=pruner_of(sc["pruner"]))
    todo = list(range(len(sc["curves"])))
    slots = [None] * sc["concurrency"]  # (trial index, optuna trial, next point)
    events = []
    while todo or any(slots):
        for s in range(len(slots)):
            if slots[s] is None and todo:
                i = todo.pop(0)
                slots[s] = [i, study.ask(), 0]
        for s in range(len(slots)):
            if slots[s] is None:
                continue
            i, trial, k = slots[s]
            step, value = sc["curves"][i][k]
            trial.report(value, step)
            pruned = trial.should_prune()
            events.append([i, step, value, bool(pruned)])
            if pruned:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                slots[s] = None
            elif k + 1 == len(sc["curves"][i]):
                study.tell(trial, value)
                events.append([i, "complete"])
                slots[s] = None
            else:
                slots[s][2] = k + 1
    return events


ASHA = {"type": "asha", "min_steps": 1, "reduction_factor": 3, "min_early_stopping_rate": 0, "bootstrap_count": 0}
SCENARIOS = [
    {"name": "asha: every step, eta 3, one at a time", "pruner": ASHA, "mode": "max", "concurrency": 1, "curves": curves(1, 30, range(1, 31), "max")},
    {"name": "asha: every step, eta 3, four at once", "pruner": ASHA, "mode": "max", "concurrency": 4, "curves": curves(2, 40, range(1, 31), "max")},
    {
        "name": "asha: every 3 steps, min 2, eta 2, rate 1, minimize, NaNs, three at once",
        "pruner": {"type": "asha", "min_steps": 2, "reduction_factor": 2, "min_early_stopping_rate": 1, "bootstrap_count": 0},
        "mode": "min",
        "concurrency": 3,
        "curves": curves(3, 30, range(3, 61, 3), "min", nan_every=7),
    },
    {
        "name": "asha: every 5 steps, min 1, eta 2 (one evaluation completes several rungs), two at once",
        "pruner": {"type": "asha", "min_steps": 1, "reduction_factor": 2, "min_early_stopping_rate": 0, "bootstrap_count": 0},
        "mode": "max",
        "concurrency": 2,
        "curves": curves(6, 30, range(5, 101, 5), "max"),
    },
    {
        "name": "median: startup 5, warmup 3, one at a time",
        "pruner": {"type": "median", "startup_trials": 5, "warmup_steps": 3, "interval_steps": 1, "min_trials": 1},
        "mode": "max",
        "concurrency": 1,
        "curves": curves(4, 30, range(1, 21), "max"),
    },
    {
        "name": "median: startup 3, interval 2, min trials 2, minimize, NaNs, three at once",
        "pruner": {"type": "median", "startup_trials": 3, "warmup_steps": 0, "interval_steps": 2, "min_trials": 2},
        "mode": "min",
        "concurrency": 3,
        "curves": curves(5, 30, range(1, 21), "min", nan_every=6),
    },
]


def nan_to_null(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, list):
        return [nan_to_null(v) for v in x]
    if isinstance(x, dict):
        return {k: nan_to_null(v) for k, v in x.items()}
    return x


def main():
    for sc in SCENARIOS:
        sc["events"] = run(sc)
        n = sum(1 for e in sc["events"] if len(e) == 4 and e[3])
        print(f"{sc['name']}: {n} of {len(sc['curves'])} trials pruned")
    with open(OUT, "w") as f:
        # NaN as null: JSON has no NaN.
        f.write(json.dumps(nan_to_null({"optuna": optuna.__version__, "scenarios": SCENARIOS}), allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
