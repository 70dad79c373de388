"""``lcpfn bench``: a model's model-card figures (prior accuracy, latency) and,
with ``--strata``, the PFN against the oracle by noise level."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from lcpfn.cli.common import cpu_name
from lcpfn.errors import InputError

if TYPE_CHECKING:
    from lcpfn.evaluation.bench import NoiseStrata, PriorAccuracy


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "bench",
        help="measure a model's model-card figures: prior accuracy and latency",
        description="Mean log-likelihood, MSE of the median, 90 % coverage on "
        "fresh curves from the model's prior at 10/20/40/80 % observed (the LC-PFN "
        "paper's protocol), and one curve's median latency; beside the figures "
        "its card records. With --strata N, also the PFN against the oracle "
        "N(y_clean, sigma) on N curves, by log sigma.",
    )
    p.add_argument("--model", default="default", help="shipped name or path")
    p.add_argument(
        "--n-curves", type=int, default=10_000, help="prior curves (paper: 10,000)"
    )
    p.add_argument("--repeats", type=int, default=200, help="latency repeats")
    p.add_argument(
        "--strata",
        type=int,
        default=0,
        metavar="N",
        help="noise strata on N prior curves: PFN / oracle log-likelihood and "
        "90 %% width over sigma per log-sigma stratum (default 0: off)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", help="also write the figures to this JSON file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lcpfn.evaluation.bench import noise_strata, one_curve_latency, prior_accuracy
    from lcpfn.predict import load

    if args.n_curves < 2:
        raise InputError(f"--n-curves must be >= 2; got {args.n_curves}")
    if args.repeats < 1:
        raise InputError(f"--repeats must be >= 1; got {args.repeats}")
    if args.strata < 0:
        raise InputError(f"--strata must be >= 0 (0: off); got {args.strata}")
    model = load(args.model, device=args.device)
    accuracy = prior_accuracy(model, args.n_curves)
    latency = one_curve_latency(model, args.repeats)
    strata = noise_strata(model, args.strata) if args.strata else None
    print(
        f"model {args.model!r}: {model.card.get('n_parameters', '?')} parameters, "
        f"{args.n_curves:,} prior curves, {accuracy.seconds:.0f} s"
    )
    _print_accuracy(accuracy, latency, model.card.get("benchmarks", {}))
    if strata is not None:
        print_strata(strata)
    if args.out:
        record = {
            "command": args.command_line,
            "model": args.model,
            "model_sha256": model.card.get("sha256"),
            "device": args.device,
            "cpu": cpu_name(),
            "n_curves": accuracy.n_curves,
            "seed": accuracy.seed,
            "summary": {**accuracy.summary, **latency},
            "pit_histogram": accuracy.pit_histogram,
        }
        if strata is not None:
            record["noise_strata"] = {
                "n_curves": strata.n_curves,
                "seed": strata.seed,
                "table": strata.table,
            }
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


def _print_accuracy(
    accuracy: PriorAccuracy, latency: dict[str, float], recorded: dict
) -> None:
    """The measured figures beside those the model's card records."""
    card_accuracy = next(
        (v for k, v in recorded.items() if k.startswith("prior_accuracy")), {}
    )
    card_latency = next(
        (v for k, v in recorded.items() if k.startswith("inference_latency")), {}
    )
    print("cutoff  mean LL (± s.e.)   card LL   MSE median  90 % coverage")
    for cutoff, row in accuracy.summary.items():
        card_ll = card_accuracy.get(cutoff, {}).get("mean_log_likelihood")
        print(
            f"{cutoff:>6}  {row['mean_log_likelihood']:6.3f} ± "
            f"{row['log_likelihood_se']:.3f}    "
            f"{'n/a' if card_ll is None else f'{card_ll:.3f}':>7}   "
            f"{row['mse_median']:.2e}    {row['coverage_90']:.3f}"
        )
    card_ms = card_latency.get("one_curve_ms")
    print(
        f"one curve (10 observed, 90 queries): {latency['one_curve_ms']:.2f} ms "
        f"median (network {latency['one_curve_network_ms']:.2f} ms); card: "
        + ("n/a" if card_ms is None else f"{card_ms:.2f} ms")
    )


def print_strata(strata: NoiseStrata) -> None:
    """One row per cutoff and log-sigma stratum of a ``NoiseStrata``."""
    print(
        f"noise strata, {strata.n_curves:,} prior curves: mean log-likelihood of "
        "the unseen values, PFN and oracle N(y_clean, sigma); median 90 % width "
        "in sigma units (oracle 3.29)"
    )
    print("cutoff  log sigma  share   PFN LL  oracle LL  width / sigma")
    for cutoff, row in strata.table.items():
        for name, cell in row.items():
            print(
                f"{cutoff:>6}  {name:<9}  {cell['share']:5.3f}  "
                f"{cell['pfn_log_likelihood']:7.3f}  "
                f"{cell['oracle_log_likelihood']:9.3f}  "
                f"{cell['width90_over_sigma']:13.2f}"
            )
