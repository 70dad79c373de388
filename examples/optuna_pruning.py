"""Optuna + LCPFNPruner: prune MLP trainings that will not beat the best trial.

Each trial trains scikit-learn's MLPClassifier on the digits dataset (shipped
with scikit-learn) one epoch at a time (``partial_fit``) for ``--epochs``
epochs and reports the validation accuracy after every epoch. Several worker
processes share one SQLite storage, as Optuna runs on many machines. The same
study runs twice, with ``LCPFNPruner`` and without pruning, and the script
prints trials pruned, epochs trained and wall time of both.

Usage:
    python examples/optuna_pruning.py [--trials 40] [--workers 2] [--epochs 40]
        [--model default] [--storage-dir runs/optuna]

Needs ``pip install 'lcpfn[examples]'`` (optuna, scikit-learn).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import warnings
from pathlib import Path

import numpy as np
import optuna

from lcpfn.stopping import LCPFNPruner


def make_objective(epochs: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=0
    )
    classes = np.unique(y)

    def objective(trial: optuna.Trial) -> float:
        model = MLPClassifier(
            hidden_layer_sizes=(trial.suggest_int("width", 4, 128, log=True),),
            learning_rate_init=trial.suggest_float("lr", 1e-5, 1e-1, log=True),
            alpha=trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            batch_size=64,
            random_state=trial.number,
        )
        accuracy = 0.0
        for epoch in range(1, epochs + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.partial_fit(x_train, y_train, classes=classes)
            accuracy = model.score(x_valid, y_valid)
            trial.set_user_attr("epochs", epoch)
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned
        return accuracy

    return objective


def _worker(
    storage: str, name: str, n_trials: int, epochs: int, seed: int, model: str | None
) -> None:
    """One process of the study. Pruners are not kept in the storage, so each
    worker makes its own; the incumbent comes from the shared storage."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = LCPFNPruner(model, horizon=epochs) if model else optuna.pruners.NopPruner()
    study = optuna.load_study(
        study_name=name,
        storage=storage,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner,
    )
    study.optimize(make_objective(epochs), n_trials=n_trials)


def run_study(
    storage: str, model: str | None, trials: int, workers: int, epochs: int
) -> dict:
    """One study with ``workers`` processes (``model`` None: no pruning)."""
    name = "digits-mlp"
    optuna.create_study(study_name=name, storage=storage, direction="maximize")
    start = time.perf_counter()
    per_worker = [trials // workers + (i < trials % workers) for i in range(workers)]
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_worker, args=(storage, name, n, epochs, i, model))
        for i, n in enumerate(per_worker)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"worker exited with {p.exitcode}")
    study = optuna.load_study(study_name=name, storage=storage)
    trials_done = study.trials
    pruned = [t for t in trials_done if t.state == optuna.trial.TrialState.PRUNED]
    return {
        "seconds": time.perf_counter() - start,
        "trials": len(trials_done),
        "pruned": len(pruned),
        "pruned_at_last_epoch": sum(t.user_attrs["epochs"] == epochs for t in pruned),
        "epochs": sum(t.user_attrs.get("epochs", 0) for t in trials_done),
        "best": study.best_value,
        "best_trial": study.best_trial.number,
        "best_state": study.best_trial.state.name,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--model", default="default")
    parser.add_argument("--storage-dir", default="runs/optuna")
    args = parser.parse_args(argv)
    folder = Path(args.storage_dir)
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for label, use_pruner in (("no pruning", False), ("LCPFNPruner", True)):
        db = folder / f"study_{'pruned' if use_pruner else 'plain'}_{time.time_ns()}.db"
        storage = f"sqlite:///{db}"
        results[label] = run_study(
            storage,
            args.model if use_pruner else None,
            args.trials,
            args.workers,
            args.epochs,
        )
    base, pruned = results["no pruning"], results["LCPFNPruner"]
    print(f"{'':12s}  trials  pruned  epochs  wall time  best accuracy (trial)")
    for label, r in results.items():
        print(
            f"{label:12s}  {r['trials']:6d}  {r['pruned']:6d}  {r['epochs']:6d}  "
            f"{r['seconds']:7.1f} s  {r['best']:.4f} ({r['best_trial']})"
        )
    print(
        f"pruning saved {base['epochs'] - pruned['epochs']} of {base['epochs']} "
        f"epochs ({1 - pruned['epochs'] / base['epochs']:.0%}) and "
        f"{base['seconds'] - pruned['seconds']:.1f} s of wall time "
        f"({1 - pruned['seconds'] / base['seconds']:.0%}); best accuracy "
        f"{pruned['best']:.4f} with pruning, {base['best']:.4f} without"
    )
    return results


if __name__ == "__main__":
    main()
