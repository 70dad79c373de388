"""The reference posterior: MCMC on the same prior spec as the PFN (NumPyro).

- ``model``: the NumPyro model generated from a ``CurvePrior``.
- ``sampler``: NUTS chains for batches of curves (``fit_mcmc``).
- ``posterior``: the result (ArviZ data, diagnostics) and its predictive.
- ``baseline``: MCMC as a predictor of the evaluation harness.

JAX is imported when a sampler runs, not when this package is imported.
"""

from lcpfn.mcmc.posterior import Diagnostics, Posterior, PosteriorPredictive
from lcpfn.mcmc.sampler import fit_mcmc

__all__ = ["Diagnostics", "Posterior", "PosteriorPredictive", "fit_mcmc"]
