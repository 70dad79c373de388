"""``lcpfn train``: train a PFN on a prior (resumable), export it."""

from __future__ import annotations

import argparse
from pathlib import Path

from lcpfn.cli.common import (
    check_fields,
    config_fields,
    default_device,
    make_config,
    read_json,
)
from lcpfn.errors import InputError
from lcpfn.pfn.model import ModelConfig
from lcpfn.pfn.training import TrainConfig, train
from lcpfn.prior import spec as priors


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train a PFN on a prior (resumable)")
    p.add_argument("--prior", default="lcpfn", help="shipped name or path to a .toml")
    p.add_argument(
        "--model-config",
        help="JSON file of ModelConfig fields (default: the --init-from model's "
        "config, else ModelConfig's defaults)",
    )
    p.add_argument("--train-config", help="JSON file of TrainConfig fields")
    p.add_argument("--checkpoint-dir", help="resume from / write checkpoints here")
    p.add_argument(
        "--init-from",
        help="start from this exported model's weights (path without suffix); "
        "overrides init_from in --train-config",
    )
    p.add_argument("--device", default=default_device())
    p.add_argument("--time-limit", type=float, help="seconds, then checkpoint and stop")
    p.add_argument("--out", required=True, help="export path (without suffix)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    prior = priors.load(args.prior)
    fields = config_fields(TrainConfig, args.train_config, "--train-config")
    if args.checkpoint_dir:
        fields["checkpoint_dir"] = args.checkpoint_dir
    if args.init_from:
        fields["init_from"] = args.init_from
    train_config = make_config(
        TrainConfig,
        fields,
        f"--train-config {args.train_config}" if args.train_config else "TrainConfig",
    )
    result = train(
        prior,
        _model_config(args.model_config, train_config.init_from),
        train_config,
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


def _model_config(path: str | None, init_from: str | None) -> ModelConfig:
    """From the JSON file, else from the card of the model to start from."""
    if path is not None or init_from is None:
        fields = config_fields(ModelConfig, path, "--model-config")
        return make_config(ModelConfig, fields, f"--model-config {path}")
    card_path = Path(init_from).with_suffix(".json")
    card = read_json(card_path, "--init-from")
    source = f"--init-from {card_path}"
    if not isinstance(card, dict) or "model_config" not in card:
        raise InputError(f"{source}: not a model card (no 'model_config')")
    check_fields(ModelConfig, card["model_config"], f"{source}: model_config")
    return make_config(ModelConfig, card["model_config"], source)
