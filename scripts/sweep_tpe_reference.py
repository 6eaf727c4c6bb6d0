"""Writes test/fixtures/sweep_tpe_reference.json: what Optuna's TPE computes on fixed inputs, for
test/sweep-tpe.test.ts to compare ours with — the Parzen mixture's log-density
(_ParzenEstimator.log_pdf, Optuna's default parameters) over float, log-float, integer (distinct
observations: with repeated ones numpy's unstable argsort picks the bandwidths) and categorical
parameters, one mixture over all of them and one per parameter; and the split of finished trials
into the good and the rest (_split_trials, complete and pruned trials — mostly pruned ones too, so that they rank into the good ones — both directions).

Run: .cache/py/bin/python scripts/sweep_tpe_reference.py (optuna from bench/requirements-sweep.txt)
"""

import json
import os

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import _split_trials, default_gamma, default_weights

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "sweep_tpe_reference.json")

# Our distribution spelling beside Optuna's.
SPACE = {
    "x": ({"kind": "uniform", "low": -5, "high": 10}, FloatDistribution(-5, 10)),
    "lr": ({"kind": "loguniform", "low": 1e-5, "high": 1e-2}, FloatDistribution(1e-5, 1e-2, log=True)),
    "layers": ({"kind": "int", "low": 1, "high": 40, "log": False}, IntDistribution(1, 40)),
    "width": ({"kind": "int", "low": 8, "high": 512, "log": True}, IntDistribution(8, 512, log=True)),
    "batch": ({"kind": "choice", "values": [8, 16, 32, 64]}, CategoricalDistribution([8, 16, 32, 64])),
}


def draw(rs, n):
    out = {
        "x": rs.uniform(-5, 10, n),
        "lr": np.exp(rs.uniform(np.log(1e-5), np.log(1e-2), n)),
        "layers": rs.permutation(np.arange(1, 41))[:n].astype(float),
        "width": rs.permutation(np.arange(8, 513))[:n].astype(float),
        "batch": rs.randint(0, 4, n).astype(float),
    }
    return out


def mixtures():
    rs = np.random.RandomState(0)
    cases = []
    params = _ParzenEstimatorParameters(1.0, True, False, default_weights, True)
    for n in (0, 1, 2, 7, 30):
        obs = draw(rs, n)
        pts = draw(rs, 8)
        for keys in (list(SPACE), ["x"], ["lr"], ["layers"], ["width"], ["batch"]):
            pe = _ParzenEstimator({k: obs[k] for k in keys}, {k: SPACE[k][1] for k in keys}, params)
            lp = pe.log_pdf({k: pts[k] for k in keys})
            cases.append(
                {
                    "space": {k: SPACE[k][0] for k in keys},
                    "obs": [[float(obs[k][i]) for k in keys] for i in range(n)],
                    "points": [[float(pts[k][i]) for k in keys] for i in range(8)],
                    "logPdf": [float(v) for v in lp],
                }
            )
    return cases


def splits():
    rs = np.random.RandomState(1)
    out = []
    for direction in ("minimize", "maximize"):
        for n, p_pruned in ((10, 0.3), (23, 0.3), (40, 0.3), (30, 0.95), (40, 0.9)):
            study = optuna.create_study(direction=direction)
            trials = []
            for i in range(n):
                if rs.rand() < p_pruned:
                    steps = int(rs.randint(0, 4))
                    iv = {int(s * 10): float(rs.uniform()) for s in range(1, steps + 1)}
                    t = optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED, intermediate_values=iv)
                    trials.append({"state": "pruned", "lastStep": max(iv) if iv else None, "lastValue": iv[max(iv)] if iv else None})
                else:
                    v = float(np.round(rs.uniform(), 2))  # rounded: ties happen
                    t = optuna.trial.create_trial(value=v)
                    trials.append({"state": "complete", "value": v})
                study.add_trial(t)
            frozen = study.get_trials(deepcopy=False)
            from optuna.samplers._tpe.sampler import default_gamma

            below, above = _split_trials(study, frozen, default_gamma(n))
            out.append({"mode": "min" if direction == "minimize" else "max", "trials": trials, "below": [t.number for t in below], "above": [t.number for t in above]})
    return out


def main():
    with open(OUT, "w") as f:
        json.dump({"optuna": optuna.__version__, "mixtures": mixtures(), "splits": splits()}, f)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
