"""The ``lcpfn`` command line: ``lcpfn sample ...``, ``lcpfn train ...``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lcpfn import priors
from lcpfn.errors import InputError, LcpfnError
from lcpfn.model import ModelConfig
from lcpfn.sampling import sample_curves
from lcpfn.training import TrainConfig, train


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lcpfn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser(
        "sample", help="draw curves from a prior and summarize them"
    )
    sample.add_argument(
        "--prior", default="lcpfn", help="shipped name or path to a .toml"
    )
    sample.add_argument("--n-curves", type=int, default=10_000)
    sample.add_argument("--n-steps", type=int, default=100)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--device", default="cpu")
    sample.add_argument("--out", help="write t, y, y_clean to this .npz file")
    sample.add_argument(
        "--plot", help="write a PNG of 12 curves and the prior's quantiles"
    )
    fit = commands.add_parser("train", help="train a PFN on a prior (resumable)")
    fit.add_argument("--prior", default="lcpfn", help="shipped name or path to a .toml")
    fit.add_argument("--model-config", help="JSON file of ModelConfig fields")
    fit.add_argument("--train-config", help="JSON file of TrainConfig fields")
    fit.add_argument("--checkpoint-dir", help="resume from / write checkpoints here")
    fit.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    fit.add_argument(
        "--time-limit", type=float, help="seconds, then checkpoint and stop"
    )
    fit.add_argument("--out", required=True, help="export path (without suffix)")
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        return _sample(args)
    except (LcpfnError, TypeError) as err:
        print(f"lcpfn: error: {err}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    prior = priors.load(args.prior)
    model_config = ModelConfig(**_read_json(args.model_config))
    fields = _read_json(args.train_config)
    if args.checkpoint_dir:
        fields["checkpoint_dir"] = args.checkpoint_dir
    result = train(
        prior,
        model_config,
        TrainConfig(**fields),
        device=args.device,
        time_limit=args.time_limit,
    )
    if not result.finished:
        print(
            f"stopped after {result.curves_seen:,} curves (time limit); run the same "
            f"command again to resume"
        )
        return 0
    weights, card = result.save(args.out)
    print(
        f"trained on {result.curves_seen:,} curves in {result.seconds:.0f} s; "
        f"final loss {result.history[-1]['loss']:.4f}; wrote {weights} and {card}"
    )
    return 0


def _read_json(path: str | None) -> dict:
    if path is None:
        return {}
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: cannot read a JSON config: {err}") from err


def _sample(args: argparse.Namespace) -> int:
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
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
