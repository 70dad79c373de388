import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # plain_sampler.py

import lcpfn  # noqa: E402


@pytest.fixture(scope="session")
def lcpfn_prior():
    return lcpfn.priors.load("lcpfn")


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory, lcpfn_prior):
    """A tiny CurvePFN trained for 60 steps, exported as safetensors + card."""
    from lcpfn.pfn.model import ModelConfig
    from lcpfn.pfn.training import TrainConfig, train

    result = train(
        lcpfn_prior,
        ModelConfig(n_layers=1, n_heads=2, d_model=32, n_bars=50),
        TrainConfig(n_curves=60 * 32, batch_size=32, lr=2e-3, n_border_curves=1000),
        progress=False,
    )
    path = tmp_path_factory.mktemp("models") / "tiny"
    result.save(path)
    return path


@pytest.fixture(scope="session")
def tiny(tiny_model_path):
    """An Extrapolator over the tiny model."""
    return lcpfn.load(tiny_model_path)
