"""The predictive-distribution protocol shared by the PFN, the baselines and MCMC.

``Prediction`` (PFN), ``GaussianPrediction`` (baselines) and
``PosteriorPredictive`` (MCMC) answer the same questions with the same
shapes, so benchmarks, plots and the stopping rule treat them alike. This base
class holds what follows from the rest: ``median``, ``quantile``'s checks and
shapes, ``interval``, ``prob_greater``, ``plot``, and reading ``v`` arguments.

A subclass sets ``_single`` (one curve given, outputs squeezed to (Q,)) and
``_grid`` ((B, Q)), and implements ``mean``, ``cdf``, ``log_prob``, ``sample``
and ``_quantiles(levels) -> (L, B, Q)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lcpfn.errors import InputError

__all__ = ["InMetricUnits", "PredictiveDistribution"]


class PredictiveDistribution:
    """Base of every predictive: outputs (Q,) for one curve, (B, Q) for a batch."""

    _single: bool

    @property
    def _grid(self) -> tuple[int, int]:
        """(B, Q): curves and query steps."""
        raise NotImplementedError

    def _quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Metric-unit quantiles. Shapes: levels (L,) in (0, 1) -> (L, B, Q)."""
        raise NotImplementedError

    def cdf(self, v: Any) -> np.ndarray:
        raise NotImplementedError

    def median(self) -> np.ndarray:
        """Shapes: returns (Q,) or (B, Q)."""
        return self.quantile(0.5)

    def quantile(self, q: float | Sequence[float]) -> np.ndarray:
        """Quantiles at levels ``q`` in (0, 1); monotone in q.

        Shapes: scalar q -> (Q,) or (B, Q); L levels -> (L, Q) or (L, B, Q).
        """
        levels = np.asarray(q, dtype=np.float64)
        if levels.ndim > 1 or not np.all((levels > 0) & (levels < 1)):
            raise InputError(f"q must be levels in (0, 1); got {q!r}")
        out = self._stack_out(self._quantiles(levels.reshape(-1)))
        return out[0] if levels.ndim == 0 else out

    def interval(self, level: float = 0.9) -> np.ndarray:
        """Central interval holding ``level`` of the mass.

        Shapes: returns (2, Q) or (2, B, Q): lower, upper.
        """
        if not 0 < level < 1:
            raise InputError(f"level must lie in (0, 1); got {level!r}")
        return self.quantile([(1 - level) / 2, (1 + level) / 2])

    def prob_greater(self, v: Any) -> np.ndarray:
        """P(y > v) in metric units; ``v`` broadcasts against (Q,) or (B, Q)."""
        return 1.0 - self.cdf(v)

    def plot(
        self,
        ax: Any = None,
        *,
        curve: int = 0,
        y_true: Any = None,
        title: str | None = None,
    ) -> Any:
        """Fan chart of one curve; see ``lcpfn.plot``."""
        from lcpfn.plotting import plot

        return plot(self, ax=ax, curve=curve, y_true=y_true, title=title)

    def _broadcast(self, v: Any, name: str) -> np.ndarray:
        """``v`` (scalar, (Q,), (B, 1) or (B, Q)) as a finite (B, Q) float64 array."""
        B, Q = self._grid
        shape = (Q,) if self._single else (B, Q)
        try:
            arr = np.broadcast_to(np.asarray(v, dtype=np.float64), shape)
        except (TypeError, ValueError) as err:
            raise InputError(
                f"{name} must broadcast to {shape}; got {np.shape(v)}"
            ) from err
        if not np.isfinite(arr).all():
            raise InputError(f"{name} must be finite; got {arr[~np.isfinite(arr)][:3]}")
        return np.broadcast_to(arr, (B, Q)).copy()

    def _metric_cdf(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """P(y <= x) from p = P(z <= forward(x)) in the prior's space: flipped
        for a metric to minimize; mass beyond a hard bound sits on the bound
        (see ``lcpfn.transforms``). Shapes: (B, Q), (B, Q) -> (Q,) or (B, Q)."""
        transform = self.transform
        p = 1.0 - p if transform.minimize else p
        lower, upper = (_column(b) for b in transform.bounds())
        return self._out(np.where(x < lower, 0.0, np.where(x >= upper, 1.0, p)))

    def _out(self, a: np.ndarray) -> np.ndarray:
        """(B, Q) -> (Q,) for a one-curve prediction."""
        return a[0] if self._single else a

    def _stack_out(self, a: np.ndarray) -> np.ndarray:
        """(L, B, Q) -> (L, Q) for a one-curve prediction."""
        return a[:, 0] if self._single else a


class InMetricUnits(PredictiveDistribution):
    """A predictive over the prior's space, read in a metric's own units.

    ``base`` predicts z = transform.forward(y) (as ``lcpfn.mcmc``'s posterior
    does for curves given in prior units); this maps it back as ``Prediction``
    does: quantiles through ``inverse`` (lower and upper swap for a metric to
    minimize), ``cdf`` through ``forward`` with the mass beyond a hard bound
    on the bound, ``log_prob`` plus the transform's log-slope. ``mean`` is the
    midpoint rule over ``N_MEAN_LEVELS`` quantiles of z, E[inverse(Z)]; it
    misses the mass beyond the outermost levels, a few percent for a loss
    transform without a hard upper bound, whose tail is heavy.

    Attributes:
        base: the prior-space predictive; its ``observed`` is replaced by
            ``observed`` (metric units).
        transform: an ``lcpfn.transforms.Transform``, per-curve parameters (B,).
        status: (B,) str per curve, copied from ``status`` (e.g. MCMC
            convergence), "ok" where all is well.
    """

    N_MEAN_LEVELS = 256

    def __init__(
        self,
        base: PredictiveDistribution,
        transform: Any,
        *,
        observed: tuple[np.ndarray, np.ndarray],
        status: np.ndarray | None = None,
    ) -> None:
        self.base, self.transform = base, transform
        self._single = base._single
        self.steps, self.observed = base.steps, observed
        B = base._grid[0]
        self.status = np.full(B, "ok") if status is None else np.asarray(status)

    @property
    def _grid(self) -> tuple[int, int]:
        return self.base._grid

    def mean(self) -> np.ndarray:
        """Shapes: returns (Q,) or (B, Q)."""
        levels = (np.arange(self.N_MEAN_LEVELS) + 0.5) / self.N_MEAN_LEVELS
        return self._out(self._quantiles(levels).mean(axis=0))

    def _quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Shapes: levels (L,) -> (L, B, Q)."""
        z_levels = 1.0 - levels if self.transform.minimize else levels
        return self.transform.inverse(self.base._quantiles(z_levels))

    def cdf(self, v: Any) -> np.ndarray:
        """P(y <= v) in metric units; ``v`` broadcasts against (Q,) or (B, Q)."""
        x = self._broadcast(v, "v")
        p = self.base.cdf(self._out(self.transform.forward(x))).reshape(x.shape)
        return self._metric_cdf(x, p)

    def log_prob(self, y: Any) -> np.ndarray:
        """Log-density of ``y`` in metric units (with the transform's Jacobian)."""
        x = self._broadcast(y, "y")
        lp = self.base.log_prob(self._out(self.transform.forward(x))).reshape(x.shape)
        return self._out(lp + self.transform.log_slope(x))

    def sample(self, n_samples: int, seed: int = 0) -> np.ndarray:
        """Shapes: returns (S, Q) or (S, B, Q)."""
        return self.transform.inverse(self.base.sample(n_samples, seed=seed))


def _column(bound: np.ndarray) -> np.ndarray:
    """A (B,) bound as (B, 1), to meet (B, Q) arrays; scalars unchanged."""
    return bound[:, None] if bound.ndim == 1 else bound
