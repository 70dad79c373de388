"""``lcpfn evaluate``: score models and baselines on real learning curves."""

from __future__ import annotations

import argparse
import os
import platform

import torch

from lcpfn.cli.common import cpu_name, default_device
from lcpfn.errors import InputError

BENCHMARKS = ("taskset", "lcdb", "lcdb11")


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "evaluate",
        help="score models and baselines on real learning curves (markdown report)",
        description="Score the PFN models, the last value, pow3/pow4/MMF fits and "
        "(on a smaller subsample) MCMC on the real curves of shared/data at the "
        "10/20/40/80 % cutoffs; writes real_curves.md, .json and PNGs to --out.",
    )
    p.add_argument("--data-dir", required=True, help="folder with the .npz files")
    p.add_argument(
        "--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS
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
    p.add_argument("--device", default=default_device(), help="where the PFNs run")
    p.add_argument("--out", default="evaluation", help="output folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
    machine = {
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    path = run_suite(config, args.out, command=args.command_line, machine=machine)
    print(f"wrote {path}")
    return 0
