"""Training throughput (curves/s) of ``lcpfn.train`` for several model sizes.

Usage:
    python benchmarks/train_throughput.py [--device cpu|cuda] [--sizes small,paper]
        [--batch-size N] [--steps N] [--compile]

Each measurement runs the real training loop (curves drawn on the device, bar
NLL, backward, clipping, AdamW) through ``lcpfn.train``: a first window of
``--steps`` steps warms up (and compiles), the second window is timed. FLOPs
per curve are counted by ``torch.utils.flop_counter`` on one forward+backward
pass (matmuls and attention; the element-wise rest is not counted), so the
fraction of peak is a lower bound. Peak FLOP/s is known for NVIDIA data-centre
GPUs (dense bf16); on CPU it is not reported.

Sizes: ``small`` (d_model 128, 4 layers: the CPU-trained model),
``mid`` (d_model 256, 6 layers), ``paper`` (d_model 512, 12 layers, d_ff 1024:
the LC-PFN paper's largest, 26.8M parameters there; 25.7M here, whose output
head is one linear layer instead of the reference's two).

Writes benchmarks/results/train_throughput_{device}.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

import lcpfn
from lcpfn.pfn.model import CurvePFN, ModelConfig
from lcpfn.pfn.training import TrainConfig, batch_loss, train, training_batch

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

SIZES = {
    "small": ModelConfig(d_model=128, n_layers=4, n_heads=4),
    "mid": ModelConfig(d_model=256, n_layers=6, n_heads=4),
    "paper": ModelConfig(d_model=512, n_layers=12, n_heads=4, d_ff=1024),
}
# dense bf16 tensor-core peaks from NVIDIA's data sheets, FLOP/s
PEAK_BF16 = {"H100 PCIe": 756e12, "H100": 989e12, "H200": 989e12, "A100": 312e12}


def flops_per_curve(mc: ModelConfig, prior, device: torch.device) -> float:
    """Forward + backward FLOPs per training curve, counted on a batch of 8."""
    tc = TrainConfig(batch_size=8)
    batch = training_batch(prior, mc, tc, 0, 0, device)
    model = CurvePFN(mc, torch.linspace(0, 1, mc.n_bars + 1)).to(device)
    with FlopCounterMode(display=False) as counter:
        logits = model.forward_packed(batch.t, batch.y, batch.n_obs)
        batch_loss(model, logits, batch, tc.integrate_noise).backward()
    return counter.get_total_flops() / tc.batch_size


def measure(mc: ModelConfig, prior, device: str, batch: int, steps: int, compile: bool):
    """Curves/s of the second of two ``steps``-step windows of ``lcpfn.train``."""
    windows = []
    tc = TrainConfig(
        n_curves=2 * steps * batch,
        batch_size=batch,
        log_every=steps,
        n_border_curves=5000,
        compile=compile,
    )
    train(
        prior,
        mc,
        tc,
        device=device,
        progress=False,
        callback=lambda step, m: windows.append(m["curves_per_s"]),
    )
    return windows[-1]


def peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, peak in PEAK_BF16.items():  # "H100 PCIe" is checked before "H100"
        if key in name:
            return peak
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--sizes", default="small,mid,paper")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    batch = args.batch_size or (1024 if on_gpu else 32)
    steps = args.steps or (20 if on_gpu else 3)
    prior = lcpfn.priors.load("lcpfn")
    peak = peak_flops(device)

    rows = []
    for name in args.sizes.split(","):
        mc = SIZES[name]
        flops = flops_per_curve(mc, prior, device)
        rate = measure(mc, prior, args.device, batch, steps, args.compile)
        params = CurvePFN(mc, torch.linspace(0, 1, mc.n_bars + 1)).n_parameters()
        row = {
            "size": name,
            "model_config": mc.__dict__,
            "n_parameters": params,
            "batch_size": batch,
            "timed_steps": steps,
            "curves_per_s": rate,
            "gflop_per_curve": flops / 1e9,
            "achieved_tflop_s": flops * rate / 1e12,
            "fraction_of_peak": flops * rate / peak if peak else None,
            "hours_for_10M_curves": 1e7 / rate / 3600,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)

    record = {
        "machine": describe_machine(),
        "device": str(device),
        "bf16_autocast": on_gpu,
        "compile": args.compile,
        "peak_flop_s": peak,
        "command": "python benchmarks/train_throughput.py " + " ".join(sys.argv[1:]),
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"train_throughput_{device.type}"
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record))
    print(f"wrote {stem}.md")


def _markdown(record: dict) -> str:
    m = record["machine"]
    lines = [
        f"# Training throughput on {record['device']}",
        "",
        f"Machine: {m['gpu'] or m['cpu']} ({m['cpu_count']} CPU cores, "
        f"{m['torch_threads']} torch threads), torch {m['torch']}, "
        f"git {m['git_revision']}. bf16 autocast: {record['bf16_autocast']}; "
        f"torch.compile: {record['compile']}.",
        "",
        f"Command: `{record['command']}`",
        "",
        "| size | parameters | batch | curves/s | GFLOP/curve | TFLOP/s "
        "| of peak | hours per 10M curves |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in record["rows"]:
        frac = f"{r['fraction_of_peak']:.1%}" if r["fraction_of_peak"] else "n/a"
        lines.append(
            f"| {r['size']} | {r['n_parameters'] / 1e6:.2f}M | {r['batch_size']} "
            f"| {r['curves_per_s']:,.0f} | {r['gflop_per_curve']:.2f} "
            f"| {r['achieved_tflop_s']:.3f} | {frac} "
            f"| {r['hours_for_10M_curves']:,.1f} |"
        )
    lines += [
        "",
        "Curves/s are from the real training loop (data generation included), "
        "timed over the second of two equal windows. FLOPs count matmuls and "
        "attention only (torch.utils.flop_counter), so the fraction of peak is "
        "a lower bound.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
