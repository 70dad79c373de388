"""The ``lcpfn`` command line: ``lcpfn predict|sample|train|export|evaluate|bench``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lcpfn.errors import InputError, LcpfnError
from lcpfn.pfn.model import ModelConfig
from lcpfn.pfn.training import TrainConfig, train
from lcpfn.prior import spec as priors
from lcpfn.prior.sampler import sample_curves


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lcpfn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser(
        "sample", help="draw curves from a prior and summarize them"
    )
    sample.add_argument(
        "--prior", default="lcpfn", help="shipped name or path to a .toml"
    )
    sample.add_argument("--n-curves", type=int, default=10_000)
    sample.add_argument("--n-steps", type=int, default=100)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--device", default="cpu")
    sample.add_argument("--out", help="write t, y, y_clean to this .npz file")
    sample.add_argument(
        "--plot", help="write a PNG of 12 curves and the prior's quantiles"
    )
    fit = commands.add_parser("train", help="train a PFN on a prior (resumable)")
    fit.add_argument("--prior", default="lcpfn", help="shipped name or path to a .toml")
    fit.add_argument("--model-config", help="JSON file of ModelConfig fields")
    fit.add_argument("--train-config", help="JSON file of TrainConfig fields")
    fit.add_argument("--checkpoint-dir", help="resume from / write checkpoints here")
    fit.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    fit.add_argument(
        "--time-limit", type=float, help="seconds, then checkpoint and stop"
    )
    fit.add_argument("--out", required=True, help="export path (without suffix)")
    _add_predict_parser(commands)
    export = commands.add_parser(
        "export", help="re-export a model compactly, with benchmark figures in its card"
    )
    export.add_argument(
        "source",
        help="exported model path (without suffix), or a training checkpoint folder",
    )
    export.add_argument(
        "--prior", default="lcpfn", help="the prior a checkpoint was trained on"
    )
    export.add_argument("out", help="new path (without suffix)")
    export.add_argument(
        "--dtype", choices=("float32", "float16", "bfloat16"), default="float16"
    )
    export.add_argument(
        "--name", help="model name for the card (default: the out file's stem)"
    )
    export.add_argument(
        "--results",
        nargs="*",
        default=[],
        help="benchmark JSON files whose 'summary' goes into the card",
    )
    _add_evaluate_parser(commands)
    _add_bench_parser(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "export":
            return _export(args)
        if args.command == "evaluate":
            return _evaluate(args, argv)
        if args.command == "bench":
            return _bench(args, argv)
        return _sample(args)
    except (LcpfnError, TypeError, FileNotFoundError) as err:
        print(f"lcpfn: error: {err}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    prior = priors.load(args.prior)
    model_config = ModelConfig(**_read_json(args.model_config))
    fields = _read_json(args.train_config)
    if args.checkpoint_dir:
        fields["checkpoint_dir"] = args.checkpoint_dir
    result = train(
        prior,
        model_config,
        TrainConfig(**fields),
        device=args.device,
        time_limit=args.time_limit,
    )
    if not result.finished:
        print(
            f"stopped after {result.curves_seen:,} curves (time limit); run the same "
            f"command again to resume"
        )
        return 0
    weights, card = result.save(args.out)
    print(
        f"trained on {result.curves_seen:,} curves in {result.seconds:.0f} s; "
        f"final loss {result.history[-1]['loss']:.4f}; wrote {weights} and {card}"
    )
    return 0


def _read_json(path: str | None) -> dict:
    if path is None:
        return {}
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: cannot read a JSON config: {err}") from err


def _add_evaluate_parser(commands) -> None:
    p = commands.add_parser(
        "evaluate",
        help="score models and baselines on real learning curves (markdown report)",
        description="Score the PFN models, the last value, pow3/pow4/MMF fits and "
        "(on a smaller subsample) MCMC on the real curves of shared/data at the "
        "10/20/40/80 %% cutoffs; writes real_curves.md, .json and PNGs to --out.",
    )
    p.add_argument("--data-dir", required=True, help="folder with the .npz files")
    p.add_argument(
        "--benchmarks",
        nargs="+",
        default=["taskset", "lcdb", "lcdb11"],
        choices=["taskset", "lcdb", "lcdb11"],
    )
    p.add_argument("--models", nargs="+", default=["default"], help="PFN models")
    p.add_argument(
        "--n-curves", type=int, default=600, help="curves per benchmark (0 = all)"
    )
    p.add_argument(
        "--n-mcmc", type=int, default=16, help="of those, also with MCMC (0 = none)"
    )
    p.add_argument("--mcmc-chains", type=int, default=2)
    p.add_argument("--mcmc-warmup", type=int, default=300)
    p.add_argument("--mcmc-samples", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-boot", type=int, default=2000)
    p.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="where the PFNs run",
    )
    p.add_argument("--out", default="evaluation", help="output folder")


def _evaluate(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from lcpfn.evaluation.suite import SuiteConfig, run_suite

    for name in ("n_curves", "n_mcmc"):
        if getattr(args, name) < 0:
            raise InputError(f"--{name.replace('_', '-')} must be >= 0")
    config = SuiteConfig(
        data_dir=args.data_dir,
        benchmarks=tuple(args.benchmarks),
        models=tuple(args.models),
        n_curves=args.n_curves,
        n_mcmc=args.n_mcmc,
        mcmc_chains=args.mcmc_chains,
        mcmc_warmup=args.mcmc_warmup,
        mcmc_samples=args.mcmc_samples,
        seed=args.seed,
        n_boot=args.n_boot,
        device=args.device,
    )
    words = list(sys.argv[1:] if argv is None else argv)
    machine = {
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    path = run_suite(
        config, args.out, command="lcpfn " + " ".join(words), machine=machine
    )
    print(f"wrote {path}")
    return 0


def _add_bench_parser(commands) -> None:
    p = commands.add_parser(
        "bench",
        help="measure a model's model-card figures: prior accuracy and latency",
        description="Mean log-likelihood, MSE of the median, 90 %% coverage on "
        "fresh curves from the model's prior at 10/20/40/80 %% observed (the LC-PFN "
        "paper's protocol), and one curve's median latency; beside the figures "
        "its card records.",
    )
    p.add_argument("--model", default="default", help="shipped name or path")
    p.add_argument(
        "--n-curves", type=int, default=10_000, help="prior curves (paper: 10,000)"
    )
    p.add_argument("--repeats", type=int, default=200, help="latency repeats")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", help="also write the figures to this JSON file")


def _bench(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from lcpfn.evaluation.bench import one_curve_latency, prior_accuracy
    from lcpfn.predict import load

    if args.n_curves < 2:
        raise InputError(f"--n-curves must be >= 2; got {args.n_curves}")
    if args.repeats < 1:
        raise InputError(f"--repeats must be >= 1; got {args.repeats}")
    model = load(args.model, device=args.device)
    accuracy = prior_accuracy(model, args.n_curves)
    latency = one_curve_latency(model, args.repeats)
    recorded = model.card.get("benchmarks", {})
    card_accuracy = next(
        (v for k, v in recorded.items() if k.startswith("prior_accuracy")), {}
    )
    card_latency = next(
        (v for k, v in recorded.items() if k.startswith("inference_latency")), {}
    )
    print(
        f"model {args.model!r}: {model.card.get('n_parameters', '?')} parameters, "
        f"{args.n_curves:,} prior curves, {accuracy.seconds:.0f} s"
    )
    print("cutoff  mean LL (± s.e.)   card LL   MSE median  90 % coverage")
    for cutoff, row in accuracy.summary.items():
        card_ll = card_accuracy.get(cutoff, {}).get("mean_log_likelihood")
        print(
            f"{cutoff:>6}  {row['mean_log_likelihood']:6.3f} ± "
            f"{row['log_likelihood_se']:.3f}    "
            f"{'n/a' if card_ll is None else f'{card_ll:.3f}':>7}   "
            f"{row['mse_median']:.2e}    {row['coverage_90']:.3f}"
        )
    card_ms = card_latency.get("one_curve_ms")
    print(
        f"one curve (10 observed, 90 queries): {latency['one_curve_ms']:.2f} ms "
        f"median (network {latency['one_curve_network_ms']:.2f} ms); card: "
        + ("n/a" if card_ms is None else f"{card_ms:.2f} ms")
    )
    if args.out:
        record = {
            "command": "lcpfn " + " ".join(sys.argv[1:] if argv is None else argv),
            "model": args.model,
            "model_sha256": model.card.get("sha256"),
            "device": args.device,
            "cpu": _cpu_name(),
            "n_curves": accuracy.n_curves,
            "seed": accuracy.seed,
            "summary": {**accuracy.summary, **latency},
            "pit_histogram": accuracy.pit_histogram,
        }
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


METRICS = ("raw", "accuracy", "accuracy-percent", "error", "error-percent", "loss")


def _add_predict_parser(commands) -> None:
    p = commands.add_parser(
        "predict",
        help="forecast the rest of a curve: quantile table, optional plot",
        description="Forecast the rest of a learning curve with a shipped or "
        "exported model. Values in order of t = 1, 2, ... unless --t / --t-column.",
    )
    p.add_argument("values", nargs="*", type=float, help="observed values, in order")
    p.add_argument("--csv", help="read the curve from this CSV file")
    p.add_argument("--column", help="CSV column of the values (default: the last)")
    p.add_argument("--t-column", help="CSV column of the steps (default: 1, 2, ...)")
    p.add_argument("--t", help="comma-separated steps of the values")
    p.add_argument("--horizon", type=float, help="planned total length, units of t")
    p.add_argument(
        "--metric",
        choices=METRICS,
        default="raw",
        help="how to map the values onto the prior (default: as they are)",
    )
    p.add_argument(
        "--initial-loss",
        type=float,
        help="loss before training, for --metric loss "
        "(default: the first observed value)",
    )
    p.add_argument("--quantiles", default="0.05,0.25,0.5,0.75,0.95")
    p.add_argument("--rows", type=int, default=12, help="table rows (default 12)")
    p.add_argument("--model", default="default", help="shipped name or path")
    p.add_argument("--device", default="cpu")
    p.add_argument("--plot", help="write the fan chart to this PNG")  # fmt: skip


def _predict(args: argparse.Namespace) -> int:
    from lcpfn import transforms
    from lcpfn.predict import load

    t, y = _read_curve(args)
    metric = {
        "raw": lambda: None,
        "accuracy": transforms.accuracy,
        "accuracy-percent": lambda: transforms.accuracy(percent=True),
        "error": transforms.error_rate,
        "error-percent": lambda: transforms.error_rate(percent=True),
        "loss": lambda: transforms.loss_curve(
            args.initial_loss if args.initial_loss is not None else y[0]
        ),
    }[args.metric]()
    try:
        levels = [float(q) for q in args.quantiles.split(",")]
    except ValueError as err:
        raise InputError(
            f"--quantiles must be comma-separated numbers; got {args.quantiles!r}"
        ) from err
    if args.rows < 1:
        raise InputError(f"--rows must be >= 1; got {args.rows}")
    model = load(args.model, device=args.device)
    pred = model.predict(y, t_obs=t, horizon=args.horizon, transform=metric)
    q, mean = pred.quantile(levels), pred.mean()
    print(
        f"model {args.model!r} ({model.card.get('n_parameters', '?')} parameters); "
        f"{len(y)} observed values, forecast for t = {pred.steps[0]:g}.."
        f"{pred.steps[-1]:g}"
    )
    rows = np.unique(np.linspace(0, len(pred.steps) - 1, args.rows).round().astype(int))
    print("     t      mean  " + "  ".join(f"q{q * 100:05.2f}".rstrip("0").rstrip(".")
                                         .ljust(8) for q in levels))  # fmt: skip
    for i in rows:
        cells = "  ".join(f"{v:<8.4g}" for v in q[:, i])
        print(f"{pred.steps[i]:6g}  {mean[i]:<8.4g}  {cells}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = pred.plot(title=f"lcpfn forecast ({args.model})")
        ax.figure.tight_layout()
        ax.figure.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from lcpfn.pfn.checkpoint import CHECKPOINT_NAME, export_model, load_model
    from lcpfn.pfn.training import TrainResult

    if (Path(args.source) / CHECKPOINT_NAME).is_file():
        result = TrainResult.from_checkpoint(args.source, priors.load(args.prior))
        model, card = result.model, result.card()
    else:
        model, card = load_model(args.source)
    for key in ("sha256", "weights_bytes", "weights_file", "weights_dtype"):
        card.pop(key, None)
    card["name"] = args.name or Path(args.out).name
    card["exported_from"] = str(args.source)
    for path in args.results:
        record = _read_json(path)
        if "summary" not in record:
            raise InputError(f"{path}: no 'summary' to put into the card")
        card.setdefault("benchmarks", {})[Path(path).stem] = record["summary"]
    weights, card_path = export_model(
        model, card, args.out, dtype=getattr(torch, args.dtype)
    )
    print(f"wrote {weights} ({weights.stat().st_size:,} bytes) and {card_path}")
    return 0


def _read_curve(args: argparse.Namespace) -> tuple[np.ndarray | None, np.ndarray]:
    """(t or None, y) from the positional values or a CSV column."""
    if args.csv and args.values:
        raise InputError("give either values or --csv, not both")
    if args.csv:
        import csv

        try:
            with open(args.csv, newline="") as f:
                table = list(csv.DictReader(f))
        except OSError as err:
            raise InputError(f"--csv {args.csv}: cannot read: {err}") from err
        if not table:
            raise InputError(f"--csv {args.csv}: no rows")
        column = args.column or list(table[0])[-1]
        y = _column(table, column, args.csv)
        t = _column(table, args.t_column, args.csv) if args.t_column else None
        return t, y
    if not args.values:
        raise InputError("give the observed values, or --csv FILE")
    t = None
    if args.t:
        try:
            t = np.array([float(v) for v in args.t.split(",")])
        except ValueError as err:
            raise InputError(
                f"--t must be comma-separated numbers; got {args.t!r}"
            ) from err
    return t, np.array(args.values)


def _column(table: list[dict], name: str, path: str) -> np.ndarray:
    if name not in table[0]:
        raise InputError(f"--csv {path}: no column {name!r}; columns: {list(table[0])}")
    try:
        return np.array(
            [float(row[name]) if row[name] != "" else np.nan for row in table]
        )
    except ValueError as err:
        raise InputError(
            f"--csv {path}: column {name!r} is not numeric: {err}"
        ) from err


def _sample(args: argparse.Namespace) -> int:
    prior = priors.load(args.prior)
    start = time.perf_counter()
    batch = sample_curves(
        prior, args.n_curves, args.n_steps, seed=args.seed, device=args.device
    )
    seconds = time.perf_counter() - start
    y = batch.y.cpu().numpy()
    print(f"prior {prior.name!r} ({prior.source}), sha256 {prior.hash()[:12]}")
    print(
        f"{args.n_curves} curves x {args.n_steps} steps in {seconds:.2f} s "
        f"({args.n_curves / seconds:,.0f} curves/s on {args.device}); "
        f"acceptance rate {batch.acceptance_rate:.3f}"
    )
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    print("step   " + "  ".join(f"q{int(q * 100):02d}  " for q in levels))
    for step in sorted({1, args.n_steps // 10, args.n_steps // 2, args.n_steps} - {0}):
        row = np.quantile(y[:, step - 1], levels)
        print(f"{step:4d}   " + "  ".join(f"{v:.3f}" for v in row))
    if args.out:
        np.savez(
            args.out, t=batch.t.cpu().numpy(), y=y, y_clean=batch.y_clean.cpu().numpy()
        )
        print(f"wrote {args.out}")
    if args.plot:
        _plot_curves(batch.t.cpu().numpy(), y, prior.name, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _plot_curves(t: np.ndarray, y: np.ndarray, title: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.fill_between(
        t, *np.quantile(y, [0.05, 0.95], axis=0), alpha=0.2, label="90 % of curves"
    )
    ax.plot(t, np.median(y, axis=0), color="k", lw=2, label="median")
    ax.plot(t, y[:12].T, lw=0.8, alpha=0.8)
    ax.set(
        xlabel="t (epoch)",
        ylabel="y",
        title=f"curves drawn from the {title!r} prior",
        ylim=(-0.05, 1.05),
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
