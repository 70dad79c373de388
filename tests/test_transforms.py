"""Transforms: exact round trips, monotonicity, Jacobians, the paper's formula."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lcpfn import transforms as tr
from lcpfn.errors import InputError

finite = st.floats(-1e3, 1e3, allow_nan=False)

TRANSFORMS = {
    "identity": tr.Identity(),
    "accuracy%": tr.accuracy(percent=True),
    "error_rate": tr.error_rate(),
    "loss": tr.loss_curve(2.3),
    "two-sided": tr.Squash(lower=-1.0, upper=5.0, soft_lower=0.0, soft_upper=2.0),
    "unbounded-max": tr.Squash(soft_lower=10.0, soft_upper=20.0),
}


def _domain_sample(transform, u):
    """Values in the domain and the unsaturated range, from u in [0, 1]."""
    if isinstance(transform, tr.Linear):
        return transform.inverse(u)
    if isinstance(transform, tr.Squash):
        # soft range +- 4.5 widths: |z| <= 10, where the sigmoid is not saturated
        width = transform.soft_upper - transform.soft_lower
        x = transform.soft_lower + (u * 10 - 4.5) * width
        return np.clip(x, transform.lower, transform.upper)
    return u * 200 - 100


@pytest.mark.parametrize("name", TRANSFORMS)
@settings(max_examples=200, deadline=None)
@given(u=st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_round_trip_is_exact(name, u):
    transform = TRANSFORMS[name]
    x = _domain_sample(transform, np.array(u))
    back = transform.inverse(transform.forward(x))
    # float64 rounding through expit/logit; 1e-9 relative of the soft range width
    np.testing.assert_allclose(back, x, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", TRANSFORMS)
@settings(max_examples=100, deadline=None)
@given(a=finite, b=finite)
def test_inverse_is_monotone_and_finite_everywhere(name, a, b):
    transform = TRANSFORMS[name]
    lo, hi = sorted((a, b))
    xs = transform.inverse(np.array([lo, hi]))
    assert np.isfinite(xs).all()
    if transform.minimize:
        assert xs[0] >= xs[1]
    else:
        assert xs[0] <= xs[1]


@pytest.mark.parametrize("name", TRANSFORMS)
def test_log_slope_matches_numerical_derivative(name):
    transform = TRANSFORMS[name]
    x = _domain_sample(transform, np.linspace(0.05, 0.95, 9))
    h = 1e-6 * (1 + np.abs(x))
    numeric = (transform.forward(x + h) - transform.forward(x - h)) / (2 * h)
    # central differences: relative error ~h^2 f''' / f' << 1e-5
    expected = np.log(np.abs(numeric))
    np.testing.assert_allclose(transform.log_slope(x), expected, atol=1e-5)


def test_squash_is_the_papers_formula_at_hand_computed_points():
    # Appendix A with lower=0, upper=inf, soft range [0, 2], minimize:
    # z = 2x/2 - 1 = x - 1; sigma_lo = expit(-1);
    # u = (expit(z) - sigma_lo) / (1 - sigma_lo); y = 1 - u
    t = tr.loss_curve(2.0)
    s_lo = 1 / (1 + np.exp(1.0))
    for x in (0.0, 1.0, 2.0, 7.0):
        u = (1 / (1 + np.exp(-(x - 1))) - s_lo) / (1 - s_lo)
        assert t.forward(np.array(x)) == pytest.approx(1 - u, abs=1e-15)
    assert t.forward(np.array(0.0)) == pytest.approx(1.0)  # the hard bound maps to 1
    assert 0.0 <= t.forward(np.array(1e6)) < 1e-12  # y -> 0 as the loss explodes
    assert np.isfinite(t.inverse(np.array([0.0, -0.5, 1.5]))).all()


def test_narrowest_soft_range_has_finite_slopes_and_no_nan():
    # the smallest normal width: z overflows to +-inf a little outside the
    # soft range, where y is the sigmoid's limit
    width = 3e-308
    t = tr.loss_curve(width)
    x = np.array([0.0, width / 2, width, 0.5, 1e300])
    with np.errstate(all="raise", under="ignore"):
        y, slope = t.forward(x), t.log_slope(x)
    np.testing.assert_allclose(y[:3], tr.loss_curve(1.0).forward(x[:3] / width))
    # the slope is the unit-width one times 1 / width
    expected = tr.loss_curve(1.0).log_slope(x[:3] / width) - np.log(width)
    np.testing.assert_allclose(slope[:3], expected, rtol=1e-12)
    # log_slope ~ -z: -2 * 0.5 / width, then -inf once z overflows
    assert np.array_equal(y[3:], [0.0, 0.0])
    assert slope[3] == pytest.approx(-1.0 / width) and slope[4] == -np.inf


def test_widest_soft_range_is_the_unit_one_scaled_and_inverts_to_finite_values():
    # x - soft_lower would overflow here; the map must still be the unit one
    t = tr.Squash(soft_lower=-1e308, soft_upper=0.5e308)
    unit = tr.Squash(soft_lower=-1.0, soft_upper=0.5)
    x = np.array([-1e308, 0.0, 0.4e308])
    with np.errstate(all="raise", under="ignore"):
        np.testing.assert_allclose(t.forward(x), unit.forward(x / 1e308), rtol=1e-12)
        np.testing.assert_allclose(
            t.log_slope(x), unit.log_slope(x / 1e308) - np.log(1e308), rtol=1e-12
        )
    back = t.inverse(np.array([-0.5, 0.0, 0.5, 1.0, 1.5]))
    assert np.isfinite(back).all() and np.all(back[1:] >= back[:-1])


def test_loss_curve_is_decreasing_and_error_rate_is_one_minus():
    loss = tr.loss_curve(3.0)
    y = loss.forward(np.array([0.1, 1.0, 3.0, 10.0]))
    assert np.all(np.diff(y) < 0) and loss.minimize
    y_err = tr.error_rate().forward(np.array([0.2, 0.7]))
    np.testing.assert_allclose(y_err, [0.8, 0.3])


def test_per_curve_parameters_apply_row_by_row():
    t = tr.loss_curve(np.array([1.0, 4.0]))
    x = np.array([[1.0, 0.5], [4.0, 2.0]])
    y = t.forward(x)
    # each curve's initial loss is the top of its soft range: same y at x = soft_upper
    assert y[0, 0] == pytest.approx(y[1, 0])
    np.testing.assert_allclose(t.inverse(y), x, rtol=1e-12)
    with pytest.raises(InputError, match="different lengths"):
        tr.Squash(soft_lower=np.zeros(2), soft_upper=np.ones(3))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: tr.Linear(1.0, 1.0), "finite lower < upper"),
        (lambda: tr.Linear(0.0, np.inf), "finite lower < upper"),
        (lambda: tr.Squash(lower=1.0, soft_lower=0.0), "lower <= soft_lower"),
        (lambda: tr.Squash(soft_lower=1.0, soft_upper=1.0), "soft_lower < soft_upper"),
        (lambda: tr.loss_curve(np.nan), "soft_upper must not be NaN"),
        (lambda: tr.Linear(np.zeros((2, 2)), 1.0), "lower must be a float or a"),
        (lambda: tr.loss_curve(2.2e-311), "soft range width"),  # subnormal
        (lambda: tr.loss_curve(np.array([1.0, 1e-320])), r"width.*at curves \[1\]"),
        (lambda: tr.Squash(soft_lower=-1e308, soft_upper=1e308), "soft range width"),
    ],
)
def test_bad_parameters_are_named(make, match):
    with pytest.raises(InputError, match=match):
        make()


def test_values_outside_hard_bounds_are_rejected_with_the_argument_name():
    with pytest.raises(InputError, match=r"y_obs must lie within"):
        tr.loss_curve(2.0).check(np.array([0.5, -0.1]), "y_obs")
    with pytest.raises(InputError, match=r"y_obs must lie within"):
        tr.accuracy().check(np.array([1.2]), "y_obs")
    # the bounds themselves and NaN (unobserved) are fine
    tr.accuracy().check(np.array([0.0, 1.0, np.nan]), "y_obs")
