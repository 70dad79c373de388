"""Fan charts of predictions with matplotlib."""

from __future__ import annotations

from typing import Any

import numpy as np

from lcpfn.errors import InputError

__all__ = ["plot"]


def plot(
    prediction: Any,
    ax: Any = None,
    *,
    curve: int = 0,
    y_true: Any = None,
    t_true: Any = None,
    title: str | None = None,
    xlabel: str = "t",
    ylabel: str = "y",
):
    """Draw observed points, the median and the 50 % / 90 % bands of one curve.

    Args:
        prediction: an ``lcpfn`` Prediction (or anything with ``observed``,
            ``steps`` and ``quantile``, such as an MCMC posterior's predictive).
        ax: a matplotlib Axes; a new figure is made when None.
        curve: which curve of a batch prediction to draw.
        y_true: the true continuation at ``t_true`` (default: the query steps),
            drawn for comparison.
        title: the Axes' title (none when None).
        xlabel, ylabel: the axis labels, e.g. a CSV's column names or the metric.

    Returns:
        The matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    t_obs, y_obs = (np.asarray(a, dtype=np.float64) for a in prediction.observed)
    steps = np.asarray(prediction.steps, dtype=np.float64)
    q = prediction.quantile([0.05, 0.25, 0.5, 0.75, 0.95])  # (5, Q) or (5, B, Q)
    if q.ndim == 3:
        if not 0 <= curve < q.shape[1]:
            raise InputError(f"curve must lie in 0..{q.shape[1] - 1}; got {curve}")
        q, t_obs, y_obs, steps = q[:, curve], t_obs[curve], y_obs[curve], steps[curve]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    order = np.argsort(steps)
    s, q = steps[order], q[:, order]
    ax.fill_between(s, q[0], q[4], color="C0", alpha=0.18, lw=0, label="90 % interval")
    ax.fill_between(s, q[1], q[3], color="C0", alpha=0.35, lw=0, label="50 % interval")
    ax.plot(s, q[2], color="C0", lw=1.5, label="median")
    seen = ~np.isnan(y_obs)
    ax.plot(t_obs[seen], y_obs[seen], "o", color="k", ms=3, label="observed")
    if y_true is not None:
        truth = np.asarray(y_true, dtype=np.float64).reshape(-1)
        at = steps if t_true is None else np.asarray(t_true, dtype=np.float64)
        if at.shape != truth.shape:
            raise InputError(
                f"y_true must match t_true (or the query steps) in shape {at.shape}; "
                f"got {truth.shape}"
            )
        ax.plot(at, truth, "x", color="C3", ms=3, label="true continuation")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax
