"""Optuna's SuccessiveHalvingPruner on a fixed, interleaved history of reports (test/sweep-asha-parity.test.ts).

Reads JSON from stdin: {"settings": {minEpochs, reductionFactor, minEarlyStoppingRate}, "mode": "min"|"max",
"trials": n, "reports": [[trial, step, value], ...]} (a null value is NaN). All trials are asked for first (they run at once); each
report is trial.report + should_prune, a pruned trial is told PRUNED and reports no more. Writes
{"decisions": [[trial, step, pruned], ...], "rungs": {trial: [value at rung 0, ...]}} to stdout.
"""
import json
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
case = json.load(sys.stdin)
settings = case["settings"]
pruner = optuna.pruners.SuccessiveHalvingPruner(
    min_resource=settings["minEpochs"],
    reduction_factor=settings["reductionFactor"],
    min_early_stopping_rate=settings["minEarlyStoppingRate"],
)
study = optuna.create_study(direction="minimize" if case["mode"] == "min" else "maximize", pruner=pruner)
trials = [study.ask() for _ in range(case["trials"])]
pruned = set()
decisions = []
for index, step, value in case["reports"]:
    if index in pruned:
        continue
    trial = trials[index]
    trial.report(float("nan") if value is None else float(value), step)
    prune = trial.should_prune()
    decisions.append([index, step, prune])
    if prune:
        pruned.add(index)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)

rungs = {}
for frozen in study.get_trials(deepcopy=False):
    values = []
    while f"completed_rung_{len(values)}" in frozen.system_attrs:
        values.append(frozen.system_attrs[f"completed_rung_{len(values)}"])
    rungs[str(frozen.number)] = values
json.dump({"decisions": decisions, "rungs": rungs}, sys.stdout)
