"""The densities of Optuna's TPESampler on fixed trials (test/sweep-search-parity.test.ts).

Reads JSON from stdin: {"params": [{path, kind: float|int|categorical, low, high, log, choices}], "mode",
"multivariate", "trials": [{number, state: complete|pruned|running, values: [internal...], value, step}],
"candidates": [[internal...], ...]}. Adds the trials to a study, splits them as TPESampler._sample does
(gamma of the finished ones, running trials among the rest) and builds the two _ParzenEstimators through
the sampler; writes {"below": [numbers], "above": [numbers], "logBelow": [...], "logAbove": [...]} for the
candidates: with multivariate one joint density, else one per parameter (logBelow[j][i]).
"""
import json
import sys

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.sampler import _split_trials, default_gamma
from optuna.trial import TrialState, create_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)
case = json.load(sys.stdin)


def distribution(param):
    if param["kind"] == "float":
        return FloatDistribution(param["low"], param["high"], log=param["log"])
    if param["kind"] == "int":
        return IntDistribution(param["low"], param["high"])
    return CategoricalDistribution(list(range(len(param["choices"]))))


space = {p["path"]: distribution(p) for p in case["params"]}
study = optuna.create_study(direction="minimize" if case["mode"] == "min" else "maximize")
for trial in sorted(case["trials"], key=lambda t: t["number"]):
    params = {p["path"]: (int(v) if p["kind"] != "float" else v) for p, v in zip(case["params"], trial["values"])}
    state = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "running": TrialState.RUNNING}[trial["state"]]
    intermediate = {trial["step"]: trial["value"]} if trial["state"] == "pruned" and "step" in trial else None
    study.add_trial(
        create_trial(
            state=state,
            value=trial["value"] if trial["state"] == "complete" else None,
            params=params,
            distributions=space,
            intermediate_values=intermediate,
        )
    )

sampler = optuna.samplers.TPESampler(multivariate=case["multivariate"], constant_liar=True)
trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))
n = sum(t.state != TrialState.RUNNING for t in trials)
below, above = _split_trials(study, trials, default_gamma(n))
candidates = np.asarray(case["candidates"], dtype=float)


def log_pdfs(group):
    if case["multivariate"]:
        estimator = sampler._build_parzen_estimator(study, space, group, handle_below=False)
        return estimator.log_pdf({path: candidates[:, j] for j, path in enumerate(space)}).tolist()
    result = []
    for j, path in enumerate(space):
        estimator = sampler._build_parzen_estimator(study, {path: space[path]}, group, handle_below=False)
        result.append(estimator.log_pdf({path: candidates[:, j]}).tolist())
    return result


json.dump(
    {
        "below": [t.number for t in below],
        "above": [t.number for t in above],
        "logBelow": log_pdfs(below),
        "logAbove": log_pdfs(above),
    },
    sys.stdout,
)
