"""Scores of predictive distributions against the true continuation of curves.

Pure NumPy functions. The unseen values ``y_true`` are (B, Q) with NaN in the
slots that are not scored (padding of ragged continuations, see
``lcpfn.evaluation.datasets.CurveSplit``); per-curve scores average over the
scored steps, and a curve without any scored step gets NaN.

- ``log_likelihood``, ``squared_error``, ``interval_coverage``: per-curve
  means of the log-density, of the squared error of a point prediction (the
  median), and of the indicator that an interval holds the truth.
- ``crps_from_quantiles`` / ``crps_from_samples`` / ``crps_gaussian``: the
  continuous ranked probability score, elementwise (lower is better).
- ``pit_values``, ``calibration_error``: probability integral transforms and
  their distance from uniform.
- ``task_means``, ``rank_methods``, ``average_ranks``: the LC-PFN paper's
  ranking of methods within each task, averaged over tasks.
- ``bootstrap_ci``: percentile bootstrap intervals of mean scores.
- ``score``: all per-curve scores of one prediction (any object with the
  protocol of ``lcpfn.Prediction``) in one call.

Shapes: B curves, Q query steps, L quantile levels, S samples, M methods,
K tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from lcpfn.errors import InputError

__all__ = [
    "Scores",
    "average_ranks",
    "bootstrap_ci",
    "calibration_error",
    "crps_from_quantiles",
    "crps_from_samples",
    "crps_gaussian",
    "curve_mean",
    "interval_coverage",
    "log_likelihood",
    "pit_values",
    "rank_methods",
    "score",
    "squared_error",
    "task_means",
]

BOOTSTRAP_CHUNK = 4_000_000  # resample weights held at once (bounds memory)


def curve_mean(values: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over each curve's scored steps (``y_true`` not NaN).

    Shapes: (B, Q), (B, Q) -> (B,) (or (Q,), (Q,) -> ()).
    """
    values, y_true = np.asarray(values, dtype=np.float64), _truth(y_true)
    if values.shape != y_true.shape:
        raise InputError(
            f"values must have the shape of y_true {y_true.shape}; got {values.shape}"
        )
    scored = ~np.isnan(y_true)
    total = np.where(scored, values, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / scored.sum(axis=-1)


def log_likelihood(log_prob: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Mean log-density of the unseen values, per curve (higher is better).

    ``log_prob`` is the predictive's log-density at ``y_true`` (any value in
    unscored slots). Shapes: (B, Q), (B, Q) -> (B,).
    """
    return curve_mean(log_prob, y_true)


def squared_error(point: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Mean squared error of a point prediction (e.g. the median), per curve.

    Shapes: (B, Q), (B, Q) -> (B,).
    """
    y_true = _truth(y_true)
    point = _like(point, y_true, "point")
    with np.errstate(over="ignore"):  # a far-off point: an infinite error
        return curve_mean((point - y_true) ** 2, y_true)


def interval_coverage(
    lower: np.ndarray, upper: np.ndarray, y_true: np.ndarray
) -> np.ndarray:
    """Fraction of each curve's unseen values inside [lower, upper].

    Shapes: (B, Q), (B, Q), (B, Q) -> (B,).
    """
    y_true = _truth(y_true)
    lower, upper = _like(lower, y_true, "lower"), _like(upper, y_true, "upper")
    inside = (lower <= y_true) & (y_true <= upper)
    return curve_mean(inside.astype(np.float64), y_true)


def crps_gaussian(loc: Any, scale: Any, y: Any) -> np.ndarray:
    """Closed-form CRPS of N(loc, scale^2) at y (Gneiting & Raftery, 2007).

    CRPS = scale [u (2 Phi(u) - 1) + 2 phi(u) - 1 / sqrt(pi)], u = (y - loc) /
    scale, written with scale u = y - loc so that a scale so small that u
    overflows gives the limit |y - loc|. Shapes: elementwise, broadcasting.
    """
    loc, scale, y = (np.asarray(a, dtype=np.float64) for a in (loc, scale, y))
    if not (scale > 0).all():
        raise InputError("scale must be > 0 everywhere")
    error = y - loc
    with np.errstate(over="ignore"):  # u = +-inf: Phi is 0 or 1, phi is 0
        u = error / scale
        pdf = np.exp(-0.5 * u**2) / np.sqrt(2.0 * np.pi)
    return error * (2.0 * special.ndtr(u) - 1.0) + scale * (
        2.0 * pdf - 1.0 / np.sqrt(np.pi)
    )


def crps_from_quantiles(
    quantiles: np.ndarray, levels: Any, y_true: np.ndarray
) -> np.ndarray:
    """CRPS from predictive quantiles, as twice the mean pinball loss over levels.

    Estimator: CRPS(F, y) = 2 int_0^1 rho_tau(y - F^-1(tau)) d tau with the
    pinball loss rho_tau(u) = u (tau - 1[u < 0]). The integral is a sum over
    the given levels, each weighted by the width of its cell in [0, 1] (cells
    split half-way between neighbouring levels): for the midpoint grid
    tau_i = (i - 1/2) / L every weight is 1 / L, the midpoint rule, which
    converges to the exact CRPS as L grows.

    Shapes: quantiles (L, B, Q) (or (L, ...)), levels (L,) increasing in
    (0, 1), y_true (B, Q) -> (B, Q), NaN where y_true is NaN.
    """
    taus = np.asarray(levels, dtype=np.float64)
    quantiles = np.asarray(quantiles, dtype=np.float64)
    if (
        taus.ndim != 1
        or taus.size == 0
        or not (((taus > 0) & (taus < 1)).all() and (np.diff(taus) > 0).all())
    ):
        raise InputError(f"levels must increase within (0, 1); got {levels!r}")
    if quantiles.shape[:1] != taus.shape:
        raise InputError(
            f"quantiles must have one row per level ({taus.size}); "
            f"got shape {quantiles.shape}"
        )
    edges = np.concatenate([[0.0], (taus[1:] + taus[:-1]) / 2, [1.0]])
    weights = np.diff(edges)  # (L,)
    u = _truth(y_true) - quantiles  # (L, B, Q)
    tau = taus.reshape(-1, *[1] * (u.ndim - 1))  # (L, 1, 1)
    pinball = u * (tau - (u < 0))
    return 2.0 * np.tensordot(weights, pinball, axes=1)


def crps_from_samples(samples: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """CRPS of the samples' empirical distribution (exact for that distribution).

    CRPS = E|X - y| - E|X - X'| / 2 over the S samples, with the pair term
    from the sorted samples: E|X - X'| / 2 = sum_i (2 i - S - 1) x_(i) / S^2.
    Shapes: samples (S, B, Q) (or (S, ...)), y_true (B, Q) -> (B, Q).
    """
    x = np.sort(np.asarray(samples, dtype=np.float64), axis=0)
    S = x.shape[0] if x.ndim else 0
    if S == 0:
        raise InputError(f"samples must be (S, ...) with S >= 1; got {x.shape}")
    coef = (2.0 * np.arange(1, S + 1) - S - 1) / S**2  # (S,)
    spread = np.tensordot(coef, x, axes=1)
    return np.abs(x - _truth(y_true)).mean(axis=0) - spread


def pit_values(cdf_at_truth: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Probability integral transforms F(y) of the scored steps, flattened.

    Uniform on [0, 1] for a calibrated predictive (point masses at a bound,
    e.g. accuracy 1.0, put their values at the mass's upper end).
    Shapes: (B, Q), (B, Q) -> (n,), n scored steps, in row order.
    """
    scored = ~np.isnan(_truth(y_true))
    return np.asarray(cdf_at_truth, dtype=np.float64)[scored]


def calibration_error(pit: np.ndarray, n_levels: int = 99) -> float:
    """Mean |P(PIT <= p) - p| over the levels p = (i - 1/2) / n_levels.

    0 for a calibrated predictive; an interval at level 1 - 2p misses by about
    twice this on average. Shapes: (n,) -> float.
    """
    pit = np.sort(np.asarray(pit, dtype=np.float64).reshape(-1))
    if pit.size == 0 or np.isnan(pit).any():
        raise InputError("pit must be a non-empty array without NaN")
    if isinstance(n_levels, bool) or not isinstance(n_levels, int) or n_levels < 1:
        raise InputError(f"n_levels must be a positive integer; got {n_levels!r}")
    p = (np.arange(n_levels) + 0.5) / n_levels
    ecdf = np.searchsorted(pit, p, side="right") / pit.size
    return float(np.abs(ecdf - p).mean())


def task_means(scores: np.ndarray, task: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean score of each method on each task.

    Shapes: scores (M, B) (or (B,)), task (B,) labels -> tasks (K,) sorted,
    means (M, K) (or (K,)).
    """
    scores = np.asarray(scores, dtype=np.float64)
    task = np.asarray(task)
    if task.ndim != 1 or scores.shape[-1] != task.size:
        raise InputError(
            f"task must be (B,) with B = {scores.shape[-1]} like scores; "
            f"got {task.shape}"
        )
    tasks, inverse = np.unique(task, return_inverse=True)
    flat = scores.reshape(-1, task.size)  # (M, B)
    sums = np.zeros((flat.shape[0], tasks.size))
    np.add.at(sums.T, inverse, flat.T)
    means = sums / np.bincount(inverse, minlength=tasks.size)
    return tasks, means.reshape(*scores.shape[:-1], tasks.size)


def rank_methods(task_scores: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Rank of each method within each task: 1 = best, ties share their mean rank.

    Shapes: (M, K) -> (M, K).
    """
    task_scores = np.asarray(task_scores, dtype=np.float64)
    if task_scores.ndim != 2 or np.isnan(task_scores).any():
        raise InputError(
            f"task_scores must be (M, K) without NaN; got shape {task_scores.shape}"
        )
    sign = -1.0 if higher_is_better else 1.0
    return stats.rankdata(sign * task_scores, method="average", axis=0)


def average_ranks(
    scores: np.ndarray, task: np.ndarray, higher_is_better: bool
) -> np.ndarray:
    """The paper's average rank: methods ranked per task on their mean score,
    ranks averaged over tasks (1 = best on every task).

    Shapes: scores (M, B) per-curve scores, task (B,) -> (M,).
    """
    _, means = task_means(scores, task)
    return rank_methods(means, higher_is_better).mean(axis=1)


def bootstrap_ci(
    values: np.ndarray,
    *,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Percentile bootstrap interval of the mean of per-curve values.

    Resamples curves with replacement, or whole groups (e.g. tasks) when
    ``groups`` is given (a cluster bootstrap, for curves that are not
    independent within a task). Several methods are resampled together (the
    same draws), so for a difference between two methods pass the per-curve
    differences.

    Shapes: values (B,) or (M, B), groups (B,) -> (2,) or (2, M): lower, upper.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim not in (1, 2) or v.shape[-1] == 0 or not np.isfinite(v).all():
        raise InputError(
            f"values must be (B,) or (M, B), finite and non-empty; got {v.shape}"
        )
    if not 0 < level < 1:
        raise InputError(f"level must lie in (0, 1); got {level!r}")
    if not isinstance(n_boot, int) or n_boot < 1:
        raise InputError(f"n_boot must be a positive integer; got {n_boot!r}")
    flat = v.reshape(-1, v.shape[-1])  # (M, B)
    B = flat.shape[1]
    if groups is None:
        inverse = np.arange(B)
    else:
        groups = np.asarray(groups)
        if groups.shape != (B,):
            raise InputError(f"groups must have shape ({B},); got {groups.shape}")
        inverse = np.unique(groups, return_inverse=True)[1]
    K = int(inverse.max()) + 1
    try:
        rng = np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise InputError(f"seed must be a non-negative integer; got {seed!r}") from err
    chunk = max(1, BOOTSTRAP_CHUNK // B)
    means = np.empty((n_boot, flat.shape[0]))
    for start in range(0, n_boot, chunk):
        n = min(chunk, n_boot - start)
        draws = rng.integers(0, K, size=(n, K)) + K * np.arange(n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=n * K).reshape(n, K)
        weights = counts[:, inverse].astype(np.float64)  # (n, B)
        means[start : start + n] = (weights @ flat.T) / weights.sum(1, keepdims=True)
    bounds = np.quantile(means, [(1 - level) / 2, (1 + level) / 2], axis=0)  # (2, M)
    return bounds[:, 0] if v.ndim == 1 else bounds


@dataclass(frozen=True, kw_only=True)
class Scores:
    """Per-curve scores of one prediction (see ``score``).

    Attributes:
        log_likelihood: mean log-density of the unseen values. (B,).
        squared_error: mean squared error of the median. (B,).
        crps: mean CRPS (``crps_from_quantiles``). (B,).
        coverage: fraction inside the central ``level`` interval. (B,).
        pit: F(y_true) at each step, NaN where not scored. (B, Q).
        level: the interval's level.
    """

    log_likelihood: np.ndarray
    squared_error: np.ndarray
    crps: np.ndarray
    coverage: np.ndarray
    pit: np.ndarray
    level: float


def score(
    prediction: Any, y_true: Any, *, level: float = 0.9, n_levels: int = 39
) -> Scores:
    """All per-curve scores of a prediction against the true continuation.

    Args:
        prediction: ``lcpfn.Prediction`` or anything with its protocol
            (``median``, ``quantile``, ``interval``, ``cdf``, ``log_prob``).
        y_true: the unseen values at the prediction's steps, NaN = not scored.
        level: central interval level for the coverage.
        n_levels: quantile levels (i - 1/2) / n_levels for the CRPS (39 keep
            a Gaussian's within 0.3 % of its exact CRPS for |y - mu| <= 3
            sigma); memory grows as n_levels * B * Q.

    Shapes: y_true (Q,) or (B, Q) like ``prediction.steps`` -> Scores over (B,)
    (B = 1 for one curve).
    """
    y = _truth(y_true)
    steps_shape = np.shape(prediction.steps)
    if y.shape != steps_shape:
        raise InputError(
            f"y_true must have the shape of the prediction's steps {steps_shape}; "
            f"got {y.shape}"
        )
    if not isinstance(n_levels, int) or n_levels < 1:
        raise InputError(f"n_levels must be a positive integer; got {n_levels!r}")
    Q = y.shape[-1]
    median = prediction.median()
    filled = np.where(np.isnan(y), median, y)  # unscored slots: any valid value
    taus = (np.arange(n_levels) + 0.5) / n_levels
    quantiles = prediction.quantile(taus).reshape(n_levels, -1, Q)  # (L, B, Q)
    lower, upper = prediction.interval(level)
    y = y.reshape(-1, Q)
    return Scores(
        log_likelihood=log_likelihood(prediction.log_prob(filled).reshape(-1, Q), y),
        squared_error=squared_error(median.reshape(-1, Q), y),
        crps=curve_mean(crps_from_quantiles(quantiles, taus, y), y),
        coverage=interval_coverage(lower.reshape(-1, Q), upper.reshape(-1, Q), y),
        pit=np.where(np.isnan(y), np.nan, prediction.cdf(filled).reshape(-1, Q)),
        level=level,
    )


def _like(values: Any, y_true: np.ndarray, name: str) -> np.ndarray:
    """``values`` as float64 of the shape of ``y_true``, or an InputError naming it."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape != y_true.shape:
        raise InputError(
            f"{name} must have the shape of y_true {y_true.shape}; got {values.shape}"
        )
    return values


def _truth(y_true: Any) -> np.ndarray:
    """``y_true`` as float64; NaN marks unscored slots, inf is an error."""
    y = np.asarray(y_true, dtype=np.float64)
    if np.isinf(y).any():
        raise InputError("y_true must not contain inf (NaN marks unscored steps)")
    return y
