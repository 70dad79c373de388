"""The predictive-distribution protocol shared by the PFN, the baselines and MCMC.

``Prediction`` (PFN), ``GaussianPrediction`` (baselines) and
``PosteriorPredictive`` (MCMC) answer the same questions with the same
shapes, so benchmarks, plots and the stopping rule treat them alike. This base
class holds what follows from the rest: ``median``, ``quantile``'s checks and
shapes, ``interval``, ``prob_greater``, ``plot``, and reading ``v`` arguments.

A subclass sets ``_single`` (one curve given, outputs squeezed to (Q,)) and
``_grid`` ((B, Q)), and implements ``mean``, ``cdf``, ``log_prob``, ``sample``
and ``_quantiles(levels) -> (L, B, Q)``.

``TransformedPredictive`` is the one map from a predictive in the prior's
space into a metric's units (through an ``lcpfn.transforms.Transform``):
``Prediction`` and ``GaussianPrediction`` build on it, and ``InMetricUnits``
wraps any prior-space predictive with it (``lcpfn.mcmc``'s for
``McmcBaseline``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lcpfn.errors import InputError
from lcpfn.transforms import Transform

__all__ = ["InMetricUnits", "PredictiveDistribution", "TransformedPredictive"]


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

    def _out(self, a: np.ndarray) -> np.ndarray:
        """(B, Q) -> (Q,) for a one-curve prediction."""
        return a[0] if self._single else a

    def _stack_out(self, a: np.ndarray) -> np.ndarray:
        """(L, B, Q) -> (L, Q) for a one-curve prediction."""
        return a[:, 0] if self._single else a


class TransformedPredictive(PredictiveDistribution):
    """A predictive made in the prior's space, answered in the metric's units.

    The one place where a predictive of z = transform.forward(y) is mapped
    back: quantiles go through ``inverse`` (lower and upper levels swap for a
    metric to minimize), ``cdf`` through ``forward`` (flipped for a metric to
    minimize; the mass beyond a hard bound sits on the bound, see
    ``lcpfn.transforms``), ``log_prob`` adds the transform's log-slope,
    samples go through ``inverse``, and ``mean`` is E[inverse(Z)], never
    inverse(E[Z]).

    A subclass sets ``transform`` (an ``lcpfn.transforms.Transform``) and
    implements the prior-space primitives on its (B, Q) grid:
    ``_prior_quantiles``, ``_prior_cdf``, ``_prior_log_prob`` and
    ``_prior_sample``. ``_metric_mean`` defaults to the midpoint rule over
    ``N_MEAN_LEVELS`` quantiles, which misses the mass beyond the outermost
    levels (a few percent for a loss transform without a hard upper bound,
    whose tail is heavy); a subclass that can integrate exactly replaces it.
    """

    N_MEAN_LEVELS = 256
    transform: Transform

    def _prior_quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Quantiles of z. Shapes: levels (L,) in (0, 1) -> (L, B, Q)."""
        raise NotImplementedError

    def _prior_cdf(self, z: np.ndarray) -> np.ndarray:
        """P(Z <= z). Shapes: (B, Q) -> (B, Q)."""
        raise NotImplementedError

    def _prior_log_prob(self, z: np.ndarray) -> np.ndarray:
        """Log-density of Z at z. Shapes: (B, Q) -> (B, Q)."""
        raise NotImplementedError

    def _prior_sample(self, n_samples: int, seed: int) -> np.ndarray:
        """Draws of Z. Shapes: returns (S, B, Q)."""
        raise NotImplementedError

    def _metric_mean(self) -> np.ndarray:
        """E[inverse(Z)]. Shapes: returns (B, Q)."""
        levels = (np.arange(self.N_MEAN_LEVELS) + 0.5) / self.N_MEAN_LEVELS
        return self._quantiles(levels).mean(axis=0)

    def mean(self) -> np.ndarray:
        """Mean in metric units: E[inverse(Z)], not the inverse of Z's mean.

        Shapes: returns (Q,) or (B, Q).
        """
        return self._out(self._metric_mean())

    def _quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Shapes: levels (L,) -> (L, B, Q)."""
        # a decreasing transform turns the lower quantile into the upper one
        z_levels = 1.0 - levels if self.transform.minimize else levels
        return self.transform.inverse(self._prior_quantiles(z_levels))

    def cdf(self, v: Any) -> np.ndarray:
        """P(y <= v) in metric units; ``v`` broadcasts against (Q,) or (B, Q)."""
        x = self._broadcast(v, "v")
        p = self._prior_cdf(self.transform.forward(x))
        p = 1.0 - p if self.transform.minimize else p
        lower, upper = (_column(b) for b in self.transform.bounds())
        return self._out(np.where(x < lower, 0.0, np.where(x >= upper, 1.0, p)))

    def log_prob(self, y: Any) -> np.ndarray:
        """Log-density of ``y`` in metric units (with the transform's Jacobian)."""
        x = self._broadcast(y, "y")
        lp = self._prior_log_prob(self.transform.forward(x))
        return self._out(lp + self.transform.log_slope(x))

    def sample(self, n_samples: int, seed: int = 0) -> np.ndarray:
        """Draws from the predictive. Shapes: returns (S, Q) or (S, B, Q)."""
        if not isinstance(n_samples, int) or n_samples < 1:
            raise InputError(f"n_samples must be a positive integer; got {n_samples!r}")
        z = self._prior_sample(n_samples, seed)
        return self._stack_out(self.transform.inverse(z))


class InMetricUnits(TransformedPredictive):
    """Any prior-space predictive, read in a metric's own units.

    ``base`` predicts z = transform.forward(y) (as ``lcpfn.mcmc``'s posterior
    does for curves given in prior units); ``TransformedPredictive`` maps it
    back, with the midpoint rule for ``mean``.

    Attributes:
        base: the prior-space predictive; its ``observed`` is replaced by
            ``observed`` (metric units).
        transform: an ``lcpfn.transforms.Transform``, per-curve parameters (B,).
        status: (B,) str per curve, copied from ``status`` (e.g. MCMC
            convergence), "ok" where all is well.
    """

    def __init__(
        self,
        base: PredictiveDistribution,
        transform: Transform,
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

    def _prior_quantiles(self, levels: np.ndarray) -> np.ndarray:
        return self.base._quantiles(levels)

    def _prior_cdf(self, z: np.ndarray) -> np.ndarray:
        return self.base.cdf(self._out(z)).reshape(z.shape)

    def _prior_log_prob(self, z: np.ndarray) -> np.ndarray:
        return self.base.log_prob(self._out(z)).reshape(z.shape)

    def _prior_sample(self, n_samples: int, seed: int) -> np.ndarray:
        z = self.base.sample(n_samples, seed=seed)  # (S, Q) or (S, B, Q)
        return z[:, None] if self._single else z


def _column(bound: np.ndarray) -> np.ndarray:
    """A (B,) bound as (B, 1), to meet (B, Q) arrays; scalars unchanged."""
    return bound[:, None] if bound.ndim == 1 else bound
