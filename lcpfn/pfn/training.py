"""Training a CurvePFN on curves drawn from a prior, on the fly, on the device.

The loop, top to bottom: draw a batch of curves (seeded by the step, so a
resumed run sees exactly the data it would have seen), give each curve its own
number of observed points, forward in the packed form, bar NLL of the noisy
values at the unobserved steps, clip, step, log, checkpoint.

Recipe options (``TrainConfig``), none of which moves the loss's optimum:
- ``noise_prior_share < 1``: log sigma is drawn from a mixture of the prior
  (that share) and ``U(noise_low, noise_high)``, and each curve's loss is
  weighted by p / r (prior over proposal density), normalized over the batch,
  so low-noise curves are seen more often without changing the posterior.
- ``integrate_noise``: the target of each query is the whole noise
  distribution N(y_clean, sigma) rather than one noisy draw: the loss is the
  expected bar NLL, ``-sum_k P_k log p_k`` with P_k the normal mass of bar k,
  equal to the sampled loss in expectation with less variance.
- ``schedule="wsd"``: warm-up, constant, then a (1 - sqrt) decay over the
  last ``decay_fraction`` of the steps. Such a run can be extended: resuming
  with a larger ``n_curves`` continues from the last checkpoint before the new
  decay begins (the one written when decay started is kept in ``stable/``),
  and the result equals a run planned that long from the start.
- ``init_from``: start from an exported model's weights (a run that lost its
  checkpoints continues from shipped weights, warming up again).

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
import torch.nn.functional as F
from torch import Tensor

from lcpfn.errors import CheckpointError, InputError
from lcpfn.pfn.bars import make_borders, make_curve_borders
from lcpfn.pfn.checkpoint import (
    BEFORE_SCALE_AWARE,
    BEFORE_SHARPNESS_RECIPE,
    export_model,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from lcpfn.pfn.curve_scale import SCALE_MIN
from lcpfn.pfn.model import CurvePFN, ModelConfig, query_positions
from lcpfn.prior.sampler import sample_curves
from lcpfn.prior.spec import CurvePrior

__all__ = [
    "TrainConfig",
    "TrainResult",
    "TrainingBatch",
    "batch_loss",
    "lr_factor",
    "train",
    "training_batch",
]


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How to train. ``n_curves`` counts curves over all ranks.

    The defaults are the shipped recipe: the extendable wsd schedule, a
    low-noise proposal weighted back to the prior, the integrated noise target
    (the ablation behind it: benchmarks/README.md).
    """

    n_curves: int = 1_000_000
    batch_size: int = 128  # curves per optimizer step and rank
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_fraction: float = 0.05  # cosine: share of the steps spent warming up
    grad_clip: float = 1.0
    seed: int = 0
    n_border_curves: int = 20_000  # prior curves whose values place the bar borders
    checkpoint_dir: str | None = None
    checkpoint_every: int = 500  # optimizer steps
    log_every: int = 50
    compile: bool = False
    schedule: str = "wsd"  # "wsd" (extendable), or "cosine" over n_curves
    decay_fraction: float = 0.2  # wsd: share of the steps spent decaying
    warmup_curves: int = 10_000  # wsd: warm-up length, fixed so a run can be extended
    noise_prior_share: float = 0.75  # 1: log sigma from the prior, unweighted
    noise_low: float = -9.0  # the proposal's uniform part for log sigma
    noise_high: float = -2.0
    integrate_noise: bool = True  # target: the expected bar NLL under the known noise
    init_from: str | None = None  # exported model (path without suffix) to start from
    cuda_bf16: bool = True  # on CUDA, the forward under bfloat16 autocast

    def __post_init__(self) -> None:
        for name in (
            "n_curves",
            "batch_size",
            "warmup_curves",
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
        if not isinstance(self.cuda_bf16, bool):
            raise InputError(f"cuda_bf16 must be true or false; got {self.cuda_bf16!r}")
        if self.schedule not in ("cosine", "wsd"):
            raise InputError(
                f"schedule must be 'cosine' or 'wsd'; got {self.schedule!r}"
            )
        if not 0 < self.decay_fraction <= 1:
            raise InputError(
                f"decay_fraction must lie in (0, 1]; got {self.decay_fraction=}"
            )
        if not 0 < self.noise_prior_share <= 1 or not self.noise_low < self.noise_high:
            raise InputError(
                f"need 0 < noise_prior_share <= 1 and noise_low < noise_high; got "
                f"{self.noise_prior_share=}, {self.noise_low=}, {self.noise_high=}"
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
    cpu_seconds: float = 0.0  # process CPU time (all threads), over every resume
    resumes: list[dict[str, Any]] = field(default_factory=list)
    lineage: list[dict[str, Any]] = field(default_factory=list)  # runs continued

    def card(self) -> dict[str, Any]:
        return {
            "model_config": asdict(self.model_config),
            "train_config": asdict(self.train_config),
            "prior": self.prior.to_dict(),
            "prior_sha256": self.prior.hash(),
            "n_parameters": self.model.n_parameters(),
            "bar_widths": _bar_widths(self.model),
            "curves_seen": self.curves_seen,
            "seed": self.train_config.seed,
            "training_seconds": round(self.seconds, 1),
            "cpu_seconds": round(self.cpu_seconds, 1),
            "resumes": self.resumes,
            "lineage": self.lineage,
            "curves_seen_in_all": self.curves_seen
            + sum(run.get("curves_seen") or 0 for run in self.lineage),
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
            ModelConfig(**{**BEFORE_SCALE_AWARE, **state["model_config"]}),
            TrainConfig(**{**BEFORE_SHARPNESS_RECIPE, **state["train_config"]}),
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
            cpu_seconds=state.get("cpu_seconds", 0.0),
            resumes=state.get("resumes", []),
            lineage=state.get("lineage", []),
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
    start, cpu_start = time.perf_counter(), time.process_time()
    decay_start = _decay_start(total_steps, tc.decay_fraction)

    state = (
        _resumable_checkpoint(tc, mc, prior, decay_start) if tc.checkpoint_dir else None
    )
    init_card = None
    if state is not None:
        borders = state["model"]["bars.borders"]
    elif tc.init_from is not None:
        init_model, init_card = load_model(tc.init_from)
        if init_model.config != mc:  # cards written before a field existed lack it
            raise InputError(
                f"init_from {tc.init_from}: model_config {asdict(init_model.config)} "
                f"!= {asdict(mc)}"
            )
        borders = init_model.bars.borders
    elif mc.curve_units:
        borders = make_curve_borders(mc.n_bars)
    else:
        values = sample_curves(
            prior, tc.n_border_curves, mc.max_steps, seed=tc.seed ^ 0x5EED
        ).y
        borders = make_borders(values, mc.n_bars)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tc.seed)  # parameter initialization, global RNG untouched
        model = CurvePFN(mc, borders).to(device)
    if init_card is not None:
        model.load_state_dict(init_model.state_dict())
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_factor(tc, total_steps, world)
    )
    step, history, seconds_before, cpu_before = 0, [], 0.0, 0.0
    resumes: list[dict[str, Any]] = []
    lineage = _lineage(init_card, tc.init_from)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, history, seconds_before = (
            state["step"],
            state["history"],
            state["seconds"],
        )
        cpu_before = state.get("cpu_seconds", 0.0)
        lineage = state.get("lineage", lineage)
        resumes = [
            *state.get("resumes", []),
            {"step": step, "n_curves": tc.n_curves, "host": platform.node()},
        ]

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

    def snapshot() -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "history": history,
            "seconds": seconds_before + time.perf_counter() - start,
            "cpu_seconds": cpu_before + time.process_time() - cpu_start,
            "model_config": asdict(mc),
            "train_config": asdict(tc),
            "prior_sha256": prior.hash(),
            "world_size": world,
            "resumes": resumes,
            "lineage": lineage,
        }

    while step < total_steps:
        batch = training_batch(prior, mc, tc, step, rank, device)
        with torch.autocast(
            device.type,
            dtype=torch.bfloat16,
            enabled=device.type == "cuda" and tc.cuda_bf16,
        ):
            logits = forward(batch.t, batch.y, batch.n_obs)  # (N, K)
        loss = batch_loss(model, logits.float(), batch, tc.integrate_noise)
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
        if tc.checkpoint_dir and rank == 0:
            if tc.schedule == "wsd" and step == decay_start:
                # the last stable-phase state: a longer run branches from here
                save_checkpoint(snapshot(), Path(tc.checkpoint_dir) / STABLE_DIR)
            if step % tc.checkpoint_every == 0 or step == total_steps or out_of_time:
                save_checkpoint(snapshot(), tc.checkpoint_dir)
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
        cpu_seconds=cpu_before + time.process_time() - cpu_start,
        resumes=resumes,
        lineage=lineage,
    )


STABLE_DIR = "stable"


def _resumable_checkpoint(
    tc: TrainConfig, mc: ModelConfig, prior: CurvePrior, decay_start: int
) -> dict[str, Any] | None:
    """The checkpoint to continue from, or None for a fresh start.

    A wsd run planned longer than its checkpoint's (``n_curves`` raised)
    continues from the main checkpoint if it is still before the new decay,
    else from the one kept when decay began.
    """
    state = load_checkpoint(tc.checkpoint_dir)
    if state is None:
        return None
    _check_same_run(state, mc, tc, prior)
    if state["train_config"]["n_curves"] == tc.n_curves:
        return state
    for candidate in (state, load_checkpoint(Path(tc.checkpoint_dir) / STABLE_DIR)):
        if candidate is None:
            continue
        old = candidate["train_config"]
        old_total = math.ceil(
            old["n_curves"] / (old["batch_size"] * candidate.get("world_size", 1))
        )
        old_decay_start = _decay_start(old_total, old["decay_fraction"])
        if candidate["step"] <= min(decay_start, old_decay_start):
            return candidate
    raise InputError(
        f"checkpoint in {tc.checkpoint_dir} is at step {state['step']}, in the "
        f"decay of a run of {state['train_config']['n_curves']} curves, and no "
        f"stable-phase checkpoint before step {decay_start} (where a run of "
        f"{tc.n_curves} curves starts to decay) is kept; it cannot be extended"
    )


def _lineage(init_card: dict | None, init_from: str | None) -> list[dict[str, Any]]:
    """Earlier runs this one continues (from exported weights), oldest first."""
    if init_card is None:
        return []
    earlier = init_card.get("lineage", [])
    return [
        *earlier,
        {
            "init_from": init_from,
            "sha256": init_card.get("sha256"),
            "curves_seen": init_card.get("curves_seen"),
            "training_seconds": init_card.get("training_seconds"),
            "cpu_seconds": init_card.get("cpu_seconds"),
        },
    ]


@dataclass(frozen=True)
class TrainingBatch:
    """Curves of one step and each one's cutoff and loss weight.

    Shapes: t, y, y_clean (B, T); sigma, weight (B,); n_obs (B,) long in 1..T-1.
    """

    t: Tensor
    y: Tensor
    y_clean: Tensor
    sigma: Tensor
    n_obs: Tensor
    weight: Tensor


def training_batch(
    prior: CurvePrior,
    mc: ModelConfig,
    tc: TrainConfig,
    step: int,
    rank: int,
    device: torch.device,
) -> TrainingBatch:
    """Curves, noise and cutoffs of one step, a pure function of (seed, step, rank)."""
    B = tc.batch_size
    seed = int(np.random.SeedSequence([tc.seed, step, rank]).generate_state(1)[0])
    batch = sample_curves(prior, B, mc.max_steps, seed=seed, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    n_obs = torch.randint(1, mc.max_steps, (B,), generator=generator, device=device)
    y, log_sigma = batch.y, batch.log_sigma
    weight = torch.ones(B, device=device)
    if tc.noise_prior_share < 1:
        # noise is independent of the clean curve: redraw it from the proposal
        from_prior = torch.rand(B, generator=generator, device=device)
        uniform = torch.rand(B, generator=generator, device=device)
        uniform = tc.noise_low + (tc.noise_high - tc.noise_low) * uniform
        log_sigma = torch.where(
            from_prior < tc.noise_prior_share, batch.log_sigma, uniform
        )
        p = prior.log_sigma.log_prob(log_sigma).double().exp()
        inside = (log_sigma >= tc.noise_low) & (log_sigma <= tc.noise_high)
        r = tc.noise_prior_share * p + (1 - tc.noise_prior_share) * inside / (
            tc.noise_high - tc.noise_low
        )
        weight = (p / r).float()
        noise = torch.randn(y.shape, generator=generator, device=device)
        y = batch.y_clean + noise * log_sigma.exp()[:, None]
    return TrainingBatch(
        t=batch.t.expand(B, -1),
        y=y,
        y_clean=batch.y_clean,
        sigma=log_sigma.exp(),
        n_obs=n_obs,
        weight=weight,
    )


def batch_loss(
    model: CurvePFN, logits: Tensor, batch: TrainingBatch, integrate_noise: bool
) -> Tensor:
    """Weighted mean bar NLL over the query positions, in the bars' units.

    Shapes: logits (N, K) at ``query_positions`` (row-major)  ->  ()
    """
    B, T = batch.y.shape
    is_query = query_positions(batch.n_obs, T)  # (B, T)
    rows = is_query.nonzero()[:, 0]  # (N,) curve of each query
    scale = model.output_scale(batch.y, ~is_query)
    bars = model.bars
    if integrate_noise:
        mu, sd = batch.y_clean[is_query], batch.sigma[rows]  # (N,)
        if scale is not None:
            mu = (mu - scale.loc[rows]) / scale.scale[rows]
            sd = sd / scale.scale[rows]
        inner = torch.special.ndtr((bars.borders[1:-1] - mu[:, None]) / sd[:, None])
        below = F.pad(inner, (1, 0), value=0.0)  # (N, K) P(Y < b_k)
        mass = F.pad(inner, (0, 1), value=1.0) - below  # (N, K)
        logp = torch.log_softmax(logits, dim=-1) - bars.widths().log()
        nll = -(mass * logp).sum(dim=-1)  # (N,)
    else:
        target = batch.y if scale is None else scale.normalize(batch.y)
        nll = -bars.log_prob(logits, target[is_query])  # (N,)
    w = batch.weight[rows]
    return (nll * w).sum() / w.sum()


def _write_log(path: Path, history: list[dict[str, float]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(m) + "\n" for m in history))
    os.replace(tmp, path)


def lr_factor(
    tc: TrainConfig, total_steps: int, world: int = 1
) -> Callable[[int], float]:
    """The learning rate of step ``step`` over ``tc.lr``: ``tc.schedule``'s shape.

    Cosine: linear warm-up over ``warmup_fraction`` of the steps, then a cosine
    to 0. WSD: linear warm-up over ``warmup_curves`` curves, constant, then
    ``1 - sqrt`` to 0 over the last ``decay_fraction`` of the steps; its first
    ``total_steps * (1 - decay_fraction)`` steps do not depend on the length.
    """
    if tc.schedule == "cosine":
        return _warmup_cosine(
            max(1, int(tc.warmup_fraction * total_steps)), total_steps
        )
    warmup = max(1, tc.warmup_curves // (tc.batch_size * world))
    return _warmup_stable_decay(
        warmup, _decay_start(total_steps, tc.decay_fraction), total_steps
    )


def _decay_start(total_steps: int, decay_fraction: float) -> int:
    """The first step of a wsd schedule's decay (a stable-phase checkpoint's last)."""
    return total_steps - int(decay_fraction * total_steps)


def _warmup_stable_decay(warmup: int, decay_start: int, total: int) -> Callable:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if step < decay_start:
            return 1.0
        return 1.0 - math.sqrt(
            min(1.0, (step - decay_start) / max(1, total - decay_start))
        )

    return factor


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
    # nor does a longer wsd schedule (checked by the caller)
    extendable = ("n_curves",) if tc.schedule == "wsd" else ()
    same = {
        k: v
        for k, v in asdict(tc).items()
        if k not in ("checkpoint_dir", "checkpoint_every", "log_every", *extendable)
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


def _bar_widths(model: CurvePFN) -> dict[str, Any]:
    """Finest and coarsest inner bar in y units where values live, [0, 1].

    For bars in the curve's own units the width in y depends on the curve: a
    bar at distance d from the last value is ``relative * sqrt((z_fine *
    scale)^2 + d^2)`` wide, so it is reported for the extreme scales.
    """
    b = model.bars.borders.double()
    if not model.config.curve_units:
        lo, hi = b[:-1], b[1:]  # tails excluded below
        inside = (hi > 0) & (lo < 1)
        w = (hi - lo)[inside][1:-1]  # inner bars only
        return {"units": "prior", "finest": float(w.min()), "coarsest": float(w.max())}
    z = (b[1:] + b[:-1]) / 2
    w = b[1:] - b[:-1]
    at_last = int(z.abs().argmin())
    at_one = int((z - 1.0).abs().argmin())
    return {
        "units": "curve",
        "finest": float(w[at_last] * SCALE_MIN),  # at the last value, smallest scale
        "coarsest": float(w[at_one]),  # 1 away from the last value, scale 1
    }


def _hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"
