"""``fit_posterior``: the reference posterior by method name.

One entry point for both samplers, so that callers (the MCMC baseline, the
benchmarks, users) choose a method with a string instead of branching:

- "smc": adaptive tempered SMC (``lcpfn.mcmc.smc.fit_smc``), the reference:
  it starts from the prior, so every mode is found and weighted;
- "nuts": NUTS chains (``lcpfn.mcmc.sampler.fit_mcmc``), fast where the
  posterior has one mode.

Each method's own settings (``METHOD_SETTINGS``) pass through as keywords;
one that belongs to the other method is an error naming it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lcpfn.errors import InputError
from lcpfn.mcmc.posterior import Posterior
from lcpfn.mcmc.sampler import fit_mcmc
from lcpfn.mcmc.smc import fit_smc
from lcpfn.prior.spec import CurvePrior

__all__ = ["DEFAULT_METHOD", "METHODS", "METHOD_SETTINGS", "fit_posterior"]

METHODS: dict[str, Callable[..., Posterior]] = {"smc": fit_smc, "nuts": fit_mcmc}
DEFAULT_METHOD = "smc"
_SHARED = ("t_obs", "y_obs", "prior", "seed", "n_steps", "horizon", "batch_size")
METHOD_SETTINGS: dict[str, tuple[str, ...]] = {
    name: tuple(p for p in inspect.signature(fit).parameters if p not in _SHARED)
    for name, fit in METHODS.items()
}


def fit_posterior(
    t_obs: Any,
    y_obs: Any,
    prior: CurvePrior | str | Path,
    *,
    method: str = DEFAULT_METHOD,
    **settings: Any,
) -> Posterior:
    """Sample the posterior of ``prior``'s curve model with ``method``.

    Args:
        t_obs, y_obs, prior: as ``fit_mcmc``.
        method: "smc" (tempered SMC, the default) or "nuts".
        **settings: the shared keywords (``seed``, ``n_steps``, ``horizon``,
            ``batch_size``) and the method's own (``METHOD_SETTINGS[method]``).

    Returns:
        The method's ``Posterior`` (``posterior.method`` names it).

    Raises:
        InputError (a ValueError) for an unknown method or a setting of the
        other method, besides the samplers' own argument errors.

    Shapes:
        as ``fit_mcmc``.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise InputError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    allowed = set(_SHARED) | set(METHOD_SETTINGS[method])
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise InputError(
            f"{unknown[0]!r} is not a setting of method {method!r}; its settings are "
            f"{', '.join(METHOD_SETTINGS[method])}"
        )
    return METHODS[method](t_obs, y_obs, prior, **settings)
