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
from lcpfn.predictive import InMetricUnits
from lcpfn.transforms import Identity, Transform

__all__ = ["McmcBaseline"]


@dataclass(frozen=True, kw_only=True)
class McmcBaseline:
    """MCMC on the PFN's prior (``lcpfn.mcmc.fit_mcmc``) as a predictor.

    Curves are mapped into the prior's space with ``transform.forward``,
    sampled there, and the posterior predictive is read back in the metric's
    units (``lcpfn.predictive.InMetricUnits``). Each curve's ``status`` is
    "ok", or "r_hat>1.01" / "divergent" when its chains did not converge or
    had divergent transitions (such curves are scored, and counted, not left
    out).
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
        """Shapes: y_obs (B, T), t_obs (T,) or (B, T), t_query (B, Q) -> (B, Q)."""
        from lcpfn.mcmc.sampler import (
            fit_mcmc,  # imports jax: only when MCMC is asked for
        )

        transform = Identity() if transform is None else transform
        y = np.asarray(y_obs, dtype=np.float64)
        transform.check(y, "y_obs")
        z = np.where(np.isnan(y), np.nan, transform.forward(np.nan_to_num(y)))
        with warnings.catch_warnings():  # convergence is reported per curve
            warnings.simplefilter("ignore")
            posterior = fit_mcmc(
                t_obs,
                z,
                self.prior,
                seed=self.seed,
                n_chains=self.n_chains,
                n_warmup=self.n_warmup,
                n_samples=self.n_samples,
                horizon=horizon,
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
        steps = np.arange(1.0, y.shape[-1] + 1) if t_obs is None else t_obs
        t = np.broadcast_to(np.asarray(steps, dtype=np.float64), y.shape)
        return InMetricUnits(
            posterior.predict(t_query), transform, observed=(t, y), status=status
        )
