"""The prior's range guarantee on real curves: the shipped PFN with and without it.

Usage:
    python benchmarks/range_guarantee.py --data-dir ../shared/data [--model default]
        [--n-curves 600]

Predictions are held to the prior's range guarantee (``lcpfn.pfn.prior_range``).
This compares them, curve by curve, with the network's own predictive (the same
model loaded without its prior's range) on the real-curve suite's subsamples
(the same curves as ``benchmarks/real_curves.py``): how many curves the
guarantee changes, the mean change of their log-likelihood (LL) of the unseen
values in the metric's units, the largest losses and gains, and the mean
squared error of the median against the last value's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.evaluation import datasets, metrics
from lcpfn.evaluation.baselines import LastValue
from lcpfn.evaluation.suite import subsample
from lcpfn.predict import Extrapolator

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

BENCHMARKS = ("taskset", "lcdb", "lcdb11")
CUTOFFS = (0.1, 0.2, 0.4, 0.8)


def per_curve(prediction, split: datasets.CurveSplit) -> tuple[np.ndarray, np.ndarray]:
    """Mean LL and MSE of the median over each curve's unseen values.

    Shapes: returns (N,), (N,).
    """
    truth = split.y_true
    filled = np.where(np.isnan(truth), np.nanmean(split.y_obs), truth)
    return (
        metrics.log_likelihood(prediction.log_prob(filled), truth),
        metrics.squared_error(prediction.median(), truth),
    )


def compare(held: Extrapolator, alone: Extrapolator, split: datasets.CurveSplit):
    """One benchmark at one cutoff: the row of the table."""
    kwargs = dict(horizon=split.horizon, transform=split.transform)
    args = (split.y_obs, split.t_obs, split.t_query)
    ll_held, se_held = per_curve(held.predict(*args, **kwargs), split)
    ll_alone, se_alone = per_curve(alone.predict(*args, **kwargs), split)
    last = LastValue().predict(*args, **kwargs).median()  # the suite's last value
    se_last = metrics.squared_error(last, split.y_true)
    diff = ll_held - ll_alone
    worst = np.argsort(se_held)[::-1][:2]  # the curves that decide the MSE
    rest = np.setdiff1d(np.arange(len(diff)), worst)
    return {
        "n_curves": int(len(diff)),
        "curves_changed": int((np.abs(diff) > 1e-9).sum()),
        "mean_ll_held": float(ll_held.mean()),
        "mean_ll_change": float(diff.mean()),
        "largest_loss": float(diff.min()),
        "largest_gain": float(diff.max()),
        "mse_held": float(se_held.mean()),
        "mse_alone": float(se_alone.mean()),
        "mse_last_value": float(se_last.mean()),
        "worst_curves": worst.tolist(),
        "worst_se_held": se_held[worst].tolist(),
        "worst_se_last_value": se_last[worst].tolist(),
        "mse_held_without_worst": float(se_held[rest].mean()),
        "mse_last_value_without_worst": float(se_last[rest].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--model", default="default", help="shipped name or path")
    parser.add_argument("--n-curves", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0, help="the suite's subsample")
    args = parser.parse_args()

    start = time.perf_counter()
    held = lcpfn.load(args.model)
    alone = Extrapolator(
        held.model, {k: v for k, v in held.card.items() if k != "prior"}
    )
    rows = {}
    for name in BENCHMARKS:
        curves = subsample(
            datasets.load_curves(name, args.data_dir), args.n_curves, args.seed
        )
        for cutoff in CUTOFFS:
            row = compare(held, alone, datasets.split_at_fraction(curves, cutoff))
            rows[f"{name} {cutoff:.0%}"] = row
            print(f"{name} {cutoff:.0%}: {json.dumps(row)}", flush=True)
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/range_guarantee.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "prior_range": [held.prior_range.lower, held.prior_range.upper],
        "seconds": time.perf_counter() - start,
        "rows": rows,
    }
    stem = RESULTS / "range_guarantee"
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record))
    print(f"wrote {stem}.md")


def worst_of(row: dict) -> zip:
    return zip(
        row["worst_curves"],
        row["worst_se_held"],
        row["worst_se_last_value"],
        strict=True,
    )


def _markdown(r: dict) -> str:
    lines = [
        "# The prior's range guarantee on real curves",
        "",
        f"Model `{r['model']}`, prior range {r['prior_range']}; the real-curve "
        f"suite's subsamples. Git {r['machine']['git_revision']}, "
        f"{r['seconds']:.0f} s.",
        "",
        f"Command: `{r['command']}`",
        "",
        "Per curve: mean LL of the unseen values (metric units) and MSE of the "
        "median, with the guarantee (held) and without it (the network alone).",
        "",
        "| benchmark, cutoff | curves changed | mean LL held | mean LL change "
        "| largest loss / gain | MSE held | MSE alone | MSE last value "
        "| two worst curves (held / last value) | MSE held / last value without them |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|---|",
    ]
    for key, row in r["rows"].items():
        lines.append(
            f"| {key} | {row['curves_changed']} of {row['n_curves']} "
            f"| {row['mean_ll_held']:.3f} | {row['mean_ll_change']:+.4f} "
            f"| {row['largest_loss']:+.2f} / {row['largest_gain']:+.2f} "
            f"| {row['mse_held']:.3g} | {row['mse_alone']:.3g} "
            f"| {row['mse_last_value']:.3g} "
            f"| {', '.join(f'{c}: {h:.3g} / {v:.3g}' for c, h, v in worst_of(row))} "
            f"| {row['mse_held_without_worst']:.3g} / "
            f"{row['mse_last_value_without_worst']:.3g} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
