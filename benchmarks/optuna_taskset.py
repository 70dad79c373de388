"""Optuna studies replaying TaskSet curves: epochs saved by LCPFNPruner, same best?

Usage:
    python benchmarks/optuna_taskset.py --data-dir ../shared/data [--model default]
        [--draws 5] [--configs 20] [--seed 0]

For each of TaskSet's 12 tasks and each of ``--draws`` random draws of
``--configs`` configurations (diverged ones included, as an HPO loop meets
them), two in-memory Optuna studies run the same trials in the same order, one
with ``LCPFNPruner`` and one without pruning. A trial is the standard loop:
after each of the 50 steps it reports ``1 - loss / initial loss`` (maximize;
NaN where the run diverged), asks ``should_prune`` and raises ``TrialPruned``
when told; it returns its final value. The pruner sees the metric through
``Squash(upper=1, soft_lower=0, soft_upper=1)``, the paper's TaskSet
normalization written for this metric.

Reported per task and overall: epochs trained with and without pruning (their
ratio), whether the pruned study's best trial is the plain study's, the
normalized regret (best final value of the plain study minus that of the
pruned study's best trial, in units of the metric), trials pruned, and the
median wall time of ``should_prune``.

Writes benchmarks/results/optuna_taskset.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import optuna

import lcpfn
from lcpfn.evaluation.datasets import load_taskset
from lcpfn.stopping import LCPFNPruner

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402


def run_study(curves: np.ndarray, pruner, timings: list[float]) -> dict:
    """One study over ``curves`` (C, T), trial n running curve n.

    Returns epochs trained, trials pruned, and the best trial's curve index
    and final value (-inf when every trial failed or was pruned).
    """
    study = optuna.create_study(direction="maximize", pruner=pruner)
    C, T = curves.shape

    def objective(trial: optuna.Trial) -> float:
        curve = curves[trial.number]
        for step in range(1, T + 1):
            trial.set_user_attr("epochs", step)
            trial.report(float(curve[step - 1]), step)
            start = time.perf_counter()
            prune = trial.should_prune()
            timings.append(time.perf_counter() - start)
            if prune:
                raise optuna.TrialPruned()
        return float(curve[-1])  # NaN: Optuna marks the trial failed

    study.optimize(objective, n_trials=C)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(done, key=lambda t: t.value) if done else None
    return {
        "epochs": sum(t.user_attrs["epochs"] for t in study.trials),
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
        "best_config": best.number if best else -1,
        "best_value": best.value if best else -np.inf,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--model", default="default")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--configs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="optuna_taskset")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    model = lcpfn.load(args.model)
    data = load_taskset(args.data_dir, "valid", keep_diverged=True)
    initial = np.asarray(data.transform.soft_upper)  # loss before training, (N,)
    metric = 1.0 - data.y / initial[:, None]  # (N, 50), NaN where diverged
    squash = lcpfn.transforms.Squash(upper=1.0, soft_lower=0.0, soft_upper=1.0)
    pruner = LCPFNPruner(model, horizon=float(metric.shape[1]), transform=squash)
    rng = np.random.default_rng(args.seed)
    rows, timings, start = [], [], time.perf_counter()
    for task in sorted(set(data.task)):
        pool = np.flatnonzero(data.task == task)
        for draw in range(args.draws):
            curves = metric[rng.choice(pool, args.configs, replace=False)]
            plain = run_study(curves, optuna.pruners.NopPruner(), [])
            pruned = run_study(curves, pruner, timings)
            rows.append(
                {
                    "task": task,
                    "draw": draw,
                    "epochs_plain": plain["epochs"],
                    "epochs_pruned": pruned["epochs"],
                    "pruned": pruned["pruned"],
                    "same_best": pruned["best_config"] == plain["best_config"],
                    "regret": float(plain["best_value"] - pruned["best_value"]),
                }
            )
        print(task, rows[-1])
    tasks = sorted({r["task"] for r in rows})
    per_task = {
        task: {
            "epoch_ratio": float(
                np.sum([r["epochs_plain"] for r in rows if r["task"] == task])
                / np.sum([r["epochs_pruned"] for r in rows if r["task"] == task])
            ),
            "same_best": float(
                np.mean([r["same_best"] for r in rows if r["task"] == task])
            ),
            "max_regret": float(max(r["regret"] for r in rows if r["task"] == task)),
            "mean_regret": float(
                np.mean([r["regret"] for r in rows if r["task"] == task])
            ),
        }
        for task in tasks
    }
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/optuna_taskset.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "model_sha256": model.card.get("sha256"),
        "draws": args.draws,
        "configs": args.configs,
        "seconds": time.perf_counter() - start,
        "summary": {
            "epoch_ratio": float(
                sum(r["epochs_plain"] for r in rows)
                / sum(r["epochs_pruned"] for r in rows)
            ),
            "same_best": float(np.mean([r["same_best"] for r in rows])),
            "regret_le_0.01": float(np.mean([r["regret"] <= 0.01 for r in rows])),
            "max_regret": float(max(r["regret"] for r in rows)),
            "should_prune_median_ms": float(np.median(timings) * 1e3),
        },
        "per_task": per_task,
        "studies": rows,
    }
    stem = RESULTS / args.out
    RESULTS.mkdir(exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record))
    print(f"wrote {stem}.md")


def _markdown(r: dict) -> str:
    s = r["summary"]
    lines = [
        "# Optuna studies replaying TaskSet (maximize 1 - loss / initial loss)",
        "",
        f"Model `{r['model']}`; 12 tasks x {r['draws']} draws of {r['configs']} "
        f"configs, diverged ones included; in-memory storage. Git "
        f"{r['machine']['git_revision']}, {r['seconds']:.0f} s.",
        "",
        f"Command: `{r['command']}`",
        "",
        f"- epochs without / with pruning: **{s['epoch_ratio']:.2f}x**",
        f"- pruned study's best trial is the plain study's: {s['same_best']:.0%} of "
        f"studies; normalized regret <= 0.01 in {s['regret_le_0.01']:.0%}; "
        f"largest regret {s['max_regret']:.4f}",
        f"- should_prune median {s['should_prune_median_ms']:.2f} ms",
        "",
        "| task | epoch ratio | same best | mean regret | max regret |",
        "|---|---:|---:|---:|---:|",
    ]
    for task, m in r["per_task"].items():
        lines.append(
            f"| {task} | {m['epoch_ratio']:.2f}x | {m['same_best']:.0%} | "
            f"{m['mean_regret']:.4f} | {m['max_regret']:.4f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
