"""``lcpfn export``: re-export a model (or a training checkpoint) compactly, with
benchmark figures in its card."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from lcpfn.cli.common import read_json
from lcpfn.errors import InputError
from lcpfn.prior import spec as priors


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "export", help="re-export a model compactly, with benchmark figures in its card"
    )
    p.add_argument(
        "source",
        help="exported model path (without suffix), or a training checkpoint folder",
    )
    p.add_argument(
        "--prior", default="lcpfn", help="the prior a checkpoint was trained on"
    )
    p.add_argument("out", help="new path (without suffix)")
    p.add_argument(
        "--dtype", choices=("float32", "float16", "bfloat16"), default="float16"
    )
    p.add_argument(
        "--name", help="model name for the card (default: the out file's stem)"
    )
    p.add_argument(
        "--results",
        nargs="*",
        default=[],
        help="benchmark JSON files whose 'summary' goes into the card",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
        record = read_json(path, "--results")
        if not isinstance(record, dict) or "summary" not in record:
            raise InputError(f"--results {path}: no 'summary' to put into the card")
        card.setdefault("benchmarks", {})[Path(path).stem] = record["summary"]
    weights, card_path = export_model(
        model, card, args.out, dtype=getattr(torch, args.dtype)
    )
    print(f"wrote {weights} ({weights.stat().st_size:,} bytes) and {card_path}")
    return 0
