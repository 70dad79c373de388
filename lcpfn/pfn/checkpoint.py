"""Training checkpoints (resumable) and exported models (safetensors + JSON card).

A checkpoint holds everything a killed run needs to continue exactly: model,
optimizer and scheduler state, the step, RNG states and the configs. It is
written to a temporary file and renamed over the old one, so a kill at any
moment leaves either the previous or the new checkpoint, never half of one.
It is read with ``torch.load(weights_only=True)``: nothing is unpickled. It
carries the sha256 of its own contents (every tensor's bytes and every other
value), checked on loading, since a torch zip file does not check its data.

An exported model is ``<path>.safetensors`` (weights, incl. the bar borders)
plus ``<path>.json`` (the model card).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from lcpfn.errors import CheckpointError, InputError
from lcpfn.pfn.model import CurvePFN, ModelConfig

__all__ = ["save_checkpoint", "load_checkpoint", "export_model", "load_model"]

FORMAT_VERSION = 1
# Cards and checkpoints written before these fields existed lack their keys:
# raw-input models with bars of prior values, trained with today's recipe.
BEFORE_SCALE_AWARE = {"scale_aware": False, "curve_units": False}
BEFORE_SHARPNESS_RECIPE = {
    "schedule": "cosine",
    "noise_prior_share": 1.0,
    "integrate_noise": False,
}
CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(state: dict[str, Any], folder: str | Path) -> Path:
    """Atomically write ``state`` to ``folder/checkpoint.pt`` (write, fsync, rename)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / CHECKPOINT_NAME
    for torn in folder.glob(f".{CHECKPOINT_NAME}.*.tmp"):  # left by a killed write
        torn.unlink(missing_ok=True)
    tmp = folder / f".{CHECKPOINT_NAME}.{os.getpid()}.tmp"
    state = {**state, "format_version": FORMAT_VERSION}
    state["content_sha256"] = _content_digest(state)
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(folder)  # the rename itself survives a power cut
    return final


def _content_digest(state: dict[str, Any]) -> str:
    """sha256 over the keys, tensor bytes and other values of ``state``, in order."""
    digest = hashlib.sha256()

    def walk(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous().reshape(-1)
            digest.update(f"tensor {t.dtype} {tuple(value.shape)}".encode())
            digest.update(t.view(torch.uint8).numpy().tobytes())
        elif isinstance(value, dict):
            for key in sorted(value, key=repr):
                if key != "content_sha256":
                    digest.update(repr(key).encode())
                    walk(value[key])
        elif isinstance(value, (list, tuple)):
            digest.update(f"{type(value).__name__} {len(value)}".encode())
            for item in value:
                walk(item)
        else:
            digest.update(repr(value).encode())

    walk(state)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_checkpoint(folder: str | Path) -> dict[str, Any] | None:
    """The checkpoint in ``folder``, or None if there is none.

    Raises:
        CheckpointError: the file exists but is corrupted, not a checkpoint of
            this format, or would need unpickling arbitrary objects.
    """
    path = Path(folder) / CHECKPOINT_NAME
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for bad files
        raise CheckpointError(
            f"{path}: not a readable lcpfn checkpoint: {err}"
        ) from err
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        version = state.get("format_version") if isinstance(state, dict) else None
        raise CheckpointError(
            f"{path}: format_version {version!r}, expected {FORMAT_VERSION}"
        )
    # checkpoints written before the digest existed have none: still readable
    if "content_sha256" in state and state["content_sha256"] != _content_digest(state):
        raise CheckpointError(
            f"{path}: contents differ from the sha256 written with them; "
            f"the file is corrupted"
        )
    return state


def export_model(
    model: CurvePFN,
    card: dict[str, Any],
    path: str | Path,
    dtype: torch.dtype = torch.float32,
) -> tuple[Path, Path]:
    """Write ``path.safetensors`` and ``path.json``; the card gets size and sha256.

    ``dtype`` (float32, float16 or bfloat16) is the storage type of the weights;
    the bar borders stay float32, since their spacing is finer than float16's
    resolution. Loading casts everything back to float32.
    """
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise InputError(f"dtype must be float32, float16 or bfloat16; got {dtype}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = path.with_suffix(".safetensors")
    state = {
        k: v.detach()
        .to(torch.float32 if k == "bars.borders" else dtype)
        .contiguous()
        .cpu()
        for k, v in model.state_dict().items()
    }
    save_file(
        state,
        str(weights),
        # one key: the header of a multi-key dict comes out in varying order
        metadata={"lcpfn_format_version": str(FORMAT_VERSION)},
    )
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    full_card = {
        **card,
        "format_version": FORMAT_VERSION,
        "weights_file": weights.name,
        "weights_dtype": str(dtype).removeprefix("torch."),
        "weights_bytes": weights.stat().st_size,
        "sha256": digest,
    }
    card_path = path.with_suffix(".json")
    card_path.write_text(json.dumps(full_card, indent=2))
    return weights, card_path


def load_model(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[CurvePFN, dict]:
    """Rebuild a model from ``path.safetensors`` + ``path.json``, checking the sha256.

    Raises:
        CheckpointError: a file is missing, the hash differs, or the weights do
            not fit the card's config (naming the file and the keys).
    """
    path = Path(path)
    weights, card_path = path.with_suffix(".safetensors"), path.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{card_path}: cannot read model card: {err}") from err
    if not isinstance(card, dict):
        raise CheckpointError(
            f"{card_path}: a model card is a JSON object; got {type(card).__name__}"
        )
    try:
        data = weights.read_bytes()
    except OSError as err:
        raise CheckpointError(f"{weights}: cannot read weights: {err}") from err
    if hashlib.sha256(data).hexdigest() != card.get("sha256"):
        raise CheckpointError(
            f"{weights}: sha256 differs from {card_path.name}; "
            f"the file is corrupted or not the one the card describes"
        )
    try:
        state = load_file(str(weights))
        with torch.random.fork_rng(devices=[]):  # initial weights are overwritten
            config = ModelConfig(**{**BEFORE_SCALE_AWARE, **card["model_config"]})
            model = CurvePFN(config, state["bars.borders"])
    except (SafetensorError, KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{weights}: cannot rebuild the model: {err}") from err
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise CheckpointError(
            f"{weights}: weights do not match the card's config: {err}"
        ) from err
    return model.to(device).eval(), card
