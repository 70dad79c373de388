"""Argument checks and model inputs shared by the posterior samplers.

``fit_mcmc`` (NUTS) and ``fit_smc`` (tempered SMC) take the same data
arguments and reject bad ones with the same messages.

Shapes: B curves, T observed steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lcpfn.errors import InputError
from lcpfn.request import Request, parse_horizon, parse_request

__all__ = ["check_seed", "model_inputs", "model_steps", "open_unit", "positive_int"]


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def open_unit(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise InputError(f"{name} must be a number in (0, 1); got {value!r}")
    if not 0 < value < 1:
        raise InputError(f"{name} must lie in (0, 1); got {value!r}")
    return float(value)


def check_seed(seed: Any) -> int:
    if not (isinstance(seed, int | np.integer) and 0 <= seed < 2**63):
        raise InputError(f"seed must be an integer in [0, 2**63); got {seed!r}")
    return int(seed)


def model_inputs(
    y_obs: Any, t_obs: Any, horizon: Any, n_steps: int
) -> tuple[Request, float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The parsed request, the horizon, and (t, y, mask) in the model's units.

    t is mapped by ``model_steps`` (``t * n_steps / horizon``, as in
    ``lcpfn.predict``, at least 1); masked entries hold t = 1 and y = 0.

    Shapes: t, y float32 (B, T), mask bool (B, T)
    """
    horizon = parse_horizon(horizon, n_steps)
    # the queries come with Posterior.predict; until then the horizon stands
    # in for them, so that the observed steps are checked against it
    request = parse_request(
        y_obs, t_obs, horizon, horizon=horizon, transform=None, max_steps=n_steps
    )
    t, y = request.t, request.z  # y_obs is in the prior's units already
    mask = ~np.isnan(y)
    t_model = np.where(mask, model_steps(t, n_steps, horizon), 1.0)
    t_model = t_model.astype(np.float32)
    y_model = np.where(mask, y, 0.0).astype(np.float32)
    return request, horizon, (t_model, y_model, mask)


def model_steps(steps: np.ndarray, n_steps: int, horizon: float) -> np.ndarray:
    """``steps`` (in (0, horizon], as every predictor takes them) in the prior's
    units, ``steps * n_steps / horizon``, a step before the prior's first one
    taken at it: the prior defines its curves from step 1 on (before it,
    pow3's ``t ** -alpha`` overflows).

    Shapes: steps (B, Q)  ->  (B, Q)
    """
    return np.maximum(steps * n_steps / horizon, 1.0)
