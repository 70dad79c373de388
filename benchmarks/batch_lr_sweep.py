"""Batch size and learning rate of the long run, at equal CPU time.

Usage:
    python benchmarks/batch_lr_sweep.py train --runs-dir ~/lcpfn-runs/sweep
        [--settings b64-lr1e-3 b256-lr1e-3 ...] [--budgets 10]
    python benchmarks/batch_lr_sweep.py score --runs-dir ~/lcpfn-runs/sweep
        [--n-prior 2000] [--budgets 10]

The recipe chosen by the sharpness ablation (its ``combo`` arm) at the size
chosen by the scaling check (d_model 96, 3 layers), trained with the
ablation's protocol (``sharpness_ablation.train_to_budget``: one thread, a
budget in CPU-minutes is the number of curves the setting's own measured
throughput gives, warm-up-stable-decay). Only the batch size and AdamW's
learning rate change; ``b128-lr1e-3`` is the long run's own setting. The
throughput of every setting is measured first, one after another, so that
the budgets compare on a machine whose speed drifts between sessions; the
long run's setting is therefore trained again here rather than taken from
the scaling check.

``score`` reports the prior mean log-likelihood at 10/20/40/80 % observed of
every setting at each budget (``scaling.score``, on the scaling check's
curves) and writes benchmarks/results/batch_lr_sweep.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import scaling  # noqa: E402
from scaling import RECIPE, SIZES, score  # noqa: E402
from sharpness_ablation import (  # noqa: E402
    ARMS,
    kept_scores,
    throughput,
    train_to_budget,
)

SIZE = "d96-l3"
SETTINGS = {
    "b64-lr1e-3": dict(batch_size=64, lr=1e-3),
    "b128-lr1e-3": dict(batch_size=128, lr=1e-3),
    "b256-lr1e-3": dict(batch_size=256, lr=1e-3),
    "b128-lr5e-4": dict(batch_size=128, lr=5e-4),
    "b128-lr2e-3": dict(batch_size=128, lr=2e-3),
    "b256-lr2e-3": dict(batch_size=256, lr=2e-3),
}
RESULTS = Path(__file__).parent / "results"


def markdown(record: dict) -> str:
    return scaling.markdown(
        record,
        title="Batch size and learning rate at equal CPU time",
        label="setting",
        setup=f"at {SIZE} (the scaling check's curves)",
        plot_name=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["train", "score"])
    parser.add_argument("--runs-dir", default=os.path.expanduser("~/lcpfn-runs/sweep"))
    parser.add_argument(
        "--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS)
    )
    parser.add_argument("--budgets", nargs="+", type=float, default=[10])
    parser.add_argument("--n-prior", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    runs_dir = Path(args.runs_dir)
    if args.command == "train":
        torch.set_num_threads(1)
        model_kw, train_kw = ARMS[RECIPE]
        sized = {**model_kw, **SIZES[SIZE]}
        tuned = {name: {**train_kw, **SETTINGS[name]} for name in args.settings}
        for name in args.settings:  # every rate first, in the same conditions
            (runs_dir / name).mkdir(parents=True, exist_ok=True)
            throughput(sized, tuned[name], runs_dir / name, args.seed)
        for minutes in sorted(args.budgets):
            for name in args.settings:
                train_to_budget(runs_dir / name, sized, tuned[name], minutes, args.seed)
        return
    out = RESULTS / "batch_lr_sweep.json"
    done = kept_scores(out, n_prior=args.n_prior)
    record = {
        "command": "python benchmarks/batch_lr_sweep.py " + " ".join(sys.argv[1:]),
        "n_prior": args.n_prior,
        "scores": score(runs_dir, args.n_prior, done, budgets=args.budgets),
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(record))
    print(markdown(record))


if __name__ == "__main__":
    main()
