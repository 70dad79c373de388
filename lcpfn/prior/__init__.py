"""The prior over learning curves: its specification, its families, its sampler.

- ``spec``: ``CurvePrior`` read from TOML (``load("lcpfn")``), validated.
- ``curves``: the parametric curve families (one formula each, any array library).
- ``mixture``: the weighted mixture of families and the support test (``accepts``),
  shared by the sampler and the MCMC model (any array library).
- ``sampler``: vectorized draws of whole batches of curves (``sample_curves``).

One prior feeds both the PFN's training data and the MCMC reference model.
"""

from lcpfn.prior.curves import FAMILIES
from lcpfn.prior.sampler import CurveBatch, iter_curves, sample_curves
from lcpfn.prior.spec import CurvePrior, FamilyPrior, ParamDist, available, load

__all__ = [
    "FAMILIES",
    "CurveBatch",
    "CurvePrior",
    "FamilyPrior",
    "ParamDist",
    "available",
    "iter_curves",
    "load",
    "sample_curves",
]
