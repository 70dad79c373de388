"""Two models on the real curves, paired by curve: LL differences with CIs.

Usage:
    python benchmarks/model_comparison.py MODEL OTHER [--data-dir ../shared/data]
        [--sets taskset lcdb lcdb11] [--n-real 2000] [--seed 0] [--out NAME]

MODEL and OTHER are names or paths for ``lcpfn.load``. Each set is
subsampled to ``--n-real`` curves (a fixed permutation of ``--seed``); both
models predict the same curves at 10 / 20 / 40 / 80 % observed, and
``lcpfn.evaluation.report.compare`` gives the mean LL difference (MODEL minus
OTHER) with its 95 % task-bootstrap interval and the tasks on which MODEL is
better, and the mean difference by the number of observed points (JSON). A
difference whose interval excludes 0 is one the subsample resolves.

Writes benchmarks/results/<out>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.evaluation import evaluate, fraction_splits
from lcpfn.evaluation.datasets import load_curves
from lcpfn.evaluation.report import compare

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("other")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--sets", nargs="+", default=["taskset", "lcdb", "lcdb11"])
    parser.add_argument("--n-real", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    names = {"model": args.model, "other": args.other}
    models = {key: lcpfn.load(name) for key, name in names.items()}
    rows = []
    for name in args.sets:
        curves = load_curves(name, args.data_dir)
        order = np.random.default_rng(args.seed).permutation(curves.n_curves)
        curves = curves.subset(order[: args.n_real])
        evaluation = evaluate(curves, models, fraction_splits())
        for cut in fraction_splits():
            split = cut.label
            c = compare(evaluation, "model", "other", split, "log_likelihood")
            diff = evaluation.run("model", split).values(
                "log_likelihood"
            ) - evaluation.run("other", split).values("log_likelihood")
            n_obs = cut.apply(curves).n_observed  # (N,), the runs' curve order
            by_count = {
                str(k): [float(diff[n_obs == k].mean()), int((n_obs == k).sum())]
                for k in np.unique(n_obs)
            }
            means = {
                key: float(evaluation.run(key, split).values("log_likelihood").mean())
                for key in models
            }
            rows.append({
                "set": name,
                "split": split,
                "n_curves": int(evaluation.run("model", split).values(
                    "log_likelihood").size),
                **means,
                "difference": c.difference,
                "ci": list(c.ci),
                "tasks_better": c.tasks_better,
                "n_tasks": c.n_tasks,
                "difference_by_observed_count": by_count,
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    out = args.out or f"compare_{Path(args.model).name}_{Path(args.other).name}"
    record = {
        "command": "python benchmarks/model_comparison.py " + " ".join(sys.argv[1:]),
        "machine": describe_machine(),
        "models": names,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{out}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"{out}.md").write_text(markdown(record))
    print(markdown(record))


def markdown(record: dict) -> str:
    m = record["models"]
    lines = [
        f"# {m['model']} against {m['other']} on real curves, paired by curve",
        "",
        f"Command: `{record['command']}`",
        "",
        "Mean LL of the unseen values; difference = model minus other, with its "
        "95 % task-bootstrap interval; tasks: where the model's per-task mean is "
        "higher.",
        "",
        "| set | observed | curves | model LL | other LL | difference [95 % CI] "
        "| tasks better |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in record["rows"]:
        lo, hi = r["ci"]
        lines.append(
            f"| {r['set']} | {r['split']} | {r['n_curves']} | {r['model']:.3f} "
            f"| {r['other']:.3f} | {r['difference']:+.3f} [{lo:+.3f}, {hi:+.3f}] "
            f"| {r['tasks_better']} / {r['n_tasks']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
