"""Tempered SMC's convergence on chosen prior curves, for one set of settings.

Usage:
    python benchmarks/smc_settings.py --curves 1 4 5 6 --cutoff 40
        [--n-curves 8] [--seed 20261201] [--n-particles 1000]
        [--n-mcmc-steps 1] [--n-leapfrog 200] [--waste-free 0]
        [--target-ess 0.9] [--symmetry-moves 0] [--linear-moves 0] [--n-runs 4]
        [--n-draws N] [--fit-seed 0] [--out NAME]

The curves are those of ``benchmarks/reference_posterior.py`` (``--n-curves``
prior curves of ``--seed``; ``--curves`` picks some by index, and a curve
named twice is fitted twice, from different random numbers), observed up
to ``--cutoff`` of their 100 steps. ``fit_smc`` runs with the given settings
(``--n-draws`` per run, default ``--n-particles``; seed ``--fit-seed``);
per curve the benchmark records the posterior-predictive LL of the unseen
values, R-hat and bulk ESS (worst parameter), the same two for the clean
curve's value at the last step, f(100) (what the predictive rests on; the
parameters are not identified where a family's weight is near 0), the runs'
log evidence (runs that settle in different modes disagree by nats), the final
ESS, the stages the tempering took and the sampling seconds per curve.

Writes benchmarks/results/<out>.{json,md} (default
``smc_settings_p<particles>_m<steps>_l<leapfrog>_e<ess>``, with ``_w<P>`` for
waste-free SMC, ``_s<rounds>`` with symmetry moves and ``_lin<rounds>`` with
linear moves).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import arviz as az
import numpy as np

import lcpfn
from lcpfn.mcmc import fit_smc
from lcpfn.mcmc.posterior import converged

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

N_STEPS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=int, nargs="+", required=True)
    parser.add_argument("--cutoff", type=int, default=40)
    parser.add_argument("--n-curves", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--n-particles", type=int, default=1000)
    parser.add_argument("--n-mcmc-steps", type=int, default=1)
    parser.add_argument("--n-leapfrog", type=int, default=200)
    parser.add_argument("--waste-free", type=int, default=0)
    parser.add_argument("--target-ess", type=float, default=0.9)
    parser.add_argument("--symmetry-moves", type=int, default=0)
    parser.add_argument("--linear-moves", type=int, default=0)
    parser.add_argument("--n-runs", type=int, default=4)
    parser.add_argument("--n-draws", type=int, default=None)
    parser.add_argument("--fit-seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    prior = lcpfn.priors.load("lcpfn")
    batch = lcpfn.sample_curves(prior, args.n_curves, N_STEPS, seed=args.seed)
    y = batch.y.numpy().astype(np.float64)[args.curves]  # (n, 100)
    k = args.cutoff
    with warnings.catch_warnings():  # convergence is recorded per curve
        warnings.simplefilter("ignore")
        post = fit_smc(
            None,
            y[:, :k],
            prior,
            seed=args.fit_seed,
            n_runs=args.n_runs,
            n_particles=args.n_particles,
            max_particles=args.n_particles,  # the settings alone: no repeated runs
            n_draws=args.n_draws or args.n_particles,
            n_mcmc_steps=args.n_mcmc_steps,
            n_leapfrog=args.n_leapfrog,
            waste_free=args.waste_free,
            target_ess=args.target_ess,
            symmetry_moves=args.symmetry_moves,
            linear_moves=args.linear_moves,
        )
    ll = post.predict(np.arange(k + 1.0, N_STEPS + 1.0)).log_prob(y[:, k:]).mean(1)
    per_run = post.idata.sample_stats  # (R, S[, curves]): one curve has no curve dim
    stages = per_run["n_stages"].values.reshape(args.n_runs, -1, len(args.curves))
    log_z = per_run["log_evidence"].values.reshape(args.n_runs, -1, len(args.curves))
    last = post.curves([float(N_STEPS)])[..., 0].reshape(args.n_runs, -1, len(y))
    rows = []
    for j, d in enumerate(post.curve_diagnostics):
        rows.append({
            "curve": args.curves[j],
            "log_sigma": float(batch.log_sigma[args.curves[j]]),
            "log_likelihood": float(ll[j]),
            "converged": converged(d),
            "r_hat_max": d.r_hat_max,
            "ess_bulk_min": d.ess_bulk_min,
            "f_last_r_hat": float(az.rhat(last[:, :, j])),
            "f_last_ess_bulk": float(az.ess(last[:, :, j], method="bulk")),
            "log_evidence": log_z[:, 0, j].tolist(),
            "log_evidence_sd": d.log_evidence_sd,
            "final_ess_min": d.final_ess_min,
            "n_stages": stages[:, 0, j].tolist(),
        })  # fmt: skip
    record = {
        "command": "python benchmarks/smc_settings.py " + " ".join(sys.argv[1:]),
        "settings": vars(args),
        "machine": describe_machine(),
        "seconds_per_curve": post.seconds,
        "compile_seconds": post.compile_seconds,
        "rows": rows,
    }
    out = args.out or (
        f"smc_settings_p{args.n_particles}_m{args.n_mcmc_steps}_l{args.n_leapfrog}"
        f"_e{args.target_ess:g}"
        + (f"_w{args.waste_free}" if args.waste_free else "")
        + (f"_s{args.symmetry_moves}" if args.symmetry_moves else "")
        + (f"_lin{args.linear_moves}" if args.linear_moves else "")
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{out}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"{out}.md").write_text(markdown(record))
    print(markdown(record))


def markdown(record: dict) -> str:
    s = record["settings"]
    moves = (
        f"waste-free chains of {s['waste_free']} states from "
        f"{s['n_particles'] // s['waste_free']} ancestors, transitions of "
        if s.get("waste_free")
        else f"{s['n_mcmc_steps']} HMC moves of "
    )
    lines = [
        "# Tempered SMC on chosen prior curves",
        "",
        f"Command: `{record['command']}`",
        "",
        f"{s['n_runs']} runs x {s['n_particles']} particles, {moves}"
        f"{s['n_leapfrog']} leapfrog steps per stage"
        + (
            f", each after {s['symmetry_moves']} rounds of symmetry moves"
            if s.get("symmetry_moves")
            else ""
        )
        + (
            f" and {s['linear_moves']} rounds of linear moves"
            if s.get("linear_moves")
            else ""
        )
        + ", target ESS "
        f"{s['target_ess']:g}; {s.get('n_draws') or s['n_particles']} draws per run "
        f"(seed {s.get('fit_seed', 0)}); {s['cutoff']} of 100 "
        f"steps observed; {record['seconds_per_curve']:.1f} s per curve "
        f"(compile {record['compile_seconds']:.0f} s).",
        "",
        "| curve | log sigma | LL | converged | max R-hat | min bulk ESS "
        "| f(100) R-hat | f(100) bulk ESS | log evidence per run | final ESS "
        "| stages per run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in record["rows"]:
        lines.append(
            f"| {r['curve']} | {r['log_sigma']:.2f} | {r['log_likelihood']:.3f} "
            f"| {'yes' if r['converged'] else 'no'} | {r['r_hat_max']:.3f} "
            f"| {r['ess_bulk_min']:.0f} | {r['f_last_r_hat']:.3f} "
            f"| {r['f_last_ess_bulk']:.0f} "
            f"| {' '.join(f'{v:.1f}' for v in r['log_evidence'])} "
            f"(sd {r['log_evidence_sd']:.2f}) "
            f"| {r['final_ess_min']:.0f} | {r['n_stages']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
