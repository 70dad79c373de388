"""Markdown tables and figures of real-curve evaluations (``lcpfn.evaluation``).

``markdown_tables`` renders ``summarize``'s rows, ``losses`` finds where a
method is beaten (by how much, on which curves), ``plot_metrics`` draws each
metric against the split, and ``plot_gallery`` draws forecasts of chosen
curves with their true continuation. ``lcpfn evaluate`` puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lcpfn.evaluation import metrics
from lcpfn.evaluation.scoring import METRICS, Evaluation, SummaryRow
from lcpfn.transforms import take

__all__ = [
    "Comparison",
    "compare",
    "markdown_table",
    "plot_gallery",
    "plot_metrics",
    "worst_curves",
]

LABELS = {
    "log_likelihood": "mean log-likelihood (higher is better)",
    "squared_error": "MSE of the median (lower is better)",
    "crps": "CRPS (lower is better)",
    "coverage": "90 % interval coverage",
}


def markdown_table(rows: Sequence[SummaryRow], split: str) -> str:
    """One split's rows as a markdown table: means [95 % CI] and average ranks."""
    head = (
        "| method | mean LL [95 % CI] | LL rank | MSE [95 % CI] | MSE rank | "
        "CRPS | CRPS rank | 90 % coverage | ms / curve | status |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in (r for r in rows if r.split == split):
        status = ", ".join(f"{k} {v}" for k, v in r.status.items() if k != "ok") or "-"
        lines.append(
            f"| {r.method} | {_ci(r, 'log_likelihood', '.3f')} "
            f"| {_rank(r, 'log_likelihood')} | {_ci(r, 'squared_error', '.2e')} "
            f"| {_rank(r, 'squared_error')} | {r.means['crps']:.4f} "
            f"| {_rank(r, 'crps')} | {r.means['coverage']:.3f} "
            f"| {1e3 * r.seconds_per_curve:.1f} | {status} |"
        )
    return head + "\n".join(lines) + "\n"


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """``method`` minus ``other`` in one metric at one split, paired by curve:
    the mean difference and its 95 % task-bootstrap interval, and on how many
    tasks ``method`` is better (by its per-task mean)."""

    method: str
    other: str
    split: str
    metric: str
    difference: float
    ci: tuple[float, float]
    tasks_better: int
    n_tasks: int


def compare(
    evaluation: Evaluation,
    method: str,
    other: str,
    split: str,
    metric: str,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> Comparison:
    a, b = evaluation.run(method, split), evaluation.run(other, split)
    diff = a.values(metric) - b.values(metric)  # (B,)
    lo, hi = metrics.bootstrap_ci(diff, n_boot=n_boot, seed=seed, groups=a.task)
    _, task_diff = metrics.task_means(diff, a.task)  # (K,)
    better = task_diff > 0 if METRICS[metric] else task_diff < 0
    return Comparison(
        method=method,
        other=other,
        split=split,
        metric=metric,
        difference=float(diff.mean()),
        ci=(float(lo), float(hi)),
        tasks_better=int(better.sum()),
        n_tasks=task_diff.size,
    )


def worst_curves(
    evaluation: Evaluation, method: str, other: str, split: str, n: int = 5
) -> np.ndarray:
    """Positions (in the evaluated CurveSet) of the ``n`` curves where
    ``method``'s log-likelihood falls furthest below ``other``'s. Shapes: (n,)."""
    a, b = evaluation.run(method, split), evaluation.run(other, split)
    order = np.argsort(a.values("log_likelihood") - b.values("log_likelihood"))
    return a.index[order[:n]]


def plot_metrics(rows: Sequence[SummaryRow], title: str, path: str) -> None:
    """Each metric (with its 95 % CI) against the split, a line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = list(dict.fromkeys(r.split for r in rows))
    methods = list(dict.fromkeys(r.method for r in rows))
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.6))
    for ax, metric in zip(axes, METRICS, strict=True):
        for j, method in enumerate(methods):
            mine = [
                next(r for r in rows if r.split == s and r.method == method)
                for s in splits
            ]
            mean = np.array([r.means[metric] for r in mine])
            ci = np.array([r.ci[metric] for r in mine]).T  # (2, S)
            x = np.arange(len(splits)) + 0.06 * (j - (len(methods) - 1) / 2)
            ax.errorbar(
                x,
                mean,
                yerr=[mean - ci[0], ci[1] - mean],
                marker="o",
                ms=3,
                capsize=2,
                label=method,
            )
        if metric == "coverage":
            ax.axhline(0.9, color="k", lw=0.8, ls="--")
        if metric == "squared_error":
            ax.set_yscale("log")
        ax.set_xticks(range(len(splits)), splits, rotation=35, fontsize=8)
        ax.set_title(LABELS[metric], fontsize=9)
        ax.set_xlabel("observed")
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_gallery(
    evaluation: Evaluation,
    methods: Mapping[str, Any],
    split: str,
    positions: Sequence[int],
    titles: Sequence[str],
    path: str,
    *,
    fan: str,
) -> None:
    """Forecasts of the curves ``positions`` at ``split``: the fan chart of
    method ``fan``, the medians of the others, and the true continuation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sp = next(s for s in evaluation.splits if s.label == split)
    cut = sp.apply(evaluation.curves.subset(np.asarray(positions)))
    transform = take(cut.transform, np.arange(cut.y_obs.shape[0]))
    args = (cut.y_obs, cut.t_obs, cut.t_query)
    kw: dict[str, Any] = {"horizon": cut.horizon, "transform": transform}
    predictions = {name: m.predict(*args, **kw) for name, m in methods.items()}
    n = len(positions)
    cols = min(n, 3)
    fig, axes = plt.subplots(
        (n + cols - 1) // cols, cols, figsize=(5 * cols, 3.4 * ((n + cols - 1) // cols))
    )
    axes = np.atleast_1d(axes).ravel()
    scored = ~np.isnan(cut.y_true)
    for i, ax in enumerate(axes[:n]):
        predictions[fan].plot(ax, curve=i)
        for j, (name, p) in enumerate(predictions.items()):
            if name != fan:
                ax.plot(
                    cut.t_query[i],
                    p.median()[i],
                    lw=1,
                    ls="--",
                    color=f"C{j + 1}",
                    label=f"{name} median",
                )
        ax.plot(
            cut.t_query[i][scored[i]],
            cut.y_true[i][scored[i]],
            ".",
            color="C3",
            ms=3,
            label="true continuation",
        )
        ax.set_title(titles[i], fontsize=7)
    for ax in axes[n:]:
        ax.axis("off")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _ci(r: SummaryRow, metric: str, fmt: str) -> str:
    lo, hi = r.ci[metric]
    return f"{r.means[metric]:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"


def _rank(r: SummaryRow, metric: str) -> str:
    lo, hi = r.rank_ci[metric]
    return f"{r.ranks[metric]:.2f} [{lo:.2f}, {hi:.2f}]"
