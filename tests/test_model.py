"""CurvePFN: shapes, masking, and the packed training form equal to inference."""

import pytest
import torch

from lcpfn.errors import InputError
from lcpfn.pfn.model import CurvePFN, ModelConfig, attention_mask

CFG = ModelConfig(
    n_layers=2, n_heads=2, d_model=32, n_bars=20, max_steps=100, scale_aware=False,
    curve_units=False,
)  # fmt: skip


@pytest.fixture
def model():
    torch.manual_seed(0)
    return CurvePFN(CFG, torch.linspace(0, 1, 21)).eval()


def test_shapes(model):
    B, T, Q = 3, 7, 5
    logits = model(
        torch.rand(B, T) * 100,
        torch.rand(B, T),
        torch.ones(B, T, dtype=torch.bool),
        torch.rand(B, Q) * 100,
    )
    assert logits.shape == (B, Q, 20) and torch.isfinite(logits).all()


def test_queries_do_not_see_each_other(model):
    t_obs, y_obs = torch.arange(1.0, 11)[None], torch.rand(1, 10)
    mask = torch.ones(1, 10, dtype=torch.bool)
    a = model(t_obs, y_obs, mask, torch.tensor([[20.0, 50.0, 90.0]]))
    b = model(t_obs, y_obs, mask, torch.tensor([[50.0]]))
    torch.testing.assert_close(a[:, 1], b[:, 0], atol=1e-5, rtol=1e-5)


def test_padding_is_ignored(model):
    t_obs, y_obs = torch.arange(1.0, 11)[None], torch.rand(1, 10)
    t_q = torch.tensor([[30.0, 60.0]])
    full = model(t_obs[:, :6], y_obs[:, :6], torch.ones(1, 6, dtype=torch.bool), t_q)
    mask = torch.arange(10)[None] < 6
    padded = model(t_obs, y_obs.masked_fill(~mask, 123.0), mask, t_q)
    torch.testing.assert_close(full, padded, atol=1e-5, rtol=1e-5)


def test_observation_order_does_not_matter(model):
    t_obs, y_obs = torch.arange(1.0, 9)[None], torch.rand(1, 8)
    mask = torch.ones(1, 8, dtype=torch.bool)
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(0))
    t_q = torch.tensor([[40.0]])
    torch.testing.assert_close(
        model(t_obs, y_obs, mask, t_q),
        model(t_obs[:, perm], y_obs[:, perm], mask, t_q),
        atol=1e-5,
        rtol=1e-5,
    )


SCALE_AWARE = ModelConfig(
    n_layers=2, n_heads=2, d_model=32, n_bars=CFG.n_bars, scale_aware=True,
    curve_units=True,
)  # fmt: skip


@pytest.mark.parametrize("config", [CFG, SCALE_AWARE], ids=["raw", "scale-aware"])
def test_packed_form_equals_inference_form(config):
    torch.manual_seed(0)
    model = CurvePFN(config, torch.linspace(-2, 2, config.n_bars + 1)).eval()
    B, T = 5, 30
    t = torch.arange(1.0, T + 1).expand(B, T)
    # low-noise rows too: the scale-aware inputs read differences of 1e-4
    y = 0.3 + torch.rand(B, T, generator=torch.Generator().manual_seed(1))
    y[3:] = 0.5 + 1e-4 * y[3:]
    n_obs = torch.tensor([0, 1, 12, 29, 3])
    packed = model.forward_packed(t, y, n_obs)  # (N, K), queries row-major
    start = 0
    for b in range(B):
        k = int(n_obs[b])
        mask = torch.ones(1, k, dtype=torch.bool)
        ref = model(t[b : b + 1, :k], y[b : b + 1, :k], mask, t[b : b + 1, k:])
        rows = slice(start, start + T - k)
        torch.testing.assert_close(packed[rows], ref[0], atol=1e-5, rtol=1e-5)
        start = rows.stop
        # the units of the bars are the same in both forms, and padding is ignored
        packed_scale = model.output_scale(y[b : b + 1], torch.arange(T)[None] < k)
        if packed_scale is not None and k > 0:
            own = model.output_scale(y[b : b + 1, :k], mask)
            torch.testing.assert_close(packed_scale.scale, own.scale)
            torch.testing.assert_close(packed_scale.loc, own.loc)
    assert start == packed.shape[0]


def test_config_validation():
    with pytest.raises(InputError, match="d_model % n_heads"):
        ModelConfig(d_model=30, n_heads=4)
    with pytest.raises(InputError, match="n_layers must be a positive integer"):
        ModelConfig(n_layers=0)
    with pytest.raises(InputError, match="borders must have n_bars"):
        CurvePFN(CFG, torch.linspace(0, 1, 10))


def test_paper_size_parameter_count():
    # LC-PFN's largest model: d 512, 12 layers, 1000 bars: about 26.8M parameters
    big = CurvePFN(
        ModelConfig(n_layers=12, d_model=512, n_heads=4, d_ff=1024),
        torch.linspace(0, 1, 1001),
    )
    assert 25e6 < big.n_parameters() < 28e6


@pytest.mark.parametrize("config", [CFG, SCALE_AWARE], ids=["raw", "scale-aware"])
def test_split_attention_equals_the_masked_full_attention(config):
    """The inference form's attention (observed among themselves, each query to
    the observed points and itself) is ``attention_mask``'s pattern exactly."""
    torch.manual_seed(0)
    model = CurvePFN(config, torch.linspace(-2, 2, config.n_bars + 1)).eval()
    B, T, Q = 6, 12, 7
    h = torch.randn(B, T + Q, config.d_model)
    n_obs = torch.tensor([0, 1, 3, 12, 5, 2])  # a curve with no observed point too
    obs_mask = torch.arange(T)[None] < n_obs[:, None]
    for block in model.blocks:
        full = block(h, attention_mask(obs_mask, Q))
        split = block.forward_split(h, obs_mask)
        torch.testing.assert_close(split, full, atol=1e-5, rtol=1e-5)
        assert not torch.isnan(split).any()
