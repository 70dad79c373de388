"""Bounded memory: predict on 100,000 curves and sampling 10M curves.

Usage:
    python benchmarks/reliability.py [--model default]
        [--n-predict 10000 100000] [--n-iter 1000000 10000000]
        [--n-sample 100000 1000000] [--update] [--out reliability_memory.json]

Each measurement runs in a fresh process and reports the growth of its peak
anonymous resident memory (RssAnon, sampled every 2 ms during the measured
call) over what it held before, and the growth of VmHWM (reset just
before). Every kind runs at two or more sizes, so the growth splits into a
part that scales with the number of curves (inputs and outputs) and a
constant part (the chunks in flight):

- ``predict`` on ``--n-predict`` ragged curves (5..90 observed, 90 queries)
  followed by one ``quantile([0.05, 0.5, 0.95])`` (median and 90 % interval
  in one pass): the logits of all curves would take n * 90 * 1000 * 4 bytes
  (36 GB for 100,000), so memory stays bounded only if the Prediction
  recomputes them chunk by chunk (``batch_size`` curves at a time);
- ``iter_curves`` streaming ``--n-iter`` curves (the bounded way to draw 10M);
- ``sample_curves`` of ``--n-sample`` curves, whose result itself is
  n * 100 * 4 bytes * 2 (y and y_clean) plus the parameters: the bound there
  is the output plus the chunks in flight.

Writes benchmarks/results/reliability_memory.json; reliability.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
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
            return pred.quantile([0.05, 0.5, 0.95])
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
    anon_before = _vm_bytes("RssAnon")
    peak = _PeakSampler()
    start = time.perf_counter()
    with peak:
        work()
    return {
        "kind": kind,
        "n": n,
        "seconds": time.perf_counter() - start,
        "rss_before_bytes": before,
        "growth_bytes": _vm_bytes("VmHWM") - before,
        "anon_before_bytes": anon_before,
        "anon_growth_bytes": peak.anon - anon_before,
        "chunking": _chunking(kind, model),
    }


class _PeakSampler:
    """Largest RssAnon (anonymous resident memory) seen, read every 2 ms.

    VmHWM alone can miss a peak here: the kernel updates it lazily, and over a
    long run it also counts library pages that are dropped and read back, so
    the anonymous memory is the measure; VmHWM growth is kept next to it.
    """

    def __init__(self) -> None:
        self.anon = _vm_bytes("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.anon = max(self.anon, _vm_bytes("RssAnon"))
            time.sleep(0.002)

    def __enter__(self) -> _PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.anon = max(self.anon, _vm_bytes("RssAnon"))


def _chunking(kind: str, model: str) -> dict:
    """The settings that bound the memory of ``kind``."""
    import torch

    import lcpfn
    from lcpfn import predict
    from lcpfn.prior import sampler as sampling

    if kind == "predict":
        m = lcpfn.load(model)
        return {
            "batch_size": predict.DEFAULT_BATCH_SIZE,
            "max_cached_bytes": predict.MAX_CACHED_BYTES,
            "n_bars": m.model.config.n_bars,
            "n_queries": 90,
            "n_observed_max": 90,
        }
    return {
        "chunk_size": sampling._DEFAULT_CHUNK["cpu"],
        "torch_threads": torch.get_num_threads(),
        "n_steps": 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--n-predict", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument(
        "--n-iter", type=int, nargs="*", default=[1_000_000, 10_000_000]
    )
    parser.add_argument("--n-sample", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the recorded runs of other kinds and sizes, replace these",
    )
    parser.add_argument(
        "--out",
        default="reliability_memory.json",
        help="file name under benchmarks/results/",
    )
    parser.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe[0], int(args.probe[1]), args.model)))
        return
    path = RESULTS / args.out
    runs = []
    if args.update and path.exists():
        old = json.loads(path.read_text())
        for run in old["runs"]:  # records written before runs had their own
            run.setdefault("command", old.get("command"))
            run.setdefault("git_revision", old["machine"]["git_revision"])
            runs.append(run)
    command = "python benchmarks/reliability.py " + " ".join(sys.argv[1:])
    jobs = [("iter_curves", n) for n in args.n_iter]
    jobs += [("sample_curves", n) for n in args.n_sample]
    jobs += [("predict", n) for n in args.n_predict]
    for kind, n in jobs:
        out = subprocess.run(
            [sys.executable, __file__, "--model", args.model, "--probe", kind, str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        run = json.loads(out.stdout.strip().splitlines()[-1])
        machine = describe_machine()
        run.update(command=command, git_revision=machine["git_revision"])
        runs = [r for r in runs if (r["kind"], r["n"]) != (kind, n)] + [run]
        print(json.dumps(run), flush=True)
        record = {  # written after every run, so a long run leaves what it has
            "machine": machine,
            "runs": sorted(runs, key=lambda r: (r["kind"], r["n"])),
        }
        RESULTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
