"""Simple extrapolation baselines behind the protocol of ``lcpfn.Prediction``.

Two methods, each a small frozen config with the ``predict`` signature of
``Extrapolator.predict``, so a benchmark calls the PFN and the baselines alike:

- ``LastValue``: the last observed value, with the prediction intervals of
  the naive forecast (a random walk without drift).
- ``ParametricFit``: a least-squares fit of one curve family (pow3, pow4 or
  MMF from ``lcpfn.prior.curves``), with the prediction intervals of nonlinear
  regression.

Both work in the prior's space: z = transform.forward(y), increasing and
mostly in [0, 1], where the predictive is Gaussian, N(loc, scale^2) at each
query step. ``GaussianPrediction`` is read in the metric's units through
``lcpfn.predictive.TransformedPredictive``, as ``Prediction`` is; its ``mean``
integrates ``inverse`` against the Gaussian (Gauss-Legendre), not the inverse
of the mean. The arguments of ``predict`` are read by
``lcpfn.request.parse_request``, as ``Extrapolator.predict``'s are.

Fitting is a loop over curves, one ``scipy.optimize.least_squares`` call each:
the fits are independent small problems that scipy solves one at a time. All
else is vectorized over curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from lcpfn.errors import InputError
from lcpfn.predictive import TransformedPredictive
from lcpfn.prior.curves import FAMILIES
from lcpfn.request import Request, parse_request
from lcpfn.transforms import Transform

__all__ = ["FIT_FAMILIES", "GaussianPrediction", "LastValue", "ParametricFit"]

DEFAULT_HORIZON = 100.0  # the LC-PFN grid, as Extrapolator's default horizon
MIN_SCALE = 0.01  # predictive std floor in prior units (the prior's noise ~ 0.02)
MAX_SCALE = 1.0  # predictive std cap: wider than the prior's range says nothing more
N_QUADRATURE = 48  # Gauss-Legendre nodes per piece for means in metric units
CHI2_1_MEDIAN = 0.45493642311957283  # median of a chi-square with 1 degree of freedom

# bounds (lower, upper) per parameter, in prior units; the asymptotes stay near
# [0, 1] so that extrapolations do too, rates and exponents stay positive
FIT_FAMILIES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "pow3": ((0.0, -np.inf, 1e-3), (1.0, np.inf, 10.0)),  # c, a, alpha
    "pow4": ((0.0, 1e-8, 0.0, 1e-3), (1.0, np.inf, np.inf, 10.0)),  # c, a, b, alpha
    "mmf": ((0.0, 0.0, 1e-6, 1e-2), (1.0, 1.0, 1e3, 10.0)),  # alpha, beta, k, d
}


class GaussianPrediction(TransformedPredictive):
    """A Gaussian predictive in the prior's space, read out in metric units.

    Same methods and attributes as ``lcpfn.Prediction``: outputs are NumPy
    float64 of shape (Q,) for one curve or (B, Q) for a batch, with a leading
    axis for several levels or samples.

    Attributes:
        loc, scale: the predictive's mean and std in prior units. (B, Q).
        steps: the query steps, (Q,) or (B, Q); ``observed``: the (t, y) given.
        transform: the map between metric and prior units.
        status: how each curve's predictive was made: "ok", or why the method
            fell back to the last value ("too_few_points", "failed"). (B,) str.
    """

    def __init__(
        self,
        loc: np.ndarray,
        scale: np.ndarray,
        *,
        transform: Transform,
        steps: np.ndarray,
        observed: tuple[np.ndarray, np.ndarray],
        single: bool,
        status: np.ndarray,
    ) -> None:
        self.loc = loc
        self.scale = scale
        self.transform = transform
        self.steps = steps
        self.observed = observed
        self.status = status
        self._single = single

    @property
    def _grid(self) -> tuple[int, int]:
        return self.loc.shape

    @property
    def n_fallback(self) -> int:
        """Curves whose predictive fell back to the last value."""
        return int((self.status != "ok").sum())

    def _metric_mean(self) -> np.ndarray:
        """E[inverse(Z)], not inverse(E[Z]).

        Gauss-Legendre quadrature over loc +- 8 scale, in three pieces split
        at z = 0 and z = 1, where ``inverse`` starts to clip (so each piece is
        smooth; the Squash transform's log-singularity at an infinite bound
        sits at a piece's end). Shapes: returns (B, Q).
        """
        nodes, weights = np.polynomial.legendre.leggauss(N_QUADRATURE)
        lo, hi = self.loc - 8.0 * self.scale, self.loc + 8.0 * self.scale  # (B, Q)
        total = np.zeros_like(self.loc)
        for a, b in (
            (lo, np.minimum(hi, 0.0)),
            (np.maximum(lo, 0.0), np.minimum(hi, 1.0)),
            (np.maximum(lo, 1.0), hi),
        ):
            half = np.maximum(b - a, 0.0) / 2.0  # (B, Q); 0 for an empty piece
            for node, weight in zip(nodes, weights, strict=True):
                z = a + half * (1.0 + node)
                density = np.exp(-0.5 * ((z - self.loc) / self.scale) ** 2)
                total += weight * half * density * self.transform.inverse(z)
        return total / (self.scale * np.sqrt(2.0 * np.pi))

    def _prior_quantiles(self, levels: np.ndarray) -> np.ndarray:
        return self.loc + self.scale * special.ndtri(levels)[:, None, None]

    def _prior_cdf(self, z: np.ndarray) -> np.ndarray:
        return special.ndtr((z - self.loc) / self.scale)

    def _prior_log_prob(self, z: np.ndarray) -> np.ndarray:
        u = (z - self.loc) / self.scale
        return -0.5 * u**2 - np.log(self.scale) - 0.5 * np.log(2.0 * np.pi)

    def _prior_sample(self, n_samples: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return self.loc + self.scale * rng.standard_normal((n_samples, *self.loc.shape))


@dataclass(frozen=True, kw_only=True)
class LastValue:
    """The naive forecast: the last observed value, with random-walk intervals.

    In prior units, the predictive at query step t_q is
    N(z_last, sigma^2 |t_q - t_last| + min_scale^2): a random walk without
    drift (the textbook naive forecast's intervals, which widen as the square
    root of the distance). sigma^2 comes from the observed one-step residuals
    of that forecast, the increments d_i = z_i - z_{i-1} over t_i - t_{i-1}:
    under the random walk d_i^2 / (t_i - t_{i-1}) is sigma^2 times a
    chi-square(1), so sigma^2 = median(d_i^2 / (t_i - t_{i-1})) / 0.4549
    (the chi-square's median). The median, unlike the mean, is not dominated
    by the few steep steps at the start of a curve, and reflects the noise
    and drift of its typical step. A curve with one observed value has
    sigma = 0. ``min_scale`` keeps flat curves from getting a point mass.
    Scales are capped at ``MAX_SCALE``.
    """

    min_scale: float = MIN_SCALE

    def __post_init__(self) -> None:
        _check_scale(self.min_scale)

    def predict(
        self,
        y_obs: Any,
        t_obs: Any = None,
        t_query: Any = None,
        *,
        horizon: float | None = None,
        transform: Transform | None = None,
    ) -> GaussianPrediction:
        """Predictive of the unobserved part; arguments as ``Extrapolator.predict``.

        Shapes: y_obs (T,) or (B, T) -> a GaussianPrediction over (Q,) or (B, Q).
        """
        request = parse_request(
            y_obs,
            t_obs,
            t_query,
            horizon=horizon,
            transform=transform,
            max_steps=DEFAULT_HORIZON,
        )
        loc, scale = _last_value(request.t, request.z, request.steps, self.min_scale)
        return _prediction(request, loc, scale, np.full(loc.shape[0], "ok"))


@dataclass(frozen=True, kw_only=True)
class ParametricFit:
    """A least-squares fit of one curve family, with regression intervals.

    The family (``FIT_FAMILIES``: "pow3", "pow4", "mmf", formulas in
    ``lcpfn.prior.curves``) is fitted to the observed (t, z) in prior units by
    ``scipy.optimize.least_squares`` within the parameter bounds of
    ``FIT_FAMILIES``, from a start through the data's ends, for at most
    ``max_nfev`` evaluations, keeping the best point found. On real curves
    many fits stop at the default limit of 100 (pow4's most, whose parameters
    trade off along flat valleys), where more evaluations barely move the
    extrapolation.

    The predictive at a query step is Gaussian around the fitted curve, with
    the prediction variance of nonlinear regression,
    s^2 (1 + g' (J'J)^+ g) + min_scale^2, s^2 = RSS / (n - p), J the
    Jacobian at the observed steps, g the gradient at the query step: the
    residual noise plus the parameters' uncertainty, which grows with the
    distance of the extrapolation. Scales are capped at ``MAX_SCALE``.

    A curve falls back to ``LastValue`` (same ``min_scale``) when it has at
    most p observed values ("too_few_points": no residual left to estimate
    the noise) or when the fit raises or gives non-finite values ("failed");
    ``GaussianPrediction.status`` records which.
    """

    family: str = "pow3"
    min_scale: float = MIN_SCALE
    max_nfev: int = 100

    def __post_init__(self) -> None:
        if self.family not in FIT_FAMILIES:
            raise InputError(
                f"family must be one of {tuple(FIT_FAMILIES)}; got {self.family!r}"
            )
        _check_scale(self.min_scale)
        if not isinstance(self.max_nfev, int) or self.max_nfev < 1:
            raise InputError(
                f"max_nfev must be a positive integer; got {self.max_nfev}"
            )

    def predict(
        self,
        y_obs: Any,
        t_obs: Any = None,
        t_query: Any = None,
        *,
        horizon: float | None = None,
        transform: Transform | None = None,
    ) -> GaussianPrediction:
        """Predictive of the unobserved part; arguments as ``Extrapolator.predict``.

        Shapes: y_obs (T,) or (B, T) -> a GaussianPrediction over (Q,) or (B, Q).
        """
        request = parse_request(
            y_obs,
            t_obs,
            t_query,
            horizon=horizon,
            transform=transform,
            max_steps=DEFAULT_HORIZON,
        )
        t, z, q = request.t, request.z, request.steps
        loc, scale = _last_value(t, z, q, self.min_scale)
        status = np.full(loc.shape[0], "ok", dtype=object)
        for i in range(loc.shape[0]):
            seen = ~np.isnan(z[i])
            fit = self._fit(t[i, seen], z[i, seen], q[i])
            if isinstance(fit, str):
                status[i] = fit
            else:
                loc[i], scale[i] = fit
        return _prediction(request, loc, scale, status.astype(str))

    def _fit(
        self, t: np.ndarray, z: np.ndarray, q: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | str:
        """Fit one curve: (loc, scale) at ``q``, or the reason to fall back.

        Shapes: t, z (n,), q (Q,) -> (Q,), (Q,).
        """
        lower, upper = (np.array(b) for b in FIT_FAMILIES[self.family])
        n, p = t.size, lower.size
        if n <= p:
            return "too_few_points"
        fn = FAMILIES[self.family].fn

        def curve(params: np.ndarray, at: np.ndarray) -> np.ndarray:
            return fn(at, *params, xp=np)

        start = np.clip(_start(self.family, t, z), lower + 1e-6, upper - 1e-6)
        with np.errstate(all="ignore"):
            try:
                result = optimize.least_squares(
                    lambda params: curve(params, t) - z,
                    start,
                    bounds=(lower, upper),
                    max_nfev=self.max_nfev,
                )
                loc = curve(result.x, q)
                grad = _gradient(curve, result.x, q, lower, upper)  # (Q, p)
                jac = result.jac  # (n, p)
                s2 = 2.0 * result.cost / (n - p)
                cov = np.linalg.pinv(jac.T @ jac)
            except (ValueError, np.linalg.LinAlgError):
                return "failed"
            var = s2 * (1.0 + np.einsum("qi,ij,qj->q", grad, cov, grad))
            scale = np.sqrt(var + self.min_scale**2)
        if not (np.isfinite(loc).all() and np.isfinite(scale).all()):
            return "failed"
        return loc, np.minimum(scale, MAX_SCALE)


# ---- internals -------------------------------------------------------------------


def _prediction(
    request: Request, loc: np.ndarray, scale: np.ndarray, status: np.ndarray
) -> GaussianPrediction:
    """Shapes: loc, scale (B, Q), status (B,)."""
    return GaussianPrediction(
        loc,
        scale,
        transform=request.transform,
        steps=request.out(request.steps),
        observed=request.observed,
        single=request.single,
        status=status,
    )


def _check_scale(min_scale: float) -> None:
    if not (isinstance(min_scale, (int, float)) and 0 < min_scale < MAX_SCALE):
        raise InputError(f"min_scale must lie in (0, {MAX_SCALE}); got {min_scale!r}")


def _last_value(
    t: np.ndarray, z: np.ndarray, q: np.ndarray, min_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Naive forecast with random-walk scale (see ``LastValue``).

    Shapes: t, z (B, T) with NaN z where unobserved, q (B, Q) -> (B, Q), (B, Q).
    """
    B, T = z.shape
    seen = ~np.isnan(z)
    # index of the latest observed column up to each column (-1 before the first)
    latest = np.maximum.accumulate(np.where(seen, np.arange(T), -1), axis=1)  # (B, T)
    prev = np.concatenate([np.full((B, 1), -1), latest[:, :-1]], axis=1)
    has_prev = seen & (prev >= 0)
    rows = np.arange(B)[:, None]
    prev_col = np.maximum(prev, 0)
    dz = np.where(has_prev, z - z[rows, prev_col], 0.0)
    dt = np.where(has_prev, t - t[rows, prev_col], 1.0)
    # median of the squared standardized increments (inf pads the missing ones)
    sq = np.sort(np.where(has_prev, dz**2 / dt, np.inf), axis=1)  # (B, T), inf last
    n_inc = has_prev.sum(axis=1)
    lo, hi = (np.maximum(n_inc - 1, 0) // 2), n_inc // 2
    median = 0.5 * (sq[np.arange(B), lo] + sq[np.arange(B), hi])
    sigma2 = np.where(n_inc > 0, median / CHI2_1_MEDIAN, 0.0)  # (B,)
    last = latest[:, -1]
    z_last, t_last = z[np.arange(B), last], t[np.arange(B), last]
    loc = np.broadcast_to(z_last[:, None], q.shape).copy()
    var = sigma2[:, None] * np.abs(q - t_last[:, None]) + min_scale**2
    return loc, np.minimum(np.sqrt(var), MAX_SCALE)


def _start(family: str, t: np.ndarray, z: np.ndarray) -> np.ndarray:
    """A starting point for the fit from the data's ends. Shapes: (n,) -> (p,)."""
    first, last = z[0], z[-1]
    rise = last - first
    if family == "pow3":  # c - a t^-alpha through both ends with alpha = 0.5
        c = last + 0.1 * rise
        return np.array([c, (c - first) * np.sqrt(t[0]), 0.5])
    if family == "pow4":  # c - (a t + b)^-alpha with alpha = 1, b = a t_0
        c = max(last, first) + 0.1 * abs(rise) + 1e-3
        a = 1.0 / (2.0 * t[0] * max(c - first, 1e-3))
        return np.array([c, a, a * t[0], 1.0])
    # mmf: from beta (t -> 0) to alpha (t -> inf), half-way at t = 1 / kappa
    return np.array([last + 0.1 * rise, first - 0.1 * rise, 1.0 / np.median(t), 1.0])


def _gradient(
    curve, params: np.ndarray, at: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """d curve(params, at) / d params by central differences within the bounds.

    One-sided where a parameter sits on a bound.
    Shapes: params (p,), at (Q,) -> (Q, p).
    """
    grads = []
    for j in range(params.size):
        step = np.zeros_like(params)
        step[j] = 1e-6 * max(1.0, abs(params[j]))
        hi = np.minimum(params + step, upper)
        lo = np.maximum(params - step, lower)
        grads.append((curve(hi, at) - curve(lo, at)) / (hi[j] - lo[j]))
    return np.stack(grads, axis=-1)
