"""The Monte Carlo error of SMC's predictive against its draws per run.

Usage:
    python benchmarks/smc_predictive_mcse.py

Four curves of ``benchmarks/reference_posterior.py``'s 256 (seed 20261201;
curves 21 and 12, where the 1,000-draw predictive's LL moved by up to 0.07
nats from seed to seed, and the low-noise curves 0 and 5), 10 of 100 steps
observed; ``fit_smc`` with its other defaults and no repeats, 1,000, 4,000
and 16,000 draws per run, seeds 1-4. Per curve and draw count: the LL of the
unseen values per seed, its standard deviation over the seeds, the mean of
``Diagnostics.predictive_mcse`` (which should be about that standard
deviation) and seconds per curve. Its output is kept in
benchmarks/results/smc_predictive_mcse.md.
"""

import warnings

import numpy as np

import lcpfn
from lcpfn.mcmc import fit_smc

CURVES, CUTOFF, SEEDS = [21, 12, 0, 5], 10, (1, 2, 3, 4)


def main() -> None:
    prior = lcpfn.priors.load("lcpfn")
    batch = lcpfn.sample_curves(prior, 256, 100, seed=20261201)
    y = batch.y.numpy().astype(np.float64)[CURVES]
    log_sigma = batch.log_sigma.numpy()[CURVES]
    k = CUTOFF
    print(
        "| draws per run | curve | log sigma | LL per seed | sd over seeds "
        "| mean predictive MCSE | s / curve |\n|---|---|---|---|---|---|---|"
    )
    for n_draws in (1000, 4000, 16000):
        ll, mcse, seconds = [], [], []
        for seed in SEEDS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                post = fit_smc(
                    None, y[:, :k], prior, seed=seed, n_draws=n_draws,
                    max_particles=1000,
                )  # fmt: skip
            pred = post.predict(np.arange(k + 1.0, 101.0))
            ll.append(pred.log_prob(y[:, k:]).mean(1))
            mcse.append([d.predictive_mcse for d in post.curve_diagnostics])
            seconds.append(post.seconds)
        ll, mcse = np.array(ll), np.array(mcse)  # (seeds, curves)
        for j, curve in enumerate(CURVES):
            print(
                f"| {n_draws} | {curve} | {log_sigma[j]:.2f} | "
                + " / ".join(f"{v:.4f}" for v in ll[:, j])
                + f" | {ll[:, j].std(ddof=1):.4f} | {mcse[:, j].mean():.4f} "
                f"| {np.mean(seconds):.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
