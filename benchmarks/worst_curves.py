"""Where a sharper model loses on real curves: its worst curves against a reference.

Usage:
    python benchmarks/worst_curves.py --data-dir ../shared/data --benchmark lcdb11
        --reference RUN_A --model RUN_B [--n-curves 200] [--cutoff 0.1]
        [--n-worst 8] [--mcmc]

Scores both exported models on ``--n-curves`` random curves of the benchmark
(the real-curve suite's normalization) at one cutoff, picks the ``--n-worst``
curves where ``--model`` loses most log-likelihood against ``--reference``,
and, with ``--mcmc``, scores MCMC on the same prior on those curves (NumPyro
NUTS, 4 x (500 + 500)), which says whether the prior or the network is at
fault. Writes benchmarks/results/worst_curves_<benchmark>.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.evaluation import McmcBaseline, evaluate, fraction_splits
from lcpfn.evaluation.datasets import load_curves

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--benchmark", default="lcdb11")
    parser.add_argument("--reference", required=True, help="exported model path")
    parser.add_argument("--model", required=True, help="exported model path")
    parser.add_argument("--n-curves", type=int, default=200)
    parser.add_argument("--cutoff", type=float, default=0.1)
    parser.add_argument("--n-worst", type=int, default=8)
    parser.add_argument("--mcmc", action="store_true")
    args = parser.parse_args()
    curves = load_curves(args.benchmark, args.data_dir)
    order = np.random.default_rng(0).permutation(curves.n_curves)
    sample = curves.subset(order[: args.n_curves])
    models = {"reference": lcpfn.load(args.reference), "model": lcpfn.load(args.model)}
    splits = fraction_splits((args.cutoff,))
    ev = evaluate(sample, models, splits)
    label = splits[0].label
    ll = {k: ev.run(k, label).values("log_likelihood") for k in models}
    worst = np.argsort(ll["model"] - ll["reference"])[: args.n_worst]
    rows = ev.run("model", label).index[worst]  # positions in ``sample``
    methods = dict(models)
    if args.mcmc:
        methods["MCMC"] = McmcBaseline(n_warmup=500, n_samples=500, batch_size=8)
    worst_ev = evaluate(sample.subset(rows), methods, splits)
    lines = [
        f"# Worst curves of `{args.model}` against `{args.reference}`",
        "",
        f"Command: `python benchmarks/worst_curves.py {' '.join(sys.argv[1:])}`",
        "",
        f"{args.benchmark}, {args.n_curves} random curves at {args.cutoff:.0%} "
        f"observed: mean LL reference {ll['reference'].mean():.2f}, model "
        f"{ll['model'].mean():.2f}; the model is worse on "
        f"{(ll['model'] < ll['reference']).mean():.0%} of curves.",
        "",
        "| curve | first observed values | "
        + " | ".join(f"{k} LL" for k in methods)
        + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    scores = {k: worst_ev.run(k, label) for k in methods}
    for i, row in enumerate(rows):
        y = sample.y[row]
        head = ", ".join(f"{v:.4f}" for v in y[np.isfinite(y)][:5])
        cells = [
            f"{scores[k].values('log_likelihood')[i]:.2f}"
            + (f" ({scores[k].status[i]})" if k == "MCMC" else "")
            for k in methods
        ]
        lines.append(f"| {sample.rows[row]} | {head} | " + " | ".join(cells) + " |")
    means = [f"{scores[k].values('log_likelihood').mean():.2f}" for k in methods]
    lines.append("| mean | | " + " | ".join(means) + " |")
    out = RESULTS / f"worst_curves_{args.benchmark}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
