"""lcpfn: Bayesian learning-curve extrapolation with prior-data fitted networks."""

from lcpfn import curves, priors, transforms
from lcpfn.compat import LCPFN
from lcpfn.errors import (
    CheckpointError,
    InputError,
    LcpfnError,
    PriorSpecError,
    SamplingError,
)
from lcpfn.model import CurvePFN, ModelConfig
from lcpfn.plotting import plot
from lcpfn.predict import Extrapolator, Prediction, available_models, load
from lcpfn.sampling import CurveBatch, iter_curves, sample_curves
from lcpfn.training import TrainConfig, TrainResult, train

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
