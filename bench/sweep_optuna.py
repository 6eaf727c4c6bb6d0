"""Optuna's side of `npm run bench:sweep`: the same objectives as bench/sweep.ts, minimised with
TPESampler (its defaults) and RandomSampler over seeds 0..N-1; prints JSON {objective: {sampler:
[best value per seed]}}. Needs optuna (bench/requirements-sweep.txt)."""

import json
import math
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def quad_loglr(t):
    lr = t.suggest_float("lr", 1e-6, 1e-1, log=True)
    return (math.log10(lr) - math.log10(3e-4)) ** 2


def branin(t):
    x1 = t.suggest_float("x1", -5.0, 10.0)
    x2 = t.suggest_float("x2", 0.0, 15.0)
    a, b, c, r, s, tt = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - tt) * math.cos(x1) + s


BATCH_COST = {8: 0.3, 16: 0.0, 32: 0.1, 64: 0.5}


def noisy6(t):
    lr = t.suggest_float("lr", 1e-5, 1e-2, log=True)
    warmup = t.suggest_float("warmup", 0.0, 0.3)
    dropout = t.suggest_float("dropout", 0.0, 0.5)
    batch = t.suggest_categorical("batch", [8, 16, 32, 64])
    epochs = t.suggest_int("epochs", 1, 10)
    wd = t.suggest_float("wd", 1e-4, 1e-1, log=True)
    clean = (
        (math.log10(lr) + 3.5) ** 2
        + 10 * (warmup - 0.1) ** 2
        + 8 * (dropout - 0.15) ** 2
        + BATCH_COST[batch]
        + 0.05 * (epochs - 4) ** 2
        + 0.3 * (math.log10(wd) + 2) ** 2
    )
    # Deterministic "noise": the same function of the parameters on both sides.
    noise = 0.1 * math.sin(1000 * (lr * 1e4 + warmup * 7 + dropout * 13 + batch + epochs * 3 + wd * 100))
    return clean + noise


OBJECTIVES = {"quad_loglr": (quad_loglr, 30), "branin": (branin, 50), "noisy6": (noisy6, 60)}


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    out = {}
    for name, (fn, budget) in OBJECTIVES.items():
        out[name] = {}
        for sampler_name, make in (("tpe", lambda s: optuna.samplers.TPESampler(seed=s)), ("random", lambda s: optuna.samplers.RandomSampler(seed=s))):
            bests = []
            for seed in range(seeds):
                study = optuna.create_study(direction="minimize", sampler=make(seed))
                study.optimize(fn, n_trials=budget)
                bests.append(study.best_value)
            out[name][sampler_name] = bests
    print(json.dumps({"optuna": optuna.__version__, "results": out}))


if __name__ == "__main__":
    main()
