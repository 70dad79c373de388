"""Bar distribution: hand-computed values, round trips, and stability far out."""

import math

import pytest
import torch
from scipy import stats

from lcpfn.errors import InputError
from lcpfn.pfn.bars import LOG_PROB_FLOOR, BarDistribution, make_borders

BORDERS = torch.tensor([0.0, 1.0, 2.0, 4.0, 5.0, 6.0])  # five bars, widths 1,1,2,1,1
PROBS = torch.tensor([0.1, 0.2, 0.4, 0.2, 0.1])
S_TAIL = 1.0 / 0.6744897501960817  # outer bars have width 1


@pytest.fixture
def dist():
    return BarDistribution(BORDERS)


@pytest.fixture
def logits():
    return PROBS.log()


def test_cdf_on_and_between_borders(dist, logits):
    v = torch.tensor([1.0, 1.5, 2.0, 3.0, 4.0, 5.0])
    # F(1) = p0 (left tail ends at b_1); inner bars are linear in between
    want = torch.tensor([0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
    torch.testing.assert_close(dist.cdf(logits, v), want, atol=1e-6, rtol=0)


def test_cdf_and_sf_are_each_accurate_where_small():
    # N(0, 0.3) on bars of width 0.05: far right, P(Y > v) is far below float32's
    # 6e-8 resolution of 1 - P(Y <= v); summed from the right it keeps 1e-6
    # relative accuracy (against the same sum in float64)
    d = BarDistribution(torch.linspace(-3.0, 3.0, 121))
    mids = (d.borders[1:] + d.borders[:-1]) / 2
    logits = -0.5 * (mids / 0.3) ** 2
    p = torch.softmax(logits.double(), dim=-1)
    v = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    F, S = d.cdf_and_sf(logits, v)
    k = ((v + 3.0) / 0.05).round().long()  # v sits on border k
    want_F = torch.stack([p[:j].sum() for j in k])
    want_S = torch.stack([p[j:].sum() for j in k])
    torch.testing.assert_close(F, want_F, rtol=1e-5, atol=0)
    torch.testing.assert_close(S, want_S, rtol=1e-5, atol=0)
    assert S[-1] < 1e-10 and F[0] < 1e-10


def test_cdf_and_sf_broadcast_extra_leading_axes(dist):
    logits = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(0))
    v = torch.rand(2, 3, 4) * 8 - 1  # two points per (curve, query)
    F, S = dist.cdf_and_sf(logits, v)
    assert F.shape == S.shape == (2, 3, 4)
    for i in range(2):
        Fi, Si = dist.cdf_and_sf(logits, v[i])
        torch.testing.assert_close(F[i], Fi)
        torch.testing.assert_close(S[i], Si)
    torch.testing.assert_close(F + S, torch.ones_like(F), atol=1e-6, rtol=0)


def test_tail_cdf_is_half_normal(dist, logits):
    # half of the left tail's mass lies within one bar width of b_1
    assert dist.cdf(logits, torch.tensor(0.0)).item() == pytest.approx(0.05, abs=1e-6)
    x = torch.tensor(-2.0)  # 3 widths left of b_1
    want = 0.1 * 2 * stats.norm.sf(3.0 / S_TAIL)
    assert dist.cdf(logits, x).item() == pytest.approx(want, rel=1e-4)
    assert dist.cdf(logits, torch.tensor(6.0)).item() == pytest.approx(0.95, abs=1e-6)


def test_log_prob_hand_computed(dist, logits):
    y = torch.tensor([1.5, 3.0, 4.5])
    want = torch.tensor([0.2, 0.4 / 2, 0.2]).log()
    torch.testing.assert_close(dist.log_prob(logits, y), want)
    # right tail at distance 1 from b_4 = 5: p4 * half-normal pdf
    tail = 0.1 * 2 * stats.norm.pdf(1.0, scale=S_TAIL)
    assert dist.log_prob(logits, torch.tensor(6.0)).item() == pytest.approx(
        math.log(tail), rel=1e-5
    )


def test_density_integrates_to_one(dist, logits):
    y = torch.linspace(-40, 46, 400_001, dtype=torch.float64)
    dens = dist.log_prob(logits, y).double().exp()
    assert torch.trapezoid(dens, y).item() == pytest.approx(1.0, abs=1e-4)


def test_quantile_inverts_cdf(dist, logits):
    q = torch.tensor([1e-6, 0.01, 0.05, 0.1, 0.25, 0.5, 0.77, 0.9, 0.99, 1 - 1e-6])
    x = dist.quantile(logits, q)
    assert x.shape == (10,)
    torch.testing.assert_close(dist.cdf(logits, x), q, atol=2e-6, rtol=1e-4)
    assert (x[1:] > x[:-1]).all()
    assert dist.quantile(logits, [0.5]).item() == pytest.approx(3.0)


def test_mean_of_uniform_logits():
    d = BarDistribution(torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]))
    # symmetric borders and tails: the mean is the centre
    assert d.mean(torch.zeros(4)).item() == pytest.approx(2.0, abs=1e-6)
    lop = torch.tensor([0.0, -1e9, -1e9, -1e9])  # all mass in the left tail
    want = 1.0 - S_TAIL * math.sqrt(2 / math.pi)
    assert d.mean(lop).item() == pytest.approx(want, rel=1e-5)


def test_inverse_cdf_of_uniform_draws_matches_cdf(dist, logits):
    u = torch.rand(200_000, generator=torch.Generator().manual_seed(0))
    x = dist.inverse_cdf(logits, u)
    assert x.shape == (200_000,)
    for v in (0.5, 2.0, 3.0, 5.5):
        # binomial standard error <= 0.0012; 5 of them
        empirical = (x <= v).double().mean().item()
        assert empirical == pytest.approx(
            dist.cdf(logits, torch.tensor(v)).item(), abs=0.006
        )


def test_batched_shapes():
    d = BarDistribution(torch.linspace(0, 1, 21))
    logits = torch.randn(3, 7, 20, generator=torch.Generator().manual_seed(0))
    y = torch.rand(3, 7)
    assert d.log_prob(logits, y).shape == (3, 7)
    assert d.cdf(logits, y).shape == (3, 7)
    assert d.mean(logits).shape == (3, 7)
    assert d.quantile(logits, [0.1, 0.5, 0.9]).shape == (3, 3, 7)
    assert d.inverse_cdf(logits, torch.rand(5, 3, 7)).shape == (5, 3, 7)


@pytest.mark.parametrize("y", [-1e30, -1e6, -5.0, 0.0, 0.5, 1.0, 7.0, 1e8, 3e38])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_finite_everywhere(y, scale):
    d = BarDistribution(torch.linspace(0, 1, 11))
    logits = torch.randn(4, 10, generator=torch.Generator().manual_seed(1)) * scale
    yy = torch.full((4,), y)
    lp, c = d.log_prob(logits, yy), d.cdf(logits, yy)
    assert torch.isfinite(lp).all() and (lp >= LOG_PROB_FLOOR).all()
    assert torch.isfinite(c).all() and ((c >= 0) & (c <= 1)).all()
    assert torch.isfinite(d.quantile(logits, [1e-7, 0.5, 1 - 1e-7])).all()
    assert torch.isfinite(d.mean(logits)).all()


def test_make_borders_equal_mass():
    values = torch.randn(100_000, generator=torch.Generator().manual_seed(0))
    b = make_borders(values, 10)
    assert b.shape == (11,) and (b[1:] > b[:-1]).all()
    inner = torch.bucketize(values, b[1:-1])
    freq = torch.bincount(inner, minlength=10).double() / values.numel()
    torch.testing.assert_close(
        freq, torch.full((10,), 0.1, dtype=torch.float64), atol=2e-3, rtol=0
    )


def test_make_borders_survives_ties():
    b = make_borders(torch.cat([torch.zeros(5000), torch.rand(5000)]), 50)
    assert (b[1:] > b[:-1]).all()


def test_bad_borders():
    with pytest.raises(InputError, match="strictly increasing"):
        BarDistribution(torch.tensor([0.0, 1.0, 1.0, 2.0]))
    with pytest.raises(InputError, match="n_bars must be >= 3"):
        make_borders(torch.rand(100), 2)
    with pytest.raises(InputError, match="quantile levels must lie in"):
        BarDistribution(BORDERS).quantile(PROBS.log(), [0.0, 0.5])


def test_borders_travel_in_state_dict():
    d = BarDistribution(BORDERS)
    assert torch.equal(d.state_dict()["borders"], BORDERS)
