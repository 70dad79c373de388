"""Metrics: CRPS against closed forms, coverage and PIT of known laws, ranks,
bootstrap intervals, and ``score`` on a prediction."""

import numpy as np
import pytest
from scipy import integrate, stats

from lcpfn.errors import InputError
from lcpfn.evaluation import baselines as bl
from lcpfn.evaluation import metrics as mt


def test_curve_means_skip_unscored_steps():
    values = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y_true = np.array([[0.1, np.nan, 0.3], [np.nan, np.nan, np.nan]])
    out = mt.curve_mean(values, y_true)
    assert out[0] == 2.0 and np.isnan(out[1])
    np.testing.assert_allclose(
        mt.squared_error([[0.0, 9.0, 0.0]], [[1.0, np.nan, 3.0]]), [5.0]
    )
    np.testing.assert_allclose(
        mt.log_likelihood([[-1.0, 7.0, -3.0]], [[0.5, np.nan, 0.5]]), [-2.0]
    )


@pytest.mark.parametrize(("loc", "scale", "y"), [(0.0, 1.0, 0.3), (2.0, 0.5, 0.1)])
def test_closed_form_gaussian_crps_is_the_integral_definition(loc, scale, y):
    # CRPS = int (F(x) - 1[x >= y])^2 dx, integrated numerically on each side of y
    def left(x):
        return stats.norm.cdf(x, loc, scale) ** 2

    def right(x):
        return stats.norm.sf(x, loc, scale) ** 2

    exact = integrate.quad(left, -np.inf, y)[0] + integrate.quad(right, y, np.inf)[0]
    assert mt.crps_gaussian(loc, scale, y) == pytest.approx(exact, rel=1e-7)


def test_gaussian_crps_of_a_vanishing_scale_is_the_absolute_error():
    # a point forecast's CRPS is |y - loc|; with scale 5e-324, (y - loc) / scale
    # overflows, and the closed form must still give that limit
    out = mt.crps_gaussian([1.0, -2.0, 0.5], 5e-324, [0.0, 1.0, 0.5])
    np.testing.assert_allclose(out, [1.0, 3.0, 0.0], atol=1e-300)


def test_crps_from_quantiles_meets_the_gaussian_closed_form():
    y = np.linspace(-3.0, 3.0, 13).reshape(1, -1)  # (B = 1, Q = 13)
    taus = (np.arange(199) + 0.5) / 199
    quantiles = 0.5 + 2.0 * stats.norm.ppf(taus)[:, None, None] * np.ones_like(y)
    estimate = mt.crps_from_quantiles(quantiles, taus, y)
    np.testing.assert_allclose(estimate, mt.crps_gaussian(0.5, 2.0, y), rtol=1e-3)


def test_crps_from_quantiles_weights_uneven_levels_by_their_cells():
    # one level: CRPS = 2 * 1 * pinball; with q = 0, y = 1, tau = 0.3: 2 * 0.3
    assert mt.crps_from_quantiles([[0.0]], [0.3], [1.0])[0] == pytest.approx(0.6)
    # levels 0.2, 0.6 -> cells [0, 0.4], [0.4, 1]: 2 (0.4 * 0.2 + 0.6 * 0.6) * 1
    out = mt.crps_from_quantiles([[0.0], [0.0]], [0.2, 0.6], [1.0])
    assert out[0] == pytest.approx(2 * (0.4 * 0.2 + 0.6 * 0.6))


def test_crps_from_samples_is_the_exact_empirical_crps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 2, 3))
    y = rng.normal(size=(2, 3))
    brute = np.abs(x - y).mean(0) - 0.5 * np.abs(x[:, None] - x[None]).mean((0, 1))
    np.testing.assert_allclose(mt.crps_from_samples(x, y), brute, atol=1e-12)
    many = rng.normal(1.0, 0.5, size=(20_000, 1, 3))
    ys = np.array([[0.0, 1.0, 2.5]])
    np.testing.assert_allclose(
        mt.crps_from_samples(many, ys), mt.crps_gaussian(1.0, 0.5, ys), rtol=2e-2
    )


def test_coverage_and_pit_of_the_true_law_are_calibrated():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(400, 50))
    z = stats.norm.ppf(0.95)
    coverage = mt.interval_coverage(np.full_like(y, -z), np.full_like(y, z), y)
    assert coverage.shape == (400,) and coverage.mean() == pytest.approx(0.9, abs=0.01)
    pit = mt.pit_values(stats.norm.cdf(y), y)
    assert pit.shape == (20_000,)
    assert mt.calibration_error(pit) < 0.01
    # a predictive twice too narrow is found out
    assert mt.calibration_error(stats.norm.cdf(2 * y).ravel()) > 0.1


def test_ranks_follow_the_paper_per_task_then_average():
    scores = np.array(
        [
            [1.0, 3.0, 5.0, 5.0],  # method 0
            [2.0, 2.0, 1.0, 1.0],  # method 1
            [0.0, 4.0, 3.0, 3.0],  # method 2
        ]
    )
    task = np.array(["a", "a", "b", "b"])
    tasks, means = mt.task_means(scores, task)
    assert tasks.tolist() == ["a", "b"]
    np.testing.assert_allclose(means, [[2.0, 5.0], [2.0, 1.0], [2.0, 3.0]])
    # task a: a three-way tie (rank 2 each); task b: 0 best when higher is better
    np.testing.assert_allclose(mt.average_ranks(scores, task, True), [1.5, 2.5, 2.0])
    np.testing.assert_allclose(mt.average_ranks(scores, task, False), [2.5, 1.5, 2.0])


def test_bootstrap_interval_has_the_normal_width_and_is_reproducible():
    rng = np.random.default_rng(2)
    values = rng.normal(3.0, 2.0, size=2_000)
    ci = mt.bootstrap_ci(values, n_boot=1000, seed=0)
    half = stats.norm.ppf(0.975) * values.std() / np.sqrt(values.size)
    assert (ci[1] - ci[0]) / 2 == pytest.approx(half, rel=0.1)
    assert ci.mean() == pytest.approx(values.mean(), abs=0.1 * half)
    np.testing.assert_array_equal(ci, mt.bootstrap_ci(values, n_boot=1000, seed=0))
    both = mt.bootstrap_ci(np.stack([values, values + 1]), n_boot=200, seed=0)
    assert both.shape == (2, 2)
    np.testing.assert_allclose(both[:, 1] - both[:, 0], 1.0)  # the same draws


def test_cluster_bootstrap_is_wider_for_correlated_groups():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(20), 50)
    values = rng.normal(size=20)[groups] + 0.1 * rng.normal(size=groups.size)
    naive = np.diff(mt.bootstrap_ci(values, n_boot=500))[0]
    cluster = np.diff(mt.bootstrap_ci(values, n_boot=500, groups=groups))[0]
    assert cluster > 3 * naive


def test_score_of_a_gaussian_prediction_matches_closed_forms():
    y_obs = np.array([[0.2, 0.3, 0.35, 0.4], [0.5, 0.52, 0.55, 0.6]])
    pred = bl.LastValue().predict(y_obs, t_query=[6.0, 8.0, 12.0])
    y_true = np.array([[0.45, 0.5, np.nan], [0.6, 0.58, 0.7]])
    scores = mt.score(pred, y_true, n_levels=99)
    loc, scale = pred.loc, pred.scale
    scored = ~np.isnan(y_true)
    logpdf = stats.norm.logpdf(np.where(scored, y_true, 0.0), loc, scale)
    np.testing.assert_allclose(scores.log_likelihood, mt.curve_mean(logpdf, y_true))
    crps = mt.crps_gaussian(loc, scale, np.where(scored, y_true, 0.0))
    np.testing.assert_allclose(scores.crps, mt.curve_mean(crps, y_true), rtol=2e-3)
    np.testing.assert_allclose(
        scores.squared_error, [(0.0025 + 0.01) / 2, (0.0004 + 0.01) / 3]
    )
    inside = np.abs(y_true - loc) <= stats.norm.ppf(0.95) * scale
    np.testing.assert_allclose(scores.coverage, mt.curve_mean(inside, y_true))
    assert np.isnan(scores.pit[0, 2]) and scores.pit.shape == (2, 3)
    one = mt.score(bl.LastValue().predict(y_obs[0], t_query=[6.0]), [0.45])
    assert one.crps.shape == (1,)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mt.crps_from_quantiles(np.zeros((2, 1)), [0.6, 0.4], [0.0]), "levels"),
        (lambda: mt.crps_from_quantiles(np.zeros((3, 1)), [0.5], [0.0]), "quantiles"),
        (lambda: mt.crps_gaussian(0.0, 0.0, 1.0), "scale"),
        (lambda: mt.curve_mean(np.zeros(3), np.zeros(2)), "values"),
        (lambda: mt.task_means(np.zeros((2, 3)), ["a", "b"]), "task"),
        (lambda: mt.rank_methods(np.array([[np.nan]]), True), "task_scores"),
        (lambda: mt.bootstrap_ci([np.nan, 1.0]), "values"),
        (lambda: mt.bootstrap_ci([0.0, 1.0], groups=[1]), "groups"),
        (lambda: mt.bootstrap_ci([0.0, 1.0], level=1.0), "level"),
        (lambda: mt.calibration_error([]), "pit"),
        (lambda: mt.squared_error([0.0], [np.inf]), "y_true"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(InputError, match=match):
        call()
