"""Simulation-based calibration (SBC) of lcpfn.mcmc on curves drawn from the prior.

Usage:
    python benchmarks/sbc.py [--prior lcpfn] [--n-curves 200] [--n-obs 20]
                             [--method nuts|smc] [--n-particles 1000]
                             [--smc-max-particles 16000]
                             [--smc-leapfrog 50] [--smc-symmetry-moves 4]
                             [--smc-linear-moves 2]
                             [--n-chains 4] [--n-warmup 500] [--n-samples 500]
                             [--target-accept-prob 0.9] [--diagonal-mass] [--quick]

Talts et al. (2018), "Validating Bayesian inference algorithms with
simulation-based calibration": draw parameters and a noisy curve from the
prior (``lcpfn.sample_curves``), fit ``fit_mcmc`` (or, with ``--method smc``,
``fit_smc``, whose runs are the chains) to the curve's first
``--n-obs`` steps, and count the posterior draws below the true value. If the
sampler targets the exact posterior, that rank is uniform on 0..L for every
quantity, here every sampled parameter (``log_sigma``, the weights, each
family's parameters) and the clean curve's last value f(n_steps), the
quantity an extrapolation is about. The L = ``--n-ranks`` draws are evenly
thinned from all chains, so autocorrelation does not clump the ranks.

Uniformity is tested per quantity with a chi-square test on ``--n-bins``
equal bins and a Kolmogorov-Smirnov test of the randomized fractional ranks
(rank + U) / (L + 1), which are exactly uniform under the null hypothesis.

Writes benchmarks/results/sbc.{json,md,png} (``--out`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

import lcpfn
from lcpfn.mcmc import fit_posterior

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

SEED = 20_261_123  # prior curves no training run draws


def true_values(batch: lcpfn.CurveBatch, families: list[str]) -> dict[str, np.ndarray]:
    """The quantities ranked, from the prior draws. Shapes: each (B,)."""
    out = {"log_sigma": batch.log_sigma.double().numpy()}
    for k, name in enumerate(families):
        out[f"weights[{name}]"] = batch.weights[:, k].double().numpy()
    out.update({k: v.double().numpy() for k, v in batch.params.items()})
    out["f(last)"] = batch.y_clean[:, -1].double().numpy()
    return out


def posterior_draws(post, families: list[str], n_steps: int) -> dict[str, np.ndarray]:
    """The same quantities' posterior draws, chain after chain. Shapes: (S, B)."""
    posterior = post.idata.posterior
    out = {}
    for name, var in posterior.data_vars.items():
        values = var.transpose("chain", "draw", "curve", ...).values
        values = values.reshape(-1, *values.shape[2:])  # (S, B) or (S, B, F)
        if name == "weights":
            out.update(
                {f"weights[{f}]": values[..., k] for k, f in enumerate(families)}
            )
        elif name != "weights_raw":
            out[name] = values
    out["f(last)"] = post.curves([float(n_steps)])[..., 0]
    return out


def ranks(draws: np.ndarray, truth: np.ndarray, n_ranks: int) -> np.ndarray:
    """Rank of each truth among ``n_ranks`` evenly thinned draws, in 0..n_ranks.

    Shapes: draws (S, B), truth (B,)  ->  (B,) int
    """
    keep = np.linspace(0, draws.shape[0] - 1, n_ranks).round().astype(int)
    return (draws[keep] < truth).sum(axis=0)


def uniformity(r: np.ndarray, n_ranks: int, n_bins: int, rng) -> dict:
    """Chi-square and KS p-values of ranks in 0..n_ranks against uniform."""
    counts = np.bincount(r, minlength=n_ranks + 1)
    binned = counts.reshape(n_bins, -1).sum(axis=1)
    fractional = (r + rng.uniform(size=r.shape)) / (n_ranks + 1)
    return {
        "bin_counts": binned.tolist(),
        "chi2_p": float(stats.chisquare(binned).pvalue),
        "ks_p": float(stats.kstest(fractional, "uniform").pvalue),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prior", default="lcpfn", help="shipped name or .toml path")
    parser.add_argument("--n-curves", type=int, default=200)
    parser.add_argument("--n-obs", type=int, default=20, help="observed prefix")
    parser.add_argument("--n-chains", type=int, default=4)
    parser.add_argument("--n-warmup", type=int, default=500)
    parser.add_argument("--n-samples", type=int, default=500)
    parser.add_argument("--target-accept-prob", type=float, default=0.9)
    parser.add_argument(
        "--diagonal-mass", action="store_true", help="no dense mass matrix"
    )
    parser.add_argument("--method", choices=["nuts", "smc"], default="nuts")
    parser.add_argument("--n-particles", type=int, default=1000, help="smc, per run")
    parser.add_argument(
        "--smc-max-particles",
        type=int,
        default=None,
        help="smc: repeated runs up to this many particles (default fit_smc's)",
    )
    parser.add_argument("--smc-steps", type=int, default=1, help="HMC moves per stage")
    parser.add_argument(
        "--smc-leapfrog", type=int, default=50, help="leapfrog steps per HMC move"
    )
    parser.add_argument(
        "--smc-symmetry-moves", type=int, default=4, help="rounds before each HMC move"
    )
    parser.add_argument(
        "--smc-linear-moves", type=int, default=2, help="rounds before each HMC move"
    )
    parser.add_argument("--n-ranks", type=int, default=99, help="thinned draws L")
    parser.add_argument("--n-bins", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--quick", action="store_true", help="16 curves, 200 + 200, 5 bins"
    )
    parser.add_argument("--out", default="sbc", help="result stem in results/")
    args = parser.parse_args()
    if args.quick:
        args.n_curves, args.n_warmup, args.n_samples, args.n_bins = 16, 200, 200, 5
    if (args.n_ranks + 1) % args.n_bins:
        parser.error("--n-bins must divide --n-ranks + 1")

    prior = lcpfn.priors.load(args.prior)
    families = [f.name for f in prior.families]
    n_steps = 100
    batch = lcpfn.sample_curves(prior, args.n_curves, n_steps, seed=args.seed)
    y_obs = batch.y[:, : args.n_obs].double().numpy()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = {
            "smc": {"n_runs": args.n_chains, "n_particles": args.n_particles,
                    "max_particles": args.smc_max_particles,
                    "n_mcmc_steps": args.smc_steps,
                    "n_leapfrog": args.smc_leapfrog,
                    "symmetry_moves": args.smc_symmetry_moves,
                    "linear_moves": args.smc_linear_moves},
            "nuts": {"n_chains": args.n_chains, "n_warmup": args.n_warmup,
                     "n_samples": args.n_samples,
                     "target_accept_prob": args.target_accept_prob,
                     "dense_mass": not args.diagonal_mass},
        }[args.method]  # fmt: skip
        post = fit_posterior(
            None,
            y_obs,
            prior,
            method=args.method,
            seed=args.seed,
            batch_size=args.batch_size,
            **settings,
        )
    seconds = time.perf_counter() - start
    truth = true_values(batch, families)
    draws = posterior_draws(post, families, n_steps)
    rng = np.random.default_rng(args.seed)
    # constants (a fixed weight, say) are no posterior variables: nothing to rank
    results = {
        name: {"ranks": ranks(draws[name], truth[name], args.n_ranks).tolist()}
        for name in truth
        if name in draws
    }
    for entry in results.values():
        entry.update(
            uniformity(np.asarray(entry["ranks"]), args.n_ranks, args.n_bins, rng)
        )
    per_curve = post.curve_diagnostics
    record = {
        "benchmark": "sbc",
        "command": "python benchmarks/sbc.py " + " ".join(sys.argv[1:]),
        "machine": describe_machine(),
        "config": {k: v for k, v in vars(args).items() if k not in ("quick", "out")},
        "prior": prior.name,
        "prior_sha256": prior.hash(),
        "seconds_total": seconds,
        "seconds_per_curve": post.seconds,
        "compile_seconds": post.compile_seconds,
        "diagnostics": {
            "r_hat_max": post.diagnostics.r_hat_max,
            "curves_r_hat_over_1.01": sum(d.r_hat_max > 1.01 for d in per_curve),
            "ess_bulk_min": post.diagnostics.ess_bulk_min,
            "ess_bulk_median": float(np.median([d.ess_bulk_min for d in per_curve])),
            "ess_tail_min": post.diagnostics.ess_tail_min,
            "n_divergences": post.diagnostics.n_divergences,
            "curves_with_divergences": sum(d.n_divergences > 0 for d in per_curve),
            "boundary_rejection_rate": post.diagnostics.boundary_rejection_rate,
            "warnings": [str(w.message) for w in caught],
        },
        "quantities": results,
        "min_chi2_p_bonferroni": min(
            1.0, len(results) * min(r["chi2_p"] for r in results.values())
        ),
        "min_ks_p_bonferroni": min(
            1.0, len(results) * min(r["ks_p"] for r in results.values())
        ),
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / args.out
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record))
    _plot(record, stem.with_suffix(".png"))
    print(_markdown(record))


def _markdown(r: dict) -> str:
    c, d, m = r["config"], r["diagnostics"], r["machine"]
    mass = "diagonal" if c.get("diagonal_mass", True) else "dense"
    lines = [
        f"# Simulation-based calibration of `lcpfn.mcmc` (prior `{r['prior']}`)",
        "",
        f"`{r['command']}` at revision {m['git_revision']}; {m['cpu']}, "
        f"{m['cpu_count']} cores.",
        "",
        f"{c['n_curves']} prior curves (seed {c['seed']}), first {c['n_obs']} of "
        f"100 steps observed; "
        + (
            f"tempered SMC, {c['n_chains']} runs x {c['n_particles']} particles "
            f"(repeated up to {c.get('smc_max_particles') or 16 * c['n_particles']}"
            " where a curve did not converge), "
            f"{c['smc_steps']} HMC move(s) of {c['smc_leapfrog']} leapfrog "
            f"steps per stage, each after {c.get('smc_symmetry_moves', 0)} rounds "
            f"of symmetry moves and {c.get('smc_linear_moves', 0)} of linear moves"
            if c.get("method") == "smc"
            else f"NUTS, {c['n_chains']} chains x ({c['n_warmup']} warm-up + "
            f"{c['n_samples']} draws), {mass} mass matrix, target acceptance "
            f"{c.get('target_accept_prob', 0.8)}"
        )
        + f", batches of {c['batch_size']} curves. "
        f"Ranks among "
        f"L = {c['n_ranks']} thinned draws, {c['n_bins']} bins.",
        "",
        f"Wall time: {r['seconds_total']:.0f} s in all, "
        f"{r['seconds_per_curve']:.2f} s per curve sampling "
        f"+ {r['compile_seconds']:.0f} s compiling once.",
        "",
        f"Diagnostics: max r_hat {d['r_hat_max']:.3f} "
        f"({d['curves_r_hat_over_1.01']} curves over 1.01); min bulk ESS "
        f"{d['ess_bulk_min']:.0f} (median over curves {d['ess_bulk_median']:.0f}); "
        f"{d['n_divergences']} divergent transitions on "
        f"{d['curves_with_divergences']} curves; "
        f"{d['boundary_rejection_rate']:.2%} of NUTS proposals rejected at the "
        f"truncation boundary (nan for SMC).",
        "",
        "| quantity | chi-square p | KS p | counts per bin |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, q in r["quantities"].items():
        lines.append(
            f"| {name} | {q['chi2_p']:.3f} | {q['ks_p']:.3f} | "
            f"{' '.join(map(str, q['bin_counts']))} |"
        )
    lines += [
        "",
        f"Smallest p-value times the number of quantities (Bonferroni): "
        f"chi-square {r['min_chi2_p_bonferroni']:.3f}, KS "
        f"{r['min_ks_p_bonferroni']:.3f}. Uniform ranks (large p) are what an "
        f"exact posterior sampler gives; a U shape means too narrow posteriors, "
        f"a hump too wide ones, a slope a bias.",
        "",
    ]
    return "\n".join(lines)


def _plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = r["quantities"]
    n_bins, n = r["config"]["n_bins"], r["config"]["n_curves"]
    cols = 4
    rows = -(-len(quantities) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.3 * rows), squeeze=False)
    # 99 % band of a bin count under uniform ranks (binomial)
    low, high = stats.binom.ppf([0.005, 0.995], n, 1 / n_bins)
    for ax, (name, q) in zip(axes.flat, quantities.items(), strict=False):
        ax.axhspan(low, high, color="0.85", lw=0)
        ax.bar(np.arange(n_bins), q["bin_counts"], width=1.0, edgecolor="k", alpha=0.7)
        ax.axhline(n / n_bins, color="r", lw=1, ls="--")
        ax.set_title(f"{name}  p={q['chi2_p']:.2f}", fontsize=9)
        ax.set_xticks([])
    for ax in axes.flat[len(quantities) :]:
        ax.axis("off")
    fig.suptitle(
        f"SBC rank histograms, prior {r['prior']} ({n} curves; grey: 99 % band)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
