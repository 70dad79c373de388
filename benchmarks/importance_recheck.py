"""Whose miss is it: importance sampling again, with more draws, where a sampler
and the brute force of ``reference_posterior.py`` disagree.

Usage:
    python benchmarks/importance_recheck.py --run reference_posterior_256
        [--n-draws 16000000] [--seed 1] [--curves 21 50] [--out NAME]

Reads benchmarks/results/<run>.json, takes every curve-cutoff where importance
sampling was trusted (ESS >= 1,000) and SMC's mean LL of the unseen values is
more than 0.05 nats from it, plus, as controls, the other trusted curves of
the same cutoff whose IS ESS was below 2,000, and estimates their LL again by
importance sampling from ``--n-draws`` fresh prior draws (another seed). The
log of an importance-sampling density estimate is biased low when its ESS is
small (a lumpy mixture of few effective draws), so a miss that vanishes with
more draws was the brute force's; the new estimate's Monte Carlo error
(``ImportanceResult.score_mcse``) is shown beside it. ``--curves`` keeps only
those curves of that selection.

Writes benchmarks/results/<out>.md (default <run>_recheck).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.mcmc.importance import importance_predictive

sys.path.insert(0, str(Path(__file__).parent))
from reference_posterior import IS_ESS_MIN, N_STEPS, RESULTS, TOLERANCE  # noqa: E402

CONTROL_ESS = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", default="reference_posterior_256")
    parser.add_argument("--n-draws", type=int, default=16_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--curves", type=int, nargs="+", help="only these curves")
    parser.add_argument("--out", help="results file name (default <run>_recheck)")
    args = parser.parse_args()
    record = json.loads((RESULTS / f"{args.run}.json").read_text())
    s = record["settings"]
    prior = lcpfn.priors.load("lcpfn")
    y = lcpfn.sample_curves(prior, s["n_curves"], N_STEPS, seed=s["seed"]).y
    y = y.numpy().astype(np.float64)
    steps = np.arange(N_STEPS)
    lines = [
        f"# Importance sampling again where `{args.run}` missed",
        "",
        f"Command: `python benchmarks/importance_recheck.py {' '.join(sys.argv[1:])}`",
        "",
        f"Curve-cutoffs where SMC was more than {TOLERANCE} nats from importance "
        f"sampling with {s['n_draws']:,} draws although its ESS was >= "
        f"{IS_ESS_MIN} (and, as controls, the other trusted ones with IS ESS < "
        f"{CONTROL_ESS}), estimated again from {args.n_draws:,} fresh prior draws "
        f"(seed {args.seed}).",
        "",
        "| cutoff | curve | IS ESS | IS LL | SMC LL | IS again: ESS | IS again: LL "
        "| IS again: MCSE of LL | SMC - IS again |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k in s["cutoffs"]:
        imp, smc = record["rows"]["importance"][str(k)], record["rows"]["smc"][str(k)]
        # the curves both have reached (importance sampling covers the first ones)
        n = min(len(smc.get("log_likelihood", [])), len(imp.get("ess", [])))
        ess, ref = np.array(imp["ess"][:n]), np.array(imp["log_likelihood"][:n])
        ll = np.array(smc.get("log_likelihood", [])[:n])
        trusted = ess >= IS_ESS_MIN
        missed = trusted & (np.abs(ll - ref) > TOLERANCE)
        if not missed.any():
            continue
        curves = np.flatnonzero(missed | (trusted & (ess < CONTROL_ESS)))
        if args.curves is not None:
            curves = np.intersect1d(curves, args.curves)
        if curves.size == 0:
            continue
        start = time.perf_counter()
        again = importance_predictive(
            prior,
            np.where(steps < k, y[curves], np.nan),
            np.where(steps >= k, y[curves], np.nan),
            n_draws=args.n_draws,
            seed=args.seed,
        )
        print(f"{k} %: {len(curves)} curves, {time.perf_counter() - start:.0f} s")
        for j, i in enumerate(curves):
            new = again.log_density[j, k:].mean()
            lines.append(
                f"| {k} % | {i} | {ess[i]:.0f} | {ref[i]:.4f} | {ll[i]:.4f} | "
                f"{again.ess[j]:.0f} | {new:.4f} | {again.score_mcse[j]:.4f} | "
                f"{ll[i] - new:+.4f} |"
            )
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{args.out or args.run + '_recheck'}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
