"""The prior's range guarantee on the PFN's predictive (``lcpfn.pfn.prior_range``).

The bars here span [-3, 3] in the prior's units with the range [0, 1]; random
logits put mass anywhere, so most of them break the guarantee somewhere.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats

import lcpfn
from lcpfn.errors import InputError
from lcpfn.pfn.bars import BarDistribution, make_curve_borders
from lcpfn.pfn.curve_scale import curve_scale
from lcpfn.pfn.prior_range import PriorRange
from lcpfn.predict import Extrapolator, ScaledBars
from lcpfn.transforms import loss_curve

BARS = BarDistribution(torch.linspace(-3.0, 3.0, 121))
RANGE = PriorRange(0.0, 1.0)
GRID = torch.linspace(-6.0, 7.0, 26001, dtype=torch.float64)  # step 5e-4


def scaled(prior_range: PriorRange) -> ScaledBars:
    return ScaledBars(BARS, None, prior_range)


def logits_around(centre: float, width: float) -> torch.Tensor:
    """Bar logits of a rounded normal N(centre, width). Shapes: (K,)."""
    mids = (BARS.borders[1:] + BARS.borders[:-1]) / 2
    return -0.5 * ((mids - centre) / width) ** 2


def random_logits(seed: int, n: int = 8, everywhere: bool = False) -> torch.Tensor:
    """Random mass on (-0.95, 1.95), where the mirrors of the two bounds do not
    carry it past each other (``lcpfn.pfn.prior_range``; e^-60 elsewhere), or
    on all bars (``everywhere``: every term of the min and max gets its turn).

    Shapes: (n, 1, K): n curves, one query step.
    """
    g = torch.Generator().manual_seed(seed)
    mids = (BARS.borders[1:] + BARS.borders[:-1]) / 2
    inside = (mids > -0.95) & (mids < 1.95) | everywhere
    logits = 3.0 * torch.randn(n, 1, BARS.n_bars, generator=g)
    return torch.where(inside, logits, torch.tensor(-60.0))


def on_grid(logits: torch.Tensor) -> torch.Tensor:
    """Shapes: (B, 1, K) -> the grid broadcast to (G, B, 1)."""
    return GRID[:, None, None].expand(-1, *logits.shape[:-1])


def test_a_predictive_that_keeps_the_guarantee_is_unchanged():
    # mass well inside [0, 1]: no u has more mass below 0 - u than above 0 + u
    logits = torch.stack([logits_around(0.5, 0.1), logits_around(0.3, 0.05)])[:, None]
    held, alone = scaled(RANGE), scaled(PriorRange())
    y = on_grid(logits)
    torch.testing.assert_close(
        held.cdf(logits, y), alone.cdf(logits, y), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(held.log_prob(logits, y), alone.log_prob(logits, y))
    q = [0.01, 0.05, 0.5, 0.9, 0.999]
    torch.testing.assert_close(held.quantile(logits, q), alone.quantile(logits, q))
    shift = held.mean_shift(logits, lambda a: a, 256)
    assert np.abs(shift).max() == 0.0


def test_mass_entirely_below_the_floor_is_mirrored_onto_it():
    # below 0 and its mirror image inside (-1, 2) (``lcpfn.pfn.prior_range``)
    logits = logits_around(-0.5, 0.08)[None, None]
    held, alone = scaled(RANGE), scaled(PriorRange())
    # within 6 sd of the mass at y or at -y: beyond, both probabilities that
    # decide between the two densities underflow float32, and the bars' own is kept
    y = on_grid(logits)[(GRID.abs() <= 0.98)]
    torch.testing.assert_close(
        held.cdf(logits, y), 1 - alone.cdf(logits, -y), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(held.log_prob(logits, y), alone.log_prob(logits, -y))
    q = torch.tensor([0.05, 0.5, 0.95], dtype=torch.float64)
    torch.testing.assert_close(held.quantile(logits, q), -alone.quantile(logits, 1 - q))
    assert held.quantile(logits, [0.5]).item() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("seed", range(4))
def test_the_result_keeps_the_guarantee(seed):
    logits = random_logits(seed)
    held = scaled(RANGE)
    u = torch.linspace(0.0, 4.0, 801, dtype=torch.float64)[:, None, None].expand(
        -1, *logits.shape[:-1]
    )
    F = lambda v: held.cdf(logits, v).double()  # noqa: E731
    # P(y < -u) <= P(y > u) and P(y > 1 + u) <= P(y < 1 - u); float32 CDFs: 1e-6
    assert (F(-u) <= 1 - F(u) + 1e-6).all()
    assert (1 - F(1 + u) <= F(1 - u) + 1e-6).all()
    median = held.quantile(logits, [0.5])
    assert ((median >= -1e-6) & (median <= 1 + 1e-6)).all()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("everywhere", [False, True])
def test_the_result_is_a_distribution(seed, everywhere):
    logits = random_logits(seed, everywhere=everywhere)
    held = scaled(RANGE)
    F = lambda v: held.cdf(logits, v).double()  # noqa: E731
    # a CDF: increasing, from 0 to 1
    cdf = F(on_grid(logits))
    assert (cdf.diff(dim=0) >= -1e-6).all()
    assert (cdf[0] < 1e-3).all() and (cdf[-1] > 1 - 1e-3).all()
    # the bars' borders and their mirror images lie on the grid, so the
    # density is constant on each cell but those holding a kink of the min /
    # max, and the midpoint rule is exact there
    step = GRID[1] - GRID[0]
    mids = on_grid(logits)[:-1] + step / 2
    density = held.log_prob(logits, mids).double().exp()
    mass = (density * step).sum(dim=0)
    torch.testing.assert_close(mass, cdf[-1] - cdf[0], atol=1e-4, rtol=0)
    slope = cdf.diff(dim=0) / step
    close = (slope - density).abs() <= 1e-3 + 1e-3 * density
    assert close.double().mean() > 0.999
    # quantiles invert the CDF
    levels = torch.tensor([0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99], dtype=torch.float64)
    at = held.quantile(logits, levels)  # (L, B, 1)
    torch.testing.assert_close(
        F(at), levels[:, None, None].expand_as(at), atol=2e-5, rtol=0
    )


@pytest.mark.parametrize("everywhere", [False, True])
def test_samples_follow_the_cdf(everywhere):
    # KS test per curve, 4,000 draws; the eight curves at Bonferroni 0.01
    seed = 0
    logits = random_logits(seed, everywhere=everywhere)
    held = scaled(RANGE)
    draws = held.sample(logits, 4000, torch.Generator().manual_seed(seed)).double()
    for b in range(logits.shape[0]):
        x = draws[:, b, 0]

        def cdf(v, b=b):
            v = torch.as_tensor(v, dtype=torch.float64)[:, None, None]
            v = v.expand(-1, logits.shape[0], 1)
            return held.cdf(logits, v)[:, b, 0].double().numpy()

        assert stats.kstest(x.numpy(), cdf).pvalue > 0.01 / logits.shape[0]


def test_mean_shift_is_the_mean_of_the_mirrored_distribution():
    logits = logits_around(-0.5, 0.08)[None, None]
    held, alone = scaled(RANGE), scaled(PriorRange())
    exact = (
        held.own_mean(logits).item() + held.mean_shift(logits, lambda a: a, 256).item()
    )
    assert exact == pytest.approx(-alone.own_mean(logits).item(), abs=1e-3)


def test_an_infinite_bound_leaves_its_side_alone():
    above = logits_around(2.0, 0.2)[None, None]  # all mass beyond the upper bound 1
    floor_only, alone = scaled(PriorRange(0.0, math.inf)), scaled(PriorRange())
    y = on_grid(above)
    assert floor_only.prior_range.bounded and not alone.prior_range.bounded
    torch.testing.assert_close(floor_only.cdf(above, y), alone.cdf(above, y))
    torch.testing.assert_close(floor_only.log_prob(above, y), alone.log_prob(above, y))
    # with the upper bound finite, the mass is mirrored across it: 2 -> 0
    assert scaled(RANGE).quantile(above, [0.5]).item() == pytest.approx(0.0, abs=0.02)


def test_range_is_read_from_the_model_card():
    card = {"prior": {"constraints": {"y_min": 0.0, "y_max": 1.0}}}
    assert PriorRange.of_card(card) == PriorRange(0.0, 1.0)
    assert PriorRange.of_card({}) == PriorRange()
    assert PriorRange.of_card({"prior": None}) == PriorRange()
    assert lcpfn.load("default").prior_range == PriorRange(0.0, 1.0)


@pytest.mark.parametrize("bounds", [(1.0, 0.0), (0.0, 0.0), (math.nan, 1.0)])
def test_an_empty_range_is_refused(bounds):
    with pytest.raises(InputError, match="lower < upper"):
        PriorRange(*bounds)


def test_in_a_curves_own_units_the_guarantee_holds_in_the_priors():
    # bars in curve units z = (y - loc) / scale (loc 0.02, the last value;
    # scale the noise from second differences, ~0.023), the network's mass
    # around y = -0.03, below the floor
    y = torch.tensor([[0.05, 0.03, 0.045, 0.02]])
    scale = curve_scale(y, torch.ones_like(y, dtype=torch.bool))
    bars = BarDistribution(make_curve_borders(400))
    held = ScaledBars(bars, scale, RANGE)
    alone = ScaledBars(bars, scale, PriorRange())
    z = (bars.borders[1:] + bars.borders[:-1]) / 2
    centre = (-0.03 - scale.loc.item()) / scale.scale.item()
    logits = (-0.5 * ((z - centre) / 0.3) ** 2)[None, None]  # (1, 1, K)
    assert alone.cdf(logits, torch.zeros(1, 1)).item() > 0.99
    assert held.cdf(logits, torch.zeros(1, 1)).item() < 0.5
    u = torch.linspace(0.0, 0.2, 401, dtype=torch.float64)[:, None, None]
    assert (held.cdf(logits, -u) <= 1 - held.cdf(logits, u) + 1e-6).all()
    # its median mirrors the network's across 0, and the densities agree
    median = held.quantile(logits, [0.5]).item()
    assert median == pytest.approx(-alone.quantile(logits, [0.5]).item(), rel=1e-4)
    at = torch.tensor([[[0.01]], [[0.03]], [[0.05]]], dtype=torch.float64)
    torch.testing.assert_close(held.log_prob(logits, at), alone.log_prob(logits, -at))


def test_levels_next_to_0_and_1_are_answered():
    logits = random_logits(0)
    at = scaled(RANGE).quantile(logits, [1e-12, 1e-9, 0.5, 1 - 1e-9])
    assert torch.isfinite(at).all() and (at.diff(dim=0) >= 0).all()


# a TaskSet validation loss (taskset_dyhpo.npz, valid_loss) that climbs from its
# initial value 0.694 to 3.5 times it: its first 40 of 50 values, and the last 10
CLIMBING_LOSS = [
    0.6951, 0.6964, 0.6951, 0.6948, 0.6959, 0.6962, 0.6969, 0.7022, 0.7037, 0.7218,
    0.7026, 0.7566, 0.7393, 0.7374, 0.7512, 0.7896, 0.7416, 0.7594, 0.8367, 0.9147,
    0.8170, 0.8381, 1.0258, 0.9664, 0.9993, 1.0566, 1.1344, 1.1195, 1.1148, 1.2290,
    1.0592, 1.4168, 1.1011, 1.5769, 1.3599, 1.8319, 2.1101, 1.5914, 2.5320, 2.1826,
]  # fmt: skip
CLIMBING_REST = [
    1.8618, 2.6901, 2.2864, 1.8715, 2.5341, 2.0406, 1.9104, 2.2417, 1.7781, 2.4157,
]  # fmt: skip


def test_a_loss_that_climbs_back_keeps_a_median_near_its_values():
    model = lcpfn.load("default")
    kwargs = dict(
        t_obs=np.arange(1.0, 41.0),
        t_query=np.arange(41.0, 51.0),
        horizon=50.0,
        transform=loss_curve(0.6943),
    )
    held = model.predict(CLIMBING_LOSS, **kwargs)
    # without the guarantee (a card that names no prior) the network's median
    # falls past the prior's floor, onto the transform's cap (~17.8 x 0.694)
    alone = Extrapolator(model.model).predict(CLIMBING_LOSS, **kwargs)
    assert alone.median().max() > 10.0
    median = held.median()
    assert np.all(median < 4.0) and np.all(median > 1.0)
    # the unseen values: mean squared error of the median below 0.5 (the
    # network alone: about 63)
    assert np.mean((median - np.array(CLIMBING_REST)) ** 2) < 0.5
    assert (
        np.isfinite(held.mean()).all()
        and np.isfinite(held.log_prob(CLIMBING_REST)).all()
    )
