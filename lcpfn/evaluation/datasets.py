"""Real learning curves for benchmarks: loaders for the files of ``shared/data``.

Three files, each read by its own loader into a ``CurveSet`` (raw metric
values, steps, ids, and the transform that maps the metric into the prior's
increasing-in-[0, 1] space):

- ``load_taskset``: TaskSet (12 IMDB RNN tasks x 1000 optimizer configs),
  cross-entropy loss per checkpoint.
- ``load_lcdb``: LCDB 1.0, accuracy of 20 learners on 248 datasets per
  training-set size (single seeds).
- ``load_lcdb11``: LCDB 1.1, error rate of 28 learners on 265 datasets per
  training-set size (means over 25 splits).

The folder holding the files is always passed in (``data_dir``); nothing is
looked up from the environment. Rows that cannot serve as curves are left out,
and every one is counted under a reason in ``CurveSet.dropped``.

``split_at_fraction`` and ``split_at_count`` cut each curve into an observed
prefix and the true continuation, the inputs of ``predict`` and of the metrics
in ``lcpfn.evaluation.metrics``.

Shapes: N curves, T steps per curve (NaN-padded), W observed columns, Q query
columns (NaN-padded in ``y_true``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lcpfn.errors import InputError
from lcpfn.transforms import Transform, accuracy, error_rate, loss_curve
from lcpfn.transforms import take as take_transform

__all__ = [
    "CUTOFFS",
    "CurveSet",
    "CurveSplit",
    "load_curves",
    "load_lcdb",
    "load_lcdb11",
    "load_taskset",
    "split_at_count",
    "split_at_fraction",
    "take_transform",
]

CUTOFFS = (0.1, 0.2, 0.4, 0.8)  # observed fractions of each curve, as in the paper
MAX_LOSS_RATIO = 5.0  # TaskSet: a loss above this times the initial loss = diverged
SMALLEST_ANCHOR = 16  # training-set size of both LCDB grids' first anchor

TASKSET_FILE = "taskset_dyhpo.npz"
LCDB_FILE = "lcdb_v1_accuracy_subset.npz"
LCDB11_FILE = "lcdb11_error_rate_mean.npz"


@dataclass(frozen=True, kw_only=True)
class CurveSet:
    """Learning curves of one file and split, in the metric's own units.

    Attributes:
        name: "<file>/<array>", e.g. "taskset/valid_loss".
        y: raw metric values, NaN where a curve has no value. (N, T) float64.
        t: steps, shared (T,) or per curve (N, T) (NaN where padded); positive
            and increasing, in the units that ``horizon`` is given in.
        horizon: the step that is mapped onto the model's last step
            (``predict(..., horizon=curves.horizon)``).
        task: task (TaskSet) or "openmlid:dataset name" (LCDB). (N,) str.
        config: optimizer config id (TaskSet) or learner (LCDB). (N,) str.
        seed: outer split seed (LCDB 1.0), -1 where the file has none. (N,) int.
        rows: row of each curve in the source file. (N,) int.
        metric, direction: as stored in the file ("minimize" or "maximize").
        transform: maps ``y`` into the prior's space; per-curve parameters, if
            any, are (N,) arrays in the order of the curves.
        n_source: rows in the file.
        dropped: rows left out, by reason (every reason listed, also at 0).
        n_with_gaps: kept curves with NaN between their first and last value
            (treated as unobserved steps).
    """

    name: str
    y: np.ndarray
    t: np.ndarray
    horizon: float
    task: np.ndarray
    config: np.ndarray
    seed: np.ndarray
    rows: np.ndarray
    metric: str
    direction: str
    transform: Transform
    n_source: int
    dropped: dict[str, int]
    n_with_gaps: int

    @property
    def n_curves(self) -> int:
        return self.y.shape[0]

    def subset(self, index: np.ndarray) -> CurveSet:
        """The curves ``index`` (a (N,) bool mask or integer positions).

        ``n_source``, ``dropped`` and ``n_with_gaps`` still describe the load.
        """
        idx = np.arange(self.n_curves)[np.asarray(index)]
        return replace(
            self,
            y=self.y[idx],
            t=self.t if self.t.ndim == 1 else self.t[idx],
            task=self.task[idx],
            config=self.config[idx],
            seed=self.seed[idx],
            rows=self.rows[idx],
            transform=take_transform(self.transform, idx),
        )


@dataclass(frozen=True, kw_only=True)
class CurveSplit:
    """Curves cut into an observed prefix and the continuation to predict.

    Pass ``y_obs, t_obs, t_query`` with ``horizon`` and ``transform`` to
    ``predict``; score against ``y_true``. Padded query slots repeat the curve's
    last query step and have NaN in ``y_true`` (not scored).

    Attributes:
        curves: the curves that have something left to predict (a subset).
        y_obs: the observed prefix, NaN elsewhere. (N, W).
        t_obs: steps of ``y_obs``. (W,) or (N, W).
        t_query: steps of the continuation. (N, Q).
        y_true: values of the continuation, NaN in padded slots. (N, Q).
        n_observed: observed values per curve. (N,) int.
        n_excluded: curves of the set left out: nothing left to predict.
    """

    curves: CurveSet
    y_obs: np.ndarray
    t_obs: np.ndarray
    t_query: np.ndarray
    y_true: np.ndarray
    n_observed: np.ndarray
    n_excluded: int

    @property
    def horizon(self) -> float:
        return self.curves.horizon

    @property
    def transform(self) -> Transform:
        return self.curves.transform


# ---- loaders -----------------------------------------------------------------


def load_taskset(
    data_dir: str | Path,
    split: str = "valid",
    *,
    max_loss_ratio: float = MAX_LOSS_RATIO,
    keep_diverged: bool = False,
) -> CurveSet:
    """TaskSet cross-entropy curves (``taskset_dyhpo.npz``), 50 steps each.

    Steps: column 0 of the file is the loss before training (about ln 2 for
    these binary tasks); it is not part of the curve but sets its
    normalization. Columns 1..50 are the curve, at t = 1..50; horizon 50.

    Normalization (the LC-PFN paper's for TaskSet): ``loss_curve(initial,
    lower=0)``, i.e. minimize, hard lower bound 0, soft upper bound the
    curve's own loss before training (column 0), no hard upper bound.

    Dropped, in this order of precedence:
    - "non_finite": NaN or inf anywhere (divergence; NaN stays NaN to the end).
    - "no_initial_loss": column 0 not finite and positive.
    - "diverged": a finite loss above ``max_loss_ratio`` times the initial
      loss (up to 4.7e34 in the file). The normalization saturates there:
      beyond about 5.5 times the soft upper bound, losses can no longer be
      told apart in the prior's space, and log-densities there are dominated
      by the transform's vanishing slope.

    Args:
        data_dir: folder holding ``taskset_dyhpo.npz``.
        split: "valid", "train" or "test" loss.
        max_loss_ratio: divergence threshold, relative to the initial loss.
        keep_diverged: keep the "non_finite" and "diverged" curves, as an HPO
            loop sees them (inf becomes NaN, huge losses stay); only curves
            without an initial loss are dropped.
    """
    _check_choice(split, ("valid", "train", "test"), "split")
    if not (math.isfinite(max_loss_ratio) and max_loss_ratio > 1):
        raise InputError(
            f"max_loss_ratio must be a finite number > 1; got {max_loss_ratio!r}"
        )
    key = f"{split}_loss"
    arrays = _read(data_dir, TASKSET_FILE, (key, "task", "config_id"))
    raw = arrays[key].astype(np.float64)  # (N, 51)
    initial, y = raw[:, 0], raw[:, 1:]
    non_finite = ~np.isfinite(raw).all(axis=1)
    no_initial = ~non_finite & ~(initial > 0)
    with np.errstate(invalid="ignore"):
        diverged = (
            ~non_finite & ~no_initial & (y.max(axis=1) > max_loss_ratio * initial)
        )
    reasons = {
        "non_finite": non_finite,
        "no_initial_loss": no_initial,
        "diverged": diverged,
    }
    keep = ~(non_finite | no_initial | diverged)
    if keep_diverged:
        keep = np.isfinite(initial) & (initial > 0)
        y = np.where(np.isinf(y), np.nan, y)
    N = int(keep.sum())
    return CurveSet(
        name=f"taskset/{key}",
        y=y[keep],
        t=np.arange(1.0, y.shape[1] + 1),
        horizon=float(y.shape[1]),
        task=arrays["task"][keep].astype(str),
        config=arrays["config_id"][keep].astype(str),
        seed=np.full(N, -1),
        rows=np.flatnonzero(keep),
        metric="cross_entropy_loss",
        direction="minimize",
        transform=loss_curve(initial[keep], lower=0.0),
        n_source=raw.shape[0],
        dropped={r: int((m & ~keep).sum()) for r, m in reasons.items()},
        n_with_gaps=int(_has_gaps(y[keep]).sum()),
    )


def load_lcdb(data_dir: str | Path, split: str = "valid") -> CurveSet:
    """LCDB 1.0 accuracy curves (``lcdb_v1_accuracy_subset.npz``), one seed each.

    Steps are log training-set sizes: t = 1 + 2 log2(n / 16) for n training
    samples. The anchors were placed at n = 16 * 2^(k/2), so t is the anchor's
    position on that grid (1, 2, 3, ... up to rounding), and the last anchor of
    each curve (the dataset's full training size, usually off the grid) lands
    where its size puts it rather than one grid step after the previous one.
    The log axis makes the anchors evenly spaced, as the prior's steps are, and
    learning curves in data size are close to power laws, i.e. saturating in
    log n like epoch curves. All curves share the scale, so a t means the same
    training size everywhere. The horizon is the file's largest t (n about
    2.2M; t = 35.15), so the model's last step is the largest training set.

    Normalization: ``accuracy()`` (Linear(0, 1), maximize); exact, since
    accuracy is bounded on both sides.

    Dropped: "empty" (no values), "too_short" (one value: nothing to observe
    and predict), "out_of_range" (a value outside [0, 1]).

    Args:
        data_dir: folder holding ``lcdb_v1_accuracy_subset.npz``.
        split: "valid" (inner validation split), "test" (outer test split) or
            "train" accuracy.
    """
    _check_choice(split, ("valid", "test", "train"), "split")
    key = f"{split}_accuracy"
    names = (key, "anchor", "openmlid", "dataset_name", "learner", "outer_seed")
    arrays = _read(data_dir, LCDB_FILE, names)
    y = arrays[key].astype(np.float64)  # (N, T)
    anchor = arrays["anchor"].astype(np.float64)  # (N, T), -1 where padded
    t = np.full(anchor.shape, np.nan)
    t[anchor > 0] = _log_size_steps(anchor[anchor > 0], per_octave=2)
    return _lcdb_curve_set(
        name=f"lcdb/{key}",
        y=y,
        t=t,
        task=_task_names(arrays["openmlid"], arrays["dataset_name"]),
        config=arrays["learner"].astype(str),
        seed=arrays["outer_seed"].astype(np.int64),
        metric="accuracy",
        direction="maximize",
        transform=accuracy(),
    )


def load_lcdb11(data_dir: str | Path, split: str = "valid") -> CurveSet:
    """LCDB 1.1 mean error-rate curves (``lcdb11_error_rate_mean.npz``).

    Each curve is the mean over 25 splits, on a shared grid of 137 anchors
    n = ceil(16 * 2^(k/8)). Steps as in ``load_lcdb``, on this grid's
    resolution: t = 1 + 8 log2(n / 16), from 1 (n = 16) to 137 (n = 2^21),
    the horizon. (The rounding up of the small anchors makes the first steps
    1, 2.36, 3.58, ... rather than 1, 2, 3: the true sizes.) Both LCDB loaders
    thus map a training-set size onto nearly the same model step.

    Normalization: ``error_rate()`` (Linear(0, 1), minimize: y = 1 - error).

    Missing values (anchors beyond the dataset's size, failed runs) are NaN
    and count as unobserved steps; curves may start after t = 1 and a few
    have gaps (``n_with_gaps``). Dropped: "empty" (no values), "too_short"
    (one value), "out_of_range" (a value outside [0, 1]).

    Args:
        data_dir: folder holding ``lcdb11_error_rate_mean.npz``.
        split: "valid", "test" or "train" error rate.
    """
    _check_choice(split, ("valid", "test", "train"), "split")
    key = f"{split}_error_mean"
    names = (key, "anchor", "openmlid", "dataset_name", "learner")
    arrays = _read(data_dir, LCDB11_FILE, names)
    y = arrays[key].astype(np.float64)  # (N, T)
    return _lcdb_curve_set(
        name=f"lcdb11/{key}",
        y=y,
        t=_log_size_steps(arrays["anchor"].astype(np.float64), per_octave=8),
        task=_task_names(arrays["openmlid"], arrays["dataset_name"]),
        config=arrays["learner"].astype(str),
        seed=np.full(y.shape[0], -1),
        metric="error_rate",
        direction="minimize",
        transform=error_rate(),
    )


_LOADERS = {"taskset": load_taskset, "lcdb": load_lcdb, "lcdb11": load_lcdb11}


def load_curves(name: str, data_dir: str | Path, split: str = "valid") -> CurveSet:
    """Load by name: "taskset", "lcdb" (LCDB 1.0) or "lcdb11" (LCDB 1.1)."""
    _check_choice(name, tuple(_LOADERS), "name")
    return _LOADERS[name](data_dir, split)


# ---- splits -------------------------------------------------------------------


def split_at_fraction(curves: CurveSet, cutoff: float) -> CurveSplit:
    """Observe the first ``floor(cutoff * n)`` values of each curve (at least 1).

    ``n`` counts the curve's values (not NaN). A curve left with nothing to
    predict (n = 1, or floor(cutoff n) = n) is excluded and counted.

    Shapes: see ``CurveSplit``.
    """
    if not (isinstance(cutoff, (int, float)) and 0 < cutoff < 1):
        raise InputError(f"cutoff must be a fraction in (0, 1); got {cutoff!r}")
    n = (~np.isnan(curves.y)).sum(axis=1)  # (N,)
    # the 1e-9 keeps products such as 0.29 * 100 = 28.999999999999996 at 29
    n_observed = np.maximum(1, np.floor(cutoff * n + 1e-9).astype(np.int64))
    return _split(curves, n_observed)


def split_at_count(curves: CurveSet, n_observed: int) -> CurveSplit:
    """Observe the first ``n_observed`` values (anchors) of each curve.

    Curves with at most ``n_observed`` values are excluded and counted.

    Shapes: see ``CurveSplit``.
    """
    if not (isinstance(n_observed, (int, np.integer)) and n_observed >= 1):
        raise InputError(f"n_observed must be an integer >= 1; got {n_observed!r}")
    return _split(curves, np.full(curves.n_curves, int(n_observed)))


def _split(curves: CurveSet, n_observed: np.ndarray) -> CurveSplit:
    """Shapes: n_observed (N,) int -> CurveSplit of the curves with n > n_observed."""
    n = (~np.isnan(curves.y)).sum(axis=1)  # (N,)
    keep = n_observed < n
    if not keep.any():
        raise InputError(
            f"no curve of {curves.name} has values left to predict after "
            f"{int(n_observed.min())} observed (longest has {int(n.max(initial=0))})"
        )
    sub = curves.subset(keep)
    n_obs = n_observed[keep]
    y = sub.y
    N, T = y.shape
    has = ~np.isnan(y)
    rank = np.cumsum(has, axis=1)  # (N, T): 1-based rank of each value in its curve
    seen = has & (rank <= n_obs[:, None])
    future = has & (rank > n_obs[:, None])
    W = int(np.max(np.where(seen, np.arange(1, T + 1), 0)))
    y_obs = np.where(seen, y, np.nan)[:, :W]
    t_obs = sub.t[:W] if sub.t.ndim == 1 else sub.t[:, :W]
    # pack each curve's future values to the left, padding to the longest
    Q = int(future.sum(axis=1).max())
    idx = np.argsort(~future, axis=1, kind="stable")[:, :Q]  # (N, Q)
    valid = np.take_along_axis(future, idx, axis=1)
    t_full = np.broadcast_to(sub.t, (N, T))
    t_query = np.take_along_axis(t_full, idx, axis=1)
    y_true = np.where(valid, np.take_along_axis(y, idx, axis=1), np.nan)
    last = t_query[np.arange(N), valid.sum(axis=1) - 1]  # (N,)
    return CurveSplit(
        curves=sub,
        y_obs=y_obs,
        t_obs=t_obs,
        t_query=np.where(valid, t_query, last[:, None]),
        y_true=y_true,
        n_observed=n_obs,
        n_excluded=int((~keep).sum()),
    )


# ---- internals ----------------------------------------------------------------


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise InputError(f"{name} must be one of {choices}; got {value!r}")


def _read(data_dir: str | Path, filename: str, keys: tuple[str, ...]) -> dict:
    """The arrays ``keys`` of ``data_dir/filename`` (no pickles)."""
    path = Path(data_dir) / filename
    if not path.is_file():
        raise FileNotFoundError(f"data_dir {str(data_dir)!r} has no {filename}")
    with np.load(path, allow_pickle=False) as archive:
        missing = [k for k in keys if k not in archive.files]
        if missing:
            raise InputError(f"{path} lacks the arrays {missing}")
        return {k: archive[k] for k in keys}


def _log_size_steps(anchor: np.ndarray, per_octave: int) -> np.ndarray:
    """t = 1 + per_octave * log2(n / 16): elementwise, same shape as ``anchor``."""
    return 1.0 + per_octave * np.log2(anchor / SMALLEST_ANCHOR)


def _task_names(openmlid: np.ndarray, dataset_name: np.ndarray) -> np.ndarray:
    """Labels "openmlid:name" per row (the id keeps rows apart, the name reads)."""
    return np.char.add(np.char.add(openmlid.astype(str), ":"), dataset_name.astype(str))


def _has_gaps(y: np.ndarray) -> np.ndarray:
    """Curves with NaN between their first and last value. Shapes: (N, T) -> (N,)."""
    has = ~np.isnan(y)
    started = np.maximum.accumulate(has, axis=1)
    not_ended = np.maximum.accumulate(has[:, ::-1], axis=1)[:, ::-1]
    return (started & not_ended & ~has).any(axis=1)


def _lcdb_curve_set(
    *,
    name: str,
    y: np.ndarray,
    t: np.ndarray,
    task: np.ndarray,
    config: np.ndarray,
    seed: np.ndarray,
    metric: str,
    direction: str,
    transform: Transform,
) -> CurveSet:
    """Drop unusable rows of an LCDB table and wrap the rest. Shapes: (N, T)."""
    n = (~np.isnan(y)).sum(axis=1)
    empty = n == 0
    too_short = n == 1
    with np.errstate(invalid="ignore"):
        out_of_range = ~empty & ~too_short & ((y < 0) | (y > 1)).any(axis=1)
    keep = ~(empty | too_short | out_of_range)
    reasons = {"empty": empty, "too_short": too_short, "out_of_range": out_of_range}
    return CurveSet(
        name=name,
        y=y[keep],
        t=t if t.ndim == 1 else t[keep],
        horizon=float(np.nanmax(t)),
        task=task[keep],
        config=config[keep],
        seed=seed[keep],
        rows=np.flatnonzero(keep),
        metric=metric,
        direction=direction,
        transform=transform,
        n_source=y.shape[0],
        dropped={r: int(m.sum()) for r, m in reasons.items()},
        n_with_gaps=int(_has_gaps(y[keep]).sum()),
    )
