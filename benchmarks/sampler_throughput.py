"""Curves/s of lcpfn's vectorized sampler against a plain per-curve loop.

Usage:
    python benchmarks/sampler_throughput.py [--n-curves 2000000] [--quick]

Measures, in one run on one machine: the per-curve loop of tests/plain_sampler.py
(the approach of the released LC-PFN code); ``sample_curves`` returning one
batch; ``iter_curves`` streaming chunks, eager and with ``compile=True``; on
CUDA when present; and the peak memory of streaming 10M curves (in a fresh
process, so the figure is that of the streaming alone). Curves have 100 steps.
Writes benchmarks/results/sampler_throughput.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

import lcpfn

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from machine import RESULTS, describe_machine  # noqa: E402
from plain_sampler import plain_curves  # noqa: E402


def _rate(fn, n_curves: int, device: str = "cpu", repeats: int = 3) -> float:
    """Best curves/s over ``repeats`` timed runs, after one warm-up run."""
    fn()
    best = 0.0
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = max(best, n_curves / (time.perf_counter() - start))
    return best


def _stream(prior, n_curves: int, device: str, compile: bool, chunk_size=None) -> None:
    for _ in lcpfn.iter_curves(
        prior, n_curves, seed=1, device=device, compile=compile, chunk_size=chunk_size
    ):
        pass


def memory_probe(n_curves: int, compile: bool) -> dict:
    """Peak RSS growth while streaming ``n_curves`` curves (run in a fresh process).

    Reads the kernel's high-water mark (VmHWM), reset just before streaming by
    writing 5 to /proc/self/clear_refs; ``ru_maxrss`` would include the parent's.
    """
    prior = lcpfn.priors.load("lcpfn")
    _stream(prior, 256, "cpu", compile)  # imports and compilation, not memory
    Path("/proc/self/clear_refs").write_text("5")
    before = _vm_kib("VmRSS") * 1024
    start = time.perf_counter()
    _stream(prior, n_curves, "cpu", compile)
    seconds = time.perf_counter() - start
    peak = _vm_kib("VmHWM") * 1024
    return {
        "n_curves": n_curves,
        "seconds": seconds,
        "rss_before_bytes": before,
        "rss_peak_bytes": peak,
        "growth_bytes": peak - before,
    }


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-curves", type=int, default=2_000_000)
    parser.add_argument("--n-plain", type=int, default=3_000)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, for a smoke run"
    )
    parser.add_argument("--memory-probe", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, args.compile)))
        return
    n = 200_000 if args.quick else args.n_curves
    prior = lcpfn.priors.load("lcpfn")

    start = time.perf_counter()
    plain_curves(args.n_plain, seed=0)
    plain_rate = args.n_plain / (time.perf_counter() - start)
    rates = {
        "plain_loop": plain_rate,
        "sample_curves_cpu": _rate(
            lambda: lcpfn.sample_curves(prior, n // 4, seed=1), n // 4
        ),
        "iter_curves_cpu": _rate(lambda: _stream(prior, n, "cpu", False), n),
        "iter_curves_cpu_compiled": _rate(lambda: _stream(prior, n, "cpu", True), n),
    }
    if torch.cuda.is_available():
        n_gpu = 10 * n
        rates["sample_curves_cuda"] = _rate(
            lambda: lcpfn.sample_curves(prior, n_gpu, seed=1, device="cuda"),
            n_gpu,
            "cuda",
        )
        rates["iter_curves_cuda_compiled"] = _rate(
            lambda: _stream(prior, n_gpu, "cuda", True), n_gpu, "cuda"
        )
    memory = {}
    for compile in (False, True):
        cmd = [
            sys.executable,
            __file__,
            "--memory-probe",
            str(10_000_000 if not args.quick else 500_000),
        ]
        out = subprocess.run(
            cmd + (["--compile"] if compile else []),
            capture_output=True,
            text=True,
            check=True,
        )
        memory["compiled" if compile else "eager"] = json.loads(
            out.stdout.splitlines()[-1]
        )

    record_profile = _profile(prior)
    record = {
        "benchmark": "sampler_throughput",
        "command": "python benchmarks/sampler_throughput.py"
        + (" --quick" if args.quick else ""),
        "machine": describe_machine(),
        "n_steps": 100,
        "n_curves": n,
        "curves_per_second": rates,
        "speedup_vs_plain_loop": {k: v / plain_rate for k, v in rates.items()},
        "stream_10M_memory": memory,
        "profile_one_chunk_eager": record_profile,
        "goals": {
            "cpu_curves_per_second": 1_000_000,
            "h100_curves_per_second": 100_000_000,
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sampler_throughput.json").write_text(json.dumps(record, indent=2))
    (RESULTS / "sampler_throughput.md").write_text(_markdown(record))
    print(_markdown(record))


def _profile(prior) -> list[dict]:
    """Where one eager chunk of 16,384 curves spends its CPU time (top ops)."""
    from torch.profiler import ProfilerActivity, profile

    _stream(prior, 16_384, "cpu", False)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            _stream(prior, 16_384, "cpu", False)
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    return [{"op": e.key, "share": e.self_cpu_time_total / total} for e in events[:8]]


def _markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# Sampler throughput (LC-PFN prior, 100 steps per curve)",
        "",
        f"`{r['command']}` at revision {m['git_revision']}; {m['cpu']}, "
        f"{m['cpu_count']} cores, torch {m['torch']} ({m['torch_threads']} threads), "
        f"GPU: {m['gpu'] or 'none'}.",
        "",
        "| sampler | curves/s | x plain loop |",
        "| --- | ---: | ---: |",
    ]
    for k, v in r["curves_per_second"].items():
        lines.append(f"| {k} | {v:,.0f} | {r['speedup_vs_plain_loop'][k]:,.1f} |")
    lines += ["", "Peak memory growth while streaming (chunks of 16,384 curves):", ""]
    for k, v in r["stream_10M_memory"].items():
        lines.append(
            f"- {k}: {v['n_curves']:,} curves in {v['seconds']:.1f} s, peak RSS "
            f"+{v['growth_bytes'] / 2**20:,.0f} MiB "
            f"over {v['rss_before_bytes'] / 2**20:,.0f} MiB"
        )
    lines += ["", "Self CPU time of one eager chunk, top ops (torch.profiler):", ""]
    lines += [f"- {p['op']}: {p['share']:.0%}" for p in r["profile_one_chunk_eager"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
