"""The evaluation harness: real curves, baselines, metrics, scoring, reports.

- ``datasets``: the real learning curves of ``shared/data`` with their
  normalizations (TaskSet, LCDB 1.0, LCDB 1.1).
- ``baselines``: last value and least-squares parametric fits.
- ``metrics``: log-likelihood, MSE, CRPS, coverage, PIT, ranks, bootstrap.
- ``scoring``: score any predictor at fraction or count splits (``evaluate``).
- ``report``: tables and figures of an evaluation.
- ``suite``: the real-curve suite behind ``lcpfn evaluate``.
- ``bench``: a model card's figures (prior accuracy, noise strata, latency).
"""

from lcpfn.evaluation.scoring import (
    METRICS,
    Evaluation,
    Run,
    Split,
    SummaryRow,
    evaluate,
    fraction_splits,
    summarize,
)
from lcpfn.mcmc.baseline import McmcBaseline

__all__ = [
    "METRICS",
    "Evaluation",
    "McmcBaseline",
    "Run",
    "Split",
    "SummaryRow",
    "evaluate",
    "fraction_splits",
    "summarize",
]
