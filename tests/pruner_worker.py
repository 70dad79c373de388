"""Judge every running trial of a stored study with LCPFNPruner; print decisions.

Usage: python tests/pruner_worker.py STORAGE_URL MODEL_PATH
"""

import json
import sys

import optuna

from lcpfn.stopping import LCPFNPruner


def decisions(storage: str, model: str) -> dict[int, bool]:
    study = optuna.load_study(study_name="shared", storage=storage)
    pruner = LCPFNPruner(model, horizon=20)
    running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    return {t.number: pruner.prune(study, t) for t in running}


if __name__ == "__main__":
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(json.dumps(decisions(sys.argv[1], sys.argv[2])))
