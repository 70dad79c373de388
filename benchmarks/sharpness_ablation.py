"""Train the sharpness ablation: today's recipe, each change alone, the combination.

Usage:
    python benchmarks/sharpness_ablation.py train --runs-dir ~/lcpfn-runs/ablation
        [--arms baseline combo ...] [--budgets 15 30 60] [--seed 0]
    python benchmarks/sharpness_ablation.py score --runs-dir ~/lcpfn-runs/ablation
        --data-dir ../shared/data [--n-prior 2000] [--n-real 300]
        [--out sharpness_ablation] [--models default]

Every arm is the shipped default's size and optimizer (d_model 128, 4 layers,
batch 128, AdamW 1e-3) with the extendable warm-up-stable-decay schedule and
the head on query positions only, so arms differ only in the change named:

- ``baseline``: today's recipe (raw inputs, equal-mass bars of prior values,
  log sigma from the prior, one noisy target per query);
- ``inputs``: scale-aware inputs (``ModelConfig.scale_aware``);
- ``units``: scale-aware inputs and bars in the curve's own units
  (``curve_units``; the bars need the inputs that tell the network the scale);
- ``noise``: log sigma from 0.75 prior + 0.25 U(-9, -2), weighted p / r;
- ``integrate``: the expected bar NLL under the known noise as the target;
- ``combo``: units + noise + integrate.

Budgets are CPU-minutes of one thread: each arm first measures its own
throughput (curves per CPU-second, 20 steps), and a budget of m minutes is
the run of ``rate * 60 m`` curves. Longer budgets extend the shorter run from
its last stable-phase checkpoint, so the model at each budget is exactly a
run planned for that budget. Checkpoints and exported models live in
``--runs-dir/<arm>/`` (outside the checkout); a killed run resumes.

``score`` reads every exported model and reports, per arm and budget: prior
mean log-likelihood at 10/20/40/80 % (``lcpfn.bench.prior_accuracy``), the
noise-strata table (``lcpfn.bench.noise_strata``) and the mean log-likelihood
on ``--n-real`` random curves of TaskSet, LCDB 1.0 and LCDB 1.1 (the
real-curve suite's normalizations and splits). Writes
benchmarks/results/<out>.{json,md}; a second seed is a second ``--runs-dir``
(``--seed 1``, the first seed's ``rate.json`` copied in, so that a budget is
the same number of curves) scored to its own ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

import lcpfn
from lcpfn.pfn.model import ModelConfig
from lcpfn.pfn.training import TrainConfig, train

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

BASE_MODEL = dict(
    n_layers=4,
    n_heads=4,
    d_model=128,
    n_bars=1000,
    scale_aware=False,
    curve_units=False,
)
BASE_TRAIN = dict(
    batch_size=128,
    lr=1e-3,
    schedule="wsd",
    decay_fraction=0.2,
    warmup_curves=10_000,
    noise_prior_share=1.0,
    integrate_noise=False,
)
ARMS = {
    "baseline": ({}, {}),
    "inputs": ({"scale_aware": True}, {}),
    "units": ({"scale_aware": True, "curve_units": True}, {}),
    "noise": ({}, {"noise_prior_share": 0.75}),
    "integrate": ({}, {"integrate_noise": True}),
    "combo": (
        {"scale_aware": True, "curve_units": True},
        {"noise_prior_share": 0.75, "integrate_noise": True},
    ),
}


def configs(model_kw: dict, train_kw: dict, n_curves: int, folder: Path, seed: int):
    mc = ModelConfig(**{**BASE_MODEL, **model_kw})
    tc = TrainConfig(
        **{**BASE_TRAIN, **train_kw},
        n_curves=n_curves,
        seed=seed,
        checkpoint_dir=str(folder / "ckpt"),
        checkpoint_every=100,
    )
    return mc, tc


def throughput(model_kw: dict, train_kw: dict, folder: Path, seed: int) -> float:
    """Curves per CPU-second of this recipe (measured once, then read back)."""
    path = folder / "rate.json"
    if path.exists():
        return json.loads(path.read_text())["curves_per_cpu_second"]
    batch = {**BASE_TRAIN, **train_kw}["batch_size"]
    mc, tc = configs(model_kw, train_kw, 30 * batch, folder, seed)
    tc = TrainConfig(**{**asdict(tc), "checkpoint_dir": None, "log_every": 1})
    cpu = []
    train(lcpfn.priors.load("lcpfn"), mc, tc, progress=False,
          callback=lambda step, m: cpu.append(time.process_time()))  # fmt: skip
    rate = 20 * batch / (cpu[29] - cpu[9])  # steps 11..30
    path.write_text(json.dumps({"curves_per_cpu_second": rate}))
    return rate


def budget_name(minutes: float) -> str:
    """``cpu<minutes>min``, with no dot (the exported files add their suffix)."""
    return f"cpu{minutes:g}min".replace(".", "_")


def budget_minutes(name: str) -> float:
    """Inverse of ``budget_name``."""
    return float(name[3:-3].replace("_", "."))


def train_to_budget(
    folder: Path, model_kw: dict, train_kw: dict, minutes: float, seed: int
) -> None:
    """Train a recipe to ``minutes`` CPU-minutes of one thread (extending a
    shorter budget's run in ``folder``) and export it as ``budget_name(minutes)``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / budget_name(minutes)
    if out.with_suffix(".json").exists():
        return
    batch = {**BASE_TRAIN, **train_kw}["batch_size"]
    rate = throughput(model_kw, train_kw, folder, seed)
    n_curves = int(rate * 60 * minutes) // batch * batch
    mc, tc = configs(model_kw, train_kw, n_curves, folder, seed)
    print(f"{folder.name}: {minutes} CPU-min = {n_curves} curves", flush=True)
    train(lcpfn.priors.load("lcpfn"), mc, tc, progress=False).save(out)


def kept_scores(path: Path, **settings) -> dict:
    """The scores in an earlier result file ``path`` if it was scored with the
    same ``settings`` (its record's keys), else none: models scored before on
    the same curves are not scored again."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    same = all(old.get(key) == value for key, value in settings.items())
    return old["scores"] if same else {}


def score(
    runs_dir: Path,
    data_dir: str,
    n_prior: int,
    n_real: int,
    done: dict,
    named: tuple[str, ...] = (),
) -> dict:
    """Scores of every exported model, and of the ``named`` ones for
    ``lcpfn.load`` (keyed ``model/<name>``), not yet in ``done`` (added to a
    copy)."""
    from lcpfn.evaluation import evaluate, fraction_splits, summarize
    from lcpfn.evaluation.bench import noise_strata, prior_accuracy
    from lcpfn.evaluation.datasets import load_curves

    real = {}
    for name in ("taskset", "lcdb", "lcdb11"):
        curves = load_curves(name, data_dir)
        order = np.random.default_rng(0).permutation(curves.n_curves)
        real[name] = curves.subset(order[:n_real])
    scores = dict(done)
    models = {f"{c.parent.name}/{c.stem}": c.with_suffix("") for c in sorted(
        runs_dir.glob("*/cpu*min.json"))}  # fmt: skip
    # a shipped name keys as model/<name>, a path as model/<folder>/<file>
    models.update({"model/" + "/".join(Path(n).parts[-2:]): n for n in named})
    for key, path in models.items():
        if key in scores:
            continue
        model = lcpfn.load(path)
        row = {
            "prior": prior_accuracy(model, n_prior).summary,
            "strata": noise_strata(model, n_prior).table,
            "real": {},
        }
        for name, curves in real.items():
            rows = summarize(evaluate(curves, {key: model}, fraction_splits()))
            row["real"][name] = {r.split: r.means["log_likelihood"] for r in rows}
        scores[key] = row
        print(key, json.dumps({k: row[k] for k in ("prior", "real")}), flush=True)
    return scores


def markdown(record: dict) -> str:
    lines = [
        "# Sharpness ablation at equal CPU time",
        "",
        f"Command: `{record['command']}`; {record['n_prior']} prior curves, "
        f"{record['n_real']} curves per real benchmark. Cells: mean log-likelihood "
        "at 10 / 20 / 40 / 80 % observed.",
        "",
        "| arm / budget | prior | log sigma < -5 (PFN / oracle, width/sigma at 80 %) "
        "| TaskSet | LCDB 1.0 | LCDB 1.1 |",
        "|---|---|---|---|---|---|",
    ]
    for key, row in record["scores"].items():
        prior = " / ".join(
            f"{v['mean_log_likelihood']:.3f}" for v in row["prior"].values()
        )
        low = [row["strata"]["80%"].get(s) for s in ("< -6", "-6..-5")]
        low = [c for c in low if c]
        share = sum(c["share"] for c in low)
        pfn = sum(c["share"] * c["pfn_log_likelihood"] for c in low) / share
        oracle = sum(c["share"] * c["oracle_log_likelihood"] for c in low) / share
        width = max(c["width90_over_sigma"] for c in low)
        real = [
            " / ".join(f"{v:.2f}" for v in row["real"][name].values())
            for name in ("taskset", "lcdb", "lcdb11")
        ]
        lines.append(
            f"| {key} | {prior} | {pfn:.2f} / {oracle:.2f}, <= {width:.1f} | "
            + " | ".join(real)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["train", "score"])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--n-prior", type=int, default=2000)
    parser.add_argument("--n-real", type=int, default=300)
    parser.add_argument(
        "--runs-dir", default=os.path.expanduser("~/lcpfn-runs/ablation")
    )
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--budgets", nargs="+", type=float, default=[15, 30, 60])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="sharpness_ablation", help="score's stem")
    parser.add_argument(
        "--models", nargs="*", default=[], help="score: shipped models as well"
    )
    args = parser.parse_args()
    if args.command == "train":
        torch.set_num_threads(1)
        for minutes in sorted(args.budgets):  # every arm at a budget, then the next
            for arm in args.arms:
                model_kw, train_kw = ARMS[arm]
                folder = Path(args.runs_dir) / arm
                train_to_budget(folder, model_kw, train_kw, minutes, args.seed)
        return
    out = RESULTS / args.out
    done = kept_scores(
        out.with_suffix(".json"), n_prior=args.n_prior, n_real=args.n_real
    )
    record = {
        "command": "python benchmarks/sharpness_ablation.py " + " ".join(sys.argv[1:]),
        "machine": describe_machine(),
        "n_prior": args.n_prior,
        "n_real": args.n_real,
        "scores": score(
            Path(args.runs_dir),
            args.data_dir,
            args.n_prior,
            args.n_real,
            done,
            tuple(args.models),
        ),
    }
    out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(record))
    print(markdown(record))


if __name__ == "__main__":
    main()
