"""MCMC on the PFN's prior as a predictor of the evaluation harness.

``McmcBaseline`` has ``Extrapolator.predict``'s signature, so the real-curve
suite scores the Bayes reference the same way as the PFN and the baselines.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from lcpfn.errors import InputError
from lcpfn.mcmc.fit import METHOD_SETTINGS, METHODS, fit_posterior
from lcpfn.mcmc.posterior import ESS_MIN, R_HAT_LIMIT
from lcpfn.mcmc.sampler import DEFAULT_N_STEPS
from lcpfn.predictive import InMetricUnits
from lcpfn.request import parse_request
from lcpfn.transforms import Transform

__all__ = ["McmcBaseline"]


@dataclass(frozen=True, kw_only=True)
class McmcBaseline:
    """The reference posterior on the PFN's prior as a predictor.

    ``method`` "nuts" samples with ``lcpfn.mcmc.fit_mcmc`` (``n_chains``,
    ``n_warmup``, ``n_samples``), "smc" with ``lcpfn.mcmc.fit_smc``
    (``n_runs``, ``n_particles``, ``max_particles``, ``n_mcmc_steps``,
    ``n_leapfrog``, with ``fit_smc``'s defaults).

    The arguments are read by ``lcpfn.request.parse_request``, as
    ``Extrapolator.predict``'s are; curves are mapped into the prior's space
    with ``transform.forward``, sampled there, and the posterior predictive is
    read back in the metric's units (``lcpfn.predictive.InMetricUnits``).
    Each curve's ``status`` is "ok", or "r_hat>1.01" / "divergent" when its
    chains did not converge, "ess<400" when too few effective draws, or
    "divergent" after divergent transitions (such curves are scored, and
    counted, not left out).
    """

    prior: str = "lcpfn"
    method: str = "nuts"
    n_chains: int = 4
    n_warmup: int = 500
    n_samples: int = 500
    n_runs: int = 4
    n_particles: int = 1000
    max_particles: int | None = None
    n_mcmc_steps: int = 1
    n_leapfrog: int = 50
    seed: int = 0
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(
                f"method must be one of {sorted(METHODS)}; got {self.method!r}"
            )

    def predict(
        self,
        y_obs: Any,
        t_obs: Any = None,
        t_query: Any = None,
        *,
        horizon: float | None = None,
        transform: Transform | None = None,
    ) -> InMetricUnits:
        """Predictive of the unobserved part; arguments as ``Extrapolator.predict``.

        Shapes: y_obs (T,) or (B, T) -> an InMetricUnits over (Q,) or (B, Q).
        """
        request = parse_request(
            y_obs,
            t_obs,
            t_query,
            horizon=horizon,
            transform=transform,
            max_steps=DEFAULT_N_STEPS,
        )
        with warnings.catch_warnings():  # convergence is reported per curve
            warnings.simplefilter("ignore")
            own = {
                name: getattr(self, name)
                for name in METHOD_SETTINGS[self.method]
                if hasattr(self, name)
            }
            posterior = fit_posterior(
                request.out(request.t),
                request.out(request.z),
                self.prior,
                method=self.method,
                seed=self.seed,
                horizon=request.horizon,
                batch_size=self.batch_size,
                **own,
            )
        status = np.array([_status(d) for d in posterior.curve_diagnostics])
        return InMetricUnits(
            posterior.predict(request.out(request.steps)),
            request.transform,
            observed=request.observed,
            status=status,
        )


def _status(d: Any) -> str:
    if d.r_hat_max > R_HAT_LIMIT:
        return f"r_hat>{R_HAT_LIMIT}"
    if d.ess_bulk_min < ESS_MIN:
        return f"ess<{ESS_MIN}"
    return "divergent" if d.n_divergences else "ok"
