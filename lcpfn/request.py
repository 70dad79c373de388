"""Reading a prediction request: array-likes in, one validated ``Request`` out.

``parse_request`` is the one parser behind ``Extrapolator.predict``, the
baselines of ``lcpfn.evaluation.baselines``, ``lcpfn.mcmc.fit_mcmc`` (and its
``Posterior.predict``) and ``McmcBaseline``. It accepts lists, NumPy, torch
and pandas; one curve (T,), a batch (B, T) with NaN for unobserved steps, or a
list of 1-D arrays of different lengths. Every problem raises InputError (a
ValueError) or TypeError naming the argument and what arrived.

NaN policy: a NaN in ``y_obs`` marks an unobserved step; every curve needs at
least one observed value; inf is an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from lcpfn.errors import InputError
from lcpfn.transforms import Identity, Transform

__all__ = ["Request", "parse_curves", "parse_horizon", "parse_request", "thin"]

MAX_DEFAULT_QUERIES = 100_000  # whole steps up to the horizon, when t_query is None


@dataclass(frozen=True, kw_only=True, eq=False)
class Request:
    """The validated arguments of one ``predict`` call, always batched.

    Attributes:
        y: observed values in the metric's units, NaN where unobserved. (B, T).
        t: their steps in the user's units (unchecked where unobserved). (B, T).
        steps: the query steps in the user's units. (B, Q).
        horizon: the planned total length, in the units of t.
        transform: the map from the metric's units into the prior's space.
        single: one curve (T,) came in, so outputs drop the curve axis.
        z: ``transform.forward(y)``, the values in the prior's space, NaN
            where unobserved. (B, T).
        last: where the default queries start: T when ``t_obs`` was None,
            else the largest observed t.
    """

    y: np.ndarray
    t: np.ndarray
    steps: np.ndarray
    horizon: float
    transform: Transform
    single: bool
    z: np.ndarray
    last: float

    @property
    def observed(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, y) as given: (T,) each for one curve, (B, T) each for a batch."""
        return self.out(self.t), self.out(self.y)

    def out(self, a: np.ndarray) -> np.ndarray:
        """(B, ...) -> (...) for a one-curve request; a batch's arrays unchanged."""
        return a[0] if self.single else a

    def at(self, t_query: Any) -> Request:
        """The same curves asked at other steps, validated as ``parse_request`` does.

        Shapes: t_query (Q,), (B, Q) or None  ->  a Request with steps (B, Q).
        """
        steps = _query_steps(t_query, self.t, self.y, self.last, self.horizon)
        return replace(self, steps=steps)


def parse_request(
    y_obs: Any,
    t_obs: Any,
    t_query: Any,
    *,
    horizon: float | None,
    transform: Transform | None,
    max_steps: float,
) -> Request:
    """Validate the arguments of a ``predict`` call into one ``Request``.

    Args:
        y_obs: one curve (T,), a batch (B, T) with NaN where not observed, or a
            list of 1-D arrays of any lengths (padded with NaN).
        t_obs: steps of ``y_obs``: (T,) for all curves, (B, T) each, or a list
            like ``y_obs``'s; None for 1..T. Finite, positive and strictly
            increasing at the observed steps of each curve.
        t_query: steps to predict: (Q,) for all curves or (B, Q) each; None for
            every whole step after ``last`` (see ``Request``) up to ``horizon``.
        horizon: the planned total length in the units of t; None for
            ``max_steps``. No observed or query step may lie beyond it.
        transform: an ``lcpfn.transforms.Transform`` (its per-curve parameters
            for B curves), or None for ``Identity``; ``y_obs`` must lie within
            its bounds.
        max_steps: the default horizon (the model's or the prior's grid).

    Returns:
        A ``Request`` holding batched arrays.

    Shapes:
        y_obs (T,) or (B, T), t_obs (T,) or (B, T), t_query (Q,) or (B, Q)
        ->  y, t, z (B, T); steps (B, Q)

    Raises:
        InputError (a ValueError) or TypeError naming the bad argument.
    """
    transform = Identity() if transform is None else transform
    if not isinstance(transform, Transform):
        raise TypeError(
            f"transform must be an lcpfn.transforms.Transform; got {transform!r}"
        )
    y, t, single = parse_curves(y_obs, t_obs)
    B, T = y.shape
    horizon = parse_horizon(horizon, max_steps)
    observed = ~np.isnan(y)
    _check_observed_steps(t, observed)
    last = float(T) if t_obs is None else float(np.where(observed, t, -np.inf).max())
    steps = _query_steps(t_query, t, y, last, horizon)
    n = transform.n_curves()
    if n is not None and n != B:
        raise InputError(
            f"transform has per-curve parameters for {n} curves; y_obs has {B}"
        )
    transform.check(y, "y_obs")
    z = np.where(observed, transform.forward(np.nan_to_num(y)), np.nan)
    return Request(
        y=y,
        t=t,
        steps=steps,
        horizon=horizon,
        transform=transform,
        single=single,
        z=z,
        last=last,
    )


def as_float_array(value: Any, name: str) -> np.ndarray:
    if torch.is_tensor(value):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except ValueError as err:  # ragged nested lists
        raise InputError(f"{name} could not be read as an array: {err}") from err
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _is_list_of_curves(value: Any) -> bool:
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        return False
    try:
        dims = [np.ndim(v) for v in value]
    except ValueError:  # an element is itself ragged: not a list of curves
        return False
    return all(d == 1 for d in dims) and len({len(v) for v in value}) > 1


def _pad(curves: list[Any], name: str) -> np.ndarray:
    """Ragged list of 1-D arrays -> (B, T_max) padded with NaN."""
    arrays = [as_float_array(c, f"{name}[{i}]") for i, c in enumerate(curves)]
    out = np.full((len(arrays), max(len(a) for a in arrays)), np.nan)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return out


def parse_curves(y_obs: Any, t_obs: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Parse and validate (y, t) -> (B, T) float64 arrays and whether one curve came."""
    if _is_list_of_curves(y_obs):
        y = _pad(list(y_obs), "y_obs")
    else:
        y = as_float_array(y_obs, "y_obs")
    if y.ndim not in (1, 2) or y.size == 0:
        raise InputError(
            f"y_obs must be one curve (T,), a batch (B, T) or a list of 1-D arrays, "
            f"not empty; got shape {y.shape}"
        )
    single = y.ndim == 1
    y = y.reshape(1, -1) if single else y
    B, T = y.shape
    if np.isinf(y).any():
        raise InputError("y_obs must not contain inf (use NaN for unobserved steps)")
    empty = np.flatnonzero(np.isnan(y).all(axis=1))
    if empty.size:
        raise InputError(
            f"y_obs: curve(s) {empty[:5].tolist()} have no observed value (all NaN)"
        )
    if t_obs is None:
        t = np.broadcast_to(np.arange(1.0, T + 1), (B, T)).copy()
    else:
        t = (
            _pad(list(t_obs), "t_obs")
            if _is_list_of_curves(t_obs)
            else (as_float_array(t_obs, "t_obs"))
        )
        if t.ndim == 1 and t.shape == (T,):
            t = np.broadcast_to(t, (B, T)).copy()
        elif t.shape != (B, T):
            raise InputError(
                f"t_obs must have shape ({T},) or ({B}, {T}) like y_obs; got {t.shape}"
            )
    return y, t, single


def parse_horizon(horizon: Any, max_steps: int) -> float:
    if horizon is None:
        return float(max_steps)
    try:
        value = float(horizon)
    except (TypeError, ValueError) as err:
        raise InputError(f"horizon must be a positive number; got {horizon!r}") from err
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"horizon must be a positive finite number; got {horizon!r}")
    return value


def _query_steps(
    t_query: Any, t: np.ndarray, y: np.ndarray, last: float, horizon: float
) -> np.ndarray:
    """Validated query steps, with the observed steps checked against them.

    Shapes: t, y (B, T)  ->  (B, Q)
    """
    steps = _parse_queries(t_query, y.shape[0], last, horizon)
    _check_steps(t, y, steps, horizon)
    return steps


def _parse_queries(t_query: Any, B: int, last: float, horizon: float) -> np.ndarray:
    """(B, Q) query steps in user units.

    The default is every whole step after ``last`` up to ``horizon``: ``last``
    is the batch's width T when t is the default 1..T, else the largest t given.
    """
    if t_query is None:
        if last > horizon:
            raise InputError(
                f"t_obs reaches {last:g}, beyond horizon={horizon:g}; pass "
                f"horizon= the planned total length of the run (in the units of t)"
            )
        n_default = math.floor(horizon) - math.floor(last)
        if n_default > MAX_DEFAULT_QUERIES:
            raise InputError(
                f"horizon={horizon:g} gives {n_default:.3g} default query steps (one "
                f"per whole step), more than {MAX_DEFAULT_QUERIES:,}; pass t_query"
            )
        q = np.arange(math.floor(last) + 1.0, math.floor(horizon) + 1.0)
        if q.size == 0:
            raise InputError(
                f"no steps left to predict after t = {last:g} (horizon={horizon:g}); "
                f"pass t_query, or horizon= the planned total length"
            )
        return np.broadcast_to(q, (B, q.size)).copy()
    q = as_float_array(t_query, "t_query")
    if q.ndim == 0:
        q = q.reshape(1)
    if q.ndim == 1 and q.size > 0:
        return np.broadcast_to(q, (B, q.size)).copy()
    if q.ndim == 2 and q.shape[0] == B and q.shape[1] > 0:
        return q
    raise InputError(f"t_query must have shape (Q,) or ({B}, Q), Q >= 1; got {q.shape}")


def _check_steps(t: np.ndarray, y: np.ndarray, q: np.ndarray, horizon: float) -> None:
    """Observed t finite, positive, strictly increasing; queries in (0, horizon]."""
    observed = ~np.isnan(y)
    t_seen = np.where(observed, t, np.nan)
    # increasing among observed points: compare each with the last observed before it
    last = np.fmax.accumulate(np.where(observed, t_seen, -np.inf), axis=1)
    prev = np.concatenate([np.full((t.shape[0], 1), -np.inf), last[:, :-1]], axis=1)
    if (observed & (t <= prev)).any():
        row = int(np.flatnonzero((observed & (t <= prev)).any(axis=1))[0])
        raise InputError(
            f"t_obs must be strictly increasing (no repeats) within each curve; "
            f"curve {row} has {t_seen[row][observed[row]][:10].tolist()}..."
        )
    if not (np.isfinite(q).all() and (q > 0).all()):
        raise InputError(f"t_query must be finite and > 0; got {q[~(q > 0)][:5]}")
    too_far = max(np.nanmax(t_seen), q.max())
    if too_far > horizon * (1 + 1e-9):
        raise InputError(
            f"t_obs/t_query reach {too_far:g}, beyond horizon={horizon:g}; pass "
            f"horizon= the planned total length of the run (in the units of t)"
        )


def thin(
    t: np.ndarray, z: np.ndarray, observed: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pack observed points to the left; keep at most ``max_points`` per curve.

    Shapes: (B, T) x 3  ->  (B, W) float64, (B, W) float64, (B, W) bool with
    W = min(max observed count, max_points); padding has t = 1, z = 0.
    """
    n = observed.sum(axis=1, keepdims=True)  # (B, 1)
    rank = np.cumsum(observed, axis=1) - 1  # index among the curve's observed points
    m = np.minimum(n, max_points)
    # evenly spaced: keep rank r when floor((r+1) m / n) > floor(r m / n); the
    # last observed point (r = n - 1) is always kept, exactly m points in all
    keep = observed & ((rank + 1) * m // n > rank * m // n)
    order = np.argsort(~keep, axis=1, kind="stable")
    width = int(m.max())
    idx = order[:, :width]
    mask = np.take_along_axis(keep, idx, axis=1)
    t_out = np.where(mask, np.take_along_axis(t, idx, axis=1), 1.0)
    z_out = np.where(mask, np.take_along_axis(z, idx, axis=1), 0.0)
    return t_out, z_out, mask


def _check_observed_steps(t: np.ndarray, observed: np.ndarray) -> None:
    """Observed t finite and positive. Shapes: t, observed (B, T)."""
    bad = observed & ~(np.isfinite(t) & (t > 0))
    if bad.any():
        raise InputError(
            f"t_obs must be finite and > 0 at observed steps; got {t[bad][:5].tolist()}"
        )
