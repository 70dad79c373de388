"""lcpfn.LCPFN keeps the 2023 reference package's methods and tensor shapes."""

import numpy as np
import pytest
import torch

import lcpfn


@pytest.fixture(scope="module")
def ref(tiny_model_path):
    return lcpfn.LCPFN(str(tiny_model_path))


def test_reference_shapes(ref, tiny):
    x_train = torch.arange(1, 11).unsqueeze(-1)
    y_train = torch.linspace(0.3, 0.6, 10).unsqueeze(-1)
    x_test = torch.arange(11, 16).unsqueeze(-1)
    mean = ref.predict_mean(x_train, y_train, x_test)
    qs = ref.predict_quantiles(x_train, y_train, x_test, [0.1, 0.5, 0.9])
    nll = ref.nll_loss(x_train, y_train, x_test, torch.full((5, 1), 0.6))
    logits = ref(x_train, y_train, x_test)
    assert mean.shape == (5, 1) and qs.shape == (5, 3) and nll.shape == (5, 1)
    assert logits.shape == (5, 1, 50) and isinstance(mean, torch.Tensor)
    assert bool((qs[:, 0] < qs[:, 1]).all() and (qs[:, 1] < qs[:, 2]).all())
    # the same numbers as the native API
    pred = tiny.predict(np.linspace(0.3, 0.6, 10), t_query=np.arange(11, 16))
    np.testing.assert_allclose(mean[:, 0].numpy(), pred.mean(), atol=1e-6)
    np.testing.assert_allclose(qs.numpy().T, pred.quantile([0.1, 0.5, 0.9]), atol=1e-6)


def test_reference_model_names_fall_back_to_the_default_with_a_warning(
    monkeypatch, tiny
):
    monkeypatch.setattr("lcpfn.compat.load", lambda name: tiny)
    with pytest.warns(UserWarning, match="reference package"):
        model = lcpfn.LCPFN("EMSIZE512_NLAYERS12_NBUCKETS1000")
    assert model.extrapolator is tiny
