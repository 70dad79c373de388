"""The two measurements every model card reports: accuracy on prior curves, latency.

``lcpfn bench``, ``benchmarks/prior_accuracy.py`` and
``benchmarks/inference_latency.py`` all call these functions, so the card, the
command line and the benchmark files report one and the same measurement.

Accuracy follows the LC-PFN paper's protocol: curves of the model's horizon
drawn from the model's own prior (the spec in its card) with a seed no
training run uses; at each cutoff of 10/20/40/80 % observed, the unseen steps
are predicted and scored against their noisy values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lcpfn.errors import InputError
from lcpfn.predict import Extrapolator
from lcpfn.prior.sampler import sample_curves
from lcpfn.prior.spec import CurvePrior, from_dict
from lcpfn.prior.spec import load as load_prior

CUTOFFS = (10, 20, 40, 80)  # percent of the horizon observed
SEED = 20_261_122  # fresh curves: training draws from other SeedSequence streams
PIT_BINS = 10


@dataclass(frozen=True)
class PriorAccuracy:
    """Per cutoff ("10%", ...): the paper's metric and calibration figures.

    ``summary[c]`` holds mean_log_likelihood, log_likelihood_se (over curves),
    mse_median and coverage_90; ``pit_histogram[c]`` the fraction of unseen
    values in each of ``PIT_BINS`` equal bins of the cdf at the true value.
    """

    summary: dict[str, dict[str, float]]
    pit_histogram: dict[str, list[float]]
    n_curves: int
    seed: int
    seconds: float


def model_prior(model: Extrapolator) -> CurvePrior:
    """The prior a model was trained on (from its card; the paper's if absent)."""
    spec = model.card.get("prior")
    return from_dict(spec) if spec else load_prior("lcpfn")


def prior_accuracy(
    model: Extrapolator,
    n_curves: int = 10_000,
    *,
    seed: int = SEED,
    chunk: int = 250,
    cutoffs: Sequence[int] = CUTOFFS,
) -> PriorAccuracy:
    """Score ``model`` on ``n_curves`` fresh curves from its prior at ``cutoffs``."""
    for name, value in (("n_curves", n_curves), ("chunk", chunk)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"{name} must be a positive integer; got {value!r}")
    if any(not 0 < c < 100 for c in cutoffs):
        raise InputError(f"cutoffs must be percentages in (0, 100); got {cutoffs!r}")
    T = model.max_steps
    start = time.perf_counter()
    y = sample_curves(model_prior(model), n_curves, T, seed=seed).y.double().numpy()
    summary, pits = {}, {}
    for c in cutoffs:
        m = _score_cutoff(model, y, max(1, round(c / 100 * T)), chunk)
        summary[f"{c}%"] = {
            "mean_log_likelihood": float(m["ll"].mean()),
            "log_likelihood_se": float(m["ll"].std(ddof=1) / np.sqrt(n_curves))
            if n_curves > 1
            else float("nan"),
            "mse_median": float(m["se"].mean()),
            "coverage_90": float(m["cov"].mean()),
        }
        counts = np.histogram(m["pit"], bins=PIT_BINS, range=(0, 1))[0]
        pits[f"{c}%"] = (counts / m["pit"].size).tolist()
    return PriorAccuracy(summary, pits, n_curves, seed, time.perf_counter() - start)


def _score_cutoff(
    model: Extrapolator, y: np.ndarray, cutoff: int, chunk: int
) -> dict[str, np.ndarray]:
    """Per-curve metrics of the unseen steps.

    Shapes: y (N, T) noisy curves  ->  "ll", "se", "cov" (N,), "pit" (N, T - cutoff)
    """
    n, T = y.shape
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("ll", "se", "cov", "pit")}
    t_query = np.arange(cutoff + 1.0, T + 1.0)
    for start in range(0, n, chunk):
        truth = y[start : start + chunk, cutoff:]
        pred = model.predict(y[start : start + chunk, :cutoff], t_query=t_query)
        lo, hi = pred.interval(0.9)
        parts["ll"].append(pred.log_prob(truth).mean(axis=1))
        parts["se"].append(((pred.median() - truth) ** 2).mean(axis=1))
        parts["cov"].append(((lo <= truth) & (truth <= hi)).mean(axis=1))
        parts["pit"].append(pred.cdf(truth))
    return {k: np.concatenate(v) for k, v in parts.items()}


NOISE_BINS = (-np.inf, -6.0, -5.0, -4.0, -3.0, np.inf)  # log sigma strata
# name: [low, high) of log sigma: the five strata, then the low-noise ones
# pooled (log sigma < -5) and all curves
STRATA = {
    **{
        name: (low, high)
        for name, low, high in zip(
            ("< -6", "-6..-5", "-5..-4", "-4..-3", "> -3"),
            NOISE_BINS[:-1],
            NOISE_BINS[1:],
            strict=True,
        )
    },
    "< -5": (-np.inf, -5.0),
    "all": (-np.inf, np.inf),
}


@dataclass(frozen=True)
class NoiseStrata:
    """Per cutoff ("10%", ...) and noise stratum (``STRATA``: "< -6", ...):
    share of curves, PFN and oracle mean log-likelihood of the unseen values,
    and the median width of the PFN's central 90 % interval in units of the
    curve's sigma (the oracle's is 3.29). The oracle N(y_clean(t), sigma)
    knows the true curve: an upper bound that the Bayes posterior sits below.
    """

    table: dict[str, dict[str, dict[str, float]]]
    n_curves: int
    seed: int


def noise_strata(
    model: Extrapolator,
    n_curves: int = 6_000,
    *,
    seed: int = SEED,
    chunk: int = 250,
    cutoffs: Sequence[int] = CUTOFFS,
) -> NoiseStrata:
    """The PFN against the oracle predictive, by the curves' noise level."""
    if not isinstance(n_curves, int) or isinstance(n_curves, bool) or n_curves < 1:
        raise InputError(f"n_curves must be a positive integer; got {n_curves!r}")
    T = model.max_steps
    batch = sample_curves(model_prior(model), n_curves, T, seed=seed)
    y, clean = batch.y.double().numpy(), batch.y_clean.double().numpy()
    log_sigma = batch.log_sigma.double().numpy()
    sigma = np.exp(log_sigma)[:, None]
    table = {}
    for c in cutoffs:
        cut = max(1, round(c / 100 * T))
        t_query = np.arange(cut + 1.0, T + 1.0)
        ll, width = [], []
        for start in range(0, n_curves, chunk):
            rows = slice(start, start + chunk)
            pred = model.predict(y[rows, :cut], t_query=t_query)
            lo, hi = pred.interval(0.9)
            ll.append(pred.log_prob(y[rows, cut:]).mean(axis=1))
            width.append(np.median((hi - lo) / sigma[rows], axis=1))
        ll, width = np.concatenate(ll), np.concatenate(width)
        z = (y[:, cut:] - clean[:, cut:]) / sigma
        oracle = (-0.5 * z**2 - np.log(sigma * np.sqrt(2 * np.pi))).mean(axis=1)
        table[f"{c}%"] = {}
        for name, (low, high) in STRATA.items():
            inside = (log_sigma >= low) & (log_sigma < high)
            if inside.any():
                table[f"{c}%"][name] = {
                    "share": float(inside.mean()),
                    "pfn_log_likelihood": float(ll[inside].mean()),
                    "oracle_log_likelihood": float(oracle[inside].mean()),
                    "width90_over_sigma": float(np.median(width[inside])),
                }
    return NoiseStrata(table, n_curves, seed)


def median_seconds(fn: Callable[[], object], repeats: int, device: str) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after one warm-up."""
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise InputError(f"repeats must be a positive integer; got {repeats!r}")
    fn()
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def one_curve_tensors(device: str) -> tuple[torch.Tensor, ...]:
    """The latency benchmark's curve, packed: 10 observed steps, 90 queries.

    Shapes: t_obs, y_obs, mask (1, 10); t_query (1, 90)
    """
    t_obs = torch.arange(1.0, 11.0, device=device)[None]
    y_obs = torch.linspace(0.3, 0.6, 10, device=device)[None]
    mask = torch.ones(1, 10, dtype=torch.bool, device=device)
    t_query = torch.arange(11.0, 101.0, device=device)[None]
    return t_obs, y_obs, mask, t_query


def network_forward(network: torch.nn.Module, packed: tuple[torch.Tensor, ...]) -> None:
    """One inference forward pass of a CurvePFN on packed inputs, result dropped."""
    with torch.inference_mode():
        network(*packed)


def one_curve_latency(model: Extrapolator, repeats: int = 200) -> dict[str, float]:
    """Median ms for one curve (10 observed, 90 queries), end to end and network.

    End to end is ``model.predict(y).quantile([0.05, 0.5, 0.95])``: parsing,
    checks, packing, forward and the quantiles, as a user calls it.
    """
    device = str(model.device)
    curve = np.linspace(0.3, 0.6, 10)
    packed = one_curve_tensors(device)
    end_to_end = median_seconds(
        lambda: model.predict(curve).quantile([0.05, 0.5, 0.95]), repeats, device
    )
    return {
        "one_curve_ms": end_to_end * 1e3,
        "one_curve_network_ms": median_seconds(
            lambda: network_forward(model.model, packed), repeats, device
        )
        * 1e3,
    }
