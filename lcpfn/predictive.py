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

__all__ = ["PredictiveDistribution"]


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
