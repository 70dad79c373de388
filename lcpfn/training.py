"""Training a CurvePFN on curves drawn from a prior, on the fly, on the device.

The loop, top to bottom: draw a batch of curves (seeded by the step, so a
resumed run sees exactly the data it would have seen), give each curve its own
number of observed points, forward in the packed form, bar NLL of the noisy
values at the unobserved steps, clip, step, log, checkpoint.

Multi-GPU (or multi-process CPU) through ``torchrun``: each rank draws its own
curves, DistributedDataParallel averages the gradients, rank 0 writes the log
and the checkpoints.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from lcpfn.bars import make_borders
from lcpfn.checkpoint import export_model, load_checkpoint, save_checkpoint
from lcpfn.errors import CheckpointError, InputError
from lcpfn.model import CurvePFN, ModelConfig
from lcpfn.priors import CurvePrior
from lcpfn.sampling import sample_curves

__all__ = ["TrainConfig", "TrainResult", "train", "prior_marginal_nll"]


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How to train. ``n_curves`` counts curves over all ranks."""

    n_curves: int = 1_000_000
    batch_size: int = 256  # curves per optimizer step and rank
    lr: float = 3e-4
    weight_decay: float = 0.0
    warmup_fraction: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    n_border_curves: int = 20_000  # prior curves whose values place the bar borders
    checkpoint_dir: str | None = None
    checkpoint_every: int = 500  # optimizer steps
    log_every: int = 50
    compile: bool = False

    def __post_init__(self) -> None:
        for name in (
            "n_curves",
            "batch_size",
            "n_border_curves",
            "checkpoint_every",
            "log_every",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer; got {value!r}")
        if (
            not self.lr > 0
            or not 0 <= self.warmup_fraction < 1
            or not self.grad_clip > 0
        ):
            raise InputError(
                f"need lr > 0, 0 <= warmup_fraction < 1, grad_clip > 0; got "
                f"{self.lr=}, {self.warmup_fraction=}, {self.grad_clip=}"
            )


@dataclass
class TrainResult:
    """A trained model and how it got there."""

    model: CurvePFN
    prior: CurvePrior
    model_config: ModelConfig
    train_config: TrainConfig
    history: list[dict[str, float]] = field(default_factory=list)
    curves_seen: int = 0
    seconds: float = 0.0
    finished: bool = True  # False when stopped by time_limit before n_curves

    def card(self) -> dict[str, Any]:
        return {
            "model_config": asdict(self.model_config),
            "train_config": asdict(self.train_config),
            "prior": self.prior.to_dict(),
            "prior_sha256": self.prior.hash(),
            "n_parameters": self.model.n_parameters(),
            "curves_seen": self.curves_seen,
            "seed": self.train_config.seed,
            "training_seconds": round(self.seconds, 1),
            "hardware": _hardware(),
            "final_loss": self.history[-1]["loss"] if self.history else None,
            "finished": self.finished,
            "torch": torch.__version__,
        }

    @classmethod
    def from_checkpoint(cls, folder: str | Path, prior: CurvePrior) -> TrainResult:
        """The state of a (possibly unfinished) run, from its checkpoint folder.

        Raises:
            CheckpointError: no readable checkpoint in ``folder``.
            InputError: the checkpoint was trained on another prior.
        """
        state = load_checkpoint(folder)
        if state is None:
            raise CheckpointError(f"{folder}: no checkpoint to export")
        if state["prior_sha256"] != prior.hash():
            raise InputError(
                f"{folder}: checkpoint trained on prior sha256 "
                f"{state['prior_sha256'][:12]}, not on {prior.name!r} "
                f"({prior.hash()[:12]})"
            )
        mc, tc = (
            ModelConfig(**state["model_config"]),
            TrainConfig(**state["train_config"]),
        )
        model = CurvePFN(mc, state["model"]["bars.borders"])
        model.load_state_dict(state["model"])
        curves = state["step"] * tc.batch_size * state.get("world_size", 1)
        return cls(
            model=model.eval(),
            prior=prior,
            model_config=mc,
            train_config=tc,
            history=state["history"],
            curves_seen=curves,
            seconds=state["seconds"],
            finished=curves >= tc.n_curves,
        )

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``path.safetensors`` + ``path.json`` (model card)."""
        return export_model(self.model, self.card(), path)


def train(
    prior: CurvePrior,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    *,
    device: torch.device | str = "cpu",
    progress: bool = True,
    time_limit: float | None = None,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train (or resume training) a CurvePFN on ``prior``.

    Args:
        time_limit: seconds after which to checkpoint and return early
            (``finished=False``); call again to resume. For machines that run
            one job for a limited time.
        callback: called as ``callback(step, metrics)`` after every logged step.

    Returns:
        TrainResult with the model (unwrapped, in eval mode) on ``device``.
    """
    mc, tc = model_config or ModelConfig(), train_config or TrainConfig()
    device = torch.device(device)
    rank, world = _init_distributed(device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    total_steps = math.ceil(tc.n_curves / (tc.batch_size * world))
    start = time.perf_counter()

    state = load_checkpoint(tc.checkpoint_dir) if tc.checkpoint_dir else None
    if state is not None:
        _check_same_run(state, mc, tc, prior)
        borders = state["model"]["bars.borders"]
    else:
        values = sample_curves(
            prior, tc.n_border_curves, mc.max_steps, seed=tc.seed ^ 0x5EED
        ).y
        borders = make_borders(values, mc.n_bars)
    torch.manual_seed(tc.seed)  # parameter initialization
    model = CurvePFN(mc, borders).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay
    )
    warmup = max(1, int(tc.warmup_fraction * total_steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _warmup_cosine(warmup, total_steps)
    )
    step, history, seconds_before = 0, [], 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        step, history, seconds_before = (
            state["step"],
            state["history"],
            state["seconds"],
        )

    net: torch.nn.Module = _PackedForward(model)
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[device] if device.type == "cuda" else None
        )
    forward = torch.compile(net) if tc.compile else net

    log_file = None
    if tc.checkpoint_dir and rank == 0:
        Path(tc.checkpoint_dir).mkdir(parents=True, exist_ok=True)
        log_file = Path(tc.checkpoint_dir) / "train_log.jsonl"
        # a killed run may have logged steps after its last checkpoint (or half
        # a line): the log restarts from the checkpoint's own history
        _write_log(log_file, history)
    bar = _progress(total_steps, step, progress and rank == 0)
    model.train()
    t_window, curves_window = time.perf_counter(), 0
    finished = True
    while step < total_steps:
        t, y, n_obs = _training_batch(prior, mc, tc, step, rank, device)
        with torch.autocast(
            device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
        ):
            logits = forward(t, y, n_obs)  # (B, T, K)
        loss = _masked_nll(model, logits.float(), y, n_obs)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        curves_window += tc.batch_size * world
        if step % tc.log_every == 0 or step == total_steps:
            now = time.perf_counter()
            metrics = {
                "step": step,
                "curves_seen": step * tc.batch_size * world,
                "loss": loss.item(),
                "lr": scheduler.get_last_lr()[0],
                "curves_per_s": curves_window / (now - t_window),
                "seconds": seconds_before + now - start,
            }
            history.append(metrics)
            t_window, curves_window = now, 0
            if rank == 0:
                bar.set_postfix(
                    loss=f"{metrics['loss']:.3f}",
                    curves_s=f"{metrics['curves_per_s']:,.0f}",
                )
                if log_file:
                    with open(log_file, "a") as f:
                        f.write(json.dumps(metrics) + "\n")
            if callback:
                callback(step, metrics)
        bar.update(1)
        out_of_time = time_limit is not None and _all_agree_out_of_time(
            time.perf_counter() - start > time_limit, world, device
        )
        if (
            tc.checkpoint_dir
            and rank == 0
            and (step % tc.checkpoint_every == 0 or step == total_steps or out_of_time)
        ):
            save_checkpoint(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "step": step,
                    "history": history,
                    "seconds": seconds_before + time.perf_counter() - start,
                    "model_config": asdict(mc),
                    "train_config": asdict(tc),
                    "prior_sha256": prior.hash(),
                    "world_size": world,
                },
                tc.checkpoint_dir,
            )
        if out_of_time and step < total_steps:
            finished = False
            break
    bar.close()
    return TrainResult(
        model=model.eval(),
        prior=prior,
        model_config=mc,
        train_config=tc,
        history=history,
        curves_seen=step * tc.batch_size * world,
        seconds=seconds_before + time.perf_counter() - start,
        finished=finished,
    )


def _training_batch(
    prior: CurvePrior,
    mc: ModelConfig,
    tc: TrainConfig,
    step: int,
    rank: int,
    device: torch.device,
) -> tuple[Tensor, Tensor, Tensor]:
    """Curves and per-curve cutoffs, a pure function of (seed, step, rank).

    Shapes: returns t (B, T), y (B, T), n_obs (B,) in 1..T-1
    """
    seed = int(np.random.SeedSequence([tc.seed, step, rank]).generate_state(1)[0])
    batch = sample_curves(prior, tc.batch_size, mc.max_steps, seed=seed, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    n_obs = torch.randint(
        1, mc.max_steps, (tc.batch_size,), generator=generator, device=device
    )
    return batch.t.expand(tc.batch_size, -1), batch.y, n_obs


def _masked_nll(model: CurvePFN, logits: Tensor, y: Tensor, n_obs: Tensor) -> Tensor:
    """Mean bar NLL over the unobserved steps. Shapes: (B, T, K), (B, T), (B,) -> ()."""
    is_query = torch.arange(y.shape[1], device=y.device)[None, :] >= n_obs[:, None]
    nll = -model.bars.log_prob(logits, y)  # (B, T)
    return (nll * is_query).sum() / is_query.sum()


def prior_marginal_nll(model: CurvePFN, y: Tensor) -> float:
    """NLL of ``y`` under the bar distribution with equal logits: the prior marginal.

    Borders are equal-mass quantiles of prior values, so equal logits are what
    a model that ignores the observed points would predict at best.
    """
    logits = torch.zeros(model.config.n_bars, device=y.device)
    return float(-model.bars.log_prob(logits, y).mean())


def _write_log(path: Path, history: list[dict[str, float]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(m) + "\n" for m in history))
    os.replace(tmp, path)


def _warmup_cosine(warmup: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _check_same_run(
    state: dict, mc: ModelConfig, tc: TrainConfig, prior: CurvePrior
) -> None:
    saved = {"model_config": asdict(mc), "prior_sha256": prior.hash()}
    for key, value in saved.items():
        if state.get(key) != value:
            raise InputError(
                f"checkpoint in {tc.checkpoint_dir} is from another run: "
                f"{key} {state.get(key)!r} != {value!r}"
            )
    # where checkpoints live and how often they are written or logged do not
    # change the weights: a run may resume from a moved directory
    same = {
        k: v
        for k, v in asdict(tc).items()
        if k not in ("checkpoint_dir", "checkpoint_every", "log_every")
    }
    old = {k: v for k, v in state["train_config"].items() if k in same}
    if old != {k: same[k] for k in old}:
        raise InputError(
            f"checkpoint in {tc.checkpoint_dir} used train_config {old}, not {same}"
        )


def _all_agree_out_of_time(mine: bool, world: int, device: torch.device) -> bool:
    """Rank 0's clock decides, so that all ranks stop after the same step."""
    if world == 1:
        return mine
    flag = torch.tensor([float(mine)], device=device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())


def _init_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size); initializes the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


class _PackedForward(torch.nn.Module):
    """``model.forward_packed`` as a forward, so DDP and compile can wrap it."""

    def __init__(self, model: CurvePFN) -> None:
        super().__init__()
        self.model = model

    def forward(self, t: Tensor, y: Tensor, n_obs: Tensor) -> Tensor:
        return self.model.forward_packed(t, y, n_obs)


def _progress(total: int, done: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=done, disable=not enabled, unit="step", dynamic_ncols=True
    )


def _hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"
