"""Monotone maps between a metric's own units (x) and the prior's space (y).

The LC-PFN prior describes curves that increase and lie in [0, 1]. A real
metric (a loss, an error rate, a perplexity) is mapped there before the model
sees it, and every answer is mapped back, so predictions come out in the
metric's own units:

- ``Linear(lower, upper, minimize)``: the affine map of the hard bounds onto
  [0, 1], flipped for a metric to minimize. Exact; for metrics that are bounded
  on both sides (accuracy, error rate, AUC).
- ``Squash(lower, upper, soft_lower, soft_upper, minimize)``: the normalization
  of the LC-PFN paper's Appendix A. The soft range [soft_lower, soft_upper],
  where the values are expected to lie, goes linearly to [-1, 1]; a sigmoid
  then compresses everything beyond it, rescaled so that the hard bounds
  (possibly infinite) land on 0 and 1. For losses and other metrics without a
  finite upper bound.

Shortcuts for the common cases: ``accuracy()``, ``error_rate()`` and
``loss_curve(initial_loss)`` (the paper's TaskSet setting: minimize, hard lower
bound 0, soft range [0, loss before training], no upper bound).

Every parameter is a float or a (B,) array (one value per curve of a batch).

Shapes: ``forward``, ``inverse`` and ``log_slope`` are elementwise on arrays of
shape (..., B, N), the curve axis second to last (or (N,) for one curve with
scalar parameters).

Exactness: ``inverse(forward(x)) == x`` to 1e-9 relative wherever the sigmoid
of ``Squash`` is not saturated (|z| <= 10: within 4.5 soft-range widths of the
soft range); further out, y (in float64, and the model's float32) can no
longer tell values apart.

``inverse`` accepts any y. The prior's observation noise lets y stray a
little beyond [0, 1], which the metric cannot: such values go to the hard
bound on that side (a point mass there; ``Prediction.cdf`` counts it the same
way). Where a bound is infinite, values are clipped to a finite extreme ~17
soft-range widths out, so no answer is infinite or NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
from scipy import special

from lcpfn.errors import InputError

__all__ = [
    "Identity",
    "Linear",
    "Squash",
    "Transform",
    "accuracy",
    "error_rate",
    "loss_curve",
    "take",
]

_EPS = 1e-15  # keeps logit() finite where a bound is infinite
_MAX = np.finfo(np.float64).max
# the narrowest soft range of Squash: a subnormal width has lost its precision
_MIN_WIDTH = np.finfo(np.float64).tiny


class Transform:
    """Interface: a strictly monotone map from metric units x to prior units y."""

    minimize: bool = False  # True when y decreases in x

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def log_slope(self, x: np.ndarray) -> np.ndarray:
        """log |dy/dx|, for densities in metric units."""
        raise NotImplementedError

    def check(self, x: np.ndarray, name: str) -> None:
        """Raise InputError naming ``name`` if finite values lie outside the domain."""

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Hard (lower, upper) bounds in metric units: floats or (B,) arrays."""
        return np.array(-np.inf), np.array(np.inf)

    def n_curves(self) -> int | None:
        """The batch size the parameters are for, or None if they are scalars."""
        return None


@dataclass(frozen=True)
class Identity(Transform):
    """No change: for metrics that already increase within [0, 1]."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)

    def log_slope(self, x: np.ndarray) -> np.ndarray:
        return np.zeros_like(np.asarray(x, dtype=np.float64))


def _param(value, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a float or a (B,) array of floats; got {value!r}"
        ) from err
    if arr.ndim > 1:
        raise InputError(
            f"{name} must be a float or a (B,) array; got shape {arr.shape}"
        )
    if np.isnan(arr).any():
        raise InputError(f"{name} must not be NaN; got {value!r}")
    return arr


def _per_curve(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A (B,) parameter as (B, 1) so it meets the curve axis of (..., B, N)."""
    return p[:, None] if p.ndim == 1 and x.ndim >= 2 else p


def _batch_size(*params: np.ndarray, names: tuple[str, ...]) -> int | None:
    sizes = {p.shape[0] for p in params if p.ndim == 1}
    if len(sizes) > 1:
        raise InputError(
            f"per-curve parameters {names} have different lengths {sorted(sizes)}"
        )
    return sizes.pop() if sizes else None


@dataclass(frozen=True)
class Linear(Transform):
    """y = (x - lower) / (upper - lower), or 1 minus that when ``minimize``.

    Both bounds are hard and finite: values outside them are rejected.
    """

    lower: float | np.ndarray = 0.0
    upper: float | np.ndarray = 1.0
    minimize: bool = False
    _lo: np.ndarray = field(init=False, repr=False, compare=False)
    _hi: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lo, hi = _param(self.lower, "lower"), _param(self.upper, "upper")
        _batch_size(lo, hi, names=("lower", "upper"))
        if not (np.isfinite(lo).all() and np.isfinite(hi).all() and (lo < hi).all()):
            raise InputError(
                f"Linear needs finite lower < upper; got {self.lower=}, {self.upper=}"
            )
        object.__setattr__(self, "_lo", lo)
        object.__setattr__(self, "_hi", hi)

    def n_curves(self) -> int | None:
        return _batch_size(self._lo, self._hi, names=("lower", "upper"))

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        lo, hi = _per_curve(self._lo, x), _per_curve(self._hi, x)
        u = (x - lo) / (hi - lo)
        return 1.0 - u if self.minimize else u

    def inverse(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        lo, hi = _per_curve(self._lo, y), _per_curve(self._hi, y)
        u = np.clip(1.0 - y if self.minimize else y, 0.0, 1.0)
        # clipped again: lo + 1 * (hi - lo) can round past hi for |lo| >> |hi|
        return np.clip(lo + u * (hi - lo), lo, hi)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo, self._hi

    def log_slope(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        lo, hi = _per_curve(self._lo, x), _per_curve(self._hi, x)
        return np.broadcast_to(-np.log(hi - lo), x.shape).copy()

    def check(self, x: np.ndarray, name: str) -> None:
        x = np.asarray(x, dtype=np.float64)
        lo, hi = _per_curve(self._lo, x), _per_curve(self._hi, x)
        bad = np.isfinite(x) & ((x < lo) | (x > hi))
        if bad.any():
            raise InputError(
                f"{name} must lie within the transform's bounds "
                f"[{self.lower}, {self.upper}]; got {x[bad][:5].tolist()} "
                f"({int(bad.sum())} values outside)"
            )


@dataclass(frozen=True)
class Squash(Transform):
    """The LC-PFN paper's normalization (Appendix A): soft range linear, sigmoid beyond.

    Args:
        lower, upper: hard bounds of the metric (may be -inf / inf).
        soft_lower, soft_upper: the range the values are expected in; it fills
            most of [0, 1] after the transform.
        minimize: True for metrics where smaller is better (losses).
    """

    lower: float | np.ndarray = -np.inf
    upper: float | np.ndarray = np.inf
    soft_lower: float | np.ndarray = 0.0
    soft_upper: float | np.ndarray = 1.0
    minimize: bool = False
    _sig_lo: np.ndarray = field(init=False, repr=False, compare=False)
    _sig_hi: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = ("lower", "upper", "soft_lower", "soft_upper")
        lo, hi, slo, shi = (_param(getattr(self, n), n) for n in names)
        _batch_size(lo, hi, slo, shi, names=names)
        if not (
            np.isfinite(slo).all()
            and np.isfinite(shi).all()
            and (lo <= slo).all()
            and (slo < shi).all()
            and (shi <= hi).all()
        ):
            raise InputError(
                "Squash needs lower <= soft_lower < soft_upper <= upper with finite "
                f"soft bounds; got {self.lower=}, {self.soft_lower=}, "
                f"{self.soft_upper=}, {self.upper=}"
            )
        with np.errstate(over="ignore"):  # an overflowing width is rejected below
            width = shi - slo
        bad = ~(np.isfinite(width) & (width >= _MIN_WIDTH))
        if bad.any():
            where = f" at curves {np.flatnonzero(bad)[:5].tolist()}" if bad.ndim else ""
            raise InputError(
                "Squash needs a finite soft range width soft_upper - soft_lower of "
                f"at least {_MIN_WIDTH:.3g} (the smallest normal float); got "
                f"{width[bad][:5].tolist() if bad.ndim else float(width)}{where}"
            )
        # sigmoid values at the hard bounds: the range that is rescaled to [0, 1]
        sig_lo = np.where(np.isinf(lo), 0.0, special.expit(self._z_of(lo, slo, shi)))
        sig_hi = np.where(np.isinf(hi), 1.0, special.expit(self._z_of(hi, slo, shi)))
        object.__setattr__(self, "_sig_lo", sig_lo)
        object.__setattr__(self, "_sig_hi", sig_hi)

    @staticmethod
    def _z_of(x, slo, shi):
        # halved so that no difference of finite values overflows (exact in
        # binary); far outside a narrow soft range z overflows to +-inf, the
        # sigmoid's limit
        with np.errstate(invalid="ignore", over="ignore"):
            return 2.0 * ((0.5 * x - 0.5 * slo) / (0.5 * shi - 0.5 * slo)) - 1.0

    def n_curves(self) -> int | None:
        ps = (self.lower, self.upper, self.soft_lower, self.soft_upper)
        return _batch_size(
            *(np.asarray(p, dtype=np.float64) for p in ps),
            names=("lower", "upper", "soft_lower", "soft_upper"),
        )

    def _params(self, x: np.ndarray):
        return tuple(
            _per_curve(np.asarray(p, dtype=np.float64), x)
            for p in (self.soft_lower, self.soft_upper, self._sig_lo, self._sig_hi)
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        slo, shi, sig_lo, sig_hi = self._params(x)
        u = (special.expit(self._z_of(x, slo, shi)) - sig_lo) / (sig_hi - sig_lo)
        return 1.0 - u if self.minimize else u

    def inverse(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        slo, shi, sig_lo, sig_hi = self._params(y)
        u = np.clip(1.0 - y if self.minimize else y, 0.0, 1.0)
        s = np.clip(sig_lo + u * (sig_hi - sig_lo), _EPS, 1.0 - _EPS)
        with np.errstate(over="ignore"):  # a soft range near the float limits
            x = (special.logit(s) + 1.0) / 2.0 * (shi - slo) + slo
        lo, hi = (_per_curve(b, y) for b in self.bounds())
        # at a finite hard bound, the bound itself rather than its rounding
        x = np.where((u <= 0.0) & np.isfinite(lo), lo, x)
        x = np.where((u >= 1.0) & np.isfinite(hi), hi, x)
        # near a bound, logit's rounding may step past it; an overflow is
        # clipped to the largest float
        return np.clip(x, np.maximum(lo, -_MAX), np.minimum(hi, _MAX))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.asarray(self.lower, dtype=np.float64),
            np.asarray(self.upper, dtype=np.float64),
        )

    def log_slope(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        slo, shi, sig_lo, sig_hi = self._params(x)
        z = self._z_of(x, slo, shi)
        return (
            special.log_expit(z)
            + special.log_expit(-z)
            + np.log(2.0)
            - np.log(shi - slo)
            - np.log(sig_hi - sig_lo)
        )

    def check(self, x: np.ndarray, name: str) -> None:
        x = np.asarray(x, dtype=np.float64)
        lo, hi = (
            _per_curve(np.asarray(p, dtype=np.float64), x)
            for p in (self.lower, self.upper)
        )
        bad = np.isfinite(x) & ((x < lo) | (x > hi))
        if bad.any():
            raise InputError(
                f"{name} must lie within the transform's hard bounds "
                f"[{self.lower}, {self.upper}]; got {x[bad][:5].tolist()} "
                f"({int(bad.sum())} values outside)"
            )


def accuracy(percent: bool = False) -> Linear:
    """Accuracy-like metrics in [0, 1] (or [0, 100] with ``percent``), maximized."""
    return Linear(0.0, 100.0 if percent else 1.0)


def error_rate(percent: bool = False) -> Linear:
    """Error rates in [0, 1] (or [0, 100]), minimized: y = 1 - error."""
    return Linear(0.0, 100.0 if percent else 1.0, minimize=True)


def loss_curve(initial_loss: float | np.ndarray, lower: float = 0.0) -> Squash:
    """A loss to minimize, as the LC-PFN paper normalized TaskSet.

    Hard lower bound ``lower`` (0 for cross-entropy), no upper bound, soft range
    [lower, initial_loss] where ``initial_loss`` is the loss before training
    (ln(n_classes) for a classifier's cross-entropy at chance). One value per
    curve for a batch.
    """
    return Squash(
        lower=lower,
        upper=np.inf,
        soft_lower=lower,
        soft_upper=initial_loss,
        minimize=True,
    )


def take(transform: Transform, index) -> Transform:
    """The transform for the curves ``index`` (positions, mask or slice) of a batch.

    Shapes: (B,) parameters -> those of the taken curves; scalars are kept.
    """
    if transform.n_curves() is None:
        return transform
    taken = {
        f.name: np.asarray(getattr(transform, f.name))[index]
        for f in fields(transform)
        if f.init and np.ndim(getattr(transform, f.name)) == 1
    }
    return replace(transform, **taken)
