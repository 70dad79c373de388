"""MCMC on the PFN's prior as a predictor of the evaluation harness.

``McmcBaseline`` has ``Extrapolator.predict``'s signature, so the real-curve
suite scores the Bayes reference the same way as the PFN and the baselines.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from lcpfn.mcmc.posterior import R_HAT_LIMIT
from lcpfn.mcmc.sampler import DEFAULT_N_STEPS, fit_mcmc
from lcpfn.predictive import InMetricUnits
from lcpfn.request import parse_request
from lcpfn.transforms import Transform

__all__ = ["McmcBaseline"]


@dataclass(frozen=True, kw_only=True)
class McmcBaseline:
    """MCMC on the PFN's prior (``lcpfn.mcmc.fit_mcmc``) as a predictor.

    The arguments are read by ``lcpfn.request.parse_request``, as
    ``Extrapolator.predict``'s are; curves are mapped into the prior's space
    with ``transform.forward``, sampled there, and the posterior predictive is
    read back in the metric's units (``lcpfn.predictive.InMetricUnits``).
    Each curve's ``status`` is "ok", or "r_hat>1.01" / "divergent" when its
    chains did not converge or had divergent transitions (such curves are
    scored, and counted, not left out).
    """

    prior: str = "lcpfn"
    n_chains: int = 4
    n_warmup: int = 500
    n_samples: int = 500
    seed: int = 0
    batch_size: int = 16

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
            posterior = fit_mcmc(
                request.out(request.t),
                request.out(request.z),
                self.prior,
                seed=self.seed,
                n_chains=self.n_chains,
                n_warmup=self.n_warmup,
                n_samples=self.n_samples,
                horizon=request.horizon,
                batch_size=self.batch_size,
            )
        status = np.array(
            [
                "r_hat>1.01"
                if d.r_hat_max > R_HAT_LIMIT
                else ("divergent" if d.n_divergences else "ok")
                for d in posterior.curve_diagnostics
            ]
        )
        return InMetricUnits(
            posterior.predict(request.out(request.steps)),
            request.transform,
            observed=request.observed,
            status=status,
        )
