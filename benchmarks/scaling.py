"""Which model size to train long: the chosen recipe at several sizes, equal CPU time.

Usage:
    python benchmarks/scaling.py train --runs-dir ~/lcpfn-runs/scaling
        [--sizes d96-l3 d192-l6] [--budgets 15 30 60]
    python benchmarks/scaling.py score --runs-dir ~/lcpfn-runs/scaling
        [--n-prior 2000]

Every size is trained with the recipe chosen by the sharpness ablation (its
``combo`` arm: scale-aware inputs, bars in curve units, the low-noise proposal
with importance weights and the integrated noise target) and the ablation's
protocol: one thread, budgets in CPU-minutes from the size's own measured
throughput, each budget extending the shorter one's stable-phase checkpoint
(``sharpness_ablation.train_to_budget``). The default size (d_model 128, 4
layers) is the ablation's ``combo`` run itself: link its folder as
``--runs-dir/d128-l4`` instead of training it twice.

``score`` reports, per size and budget, the prior mean log-likelihood at
10/20/40/80 % observed against CPU-minutes and curves seen, and writes
benchmarks/results/scaling.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

import lcpfn

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402
from sharpness_ablation import (  # noqa: E402
    ARMS,
    budget_minutes,
    kept_scores,
    train_to_budget,
)

RECIPE = "combo"
SIZES = {
    "d96-l3": dict(d_model=96, n_layers=3, n_heads=4),
    "d128-l4": dict(d_model=128, n_layers=4, n_heads=4),
    "d192-l6": dict(d_model=192, n_layers=6, n_heads=6),
}


def score(
    runs_dir: Path, n_prior: int, done: dict, budgets: list[float] | None = None
) -> dict:
    """Prior accuracy of every exported model (at ``budgets`` CPU-minutes only,
    if given) not yet in ``done`` (added to a copy), keyed ``<folder>/cpu<m>min``;
    the folder's name is the row's ``size``."""
    from lcpfn.evaluation.bench import prior_accuracy

    scores = dict(done)
    for card in sorted(runs_dir.glob("*/cpu*min.json")):
        if f"{card.parent.name}/{card.stem}" in scores:
            continue
        if budgets is not None and budget_minutes(card.stem) not in budgets:
            continue
        meta = json.loads(card.read_text())
        model = lcpfn.load(card.with_suffix(""))
        scores[f"{card.parent.name}/{card.stem}"] = {
            "size": card.parent.name,
            "cpu_minutes": budget_minutes(card.stem),
            "curves_seen": meta["curves_seen"],
            "n_parameters": meta["n_parameters"],
            "prior": {
                k: v["mean_log_likelihood"]
                for k, v in prior_accuracy(model, n_prior).summary.items()
            },
        }
        print(card, json.dumps(scores[f"{card.parent.name}/{card.stem}"]), flush=True)
    return scores


def plot(scores: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cutoffs = next(iter(scores.values()))["prior"].keys()
    fig, axes = plt.subplots(2, len(cutoffs), figsize=(4 * len(cutoffs), 6.5))
    for size in sorted({row["size"] for row in scores.values()}):
        rows = sorted(
            (r for r in scores.values() if r["size"] == size),
            key=lambda r: r["cpu_minutes"],
        )
        label = f"{size} ({rows[0]['n_parameters'] / 1e6:.2f}M)"
        for j, cut in enumerate(cutoffs):
            ll = [r["prior"][cut] for r in rows]
            axes[0, j].plot([r["cpu_minutes"] for r in rows], ll, "o-", label=label)
            axes[1, j].plot([r["curves_seen"] for r in rows], ll, "o-", label=label)
            axes[0, j].set_title(f"prior LL, {cut} observed")
            axes[0, j].set_xlabel("CPU-minutes (one thread)")
            axes[1, j].set_xlabel("curves seen")
            axes[1, j].set_xscale("log")
    axes[0, 0].set_ylabel("mean log-likelihood")
    axes[1, 0].set_ylabel("mean log-likelihood")
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(
    record: dict,
    title: str = "Model size at equal CPU time",
    label: str = "size",
    setup: str = "of the sharpness ablation",
    plot_name: str | None = "scaling.png",
) -> str:
    """The score table, a row per ``label`` (the run's folder) and budget."""
    plotted = f" Plot: `{plot_name}`." if plot_name else ""
    lines = [
        f"# {title}",
        "",
        f"Command: `{record['command']}`; recipe `{RECIPE}` {setup}, "
        f"{record['n_prior']} prior curves. Cells: mean log-likelihood "
        f"at 10 / 20 / 40 / 80 % observed.{plotted}",
        "",
        f"| {label} | parameters | CPU-minutes | curves seen | prior LL |",
        "|---|---|---|---|---|",
    ]
    for row in sorted(
        record["scores"].values(), key=lambda r: (r["cpu_minutes"], r["size"])
    ):
        ll = " / ".join(f"{v:.3f}" for v in row["prior"].values())
        lines.append(
            f"| {row['size']} | {row['n_parameters']:,} | {row['cpu_minutes']:g} "
            f"| {row['curves_seen']:,} | {ll} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["train", "score"])
    parser.add_argument(
        "--runs-dir", default=os.path.expanduser("~/lcpfn-runs/scaling")
    )
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--budgets", nargs="+", type=float, default=[15, 30, 60])
    parser.add_argument("--n-prior", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    runs_dir = Path(args.runs_dir)
    if args.command == "train":
        torch.set_num_threads(1)
        model_kw, train_kw = ARMS[RECIPE]
        for minutes in sorted(args.budgets):
            for size in args.sizes:
                kw = {**model_kw, **SIZES[size]}
                train_to_budget(runs_dir / size, kw, train_kw, minutes, args.seed)
        return
    done = kept_scores(RESULTS / "scaling.json", n_prior=args.n_prior)
    record = {
        "command": "python benchmarks/scaling.py " + " ".join(sys.argv[1:]),
        "machine": describe_machine(),
        "n_prior": args.n_prior,
        "scores": score(runs_dir, args.n_prior, done),
    }
    (RESULTS / "scaling.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "scaling.md").write_text(markdown(record))
    plot(record["scores"], RESULTS / "scaling.png")
    print(markdown(record))


if __name__ == "__main__":
    main()
