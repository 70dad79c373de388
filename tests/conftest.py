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
