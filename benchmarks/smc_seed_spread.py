"""Seed-to-seed spread of SMC's posterior-predictive LL on two reference curves.

Usage:
    python benchmarks/smc_seed_spread.py

Curves 21 and 12 of ``benchmarks/reference_posterior.py``'s 256 (seed
20261201), 10 of 100 steps observed; ``fit_smc`` without repeats at target
ESS 0.7 and 0.9, seeds 1-3, 1,000 draws per run (the default then): LL of
the unseen values, max R-hat, the runs' log evidence spread and seconds per
curve. Its output is kept in
benchmarks/results/smc_seed_spread.md.
"""

import warnings

import numpy as np

import lcpfn
from lcpfn.mcmc import fit_smc

CURVES, CUTOFF = [21, 12], 10


def main() -> None:
    prior = lcpfn.priors.load("lcpfn")
    batch = lcpfn.sample_curves(prior, 256, 100, seed=20261201)
    y = batch.y.numpy().astype(np.float64)[CURVES]
    k = CUTOFF
    for target_ess in (0.7, 0.9):
        for seed in (1, 2, 3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                post = fit_smc(
                    None, y[:, :k], prior, seed=seed, target_ess=target_ess,
                    max_particles=1000, n_draws=1000,
                )  # fmt: skip
            ll = post.predict(np.arange(k + 1.0, 101.0)).log_prob(y[:, k:]).mean(1)
            d = post.curve_diagnostics
            print(
                f"target {target_ess} seed {seed}: LL curve21 {ll[0]:.4f} "
                f"curve12 {ll[1]:.4f}  rhat {d[0].r_hat_max:.4f}/{d[1].r_hat_max:.4f}"
                f" logZ sd {d[0].log_evidence_sd:.3f}/{d[1].log_evidence_sd:.3f}  "
                f"{post.seconds:.1f} s/curve",
                flush=True,
            )


if __name__ == "__main__":
    main()
