"""An oracle of the stopping rule's protocol on TaskSet, against patience.

Usage:
    python benchmarks/stopping_bound.py --data-dir ../shared/data
        [--orderings 40] [--runs 20]

The LC-PFN rule, as ``benchmarks/early_stopping.py`` replays it, cannot stop
the first run of an ordering (there is no incumbent yet) and checks a run
only once it has ``MIN_STEPS`` values. The oracle here follows the same
protocol with perfect knowledge of every run's future: the first run trains
all its steps; a later run that will beat the incumbent (the best loss seen
in earlier runs) trains up to its best step, any other stops at the first
check. It is not the least compute for every regret level (a rule
aiming at one level could stop an improving run sooner), but the compute the
protocol forces on every rule (the first run in full, two steps of every
other) is all it spends beyond the runs that pay off; when even it is
behind a patience baseline head to head (at the regret both reach), that
forced compute, not the model's probabilities, is what holds the rule back.

Same tasks, orderings (same seed), regret and head-to-head measure as
``benchmarks/early_stopping.py``, on every curve of the file (diverged runs
included, as there). Writes benchmarks/results/stopping_bound.{json,md}.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

import numpy as np

from lcpfn.evaluation.datasets import load_taskset
from lcpfn.stopping import stop_decisions

sys.path.insert(0, str(Path(__file__).parent))
from early_stopping import (  # noqa: E402
    PATIENCE,
    head_to_head,
    patience_stop,
    regret_curve,
    replay,
    task_orderings,
)
from machine import RESULTS, describe_machine  # noqa: E402

# the rule's first check: stop_decisions' default, which the replay uses
MIN_STEPS = inspect.signature(stop_decisions).parameters["min_steps"].default
ORACLE = "oracle of the rule's protocol"


def oracle_stop(y: np.ndarray) -> np.ndarray:
    """Steps trained per run by the oracle of the rule's protocol.

    Shapes: y (O, R, T) losses (NaN: diverged, never best)  ->  (O, R) int
    """
    y = np.where(np.isnan(y), np.inf, y)
    n_orderings, R, T = y.shape
    steps = np.full((n_orderings, R), MIN_STEPS)
    steps[:, 0] = T
    incumbent = y[:, 0].min(axis=1)
    for r in range(1, R):
        better = y[:, r].min(axis=1) < incumbent
        best_step = np.maximum(y[:, r].argmin(axis=1) + 1, MIN_STEPS)
        steps[better, r] = best_step[better]
        trained = np.arange(T)[None, :] < steps[:, r, None]
        incumbent = np.minimum(incumbent, np.where(trained, y[:, r], np.inf).min(1))
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--orderings", type=int, default=40)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    curves = load_taskset(args.data_dir, "valid", keep_diverged=True)
    patiences = [f"patience {k}" for k in PATIENCE]
    per_task = {}
    # the orderings of early_stopping.py
    for task, pool, pick in task_orderings(curves, args.orderings, args.runs):
        y = curves.y[pick]  # (O, R, T)
        T = y.shape[2]
        steps = {ORACLE: oracle_stop(y)}
        for k in PATIENCE:
            flat = patience_stop(y.reshape(-1, T), k)
            steps[f"patience {k}"] = flat.reshape(pick.shape)
        best_loss = float(np.nanmin(curves.y[pool]))
        rows = {}
        for name, s in steps.items():
            epochs, regret = replay(y, s, best_loss)
            rows[name] = {
                "epochs": float(epochs.mean()),
                "regret": float(regret.mean()),
                "regret_vs_compute": regret_curve(y, s, best_loss),
            }
        per_task[task] = {
            name: {"epochs": row["epochs"], "regret": row["regret"]}
            for name, row in rows.items()
        }
        for name in patiences:
            per_task[task][name]["oracle_head_to_head"] = head_to_head(
                rows, ORACLE, name
            )
    tasks = list(per_task.values())
    summary = {
        name: {
            "mean_epochs": float(np.mean([t[name]["epochs"] for t in tasks])),
            "mean_regret": float(np.mean([t[name]["regret"] for t in tasks])),
        }
        for name in [ORACLE, *patiences]
    }
    for name in patiences:
        ratios = [t[name]["oracle_head_to_head"] for t in tasks]
        summary[name]["oracle_head_to_head"] = float(np.mean(ratios))
        summary[name]["tasks_oracle_ahead"] = int(np.sum(np.array(ratios) > 1))
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/stopping_bound.py " + " ".join(sys.argv[1:]),
        "orderings": args.orderings,
        "runs": args.runs,
        "min_steps": MIN_STEPS,
        "summary": summary,
        "per_task": per_task,
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / "stopping_bound"
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record, patiences))
    print(_markdown(record, patiences))


def _markdown(r: dict, patiences: list[str]) -> str:
    s = r["summary"]
    o = s[ORACLE]
    lines = [
        "# The oracle of the stopping rule's protocol on TaskSet",
        "",
        f"Command: `{r['command']}` (git {r['machine']['git_revision']}); "
        f"{r['orderings']} orderings x {r['runs']} runs per task, every curve "
        "of the file. The oracle knows every run's future, trains the first run "
        "fully, and every later run up to its best step if it will beat the "
        f"incumbent, else to step {r['min_steps']} (the rule's first check). Head "
        "to head: at the regret both reach, the patience's compute to first "
        "reach it over the oracle's (> 1: the oracle gets there sooner), mean "
        "over the 12 tasks.",
        "",
        f"Oracle: {o['mean_epochs']:.1f} steps of 1,000 per ordering, mean final "
        f"regret {o['mean_regret']:.4f}.",
        "",
        "| patience | steps trained | mean final regret | oracle head to head "
        "(tasks ahead) |",
        "|---|---:|---:|---:|",
    ]
    for name in patiences:
        v = s[name]
        lines.append(
            f"| {name} | {v['mean_epochs']:.1f} | {v['mean_regret']:.4f} | "
            f"{v['oracle_head_to_head']:.2f}x ({v['tasks_oracle_ahead']}) |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
