"""Simulation-based calibration (SBC) of lcpfn.mcmc on curves drawn from the prior.

Usage:
    python benchmarks/sbc.py [--prior lcpfn] [--n-curves 200] [--n-obs 20]
                             [--method nuts|smc] [--n-particles 1000]
                             [--smc-max-particles 16000]
                             [--smc-leapfrog 50] [--smc-symmetry-moves 4]
                             [--smc-linear-moves 2]
                             [--n-chains 4] [--n-warmup 500] [--n-samples 500]
                             [--target-accept-prob 0.9] [--diagonal-mass] [--quick]
    python benchmarks/sbc.py --from-run reference_posterior_256_draws4000
                             [--method smc] [--out sbc]

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

``--from-run STEM`` fits nothing: it tests the ranks that
``benchmarks/reference_posterior.py`` recorded in results/STEM.json, at each
of its cutoffs, with that script's L (99) and bins (10); ``--method``
defaults to the run's method if it has one, and the other options do not
apply.

Writes benchmarks/results/sbc.{json,md,png} (``--out`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
import zlib
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


def cutoff_tests(ranks_at: dict, n_ranks: int, n_bins: int, seed: int) -> dict:
    """``uniformity`` of every quantity's ranks at every cutoff. Each (cutoff,
    quantity) draws its KS fractional parts from its own stream, so its p-value
    does not depend on which other quantities or cutoffs are tested.

    Shapes: ranks_at {cutoff: {quantity: (B,) ranks}} -> {cutoff: {quantity: dict}}
    """
    return {
        k: {
            name: uniformity(
                np.asarray(r),
                n_ranks,
                n_bins,
                np.random.default_rng([seed, int(k), zlib.crc32(name.encode())]),
            )
            for name, r in q.items()
        }
        for k, q in ranks_at.items()
    }


def cutoff_table(tests: dict, n_ranks: int, n_bins: int) -> list[str]:
    """Markdown: chi-square / KS p per quantity and cutoff, and the Bonferroni line."""
    cutoffs = list(tests)
    names = list(tests[cutoffs[0]])
    n_tests = len(names) * len(cutoffs)
    counts = ", ".join(
        f"{k} %: {sum(tests[k][names[0]]['bin_counts'])}" for k in cutoffs
    )
    lines = [
        f"Ranks among L = {n_ranks} thinned draws; chi-square p on {n_bins} bins / "
        "KS p of the randomized fractional ranks, per quantity and cutoff "
        f"({counts} curves).",
        "",
        "| quantity | " + " | ".join(f"{k} %" for k in cutoffs) + " |",
        "|---|" + "---|" * len(cutoffs),
    ]
    for name in names:
        lines.append(
            f"| {name} | "
            + " | ".join(
                f"{tests[k][name]['chi2_p']:.3f} / {tests[k][name]['ks_p']:.3f}"
                for k in cutoffs
            )
            + " |"
        )
    smallest = {
        test: min(t[name][test] for t in tests.values() for name in names)
        for test in ("chi2_p", "ks_p")
    }
    lines += [
        "",
        f"Smallest p-value times the number of tests ({n_tests}, Bonferroni): "
        f"chi-square {min(1.0, n_tests * smallest['chi2_p']):.3f}, KS "
        f"{min(1.0, n_tests * smallest['ks_p']):.3f}; both tests as one family "
        f"({2 * n_tests} tests): "
        f"{min(1.0, 2 * n_tests * min(smallest.values())):.3f}.",
    ]
    return lines


def from_run(stem: str, method: str | None, out: str) -> None:
    """sbc.{json,md,png} from the ranks of a reference_posterior.py run."""
    from reference_posterior import N_BINS, N_RANKS, SBC_MIN_CURVES

    run = json.loads((RESULTS / f"{stem}.json").read_text())
    s = run["settings"]
    if method is None and len(s["methods"]) == 1:
        method = s["methods"][0]
    if method is None:
        sys.exit(f"{stem} fitted {s['methods']}; choose one with --method")
    if method not in s["methods"]:
        sys.exit(f"{stem} has no {method} fits; it has {s['methods']}")
    rows = run["rows"][method]
    ranks_at = {
        k: rows[k]["ranks"]
        for k in map(str, s["cutoffs"])
        if len(rows[k].get("log_likelihood", [])) >= SBC_MIN_CURVES
    }
    if not ranks_at:
        sys.exit(f"{stem}: fewer than {SBC_MIN_CURVES} {method} curves at every cutoff")
    top = max(max(r) for q in ranks_at.values() for r in q.values())
    if top > N_RANKS:
        sys.exit(f"{stem} has ranks up to {top}, more than this L = {N_RANKS}")
    tests = cutoff_tests(ranks_at, N_RANKS, N_BINS, seed=0)
    record = {
        "benchmark": "sbc",
        "command": "python benchmarks/sbc.py " + " ".join(sys.argv[1:]),
        "machine": describe_machine(),
        "run": {"stem": stem, "command": run["command"], "settings": s},
        "method": method,
        "n_ranks": N_RANKS,
        "n_bins": N_BINS,
        "cutoffs": {
            k: {
                "n_curves": len(rows[k]["log_likelihood"]),
                "converged": sum(rows[k]["converged"]),
                "quantities": {
                    name: {**t, "ranks": ranks_at[k][name]}
                    for name, t in tests[k].items()
                },
            }
            for k in tests
        },
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / out
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    text = _run_markdown(record, tests)
    path.with_suffix(".md").write_text(text)
    _plot(
        {
            f"{k} %": {n: q["bin_counts"] for n, q in t.items()}
            for k, t in tests.items()
        },
        f"SBC rank histograms of {method}, prior lcpfn, by cutoff (grey: 99 % band)",
        path.with_suffix(".png"),
    )
    print(text)


def _run_markdown(r: dict, tests: dict) -> str:
    s, m = r["run"]["settings"], r["machine"]
    converged = ", ".join(
        f"{k} %: {c['converged']} / {c['n_curves']}" for k, c in r["cutoffs"].items()
    )
    draws = s["smc_draws"] or "fit_smc's default number of"
    fits = (
        f"tempered SMC, 4 runs x {s['smc_particles']} particles (sampled again, "
        f"with up to {s['smc_max_particles']}, where a curve did not converge), "
        f"{s['smc_steps']} HMC move(s) of {s['smc_leapfrog']} leapfrog steps per "
        f"stage, each after {s['smc_symmetry_moves']} rounds of symmetry moves and "
        f"{s['smc_linear_moves']} of linear moves, target ESS "
        f"{s['smc_target_ess']}, {draws} draws per run"
        if r["method"] == "smc"
        else f"NUTS, 4 chains x ({s['nuts_warmup']} warm-up + "
        f"{s['nuts_samples']} draws)"
    )
    lines = [
        f"# Simulation-based calibration of `lcpfn.mcmc` ({r['method']}, prior "
        "`lcpfn`)",
        "",
        f"`{r['command']}` at revision {m['git_revision']}, from the fits of "
        f"`{r['run']['command']}` (`benchmarks/results/{r['run']['stem']}.md`): "
        f"prior curves (seed {s['seed']}) observed up to each cutoff (the first "
        f"k % of their 100 steps); {fits}. Converged by the method's own "
        f"criterion: {converged}.",
        "",
        *cutoff_table(tests, r["n_ranks"], r["n_bins"]),
        "",
        "Counts per bin:",
        "",
        "| quantity | " + " | ".join(f"{k} %" for k in tests) + " |",
        "|---|" + "---|" * len(tests),
        *(
            f"| {name} | "
            + " | ".join(
                " ".join(map(str, t[name]["bin_counts"])) for t in tests.values()
            )
            + " |"
            for name in next(iter(tests.values()))
        ),
        "",
        "Uniform ranks (large p) are what an exact posterior sampler gives; a U "
        "shape means too narrow posteriors, a hump too wide ones, a slope a bias.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--from-run", metavar="STEM", help="test a reference_posterior.py run's ranks"
    )
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
    parser.add_argument(
        "--method", choices=["nuts", "smc"], default=None, help="default: nuts"
    )
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
    if args.from_run:
        from_run(args.from_run, args.method, args.out)
        return
    args.method = args.method or "nuts"
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
    # constants (a fixed weight, say) are no posterior variables: nothing to rank
    results = {
        name: {"ranks": ranks(draws[name], truth[name], args.n_ranks).tolist()}
        for name in truth
        if name in draws
    }
    ranks_now = {args.n_obs: {name: e["ranks"] for name, e in results.items()}}
    tests = cutoff_tests(ranks_now, args.n_ranks, args.n_bins, args.seed)
    for name, entry in results.items():
        entry.update(tests[args.n_obs][name])
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
    _plot(
        {f"{args.n_obs} steps": {n: q["bin_counts"] for n, q in results.items()}},
        f"SBC rank histograms, prior {record['prior']} ({args.n_curves} curves; "
        "grey: 99 % band)",
        stem.with_suffix(".png"),
    )
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


def _plot(hists: dict, title: str, path: Path) -> None:
    """One panel per quantity, one histogram per series (a cutoff, say), the
    chi-square p of each series in the title.

    Shapes: hists {series: {quantity: (n_bins,) counts}}; a series' curves are
    the sum of its counts.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(next(iter(hists.values())))
    cols = 4
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.3 * rows), squeeze=False)
    # 99 % band of a bin count under uniform ranks (binomial), as a fraction of
    # the expected count, for the series with the fewest curves (the widest)
    n_bins = len(next(iter(hists.values()))[names[0]])
    n = min(int(np.sum(h[names[0]])) for h in hists.values())
    low, high = stats.binom.ppf([0.005, 0.995], n, 1 / n_bins) / (n / n_bins)
    for ax, name in zip(axes.flat, names, strict=False):
        ax.axhspan(low, high, color="0.85", lw=0)
        for label, counts in hists.items():
            c = np.asarray(counts[name]) / (np.sum(counts[name]) / n_bins)
            ax.step(np.arange(n_bins + 1), [*c, c[-1]], where="post", label=label)
        p = "/".join(f"{stats.chisquare(h[name]).pvalue:.2f}" for h in hists.values())
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set_title(f"{name}\nchi-square p {p}", fontsize=9)
        ax.set_xticks([])
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    axes.flat[0].set_ylabel("count / expected")
    if len(hists) > 1:
        axes.flat[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
