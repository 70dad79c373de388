"""lcpfn: Bayesian learning-curve extrapolation with prior-data fitted networks.

The package, by folder: ``prior`` (the prior spec, curve families, sampler),
``pfn`` (the network, its bar distribution, training, checkpoints), ``mcmc``
(the reference posterior on the same prior), ``evaluation`` (real curves,
baselines, metrics, scoring, reports). At the top: what users call
(``load``/``predict``, ``transforms``, ``stopping``, ``compat``, ``cli``).
"""

from lcpfn import _moved, transforms
from lcpfn.compat import LCPFN
from lcpfn.errors import (
    CheckpointError,
    InputError,
    LcpfnError,
    PriorSpecError,
    SamplingError,
)
from lcpfn.pfn.model import CurvePFN, ModelConfig
from lcpfn.pfn.training import TrainConfig, TrainResult, train
from lcpfn.plotting import plot
from lcpfn.predict import Extrapolator, Prediction, available_models, load
from lcpfn.prior import curves
from lcpfn.prior import spec as priors
from lcpfn.prior.sampler import CurveBatch, iter_curves, sample_curves

_moved.install()  # old module paths (lcpfn.priors, lcpfn.datasets, ...) still import

__version__ = "0.1.0"

__all__ = [
    "LCPFN",
    "CheckpointError",
    "Extrapolator",
    "Prediction",
    "available_models",
    "load",
    "plot",
    "transforms",
    "CurveBatch",
    "CurvePFN",
    "ModelConfig",
    "TrainConfig",
    "TrainResult",
    "InputError",
    "LcpfnError",
    "PriorSpecError",
    "SamplingError",
    "__version__",
    "curves",
    "iter_curves",
    "priors",
    "sample_curves",
    "train",
]
