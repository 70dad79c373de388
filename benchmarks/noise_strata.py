"""Where a model is too wide: PFN against the oracle predictive, by noise level.

Usage:
    python benchmarks/noise_strata.py [--model default] [--n-curves 6000]
        [--n-mcmc 0] [--seed 20261122]

Draws ``--n-curves`` fresh curves from the model's prior and, at each cutoff
of 10/20/40/80 % observed, compares the PFN's mean log-likelihood of the unseen
noisy values with that of the oracle N(y_clean(t), sigma) (which knows the
true curve: an upper bound), and reports the median width of the PFN's central
90 % interval in units of each curve's sigma (the oracle's: 3.29), in strata of
log sigma (< -6, -6..-5, -5..-4, -4..-3, > -3, then the pooled < -5 and all
curves). With ``--n-mcmc k`` it also
fits NumPyro NUTS on the same prior (``lcpfn.mcmc.fit_mcmc``) to the first k
curves of each stratum as the Bayes reference.

The measurement is ``lcpfn.bench.noise_strata``.
Writes benchmarks/results/noise_strata_<model>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.evaluation.bench import CUTOFFS, NOISE_BINS, SEED, model_prior, noise_strata

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402


def mcmc_reference(model, n_per_stratum: int, seed: int) -> dict:
    """MCMC log-likelihood of the unseen values on a few curves per stratum."""
    from lcpfn.mcmc import fit_mcmc

    prior = model_prior(model)
    batch = lcpfn.sample_curves(prior, 2000, model.max_steps, seed=seed)
    stratum = np.digitize(batch.log_sigma.numpy(), NOISE_BINS[1:-1])
    y, T = batch.y.double().numpy(), model.max_steps
    out: dict = {}
    for k in range(len(NOISE_BINS) - 1):
        rows = np.flatnonzero(stratum == k)[:n_per_stratum]
        for c in CUTOFFS:
            cut = max(1, round(c / 100 * T))
            t_query = np.arange(cut + 1.0, T + 1.0)
            ll_mcmc, ll_pfn = [], []
            for i in rows:
                post = fit_mcmc(np.arange(1.0, cut + 1), y[i, :cut], prior, seed=int(i))
                ll_mcmc.append(post.predict(t_query).log_prob(y[i, cut:]).mean())
                pfn = model.predict(y[i, :cut], t_query=t_query)
                ll_pfn.append(pfn.log_prob(y[i, cut:]).mean())
            out.setdefault(f"{c}%", {})[str(k)] = {
                "n": len(rows),
                "mcmc_log_likelihood": float(np.mean(ll_mcmc)) if ll_mcmc else None,
                "pfn_log_likelihood": float(np.mean(ll_pfn)) if ll_pfn else None,
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="shipped name or path")
    parser.add_argument("--n-curves", type=int, default=6000)
    parser.add_argument("--n-mcmc", type=int, default=0, help="MCMC curves per stratum")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", help="result stem (default: noise_strata_<model>)")
    args = parser.parse_args()
    model = lcpfn.load(args.model)
    result = noise_strata(model, args.n_curves, seed=args.seed)
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/noise_strata.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "model_sha256": model.card.get("sha256"),
        "n_curves": args.n_curves,
        "seed": args.seed,
        "table": result.table,
    }
    if args.n_mcmc:
        record["mcmc"] = mcmc_reference(model, args.n_mcmc, args.seed + 1)
    stem = RESULTS / (args.out or f"noise_strata_{Path(args.model).name}")
    RESULTS.mkdir(exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(record))
    print(markdown(record))


def markdown(r: dict) -> str:
    lines = [
        f"# Noise strata: model `{r['model']}`",
        "",
        f"{r['n_curves']:,} fresh prior curves (seed {r['seed']}). Cells: PFN / "
        "oracle mean log-likelihood of the unseen values, and the median width "
        "of the PFN's 90 % interval in sigma units (oracle 3.29).",
        "",
        f"Command: `{r['command']}`",
        "",
    ]
    strata = list(next(iter(r["table"].values())))
    lines.append("| cutoff | " + " | ".join(strata) + " |")
    lines.append("|---|" + "---|" * len(strata))
    for cutoff, row in r["table"].items():
        cells = [
            f"{c['pfn_log_likelihood']:.2f} / {c['oracle_log_likelihood']:.2f}, "
            f"w {c['width90_over_sigma']:.1f} ({c['share']:.0%})"
            for c in (row[s] for s in strata)
        ]
        lines.append(f"| {cutoff} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
