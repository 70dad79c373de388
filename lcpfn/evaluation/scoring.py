"""Score extrapolation methods on sets of real curves, split by split.

``evaluate(curves, methods, splits)`` cuts every curve of a ``CurveSet``
(``lcpfn.evaluation.datasets``) at each split, asks each method for the
predictive of the unseen part and scores it with
``lcpfn.evaluation.metrics.score``. A method is anything with the signature of
``Extrapolator.predict`` (``predict(y_obs, t_obs, t_query, *, horizon,
transform)``) returning the ``Prediction`` protocol: the shipped PFNs,
``lcpfn.evaluation.baselines`` and ``lcpfn.mcmc.baseline.McmcBaseline`` (MCMC
on the PFN's prior). ``summarize`` turns the per-curve scores into the report's
figures: means with bootstrap intervals and the LC-PFN paper's average ranks.

Splits: ``Split("fraction", 0.2)`` observes the first 20 % of each curve's
values, ``Split("count", 4)`` its first 4 values (for LCDB: anchors).

Shapes: N curves in the set, B curves scored at a split (those with something
left to predict), Q query steps, M methods, K tasks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lcpfn.errors import InputError
from lcpfn.evaluation import metrics
from lcpfn.evaluation.datasets import (
    CUTOFFS,
    CurveSet,
    CurveSplit,
    split_at_count,
    split_at_fraction,
)
from lcpfn.transforms import take

__all__ = [
    "METRICS",
    "Evaluation",
    "Run",
    "Split",
    "SummaryRow",
    "evaluate",
    "fraction_splits",
    "summarize",
]

# metric -> True if higher is better (None: not ranked; coverage is judged by
# its distance from the interval's level)
METRICS: dict[str, bool | None] = {
    "log_likelihood": True,
    "squared_error": False,
    "crps": False,
    "coverage": None,
}


@dataclass(frozen=True)
class Split:
    """Where curves are cut: ``kind`` "fraction" (of each curve's values,
    0 < value < 1) or "count" (observed values, an integer >= 1)."""

    kind: str
    value: float

    def __post_init__(self) -> None:
        if self.kind not in ("fraction", "count"):
            raise InputError(f"kind must be 'fraction' or 'count'; got {self.kind!r}")

    @property
    def label(self) -> str:
        if self.kind == "fraction":
            return f"{100 * self.value:g} %"
        return f"{int(self.value)} observed"

    def apply(self, curves: CurveSet) -> CurveSplit:
        if self.kind == "fraction":
            return split_at_fraction(curves, float(self.value))
        return split_at_count(curves, int(self.value))


def fraction_splits(cutoffs: Sequence[float] = CUTOFFS) -> tuple[Split, ...]:
    return tuple(Split("fraction", c) for c in cutoffs)


@dataclass(frozen=True, kw_only=True)
class Run:
    """One method at one split.

    Attributes:
        method, split: names (``Split.label``).
        index: positions of the scored curves in the evaluated CurveSet. (B,).
        task: their tasks. (B,) str.
        scores: per-curve scores (``lcpfn.evaluation.metrics.Scores``).
        seconds: wall time of predicting and scoring all B curves.
        status: the prediction's per-curve status where it has one
            (baselines: fallbacks; MCMC: convergence), "ok" otherwise. (B,).
    """

    method: str
    split: str
    index: np.ndarray
    task: np.ndarray
    scores: metrics.Scores
    seconds: float
    status: np.ndarray

    def values(self, metric: str) -> np.ndarray:
        """Per-curve values of one of ``METRICS``. Shapes: (B,)."""
        if metric not in METRICS:
            raise InputError(f"metric must be one of {tuple(METRICS)}; got {metric!r}")
        return getattr(self.scores, metric)


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """Scores of several methods on one CurveSet at several splits.

    Attributes:
        curves: the evaluated curves.
        methods: method names in the order given.
        splits: the splits.
        runs: (method, split label) -> Run; every method sees the same curves
            at a split.
        n_excluded: split label -> curves with nothing left to predict there.
    """

    curves: CurveSet
    methods: tuple[str, ...]
    splits: tuple[Split, ...]
    runs: dict[tuple[str, str], Run]
    n_excluded: dict[str, int]

    def run(self, method: str, split: str) -> Run:
        if (method, split) not in self.runs:
            raise InputError(f"no run for method {method!r} at split {split!r}")
        return self.runs[(method, split)]


def evaluate(
    curves: CurveSet,
    methods: Mapping[str, Any],
    splits: Sequence[Split] = fraction_splits(),
    *,
    level: float = 0.9,
    batch_size: int = 512,
) -> Evaluation:
    """Predict and score every curve of ``curves`` with every method.

    Args:
        curves: a CurveSet (e.g. ``lcpfn.evaluation.datasets.load_taskset(...)``, or a
            ``subset`` of one).
        methods: name -> predictor with ``Extrapolator.predict``'s signature.
        splits: where to cut the curves.
        level: central interval level of the coverage.
        batch_size: curves per ``predict`` call (bounds memory; methods that
            loop over curves do not mind).

    Returns:
        An ``Evaluation``.
    """
    if not methods:
        raise InputError("methods must name at least one predictor; got none")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer; got {batch_size!r}")
    runs: dict[tuple[str, str], Run] = {}
    n_excluded: dict[str, int] = {}
    for split in splits:
        cut = split.apply(curves)
        index = _positions(curves, cut.curves)
        n_excluded[split.label] = cut.n_excluded
        for name, method in methods.items():
            start = time.perf_counter()
            parts = [
                _score_rows(method, cut, rows, level)
                for rows in _chunks(cut.y_obs.shape[0], batch_size)
            ]
            runs[(name, split.label)] = Run(
                method=name,
                split=split.label,
                index=index,
                task=cut.curves.task,
                scores=_concatenate([p[0] for p in parts], level),
                seconds=time.perf_counter() - start,
                status=np.concatenate([p[1] for p in parts]),
            )
    return Evaluation(
        curves=curves,
        methods=tuple(methods),
        splits=tuple(splits),
        runs=runs,
        n_excluded=n_excluded,
    )


@dataclass(frozen=True, kw_only=True)
class SummaryRow:
    """One method at one split, over B curves of K tasks.

    ``means``/``ci``: mean of each of ``METRICS`` over curves and its 95 %
    percentile bootstrap interval, resampling whole tasks (curves of one task
    are not independent). ``ranks``/``rank_ci``: the paper's average rank over
    tasks (per-task mean score, methods ranked within each task, 1 = best)
    with its task-bootstrap interval, for the ranked metrics.
    """

    method: str
    split: str
    n_curves: int
    n_tasks: int
    means: dict[str, float]
    ci: dict[str, tuple[float, float]]
    ranks: dict[str, float]
    rank_ci: dict[str, tuple[float, float]]
    seconds_per_curve: float
    status: dict[str, int]


def summarize(
    evaluation: Evaluation, *, n_boot: int = 2000, seed: int = 0
) -> list[SummaryRow]:
    """The report's figures for every (split, method), splits outermost."""
    rows = []
    for split in evaluation.splits:
        runs = [evaluation.run(m, split.label) for m in evaluation.methods]
        task = runs[0].task
        per_metric = {m: np.stack([r.values(m) for r in runs]) for m in METRICS}
        ci = {
            m: metrics.bootstrap_ci(v, n_boot=n_boot, seed=seed, groups=task)
            for m, v in per_metric.items()
        }  # (2, M) each
        ranks, rank_ci = {}, {}
        for m, higher in METRICS.items():
            if higher is None:
                continue
            _, means = metrics.task_means(per_metric[m], task)  # (M, K)
            task_ranks = metrics.rank_methods(means, higher)  # (M, K)
            ranks[m] = task_ranks.mean(axis=1)
            rank_ci[m] = metrics.bootstrap_ci(task_ranks, n_boot=n_boot, seed=seed)
        for i, run in enumerate(runs):
            names, counts = np.unique(run.status, return_counts=True)
            rows.append(
                SummaryRow(
                    method=run.method,
                    split=split.label,
                    n_curves=task.size,
                    n_tasks=np.unique(task).size,
                    means={m: float(v[i].mean()) for m, v in per_metric.items()},
                    ci={m: (float(c[0, i]), float(c[1, i])) for m, c in ci.items()},
                    ranks={m: float(r[i]) for m, r in ranks.items()},
                    rank_ci={
                        m: (float(c[0, i]), float(c[1, i])) for m, c in rank_ci.items()
                    },
                    seconds_per_curve=run.seconds / task.size,
                    status=dict(zip(names.tolist(), counts.tolist(), strict=True)),
                )
            )
    return rows


# ---- internals ----------------------------------------------------------------


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _score_rows(
    method: Any, cut: CurveSplit, rows: slice, level: float
) -> tuple[metrics.Scores, np.ndarray]:
    """Predict and score the curves ``rows`` of a split; returns the scores and
    the per-curve status. Shapes: -> Scores over (b,), (b,) str."""
    t_obs = cut.t_obs if cut.t_obs.ndim == 1 else cut.t_obs[rows]
    prediction = method.predict(
        cut.y_obs[rows],
        t_obs,
        cut.t_query[rows],
        horizon=cut.horizon,
        transform=take(cut.transform, np.arange(cut.y_obs.shape[0])[rows]),
    )
    scores = metrics.score(prediction, cut.y_true[rows], level=level)
    b = cut.y_obs[rows].shape[0]
    status = np.asarray(getattr(prediction, "status", np.full(b, "ok")), dtype=str)
    return scores, status


def _concatenate(parts: list[metrics.Scores], level: float) -> metrics.Scores:
    """Scores of consecutive chunks as one; PIT padded to the widest chunk."""
    width = max(p.pit.shape[1] for p in parts)
    pit = [
        np.pad(p.pit, ((0, 0), (0, width - p.pit.shape[1])), constant_values=np.nan)
        for p in parts
    ]
    return metrics.Scores(
        log_likelihood=np.concatenate([p.log_likelihood for p in parts]),
        squared_error=np.concatenate([p.squared_error for p in parts]),
        crps=np.concatenate([p.crps for p in parts]),
        coverage=np.concatenate([p.coverage for p in parts]),
        pit=np.concatenate(pit),
        level=level,
    )


def _positions(curves: CurveSet, kept: CurveSet) -> np.ndarray:
    """Positions in ``curves`` of the curves of its subset ``kept``. Shapes: (B,)."""
    order = np.argsort(curves.rows)
    return order[np.searchsorted(curves.rows[order], kept.rows)]
