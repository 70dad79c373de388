"""Bounded memory: predict on 100,000 curves and sampling 10M curves.

Usage:
    python benchmarks/reliability.py [--model default] [--n-predict 100000]
        [--n-sample 10000000]

Each measurement runs in a fresh process and reports the growth of its peak
resident memory (VmHWM, reset just before the measured call) over what it held
before:

- ``predict`` on ``--n-predict`` ragged curves (5..90 observed, 90 queries)
  followed by ``median()`` and ``interval(0.9)``: the logits of all curves
  would take n * 90 * 1000 * 4 bytes (36 GB for 100,000), so memory stays
  bounded only if the Prediction recomputes them chunk by chunk;
- ``iter_curves`` streaming ``--n-sample`` curves (the bounded way to draw 10M);
- ``sample_curves`` of ``--n-sample // 10`` curves, whose result itself is
  n * 100 * 4 bytes * 2 (y and y_clean): the bound there is the output plus
  the chunks in flight.

Writes benchmarks/results/reliability_memory.json; reliability.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402


def _vm_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def probe(kind: str, n: int, model: str) -> dict:
    """Run one measurement in this process; returns its memory growth."""
    import lcpfn

    if kind == "predict":
        m = lcpfn.load(model)
        rng = np.random.default_rng(0)
        y = np.sort(rng.uniform(0.1, 0.9, (n, 90)), axis=1)
        y[np.arange(90)[None, :] >= rng.integers(5, 91, n)[:, None]] = np.nan
        m.predict(y[:10], t_query=np.arange(11.0, 101.0)).median()  # warm-up

        def work():
            pred = m.predict(y, t_query=np.arange(11.0, 101.0))
            return pred.median(), pred.interval(0.9)
    else:
        prior = lcpfn.priors.load("lcpfn")
        lcpfn.sample_curves(prior, 256, seed=0)  # warm-up

        def work():
            if kind == "iter_curves":
                for _ in lcpfn.iter_curves(prior, n, seed=1):
                    pass
            else:
                return lcpfn.sample_curves(prior, n, seed=1)

    Path("/proc/self/clear_refs").write_text("5")
    before = _vm_bytes("VmRSS")
    start = time.perf_counter()
    work()
    return {
        "kind": kind,
        "n": n,
        "seconds": time.perf_counter() - start,
        "rss_before_bytes": before,
        "growth_bytes": _vm_bytes("VmHWM") - before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--n-predict", type=int, default=100_000)
    parser.add_argument("--n-sample", type=int, default=10_000_000)
    parser.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe[0], int(args.probe[1]), args.model)))
        return
    runs = []
    for kind, n in (
        ("predict", args.n_predict),
        ("iter_curves", args.n_sample),
        ("sample_curves", args.n_sample // 10),
    ):
        out = subprocess.run(
            [sys.executable, __file__, "--model", args.model, "--probe", kind, str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/reliability.py " + " ".join(sys.argv[1:]),
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reliability_memory.json").write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
