"""Model-selection replay on TaskSet: how much compute does early stopping save?

Usage:
    python benchmarks/early_stopping.py --data-dir ../shared/data [--model default]
        [--orderings 40] [--runs 20] [--thresholds 0.05 0.2 0.5]

The LC-PFN paper's protocol (Section 5.3), on TaskSet's 12 tasks (validation
cross-entropy, 50 steps per run): for each task and each of ``--orderings``
random orderings, ``--runs`` configurations are trained one after the other,
each for up to 50 steps, and after every step a method decides whether to stop
the run. Compute is the number of steps trained; the regret of an ordering is
the best validation loss seen in any trained step minus the best loss of any
configuration of the task (the oracle, over all its curves); a method's final
regret is at the end of the ordering.

Methods:
- no stopping;
- patience k in {0, 1, 5, 10, 20, 50}: stop a run when its loss has not
  improved on its own best for k + 1 steps;
- LC-PFN rule: stop when P(loss at t' < incumbent) <= 0.05 for every remaining
  t' (incumbent: the best loss seen in earlier runs), checked at every step
  from step 2, and checked at 10/20/40/80 % of the run only (steps 5, 10, 20,
  40). The model sees the curves through the paper's TaskSet normalization.
  Every step, the rule also runs at the other ``--thresholds`` (0.2 and 0.5
  by default): a larger threshold stops sooner, so the thresholds trace the
  rule's compute-regret trade-off as the patiences trace patience's.

Reported per task and method: mean compute and final regret (with its
standard error over orderings); the regret against compute (the best loss
seen after each step trained, minus the oracle, mean over orderings); and the
speed-up at equal final regret: the compute no stopping needs before its mean
regret first falls to the method's mean final regret, divided by the method's
mean compute. A method that ends with lower regret than no stopping ever
reaches is credited with no stopping's full compute (a lower bound on its
speed-up). The plain compute ratio (no stopping / method) is listed too. And
the LC-PFN rule (every step) head to head with each method: at the regret
level both reach (the worse of their two final regrets), the method's compute
to first reach it along its own regret trace over the rule's, mean over tasks:
a baseline that stops nearly everything scores a high speed-up at its own
(poor) final regret, and this says whether the rule gets to that regret with
less compute. The same head to head of every threshold with every patience
compares the two trade-offs: a patience is behind the rule when some
threshold reaches their common regret with less compute.

The orderings of a task advance in lockstep, so each decision step is one
batched ``predict`` over the orderings still training. The replay runs twice:
on every curve of the file (diverged runs included, as an HPO loop sees them:
NaN losses count as never best, and the LC-PFN rule stops a run whose reports
are all NaN once it has ``min_steps`` of them, as ``LCPFNPruner`` does), and on
the finite, non-diverged curves only (the loader's default).

Writes benchmarks/results/early_stopping.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.evaluation.datasets import load_taskset, take_transform
from lcpfn.stopping import stop_decisions

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

PATIENCE = (0, 1, 5, 10, 20, 50)
SEED = 0


def patience_stop(y: np.ndarray, k: int) -> np.ndarray:
    """Steps trained per run under within-run patience ``k``.

    Shapes: y (R, T) losses  ->  (R,) int in 1..T
    """
    R, T = y.shape
    best_so_far = np.minimum.accumulate(y, axis=1)
    improved = np.concatenate(
        [np.ones((R, 1), bool), y[:, 1:] < best_so_far[:, :-1]], axis=1
    )
    last_improvement = np.maximum.accumulate(
        np.where(improved, np.arange(T)[None, :], 0), axis=1
    )
    stale = np.arange(T)[None, :] - last_improvement > k  # (R, T)
    return np.where(stale.any(axis=1), stale.argmax(axis=1) + 1, T)


def lcpfn_stop(
    model, y: np.ndarray, transform, horizon: float, check_at, threshold: float = 0.05
) -> np.ndarray:
    """Steps trained per run under the LC-PFN rule, orderings in lockstep.

    Shapes: y (O, R, T) losses of R runs in O orderings  ->  (O, R) int
    """
    n_orderings, R, T = y.shape
    steps = np.full((n_orderings, R), T)
    incumbent = np.full(n_orderings, np.inf)
    for r in range(R):
        running = np.ones(n_orderings, bool)
        for e in range(2, T):  # decide after step e whether to train step e + 1
            diverged = running & np.isnan(y[:, r, :e]).all(axis=1)
            steps[diverged, r] = e
            running &= ~diverged
            rows = np.flatnonzero(running & np.isfinite(incumbent))
            if rows.size == 0:
                break
            decision = stop_decisions(
                model,
                y[rows, r, :e],
                incumbent[rows],
                horizon=horizon,
                minimize=True,
                threshold=threshold,
                check_at=check_at,
                transform=take_transform(transform, rows * R + r),
            )
            stopped = rows[decision.stop]
            steps[stopped, r] = e
            running[stopped] = False
        trained = np.arange(T)[None, :] < steps[:, r, None]  # (O, T)
        seen = np.where(trained & ~np.isnan(y[:, r]), y[:, r], np.inf)
        incumbent = np.minimum(incumbent, seen.min(1))
    return steps


def replay(
    y: np.ndarray, steps: np.ndarray, oracle: float
) -> tuple[np.ndarray, np.ndarray]:
    """Compute and final regret per ordering.

    Shapes: y (O, R, T) (NaN: diverged, never best), steps (O, R)
        ->  epochs (O,), regret (O,)
    """
    y = np.where(np.isnan(y), np.inf, y)
    T = y.shape[2]
    trained = np.arange(T)[None, None, :] < steps[..., None]
    seen_best = np.where(trained, y, np.inf).min(axis=(1, 2))
    return steps.sum(axis=1), seen_best - oracle


def regret_curve(y: np.ndarray, steps: np.ndarray, oracle: float) -> np.ndarray:
    """Mean regret after each unit of compute, over orderings.

    Runs are trained one after the other, run r for steps[o, r] steps; an
    ordering that has used up its compute keeps its final regret.
    Shapes: y (O, R, T) (NaN: never best), steps (O, R)
        ->  (R * T,), entry c = after c + 1 steps
    """
    y = np.where(np.isnan(y), np.inf, y)
    n_orderings, R, T = y.shape
    curves = np.empty((n_orderings, R * T))
    for o in range(n_orderings):
        seen = np.concatenate([y[o, r, : steps[o, r]] for r in range(R)])
        best = np.minimum.accumulate(seen) - oracle
        curves[o, : best.size] = best
        curves[o, best.size :] = best[-1]
    return curves.mean(axis=0)


def speedup_at_equal_regret(
    no_stopping: np.ndarray, final_regret: float, compute: float
) -> float:
    """No stopping's compute to reach ``final_regret``, over ``compute``.

    Shapes: no_stopping (C,) mean regret after 1..C steps (non-increasing)
    """
    return compute_to_reach(no_stopping, final_regret) / compute


def compute_to_reach(trace: np.ndarray, regret: float) -> int:
    """Steps of compute after which a mean regret trace first is <= ``regret``
    (its length if never).

    Shapes: trace (C,) mean regret after 1..C steps
    """
    reached = np.flatnonzero(trace <= regret)
    return int(reached[0] + 1) if reached.size else trace.size


def head_to_head(rows: dict, name: str, other: str) -> float:
    """``other``'s compute over ``name``'s, each to reach the worse of their two
    final regrets (a level both reach) along its own regret trace: > 1 when
    ``name`` gets there sooner.
    """
    a, b = rows[name], rows[other]
    # the trace's last value is the final regret summed in another order
    level = max(a["regret"], b["regret"]) + 1e-12
    return compute_to_reach(np.asarray(b["regret_vs_compute"]), level) / (
        compute_to_reach(np.asarray(a["regret_vs_compute"]), level)
    )


POOLS = {"all runs": True, "finite runs": False}  # name: keep diverged curves
HEAD = "LC-PFN every step"  # the method the others are compared with head to head
THRESHOLDS = (0.05, 0.2, 0.5)


def rule_name(threshold: float) -> str:
    """The method name of the rule checked every step at ``threshold``."""
    return HEAD if threshold == 0.05 else f"{HEAD}, p <= {threshold:g}"


def task_orderings(curves, n_orderings: int, n_runs: int):
    """Per task, in name order: the task, its curves' indices and the
    orderings of ``n_runs`` of them drawn with ``SEED``.

    Shapes: yields (str, pool (P,) int, pick (O, R) int curve indices)
    """
    rng = np.random.default_rng(SEED)
    for task in sorted(set(curves.task)):
        pool = np.flatnonzero(curves.task == task)
        pick = np.stack(
            [rng.choice(pool, n_runs, replace=False) for _ in range(n_orderings)]
        )
        yield task, pool, pick


def replay_tasks(
    model, curves, methods: list[str], n_orderings: int, n_runs: int, thresholds
):
    """Every method on every task of ``curves``; per task, per method a row."""
    per_task = {}
    for task, pool, pick in task_orderings(curves, n_orderings, n_runs):
        y = curves.y[pick]  # (O, R, T)
        transform = take_transform(curves.transform, pick.reshape(-1))
        T = y.shape[2]
        steps = {"no stopping": np.full(pick.shape, T)}
        for k in PATIENCE:
            steps[f"patience {k}"] = patience_stop(y.reshape(-1, T), k).reshape(
                pick.shape
            )
        for threshold in thresholds:
            steps[rule_name(threshold)] = lcpfn_stop(
                model, y, transform, curves.horizon, None, threshold
            )
        steps["LC-PFN at 10/20/40/80 %"] = lcpfn_stop(
            model, y, transform, curves.horizon, [5, 10, 20, 40]
        )
        per_task[task], oracle = {}, float(np.nanmin(curves.y[pool]))
        baseline = regret_curve(y, steps["no stopping"], oracle)
        for name in methods:
            epochs, regret = replay(y, steps[name], oracle)
            per_task[task][name] = {
                "epochs": float(epochs.mean()),
                "regret": float(regret.mean()),
                "regret_se": float(regret.std(ddof=1) / np.sqrt(len(regret))),
                "speedup_at_equal_regret": speedup_at_equal_regret(
                    baseline, float(regret.mean()), float(epochs.mean())
                ),
                "regret_vs_compute": regret_curve(y, steps[name], oracle).tolist(),
            }
        shown = per_task[task]["LC-PFN every step"]
        print(task, {k: v for k, v in shown.items() if k != "regret_vs_compute"})
    return per_task


def summarize(per_task: dict, methods: list[str], thresholds) -> dict:
    summary = {}
    for name in methods:
        ratios = [
            per_task[t]["no stopping"]["epochs"] / per_task[t][name]["epochs"]
            for t in per_task
        ]
        worse = [
            t
            for t in per_task
            if per_task[t][name]["regret"] - per_task[t]["no stopping"]["regret"]
            > per_task[t][name]["regret_se"]
        ]
        head = [head_to_head(per_task[t], HEAD, name) for t in per_task]
        summary[name] = {
            # HEAD's compute advantage over this method at the regret both reach
            "head_to_head": float(np.mean(head)),
            "tasks_head_ahead": int(sum(h > 1 for h in head)),
            "mean_speedup_at_equal_regret": float(
                np.mean([m[name]["speedup_at_equal_regret"] for m in per_task.values()])
            ),
            "mean_speedup": float(np.mean(ratios)),
            "mean_regret": float(
                np.mean([per_task[t][name]["regret"] for t in per_task])
            ),
            "tasks_worse_by_more_than_se": worse,
        }
        if name.startswith("patience"):
            # each threshold's compute advantage at the regret both reach
            summary[name]["against_thresholds"] = {}
            for threshold in thresholds:
                h = [
                    head_to_head(per_task[t], rule_name(threshold), name)
                    for t in per_task
                ]
                summary[name]["against_thresholds"][f"{threshold:g}"] = {
                    "head_to_head": float(np.mean(h)),
                    "tasks_ahead": int(sum(x > 1 for x in h)),
                }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--model", default="default")
    parser.add_argument("--orderings", type=int, default=40)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--thresholds", type=float, nargs="+", default=list(THRESHOLDS))
    parser.add_argument("--out", default="early_stopping")
    args = parser.parse_args()
    if 0.05 not in args.thresholds:
        parser.error("--thresholds must include the paper's 0.05")
    model = lcpfn.load(args.model)
    methods = ["no stopping", *[f"patience {k}" for k in PATIENCE]]
    methods += [rule_name(x) for x in args.thresholds]
    methods += ["LC-PFN at 10/20/40/80 %"]
    start, pools = time.perf_counter(), {}
    for pool, keep_diverged in POOLS.items():
        curves = load_taskset(args.data_dir, "valid", keep_diverged=keep_diverged)
        per_task = replay_tasks(
            model, curves, methods, args.orderings, args.runs, args.thresholds
        )
        pools[pool] = {
            "curves_dropped_by_loader": curves.dropped,
            "summary": summarize(per_task, methods, args.thresholds),
            "per_task": {
                task: {name: _compact(row) for name, row in rows.items()}
                for task, rows in per_task.items()
            },
        }
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/early_stopping.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "model_sha256": model.card.get("sha256"),
        "orderings": args.orderings,
        "runs": args.runs,
        "thresholds": args.thresholds,
        "seconds": time.perf_counter() - start,
        "pools": pools,
    }
    stem = RESULTS / args.out
    RESULTS.mkdir(exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record, methods))
    _plot(pools["all runs"]["per_task"], methods, stem.with_suffix(".png"))
    print(f"wrote {stem}.md")


def _compact(row: dict) -> dict:
    """The row with its regret curve kept at 40 log-spaced compute points only."""
    curve = np.asarray(row["regret_vs_compute"])
    at = np.unique(np.geomspace(1, curve.size, 40).round().astype(int))
    return {
        **row,
        "regret_vs_compute": {"steps": at.tolist(), "regret": curve[at - 1].tolist()},
    }


def _markdown(r: dict, methods: list[str]) -> str:
    lines = [
        "# Early stopping replay on TaskSet",
        "",
        f"Model `{r['model']}`; {r['orderings']} orderings x {r['runs']} runs per "
        f"task, 50 steps per run. Git {r['machine']['git_revision']}, "
        f"{r['seconds']:.0f} s.",
        "",
        f"Command: `{r['command']}`",
        "",
        "Means over the 12 tasks. Speed-up at equal final regret: the compute no "
        "stopping needs to reach the method's final regret, over the method's "
        'compute (see the script\'s docstring). "all runs": every curve of the '
        'file, diverged ones included; "finite runs": the diverged and '
        "non-finite curves left out. Head to head: for each task, the level of "
        f"regret that both {HEAD} and the method reach (the worse of their final "
        "regrets), and the method's compute to first reach it along its regret "
        f"trace over {HEAD}'s; > 1 means {HEAD} gets there with less compute "
        "(mean over tasks, and the tasks where it does).",
    ]
    for pool, p in r["pools"].items():
        lines += [
            "",
            f"## {pool} (loader dropped {p['curves_dropped_by_loader']})",
            "",
            "| method | speed-up at equal final regret | compute ratio (no stopping "
            "/ method) | mean final regret | tasks with regret worse than no "
            f"stopping by > 1 s.e. | {HEAD} head to head (tasks ahead) |",
            "|---|---:|---:|---:|---|---:|",
        ]
        for name in methods:
            s = p["summary"][name]
            lines.append(
                f"| {name} | {s['mean_speedup_at_equal_regret']:.2f}x | "
                f"{s['mean_speedup']:.2f}x | {s['mean_regret']:.4f} | "
                f"{len(s['tasks_worse_by_more_than_se'])} | "
                f"{s['head_to_head']:.2f}x ({s['tasks_head_ahead']}) |"
            )
        thresholds = [f"{x:g}" for x in r["thresholds"]]
        lines += [
            "",
            "The rule's thresholds against patience: each threshold's head to "
            "head with each patience, at the regret both reach (> 1: the "
            "threshold gets there with less compute; tasks ahead in brackets):",
            "",
            "| patience | mean final regret | "
            + " | ".join(f"p <= {x}" for x in thresholds)
            + " |",
            "|---|---:|" + "---:|" * len(thresholds),
        ]
        for name in methods:
            s = p["summary"][name]
            if "against_thresholds" not in s:
                continue
            cells = [
                f"{s['against_thresholds'][x]['head_to_head']:.2f}x "
                f"({s['against_thresholds'][x]['tasks_ahead']})"
                for x in thresholds
            ]
            lines.append(
                f"| {name} | {s['mean_regret']:.4f} | " + " | ".join(cells) + " |"
            )
        lines += [
            "",
            "Per task (steps trained of 1,000, final regret ± s.e., speed-up at "
            "equal final regret):",
            "",
            "| task | no stopping | LC-PFN every step | LC-PFN at 10/20/40/80 % "
            "| patience 5 |",
            "|---|---:|---:|---:|---:|",
        ]
        for task, m in p["per_task"].items():
            cells = [
                f"{m[k]['epochs']:.0f}, {m[k]['regret']:.4f} ± "
                f"{m[k]['regret_se']:.4f}, {m[k]['speedup_at_equal_regret']:.2f}x"
                for k in (
                    "no stopping",
                    "LC-PFN every step",
                    "LC-PFN at 10/20/40/80 %",
                    "patience 5",
                )
            ]
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _plot(per_task: dict, methods: list[str], path: Path) -> None:
    """Mean regret against compute, one panel per task; a dot at each method's end.

    ``per_task`` holds ``_compact`` rows, as the JSON record does."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ["no stopping", "patience 5", "LC-PFN every step"]
    shown.append("LC-PFN at 10/20/40/80 %")
    n, cols = len(per_task), 4
    prefix = os.path.commonprefix(list(per_task)) if n > 1 else ""
    fig, axes = plt.subplots(
        -(-n // cols), cols, figsize=(14, 3 * -(-n // cols)), squeeze=False
    )
    for ax, (task, m) in zip(axes.flat, per_task.items(), strict=False):
        for i, name in enumerate(shown):
            kept = m[name]["regret_vs_compute"]  # _compact's log-spaced points
            x, curve = np.asarray(kept["steps"]), np.asarray(kept["regret"])
            # up to where the last ordering stops improving: the mean is final
            last = np.flatnonzero(curve > curve[-1])
            end = last[-1] + 2 if last.size else 1
            ax.plot(x[:end], curve[:end], color=f"C{i}", lw=1.2, label=name)
            ax.plot([m[name]["epochs"]], [m[name]["regret"]], "o", color=f"C{i}", ms=4)
        ax.set(xscale="log", yscale="log", title=task[len(prefix) :])
        ax.title.set_fontsize(7)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("steps trained")
    for ax in axes[:, 0]:
        ax.set_ylabel("regret (val. loss)")
    axes.flat[0].legend(fontsize="x-small")
    fig.suptitle(
        f"TaskSet replay ({prefix}...): mean regret against compute over "
        "orderings (dot: mean compute and final regret)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
