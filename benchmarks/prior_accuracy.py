"""Accuracy on fresh prior curves, with the LC-PFN paper's protocol.

Usage:
    python benchmarks/prior_accuracy.py [--model default] [--n-curves 10000]

Draws ``--n-curves`` curves of 100 steps from the model's own prior (the spec
in its model card), with a seed no training run uses, and for each cutoff of
10/20/40/80 % observed predicts the unseen steps. Reports, per cutoff:

- mean log-likelihood of the noisy unseen values (the paper's metric; mean over
  curves and unseen steps) with its standard error over curves,
- MSE of the median against the noisy values,
- coverage of the central 90 % interval (nominal 0.90),
- a PIT histogram (cdf at the true value; flat when calibrated).

The measurement is ``lcpfn.bench.prior_accuracy`` (also behind ``lcpfn bench``).
Writes benchmarks/results/prior_accuracy_<model>.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.evaluation.bench import model_prior, prior_accuracy

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

PAPER = {  # LC-PFN paper, mean log-likelihood at 10/20/40/80 % (DESIGN.md)
    "LC-PFN 26.8M (paper)": (1.76, 2.13, 2.40, 2.52),
    "LC-PFN 2.2M (paper)": (1.65, 2.04, 2.35, 2.49),
    "MCMC (paper)": (1.642, 1.956, 2.285, 2.486),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="shipped name or path")
    parser.add_argument("--n-curves", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=250, help="curves per predict")
    parser.add_argument("--out", help="result stem (default: prior_accuracy_<model>)")
    args = parser.parse_args()

    model = lcpfn.load(args.model)
    prior = model_prior(model)
    result = prior_accuracy(model, args.n_curves, chunk=args.chunk)
    for cutoff, row in result.summary.items():
        print(f"{cutoff}: {json.dumps(row)}", flush=True)

    name = Path(args.model).name
    stem = RESULTS / (args.out or f"prior_accuracy_{name}")
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/prior_accuracy.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "model_sha256": model.card.get("sha256"),
        "n_parameters": model.card.get("n_parameters"),
        "curves_seen": model.card.get("curves_seen"),
        "prior": prior.name,
        "prior_sha256": prior.hash(),
        "n_curves": result.n_curves,
        "seed": result.seed,
        "seconds": result.seconds,
        "summary": result.summary,
        "pit_histogram": result.pit_histogram,
    }
    RESULTS.mkdir(exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record))
    _plot_pit(result.pit_histogram, name, stem.with_suffix(".png"))
    print(f"wrote {stem}.md")


def _markdown(r: dict) -> str:
    s = r["summary"]
    lines = [
        f"# Accuracy on prior curves: model `{r['model']}`",
        "",
        f"{r['n_curves']:,} fresh curves from prior `{r['prior']}` "
        f"(sha256 {r['prior_sha256'][:12]}), seed {r['seed']}; model "
        f"{r['n_parameters']:,} parameters, trained on {r['curves_seen']:,} curves. "
        f"Git {r['machine']['git_revision']}, {r['seconds']:.0f} s on "
        f"{r['machine']['gpu'] or r['machine']['cpu']}.",
        "",
        f"Command: `{r['command']}`",
        "",
        "| | " + " | ".join(s) + " |",
        "|---|" + "---:|" * len(s),
        "| mean log-likelihood (± s.e.) | "
        + " | ".join(
            f"{v['mean_log_likelihood']:.3f} ± {v['log_likelihood_se']:.3f}"
            for v in s.values()
        )
        + " |",
    ]
    for label, values in PAPER.items():
        lines.append(f"| {label} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    lines += [
        "| MSE of the median | "
        + " | ".join(f"{v['mse_median']:.2e}" for v in s.values())
        + " |",
        "| 90 % interval coverage | "
        + " | ".join(f"{v['coverage_90']:.3f}" for v in s.values())
        + " |",
        "",
        "Log-likelihood of the noisy unseen values, averaged over curves and "
        "steps; the paper's rows are copied from the LC-PFN paper (10,000 prior "
        "curves, same protocol), not re-measured. PIT histograms: "
        f"`{Path(r['command'].split()[1]).name}` writes them to the PNG beside "
        "this file.",
        "",
    ]
    return "\n".join(lines)


def _plot_pit(pits: dict, name: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(pits), figsize=(3 * len(pits), 2.8), sharey=True)
    for ax, (c, h) in zip(axes, pits.items(), strict=True):
        ax.bar(np.arange(10) / 10 + 0.05, h, width=0.1, edgecolor="k", alpha=0.7)
        ax.axhline(0.1, color="r", lw=1, ls="--")
        ax.set(title=f"{c} observed", xlabel="PIT", xlim=(0, 1))
    axes[0].set_ylabel("fraction")
    fig.suptitle(f"PIT of unseen values, model {name} (flat = calibrated)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
