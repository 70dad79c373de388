"""SMC's cost against how many curves share one compiled, vectorized call.

Usage:
    python benchmarks/smc_batch_layout.py [--batch-sizes 16 1] [--cutoffs 20 80]
                                          [--curves 16 32] [--out smc_batch_layout]

Curves ``--curves`` (a range) of ``benchmarks/reference_posterior.py``'s 256
(seed 20261201), ``fit_smc`` with its defaults and no repeats, at each
``--batch-sizes`` in turn on the same curves and keys (the draws differ only
as rounding differences steer the adaptive tempering: the LL of the unseen
values moved by up to 0.021 nats, Monte Carlo noise). A vectorized call
tempers all its curves' runs in one loop, so every run takes as many stages
as the slowest of the call;
the table gives the stages the runs needed (mean, and the mean over calls of
the largest), the seconds per curve (compilation excluded) and their ratio to
the first batch size, measured in this run. Writes
benchmarks/results/<out>.{json,md}.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.mcmc import fit_smc

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 1])
    parser.add_argument("--cutoffs", type=int, nargs="+", default=[20, 80])
    parser.add_argument("--curves", type=int, nargs=2, default=[16, 32])
    parser.add_argument("--out", default="smc_batch_layout")
    args = parser.parse_args()
    prior = lcpfn.priors.load("lcpfn")
    batch = lcpfn.sample_curves(prior, 256, 100, seed=20261201)
    first, stop = args.curves
    y = batch.y.numpy().astype(np.float64)[first:stop]
    record = {
        "command": " ".join(["python benchmarks/smc_batch_layout.py", *sys.argv[1:]]),
        "machine": describe_machine(),
        "args": vars(args),
        "rows": [],
    }
    for k in args.cutoffs:
        for b in args.batch_sizes:
            with warnings.catch_warnings():  # convergence is not the question here
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                post = fit_smc(
                    None,
                    y[:, :k],
                    prior,
                    seed=20261201 + first,
                    max_particles=1000,
                    batch_size=b,
                )
                wall = time.perf_counter() - start
            stages = post.idata.sample_stats["n_stages"].values[:, 0, :].T  # (B, R)
            calls = [stages[i : i + b] for i in range(0, len(stages), b)]
            pred = post.predict(np.arange(k + 1.0, 101.0))
            ll = pred.log_prob(y[:, k:]).mean(axis=1)
            record["rows"].append(
                {
                    "cutoff": k,
                    "batch_size": b,
                    "seconds_per_curve": post.seconds,
                    "compile_seconds": post.compile_seconds,
                    "wall_seconds": wall,
                    "stages_mean": float(stages.mean()),
                    "stages_max_per_call": float(np.mean([c.max() for c in calls])),
                    "log_likelihood": ll.tolist(),
                }
            )
            print(json.dumps(record["rows"][-1] | {"log_likelihood": None}), flush=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(record, indent=1) + "\n")
    (RESULTS / f"{args.out}.md").write_text(markdown(record))


def markdown(record: dict) -> str:
    args = argparse.Namespace(**record["args"])
    first = args.batch_sizes[0]
    base = {r["cutoff"]: r for r in record["rows"] if r["batch_size"] == first}
    m = record["machine"]
    lines = [
        "# SMC's cost against curves per vectorized call",
        "",
        f"`{record['command']}` at revision {m['git_revision']}; {m['cpu']}, "
        f"{m['cpu_count']} cores. Curves {args.curves[0]}-{args.curves[1] - 1} of "
        "the reference run's 256 (seed 20261201), fit_smc defaults (4 runs x 1000 "
        "particles), no repeats. Stages: per run, mean over runs; and the mean "
        "over calls of the most any run of the call needed (what every run of "
        "the call pays). Max abs LL difference: to the first batch size, same "
        "keys.",
        "",
        "| cutoff | curves per call | stages, mean | stages paid, mean | s / curve "
        "| ratio to first | max abs LL difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in record["rows"]:
        b = base[r["cutoff"]]
        diff = np.abs(np.subtract(r["log_likelihood"], b["log_likelihood"])).max()
        lines.append(
            f"| {r['cutoff']} % | {r['batch_size']} | {r['stages_mean']:.1f} | "
            f"{r['stages_max_per_call']:.1f} | {r['seconds_per_curve']:.2f} | "
            f"{r['seconds_per_curve'] / b['seconds_per_curve']:.2f} | {diff:.1e} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
