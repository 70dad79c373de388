"""The reference posterior against brute force: NUTS and tempered SMC on prior curves.

Usage:
    python benchmarks/reference_posterior.py [--n-curves 16] [--cutoffs 10 20 40 80]
        [--n-draws 4000000] [--methods nuts smc] [--seed 20261201]
        [--nuts-warmup 1000] [--nuts-samples 1000]
        [--smc-particles 1000] [--smc-steps 1] [--smc-leapfrog 50]
        [--smc-symmetry-moves 4] [--smc-linear-moves 2]
        [--out reference_posterior]

Draws ``--n-curves`` curves from the LC-PFN prior (``lcpfn.sample_curves``),
observes the first ``cutoff`` of their 100 steps and scores each sampler's
posterior predictive on the rest: the mean log density of the unseen values
(the PFN's metric). The brute-force reference is importance sampling from
``--n-draws`` prior draws of the PFN's torch sampler
(``lcpfn.mcmc.importance``); it is trusted where its effective sample size is
at least 1,000, and there each sampler must be within 0.05 nats of it.
Each sampler's convergence is judged by ``lcpfn.mcmc.posterior.converged``
(R-hat <= 1.01, bulk ESS >= 400, no divergence); its cost is sampling seconds
per curve (compilation excluded), measured in the same run.

Writes benchmarks/results/<out>.{json,md} after every sampler run; a killed
run started again with the same arguments goes on from the rows it has.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.mcmc import fit_posterior
from lcpfn.mcmc.importance import importance_predictive
from lcpfn.mcmc.posterior import converged

RESULTS = Path(__file__).parent / "results"
N_STEPS = 100
IS_ESS_MIN = 1000
TOLERANCE = 0.05  # nats


def fit(method: str, y_obs: np.ndarray, prior, args) -> object:
    settings = {
        "smc": {
            "n_particles": args.smc_particles,
            "n_mcmc_steps": args.smc_steps,
            "n_leapfrog": args.smc_leapfrog,
            "symmetry_moves": args.smc_symmetry_moves,
            "linear_moves": args.smc_linear_moves,
        },
        "nuts": {"n_warmup": args.nuts_warmup, "n_samples": args.nuts_samples},
    }[method]
    with warnings.catch_warnings():  # convergence is counted per curve
        warnings.simplefilter("ignore")
        return fit_posterior(
            None, y_obs, prior, method=method, seed=args.seed, **settings
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-curves", type=int, default=16)
    parser.add_argument("--cutoffs", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--n-draws", type=int, default=4_000_000)
    parser.add_argument("--methods", nargs="+", default=["nuts", "smc"])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--nuts-warmup", type=int, default=1000)
    parser.add_argument("--nuts-samples", type=int, default=1000)
    parser.add_argument("--smc-particles", type=int, default=1000)
    parser.add_argument("--smc-steps", type=int, default=1)
    parser.add_argument("--smc-leapfrog", type=int, default=50)
    parser.add_argument("--smc-symmetry-moves", type=int, default=4)
    parser.add_argument("--smc-linear-moves", type=int, default=2)
    parser.add_argument("--out", default="reference_posterior")
    args = parser.parse_args()
    prior = lcpfn.priors.load("lcpfn")
    batch = lcpfn.sample_curves(prior, args.n_curves, N_STEPS, seed=args.seed)
    y = batch.y.numpy().astype(np.float64)  # (n, 100)
    steps = np.arange(N_STEPS)
    y_obs = np.concatenate([np.where(steps < k, y, np.nan) for k in args.cutoffs])
    y_query = np.concatenate([np.where(steps >= k, y, np.nan) for k in args.cutoffs])
    path = RESULTS / f"{args.out}.json"
    record = {
        "command": "python benchmarks/reference_posterior.py " + " ".join(sys.argv[1:]),
        "settings": vars(args),
        "log_sigma": batch.log_sigma.tolist(),
        "rows": {"importance": {}, **{m: {} for m in args.methods}},
    }
    if path.exists():  # a killed run of the same settings resumes where it stopped
        done = json.loads(path.read_text())
        if done["settings"] == record["settings"]:
            record = done
            print(f"resuming {path}", flush=True)
    rows = record["rows"]
    if "importance_seconds" not in record:
        start = time.perf_counter()
        brute = importance_predictive(prior, y_obs, y_query, n_draws=args.n_draws)
        record["importance_seconds"] = time.perf_counter() - start
        n = args.n_curves
        for j, k in enumerate(args.cutoffs):
            part = slice(j * n, (j + 1) * n)
            rows["importance"][str(k)] = {
                "log_likelihood": (brute.log_density[part, k:].mean(1)).tolist(),
                "ess": brute.ess[part].tolist(),
            }
        save(record, path)
    for k in args.cutoffs:
        for method in args.methods:
            if str(k) in rows[method]:
                continue
            post = fit(method, y[:, :k], prior, args)
            pred = post.predict(np.arange(k + 1.0, N_STEPS + 1.0))
            rows[method][str(k)] = {
                "log_likelihood": pred.log_prob(y[:, k:]).mean(1).tolist(),
                "converged": [converged(d) for d in post.curve_diagnostics],
                "r_hat_max": [d.r_hat_max for d in post.curve_diagnostics],
                "ess_bulk_min": [d.ess_bulk_min for d in post.curve_diagnostics],
                "seconds_per_curve": post.seconds,
                "compile_seconds": post.compile_seconds,
            }
            save(record, path)
            print(method, k, json.dumps({
                key: rows[method][str(k)][key]
                for key in ("seconds_per_curve", "compile_seconds")
            }), flush=True)  # fmt: skip
    print(markdown(record))


def save(record: dict, path: Path) -> None:
    """The record so far, as JSON and markdown, each written atomically."""
    for target, text in (
        (path, json.dumps(record, indent=2) + "\n"),
        (path.with_suffix(".md"), markdown(record)),
    ):
        partial = target.with_suffix(target.suffix + ".partial")
        partial.write_text(text)
        os.replace(partial, target)


def markdown(record: dict) -> str:
    s = record["settings"]
    lines = [
        "# Reference posterior against brute-force importance sampling",
        "",
        f"Command: `{record['command']}`",
        "",
        f"{s['n_curves']} curves of the LC-PFN prior (seed {s['seed']}); "
        f"importance sampling from {s['n_draws']:,} prior draws "
        f"({record['importance_seconds']:.0f} s for all rows), trusted where its "
        f"ESS >= {IS_ESS_MIN}. "
        + "; ".join(
            {
                "nuts": f"NUTS: 4 x ({s['nuts_warmup']} + {s['nuts_samples']})",
                "smc": f"SMC: 4 runs x {s['smc_particles']} particles, "
                f"{s['smc_steps']} HMC moves of {s['smc_leapfrog']} leapfrog "
                "steps per stage, each after "
                f"{s.get('smc_symmetry_moves', 0)} rounds of symmetry moves and "
                f"{s.get('smc_linear_moves', 0)} of linear moves",
            }[m]
            for m in s["methods"]
        )
        + ". LL: mean log density of the unseen values.",
        "",
        "| cutoff | method | converged | IS-trusted curves | mean abs LL diff to IS "
        "| max abs LL diff | within 0.05 | mean LL | s / curve |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    imp = record["rows"]["importance"]
    for k in s["cutoffs"]:
        ref = np.array(imp[str(k)]["log_likelihood"])
        trusted = np.array(imp[str(k)]["ess"]) >= IS_ESS_MIN
        for method in s["methods"]:
            row = record["rows"][method].get(str(k))
            if row is None:  # not sampled yet
                continue
            ll = np.array(row["log_likelihood"])
            diff = np.abs(ll - ref)[trusted]
            cells = (
                [f"{diff.mean():.3f}", f"{diff.max():.3f}",
                 f"{(diff <= TOLERANCE).sum()} / {trusted.sum()}"]
                if trusted.any()
                else ["-", "-", "-"]
            )  # fmt: skip
            lines.append(
                f"| {k} % | {method} | {sum(row['converged'])} / {len(ll)} | "
                f"{trusted.sum()} | "
                + " | ".join(cells)
                + f" | {ll.mean():.3f} | {row['seconds_per_curve']:.1f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
