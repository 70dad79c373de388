"""Time per ``LCPFNPruner.prune`` call (what ``trial.should_prune()`` costs).

Usage:
    python benchmarks/pruner_overhead.py [--model default] [--storage memory|sqlite]
        [--n-completed 20] [--repeats 5] [--threads N]

A study with ``--n-completed`` (20) completed trials of 50 steps; each of
``--repeats`` (5) new trials reports steps 1..49, and after each report the
pruner is timed (model already loaded: the first
call per process loads it, which is reported apart). Median and 95th
percentile over all calls. ``--threads`` sets torch's intra-op threads, as an
HPO worker that shares the machine with others would (one each). Writes
benchmarks/results/pruner_overhead_<storage>[_<n>][_<model>][_threads<N>].json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import torch

import lcpfn
from lcpfn.stopping import LCPFNPruner

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--storage", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--n-completed", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5, help="trials timed")
    parser.add_argument(
        "--threads", type=int, help="torch threads (default: torch's own choice)"
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = None
    if args.storage == "sqlite":
        storage = f"sqlite:///{tempfile.mkdtemp()}/study.db"
    pruner = LCPFNPruner(args.model, horizon=50, threshold=1e-9)  # never prunes
    study = optuna.create_study(storage=storage, direction="maximize", pruner=pruner)
    rng = np.random.default_rng(0)
    for final in rng.uniform(0.5, 0.9, args.n_completed):
        curve = final * (1 - np.exp(-np.arange(1, 51) / 8))
        study.add_trial(
            optuna.trial.create_trial(
                value=float(final),
                intermediate_values={i + 1: float(v) for i, v in enumerate(curve)},
            )
        )
    times, first = [], None
    for _ in range(args.repeats):  # new trials, each reporting steps 1..49
        trial = study.ask()
        start = time.perf_counter()
        trial.report(0.3, 1)
        trial.report(0.4, 2)
        trial.should_prune()
        first = first if first is not None else time.perf_counter() - start
        for step in range(3, 50):
            trial.report(float(0.7 * (1 - np.exp(-step / 8))), step)
            start = time.perf_counter()
            trial.should_prune()
            times.append(time.perf_counter() - start)
        study.tell(trial, 0.1)  # below every incumbent: the incumbent stays
    summary = {
        "storage": args.storage,
        "torch_threads": torch.get_num_threads(),
        "completed_trials": args.n_completed,
        "first_call_ms_with_model_load": first * 1e3,
        "median_ms": float(np.median(times)) * 1e3,
        "p95_ms": float(np.quantile(times, 0.95)) * 1e3,
        "calls": len(times),
    }
    print(json.dumps(summary))
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/pruner_overhead.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "model_sha256": lcpfn.load(args.model).card.get("sha256"),
        "summary": summary,
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.n_completed == 20 else f"_{args.n_completed}"
    if args.model != "default":
        suffix += f"_{Path(args.model).name}"
    if args.threads is not None:
        suffix += f"_threads{args.threads}"
    (RESULTS / f"pruner_overhead_{args.storage}{suffix}.json").write_text(
        json.dumps(record, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
