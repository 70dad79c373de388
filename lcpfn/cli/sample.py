"""``lcpfn sample``: draw curves from a prior, print quantiles, optional file/plot."""

from __future__ import annotations

import argparse
import time

import numpy as np

from lcpfn.prior import spec as priors
from lcpfn.prior.sampler import sample_curves


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "sample", help="draw curves from a prior and summarize them"
    )
    p.add_argument("--prior", default="lcpfn", help="shipped name or path to a .toml")
    p.add_argument("--n-curves", type=int, default=10_000)
    p.add_argument("--n-steps", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", help="write t, y, y_clean to this .npz file")
    p.add_argument("--plot", help="write a PNG of 12 curves and the prior's quantiles")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    prior = priors.load(args.prior)
    start = time.perf_counter()
    batch = sample_curves(
        prior, args.n_curves, args.n_steps, seed=args.seed, device=args.device
    )
    seconds = time.perf_counter() - start
    y = batch.y.cpu().numpy()
    print(f"prior {prior.name!r} ({prior.source}), sha256 {prior.hash()[:12]}")
    print(
        f"{args.n_curves} curves x {args.n_steps} steps in {seconds:.2f} s "
        f"({args.n_curves / seconds:,.0f} curves/s on {args.device}); "
        f"acceptance rate {batch.acceptance_rate:.3f}"
    )
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    print("step   " + "  ".join(f"q{int(q * 100):02d}  " for q in levels))
    for step in sorted({1, args.n_steps // 10, args.n_steps // 2, args.n_steps} - {0}):
        row = np.quantile(y[:, step - 1], levels)
        print(f"{step:4d}   " + "  ".join(f"{v:.3f}" for v in row))
    if args.out:
        np.savez(
            args.out, t=batch.t.cpu().numpy(), y=y, y_clean=batch.y_clean.cpu().numpy()
        )
        print(f"wrote {args.out}")
    if args.plot:
        _plot_curves(batch.t.cpu().numpy(), y, prior.name, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _plot_curves(t: np.ndarray, y: np.ndarray, title: str, path: str) -> None:
    """12 curves, the median and the central 90 % of all.

    Shapes: t (T,), y (B, T)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.fill_between(
        t, *np.quantile(y, [0.05, 0.95], axis=0), alpha=0.2, label="90 % of curves"
    )
    ax.plot(t, np.median(y, axis=0), color="k", lw=2, label="median")
    ax.plot(t, y[:12].T, lw=0.8, alpha=0.8)
    ax.set(
        xlabel="t (epoch)",
        ylabel="y",
        title=f"curves drawn from the {title!r} prior",
        ylim=(-0.05, 1.05),
    )
    ax.legend(loc="lower right")
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
