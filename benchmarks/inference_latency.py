"""Inference latency and throughput of a model, and predict()'s overhead.

Usage:
    python benchmarks/inference_latency.py [--model default] [--device cpu]

Measures, in one run:

1. one curve (10 observed, 90 queries): median wall time over ``--repeats`` of
   (a) ``model.predict(y).quantile([0.05, 0.5, 0.95])`` end to end and
   (b) the network's forward pass alone; the same for a network of the LC-PFN
   paper's largest size (d_model 512, 12 layers, random weights: the cost, not
   the accuracy) as the baseline the ratio is taken against;
2. a batch of 1,000 ragged curves (5..90 observed, NaN-padded, 90 queries
   each): ``predict()`` (parsing, checks, packing, forward in chunks, logits
   kept) against the bare forward pass on the same chunks, already packed;
   the issue's goal is a ratio <= 1.2; and batched curves/s;
3. the same batch end to end: ``predict`` plus three quantiles plus
   ``log_prob`` of values at every query, in curves/s (goal >= 500 on the
   2-core CPU), in float32 and bfloat16, at predict()'s default chunk of
   curves per forward pass and at each of ``CHUNKS``; the process's peak
   resident memory;
4. what bounds it: the network's matrix products alone (every ``nn.Linear``
   call of the forward on the same chunks, replayed on its recorded input),
   their FLOP rate, and this CPU's rate on one large matrix product.

Threads: torch's default (all cores). Writes
benchmarks/results/inference_latency_<model>_<device>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import lcpfn
from lcpfn.evaluation.bench import (
    median_seconds,
    network_forward,
    one_curve_latency,
    one_curve_tensors,
)
from lcpfn.pfn.model import CurvePFN, ModelConfig
from lcpfn.predict import DEFAULT_BATCH_SIZE, chunk_order, packed_chunks

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

CHUNKS = (32, 64, 128, 256)  # predict()'s batch_size values swept end to end
PAPER_SIZE = ModelConfig(d_model=512, n_layers=12, n_heads=4, d_ff=1024)
LARGE_GEMM = 2048  # n of the n x n x n product that gives the CPU's matmul rate


def linear_layers_only(
    network: nn.Module, chunks: list, repeats: int, device: str
) -> tuple[float, float]:
    """Seconds and FLOPs of the network's ``nn.Linear`` calls alone on ``chunks``:
    each call of a forward pass is recorded with its input and replayed."""
    calls = []

    def record(module: nn.Linear, inputs: tuple, _output) -> None:
        calls.append((inputs[0].clone(), module.weight, module.bias))

    linears = [m for m in network.modules() if isinstance(m, nn.Linear)]
    hooks = [m.register_forward_hook(record) for m in linears]
    try:
        for c in chunks:
            network_forward(network, c)
    finally:
        for h in hooks:
            h.remove()
    flops = sum(2.0 * x.numel() / x.shape[-1] * w.numel() for x, w, _ in calls)

    def replay() -> None:
        with torch.inference_mode():
            for x, w, b in calls:
                F.linear(x, w, b)

    return median_seconds(replay, repeats, device), flops


def large_gemm_flop_rate(device: str) -> float:
    """FLOP/s of one LARGE_GEMM-sized float32 matrix product."""
    a = torch.randn(LARGE_GEMM, LARGE_GEMM, device=device)
    seconds = median_seconds(lambda: a @ a, 5, device)
    return 2.0 * LARGE_GEMM**3 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    dev = args.device

    model = lcpfn.load(args.model, device=dev)
    one_curve = one_curve_latency(model, args.repeats)
    one = one_curve_tensors(dev)
    torch.manual_seed(0)
    paper = CurvePFN(PAPER_SIZE, model.model.bars.borders.cpu()).to(dev).eval()
    paper_network = median_seconds(
        lambda: network_forward(paper, one), max(10, args.repeats // 10), dev
    )

    rng = np.random.default_rng(0)
    y = np.sort(rng.uniform(0.1, 0.9, (args.batch, 10)), axis=1)
    y = np.concatenate([y, np.tile(y[:, -1:], (1, 80))], axis=1)  # (B, 90)
    y += rng.normal(0, 0.01, y.shape)
    n_obs = rng.integers(5, 91, args.batch)
    y[np.arange(90)[None, :] >= n_obs[:, None]] = np.nan
    t_query = np.arange(11.0, 101.0)
    pred = model.predict(y, t_query=t_query)
    # the network on the chunks predict() feeds it (sorted by observed count)
    inputs = tuple(x.to(dev) for x in pred._inputs)
    order = chunk_order(inputs[2])
    chunks = [c for _, c in packed_chunks(inputs, order, DEFAULT_BATCH_SIZE)]
    batch_predict = median_seconds(
        lambda: model.predict(y, t_query=t_query), max(3, args.repeats // 40), dev
    )
    batch_network = median_seconds(
        lambda: [network_forward(model.model, c) for c in chunks],
        max(3, args.repeats // 40),
        dev,
    )
    y_true = np.tile(np.nanmax(y, axis=1, keepdims=True), (1, len(t_query)))

    def end_to_end(precision: str, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
        def call() -> None:
            pred = model.predict(
                y, t_query=t_query, precision=precision, batch_size=batch_size
            )
            pred.quantile([0.05, 0.5, 0.95])
            pred.log_prob(y_true)

        return median_seconds(call, max(3, args.repeats // 40), dev)

    batch_full = end_to_end("float32")
    batch_full_bf16 = end_to_end("bfloat16")
    chunk_sweep = {
        precision: {str(b): args.batch / end_to_end(precision, b) for b in CHUNKS}
        for precision in ("float32", "bfloat16")
    }
    exact = torch.log_softmax(pred.logits.double(), -1)
    fast = model.predict(y, t_query=t_query, precision="bfloat16").logits
    log_ratio = exact - torch.log_softmax(fast.double(), -1)
    kl_bf16 = float((exact.exp() * log_ratio).sum(-1).mean())
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # after the peak memory is read: the recorded inputs take memory of their own
    linear_s, linear_flops = linear_layers_only(
        model.model, chunks, max(3, args.repeats // 40), dev
    )
    gemm_rate = large_gemm_flop_rate(dev)

    record = {
        "machine": describe_machine(),
        "command": "python benchmarks/inference_latency.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "model_sha256": model.card.get("sha256"),
        "n_parameters": model.model.n_parameters(),
        "paper_size_parameters": paper.n_parameters(),
        "device": dev,
        "summary": {
            **one_curve,
            "paper_size_network_ms": paper_network * 1e3,
            "speedup_vs_paper_size": paper_network * 1e3 / one_curve["one_curve_ms"],
            "batch_curves": args.batch,
            "batch_predict_s": batch_predict,
            "batch_network_s": batch_network,
            "predict_overhead_ratio": batch_predict / batch_network,
            "batch_curves_per_s": args.batch / batch_predict,
            "batch_full_s": batch_full,
            "batch_full_curves_per_s": args.batch / batch_full,
            "batch_full_bf16_s": batch_full_bf16,
            "batch_full_bf16_curves_per_s": args.batch / batch_full_bf16,
            "bf16_mean_kl": kl_bf16,
            "peak_rss_mb": peak_rss_mb,
            "default_batch_size": DEFAULT_BATCH_SIZE,
            "curves_per_s_by_batch_size": chunk_sweep,
            "batch_linear_layers_s": linear_s,
            "batch_linear_layers_gflop": linear_flops / 1e9,
            "linear_layers_bound_curves_per_s": args.batch / linear_s,
            "linear_layers_gflop_per_s": linear_flops / linear_s / 1e9,
            "large_gemm_gflop_per_s": gemm_rate / 1e9,
        },
    }
    print(json.dumps(record["summary"], indent=2))
    stem = RESULTS / f"inference_latency_{Path(args.model).name}_{dev}"
    RESULTS.mkdir(exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record))
    print(f"wrote {stem}.md")


def _markdown(r: dict) -> str:
    s, m = r["summary"], r["machine"]
    return "\n".join(
        [
            f"# Inference latency: model `{r['model']}` on {r['device']}",
            "",
            f"Machine: {m['gpu'] or m['cpu']} ({m['cpu_count']} cores, "
            f"{m['torch_threads']} torch threads), torch {m['torch']}, git "
            f"{m['git_revision']}. Model: {r['n_parameters']:,} parameters.",
            "",
            f"Command: `{r['command']}`",
            "",
            "| measurement | value |",
            "|---|---:|",
            f"| one curve (10 observed, 90 queries), predict + 3 quantiles, median "
            f"| {s['one_curve_ms']:.2f} ms |",
            f"| one curve, network forward only | {s['one_curve_network_ms']:.2f} ms |",
            f"| one curve, paper-size network ({r['paper_size_parameters']:,} "
            f"parameters) forward only | {s['paper_size_network_ms']:.2f} ms |",
            f"| speed-up of predict over the paper-size forward "
            f"| {s['speedup_vs_paper_size']:.1f}x |",
            f"| {s['batch_curves']:,} ragged curves: predict() | "
            f"{s['batch_predict_s']:.3f} s |",
            f"| {s['batch_curves']:,} ragged curves: network forward only | "
            f"{s['batch_network_s']:.3f} s |",
            f"| predict() / forward (goal <= 1.2) "
            f"| {s['predict_overhead_ratio']:.2f} |",
            f"| batched throughput | {s['batch_curves_per_s']:,.0f} curves/s |",
            f"| {s['batch_curves']:,} ragged curves: predict + 3 quantiles + log_prob "
            f"| {s['batch_full_s']:.3f} s |",
            f"| end-to-end batched throughput (goal >= 500) "
            f"| {s['batch_full_curves_per_s']:,.0f} curves/s |",
            f'| the same with `precision="bfloat16"` '
            f"| {s['batch_full_bf16_curves_per_s']:,.0f} curves/s |",
            f"| bfloat16: mean KL(float32 bars, bfloat16 bars) per query "
            f"| {s['bf16_mean_kl']:.1e} nats |",
            f"| peak resident memory of the process | {s['peak_rss_mb']:,.0f} MB |",
            f"| {s['batch_curves']:,} ragged curves: the network's linear layers "
            f"alone ({s['batch_linear_layers_gflop']:.1f} GFLOP) "
            f"| {s['batch_linear_layers_s']:.3f} s |",
            f"| throughput if nothing but the linear layers ran "
            f"| {s['linear_layers_bound_curves_per_s']:,.0f} curves/s |",
            f"| the linear layers' rate / one {LARGE_GEMM}-square matrix product's "
            f"| {s['linear_layers_gflop_per_s']:.1f} / "
            f"{s['large_gemm_gflop_per_s']:.1f} GFLOP/s |",
            "",
            f"End to end (predict + 3 quantiles + log_prob, curves/s) by predict()'s "
            f"batch_size (default {s['default_batch_size']}):",
            "",
            "| precision | " + " | ".join(_chunk_labels(s)) + " |",
            "|---|" + "---:|" * len(_chunk_labels(s)),
            *(
                f"| {precision} | "
                + " | ".join(f"{v:,.0f}" for v in rates.values())
                + " |"
                for precision, rates in s["curves_per_s_by_batch_size"].items()
            ),
            "",
        ]
    )


def _chunk_labels(s: dict) -> list[str]:
    return list(next(iter(s["curves_per_s_by_batch_size"].values())))


if __name__ == "__main__":
    main()
