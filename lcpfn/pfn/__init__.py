"""The prior-data fitted network: model, output distribution, training, weights.

- ``model``: the transformer over observed points and query steps (``CurvePFN``).
- ``bars``: its output distribution (the Riemann "bar" distribution).
- ``curve_scale``: each curve's own location and scale, for scale-aware models.
- ``training``: training on curves drawn from a prior, resumable (``train``).
- ``checkpoint``: training checkpoints and exported safetensors + model cards.
"""

from lcpfn.pfn.model import CurvePFN, ModelConfig
from lcpfn.pfn.training import TrainConfig, TrainResult, train

__all__ = ["CurvePFN", "ModelConfig", "TrainConfig", "TrainResult", "train"]
