"""The Monte Carlo error of SMC's predictive against its draws per run.

Usage:
    python benchmarks/smc_predictive_mcse.py [--draws 1000 4000 16000]
                                             [--seeds 4] [--curves 21 12 0 5]
                                             [--out smc_predictive_mcse]

Curves of ``benchmarks/reference_posterior.py``'s 256 (seed 20261201; by
default curves 21 and 12, where the 1,000-draw predictive's LL moved by up to
0.07 nats from seed to seed, and the low-noise curves 0 and 5), 10 of 100 steps
observed; ``fit_smc`` with its other defaults and no repeats, at each of
``--draws`` draws per run, seeds 1 to ``--seeds``. Per curve and draw count:
the LL of the unseen values per seed and its standard deviation over the
seeds (the error to be estimated), the root mean square over seeds of the
two estimates of it, ``Diagnostics.predictive_mcse`` (at typical points of
the predictive) and ``PosteriorPredictive.log_likelihood_mcse`` at the
held-out values, and seconds per curve. Writes
benchmarks/results/<out>.md.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.mcmc import fit_smc

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS  # noqa: E402

CUTOFF = 10


def rms(a: np.ndarray) -> np.ndarray:
    return np.sqrt((a**2).mean(axis=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--curves", type=int, nargs="+", default=[21, 12, 0, 5])
    parser.add_argument("--out", default="smc_predictive_mcse")
    args = parser.parse_args()
    prior = lcpfn.priors.load("lcpfn")
    batch = lcpfn.sample_curves(prior, 256, 100, seed=20261201)
    y = batch.y.numpy().astype(np.float64)[args.curves]
    log_sigma = batch.log_sigma.numpy()[args.curves]
    k = CUTOFF
    lines = [
        "# SMC's predictive Monte Carlo error against draws per run",
        "",
        "Command: `PYTHONPATH=. python benchmarks/smc_predictive_mcse.py "
        + " ".join(sys.argv[1:])
        + "`. fit_smc defaults otherwise, no repeats; 10 of 100 steps observed; "
        "LL: mean log density of the 90 unseen values; the two MCSE columns are "
        "root mean squares over the seeds of `Diagnostics.predictive_mcse` (at "
        "typical points) and of `PosteriorPredictive.log_likelihood_mcse` at the "
        "held-out values, each an estimate of the sd over seeds.",
        "",
        "| draws per run | curve | log sigma | LL per seed | sd over seeds "
        "| predictive MCSE | MCSE at held-out values | s / curve |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for n_draws in args.draws:
        ll, typical, held_out, seconds = [], [], [], []
        for seed in range(1, args.seeds + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                post = fit_smc(
                    None, y[:, :k], prior, seed=seed, n_draws=n_draws,
                    max_particles=1000,
                )  # fmt: skip
            pred = post.predict(np.arange(k + 1.0, 101.0))
            ll.append(pred.log_prob(y[:, k:]).mean(1))
            typical.append([d.predictive_mcse for d in post.curve_diagnostics])
            held_out.append(pred.log_likelihood_mcse(y[:, k:]))
            seconds.append(post.seconds)
        ll = np.array(ll)  # (seeds, curves)
        typical, held_out = rms(np.array(typical)), rms(np.array(held_out))
        for j, curve in enumerate(args.curves):
            lines.append(
                f"| {n_draws} | {curve} | {log_sigma[j]:.2f} | "
                + " / ".join(f"{v:.4f}" for v in ll[:, j])
                + f" | {ll[:, j].std(ddof=1):.4f} | {typical[j]:.4f} "
                f"| {held_out[j]:.4f} | {np.mean(seconds):.1f} |"
            )
            print(lines[-1], flush=True)
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
