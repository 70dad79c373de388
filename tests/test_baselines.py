"""Baselines: the Prediction protocol, transforms, the predictive scales, fits."""

import numpy as np
import pytest
from scipy import integrate, stats

from lcpfn import transforms as tr
from lcpfn.errors import InputError
from lcpfn.evaluation import baselines as bl
from lcpfn.prior import curves

T_ALL = np.arange(1.0, 41.0)
POW3 = curves.pow3(T_ALL, 0.8, 0.5, 0.6, xp=np)  # rises from 0.3 towards 0.8


def _batch() -> np.ndarray:
    """Three noisy increasing curves of 12 steps, one with a NaN gap."""
    rng = np.random.default_rng(0)
    y = np.stack([POW3[:12], 0.9 * POW3[:12], 0.5 + 0.4 * POW3[:12]])
    y = y + rng.normal(0.0, 0.005, y.shape)
    y[2, 4] = np.nan
    return y


METHODS = [bl.LastValue()] + [bl.ParametricFit(family=f) for f in bl.FIT_FAMILIES]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: getattr(m, "family", "last"))
def test_protocol_shapes_match_prediction(method):
    batch = method.predict(_batch(), t_query=[20.0, 30.0, 40.0], horizon=40)
    assert batch.steps.shape == (3, 3) and batch.observed[1].shape == (3, 12)
    assert batch.mean().shape == batch.median().shape == (3, 3)
    assert batch.quantile(0.3).shape == (3, 3)
    assert batch.quantile([0.1, 0.5, 0.9]).shape == (3, 3, 3)
    assert batch.interval(0.9).shape == (2, 3, 3)
    assert batch.cdf(0.5).shape == batch.prob_greater(0.5).shape == (3, 3)
    assert batch.log_prob(np.full((3, 1), 0.7)).shape == (3, 3)
    assert batch.sample(5, seed=1).shape == (5, 3, 3)
    one = method.predict(POW3[:10])  # default: steps 11..100
    assert one.steps.tolist() == list(range(11, 101))
    # as predict(): by default the steps after the last observed one
    later = method.predict(POW3[:10], t_obs=T_ALL[:10] * 2, horizon=40)
    assert later.steps.tolist() == list(range(21, 41))
    assert one.mean().shape == one.cdf(0.5).shape == (90,)
    assert one.quantile([0.2, 0.8]).shape == (2, 90)
    assert one.sample(4).shape == (4, 90)
    assert (batch.status == "ok").all()


def test_last_value_scale_is_the_random_walk_of_the_median_increment():
    t = np.array([1.0, 2.0, 4.0, 5.0])
    y = np.array([0.1, 0.2, 0.4, 0.3])  # squared increments per unit t: .01 .02 .01
    pred = bl.LastValue(min_scale=1e-3).predict(y, t, t_query=[7.0, 13.0])
    sigma2 = 0.01 / bl.CHI2_1_MEDIAN
    expected = np.sqrt(sigma2 * np.array([2.0, 8.0]) + 1e-6)
    np.testing.assert_allclose(pred.loc, [[0.3, 0.3]])
    np.testing.assert_allclose(pred.scale[0], expected)
    np.testing.assert_allclose(
        pred.quantile(0.95), 0.3 + stats.norm.ppf(0.95) * expected
    )


def test_last_value_of_one_point_uses_the_floor():
    pred = bl.LastValue(min_scale=0.02).predict(np.array([0.4]), t_query=[5.0])
    np.testing.assert_allclose(pred.scale, [[0.02]])


CLEAN = {  # a clean curve of each family, in [0, 1]
    "pow3": POW3,
    "pow4": curves.pow4(T_ALL, 0.8, 0.5, 1.0, 0.8, xp=np),
    "mmf": curves.mmf(T_ALL, 0.85, 0.1, 0.2, 1.2, xp=np),
}


@pytest.mark.parametrize("family", bl.FIT_FAMILIES)
def test_fits_extrapolate_a_clean_curve_of_their_family(family):
    truth = CLEAN[family]
    pred = bl.ParametricFit(family=family).predict(
        truth[:15], t_query=T_ALL[15:], horizon=40
    )
    assert pred.status.tolist() == ["ok"]
    np.testing.assert_allclose(pred.median(), truth[15:], atol=2e-3)
    lo, hi = pred.interval(0.9)
    assert (lo <= truth[15:]).all() and (truth[15:] <= hi).all()


def test_fit_scales_grow_with_extrapolation_distance():
    rng = np.random.default_rng(1)
    y = POW3[:10] + rng.normal(0.0, 0.01, 10)
    pred = bl.ParametricFit(family="pow3").predict(y, t_query=T_ALL[10:], horizon=40)
    assert (np.diff(pred.scale[0]) >= 0).all() and pred.scale[0, -1] > pred.scale[0, 0]


def test_too_few_points_and_failures_fall_back_to_last_value(monkeypatch):
    y = np.full((2, 5), np.nan)
    y[0] = [0.2, 0.3, 0.35, 0.38, 0.4]
    y[1, :3] = [0.2, 0.3, 0.35]  # pow4 has 4 parameters: needs 5 points
    pred = bl.ParametricFit(family="pow4").predict(y, t_query=[8.0, 9.0])
    last = bl.LastValue().predict(y, t_query=[8.0, 9.0])
    assert pred.status.tolist() == ["ok", "too_few_points"] and pred.n_fallback == 1
    np.testing.assert_allclose(pred.loc[1], last.loc[1])
    np.testing.assert_allclose(pred.scale[1], last.scale[1])

    def fail(*args, **kwargs):
        raise ValueError("Residuals are not finite in the initial point.")

    monkeypatch.setattr(bl.optimize, "least_squares", fail)
    failed = bl.ParametricFit(family="pow3").predict(y, t_query=[8.0, 9.0])
    assert failed.status.tolist() == ["failed", "too_few_points"]
    np.testing.assert_allclose(failed.median(), last.median())


LOSS = tr.loss_curve(np.array([0.7, 2.3]))  # per-curve soft upper bounds


def _loss_prediction(t_query=(6.0, 10.0)) -> bl.GaussianPrediction:
    """Two slowly falling losses; at the default steps no mass reaches a bound."""
    y = np.array([[0.69, 0.66, 0.64, 0.62, 0.61], [2.2, 2.1, 2.0, 1.95, 1.9]])
    return bl.LastValue().predict(y, t_query=list(t_query), transform=LOSS)


def test_quantiles_map_back_and_cdf_inverts_them():
    pred = _loss_prediction()
    levels = np.array([0.05, 0.3, 0.5, 0.7, 0.95])
    q = pred.quantile(levels)  # (5, 2, 2), in loss units
    assert (np.diff(q, axis=0) > 0).all()  # monotone in q despite minimize
    # the last observed loss is the median
    np.testing.assert_allclose(q[2], [[0.61, 0.61], [1.9, 1.9]], rtol=1e-9)
    for level, qi in zip(levels, q, strict=True):
        np.testing.assert_allclose(pred.cdf(qi), level, atol=1e-9)
    np.testing.assert_allclose(pred.prob_greater(q[1]), 0.7, atol=1e-9)


def test_log_prob_is_a_density_in_metric_units():
    pred = _loss_prediction()
    for curve, top in ((0, 5.0), (1, 15.0)):

        def density(x, curve=curve):
            full = np.full((2, 2), 1.0)
            full[curve, 0] = x
            return np.exp(pred.log_prob(full)[curve, 0])

        mass, _ = integrate.quad(density, 0.0, top, limit=200)
        assert mass == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("t_query", [(6.0, 10.0), (10.0, 100.0)])
def test_mean_integrates_the_inverse_not_inverts_the_mean(t_query):
    # at t = 100 the random walk is wide: mass reaches z = 0, where the loss
    # has no upper bound and inverse() puts it at a far, finite extreme
    pred = _loss_prediction(t_query)
    mean = pred.mean()
    for b, q in np.ndindex(pred.loc.shape):
        loc, scale = pred.loc[b, q], pred.scale[b, q]
        one = tr.loss_curve(LOSS.soft_upper[b])

        def integrand(z, loc=loc, scale=scale, one=one):
            return one.inverse(np.array(z)) * stats.norm.pdf(z, loc, scale)

        pieces = [(loc - 12 * scale, 0.0), (0.0, 1.0), (1.0, loc + 12 * scale)]
        exact = sum(
            integrate.quad(integrand, a, b, limit=200)[0] for a, b in pieces if b > a
        )
        assert mean[b, q] == pytest.approx(exact, rel=1e-4)
    # the loss transform is convex in z there: the mean exceeds inverse(loc)
    assert (mean > pred.transform.inverse(pred.loc)).all()


def test_hard_bounds_hold_point_masses():
    y = np.array([0.9, 0.95, 0.99, 0.995])
    pred = bl.LastValue(min_scale=0.05).predict(
        y, t_query=[20.0], transform=tr.accuracy()
    )
    assert pred.cdf(1.0) == 1.0 and pred.cdf(-0.01) == 0.0
    assert pred.quantile(0.99) == 1.0  # mass above 1 in z sits on the bound
    assert 0.0 < pred.cdf(0.999999)[0] < 1.0
    assert pred.sample(1000).max() <= 1.0


def test_samples_are_reproducible_and_follow_the_quantiles():
    pred = _loss_prediction()
    a, b = pred.sample(20_000, seed=7), pred.sample(20_000, seed=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(
        np.quantile(a, [0.1, 0.9], axis=0), pred.quantile([0.1, 0.9]), rtol=2e-2
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: bl.ParametricFit(family="vap"), "family"),
        (lambda: bl.LastValue(min_scale=0.0), "min_scale"),
        (lambda: bl.ParametricFit(max_nfev=0), "max_nfev"),
        (lambda: bl.LastValue().predict([0.1, 0.2], t_query=[200.0]), "horizon"),
        (lambda: bl.LastValue().predict([0.1, 2.0], transform=tr.accuracy()), "y_obs"),
        (lambda: bl.LastValue().predict([0.1, 0.2]).quantile(1.5), "q"),
        (lambda: bl.LastValue().predict([0.1, 0.2]).cdf([0.1, 0.2]), "v"),
        (lambda: bl.LastValue().predict([0.1, 0.2]).sample(0), "n_samples"),
    ],
)
def test_bad_input_names_the_argument(make, match):
    with pytest.raises(InputError, match=match):
        make()


@pytest.mark.parametrize("method", METHODS, ids=lambda m: getattr(m, "family", "last"))
def test_a_ragged_list_of_curves_is_its_nan_padded_batch(method):
    # as in Extrapolator.predict: 1-D curves of different lengths are a batch
    # padded with NaN (one request parser reads both)
    curves = [POW3[:12], 0.9 * POW3[:7], 0.5 + 0.4 * POW3[:10]]
    padded = np.full((3, 12), np.nan)
    for i, curve in enumerate(curves):
        padded[i, : curve.size] = curve
    ragged = method.predict(curves, t_query=[20.0, 30.0], horizon=40)
    batch = method.predict(padded, t_query=[20.0, 30.0], horizon=40)
    np.testing.assert_array_equal(ragged.observed[1], padded)
    levels = [0.1, 0.5, 0.9]
    np.testing.assert_array_equal(ragged.quantile(levels), batch.quantile(levels))
    np.testing.assert_array_equal(ragged.status, batch.status)
