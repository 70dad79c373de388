"""The reference posterior: MCMC on the same prior spec as the PFN (NumPyro).

- ``model``: the NumPyro model generated from a ``CurvePrior``.
- ``sampler``: NUTS chains for batches of curves (``fit_mcmc``).
- ``smc``: adaptive tempered SMC, started from the prior (``fit_smc``).
- ``symmetry_moves``: Metropolis moves along what the data cannot see (how
  the families share a curve's scale and level), which SMC can interleave.
- ``linear_moves``: Metropolis moves that redraw the families' amplitudes
  from their Gaussian conditional, alone or with a new shape or weight.
- ``metropolis``: the Metropolis-Hastings loop both kinds of moves share.
- ``fit``: ``fit_posterior(method=...)``, either sampler by name.
- ``importance``: brute-force importance sampling from the prior, the check
  of both where its effective sample size is large.
- ``arguments``: the argument checks and model inputs both samplers share.
- ``batching``: either sampler over many curves, compiled once per chunk shape.
- ``posterior``: the result (ArviZ data, diagnostics) and its predictive.
- ``baseline``: MCMC as a predictor of the evaluation harness.

JAX is imported when a sampler runs, not when this package is imported.
"""

from lcpfn.mcmc.fit import fit_posterior
from lcpfn.mcmc.posterior import Diagnostics, Posterior, PosteriorPredictive
from lcpfn.mcmc.sampler import fit_mcmc
from lcpfn.mcmc.smc import fit_smc

__all__ = [
    "Diagnostics",
    "Posterior",
    "PosteriorPredictive",
    "fit_mcmc",
    "fit_posterior",
    "fit_smc",
]
