"""lcpfn.mcmc: the model follows the prior spec, the sampler the exact posterior.

Compiling a NUTS sampler costs tens of seconds of CPU, so the default tests
share two fits of a small one-family prior (ilog2 with a constant weight), one
for a single curve and one for a ragged batch; each later fit with the same
shapes reuses the compiled sampler. Fits of the full LC-PFN prior run in the
``slow`` simulation-based calibration test.
"""

import sys
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import lcpfn
from lcpfn.errors import InputError
from lcpfn.mcmc import Diagnostics, fit_mcmc, posterior
from lcpfn.mcmc import model as mcmc_model
from lcpfn.mcmc.baseline import McmcBaseline
from lcpfn.prior.mixture import accepts
from lcpfn.prior.spec import ParamDist

jnp = pytest.importorskip("jax.numpy")
az = pytest.importorskip("arviz")

TRUE = {"ilog2.c": 0.75, "ilog2.a": 0.3, "log_sigma": -4.0}
NEAR_WALL = np.array([0.9, 0.95])  # its extrapolation presses against y_max = 1
SETTINGS = {"n_chains": 2, "n_warmup": 200, "n_samples": 200}


def ilog2(t, c, a):
    return c - a / np.log(t + 1.0)


@pytest.fixture(scope="module")
def small_prior():
    spec = lcpfn.priors.load("lcpfn").to_dict()
    spec.update(
        name="ilog2-only",
        families={"ilog2": spec["families"]["ilog2"]},
        weights={"prior": {"dist": "constant", "value": 1.0}},
    )
    return lcpfn.priors.from_dict(spec)


@pytest.fixture(scope="module")
def synthetic_curve():
    t = np.arange(1.0, 11.0)
    rng = np.random.default_rng(0)
    noise = np.exp(TRUE["log_sigma"]) * rng.standard_normal(10)
    return t, ilog2(t, TRUE["ilog2.c"], TRUE["ilog2.a"]) + noise


@pytest.fixture(scope="module")
def single(small_prior, synthetic_curve):
    t, y = synthetic_curve
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few draws: r_hat may pass 1.01
        return fit_mcmc(t, y, small_prior, seed=0, **SETTINGS)


@pytest.fixture(scope="module")
def batch(small_prior, synthetic_curve):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_mcmc(None, [synthetic_curve[1], NEAR_WALL], small_prior, **SETTINGS)


# ---- the model is generated from the prior spec ------------------------------------


@pytest.mark.parametrize(
    "d",
    [
        ParamDist(dist="uniform", args=(-0.6, 0.6)),
        ParamDist(dist="normal", args=(0.8, 0.1), shift=1.0, multiplier=-3.0),
        ParamDist(dist="lognormal", args=(-2.0, 1.0)),
        ParamDist(dist="loguniform", args=(-5.0, 0.0), shift=1.0, multiplier=-1.0),
        ParamDist(dist="uniform", args=(0.0, 1.0), shift=0.5, multiplier=2.0),
    ],
)
def test_param_dists_map_to_the_same_numpyro_distribution(d):
    import jax

    torch_draws = d.sample(4000, torch.Generator().manual_seed(0)).double().numpy()
    value_dist = mcmc_model.value_dist(d)
    jax_draws = np.asarray(value_dist.sample(jax.random.key(0), (4000,)))
    # two samples of one distribution: KS p-values are uniform; 1e-3 flakes rarely
    assert stats.ks_2samp(torch_draws, jax_draws).pvalue > 1e-3
    # the support NUTS maps onto must hold every draw the sampler can make
    assert bool(value_dist.support(jnp.asarray(torch_draws, jnp.float32)).all())


@pytest.mark.parametrize("name", ["lcpfn", "domhan11"])
def test_model_curves_equal_the_samplers(name):
    prior = lcpfn.priors.load(name)
    batch = lcpfn.sample_curves(prior, 256, seed=3)
    sites = mcmc_model.latent_sites(prior)
    weight_site = "weights_raw" if prior.normalize_weights else "weights"
    assert set(sites) == {*batch.params, weight_site, "log_sigma"}
    latent = {k: v.numpy() for k, v in batch.params.items()}
    latent[weight_site] = batch.weights.numpy()  # normalized already: idempotent
    t = batch.t.numpy()
    for xp in (np, jnp):
        values = mcmc_model.parameter_values(
            prior, {k: xp.asarray(v) for k, v in latent.items()}, xp
        )
        with np.errstate(over="ignore"):  # mmf's (kappa t)**delta may reach inf
            f = np.asarray(mcmc_model.clean_curves(prior, values, xp.asarray(t), xp))
        # float32 formulas evaluated in another order: a few ulps of values <= 1
        np.testing.assert_allclose(f, batch.y_clean.numpy(), atol=2e-6)
        assert np.asarray(accepts(prior, xp.asarray(f), xp=xp)).all()
        assert (np.asarray(mcmc_model.violation(prior, xp.asarray(f), xp)) == 0).all()


# ---- the fits ---------------------------------------------------------------


def test_recovers_the_parameters_of_a_synthetic_curve(single):
    post = single.idata.posterior
    for name, truth in TRUE.items():
        draws = post[name].values.reshape(-1)
        # 10 points at sigma = 0.018 pin c and a to a few hundredths; the truth
        # lies within 4 posterior standard deviations unless the fit is wrong
        assert abs(draws.mean() - truth) < 4 * draws.std(), name
    assert single.diagnostics.r_hat_max < 1.05  # 2 x 200 draws: 1.01 is too strict
    assert single.diagnostics.n_divergences == 0
    assert single.seconds > 0 and single.compile_seconds >= 0


def test_inference_data_groups_and_dims(single, batch):
    for fit, lead in ((single, ()), (batch, (2,))):
        idata = fit.idata
        for group in (
            "posterior",
            "posterior_predictive",
            "observed_data",
            "sample_stats",
        ):
            assert group in idata.groups()
        assert idata.posterior["ilog2.c"].shape == (2, 200, *lead)
        assert idata.posterior_predictive["y"].shape == (2, 200, *lead, 10)
        assert idata.sample_stats["diverging"].shape == (2, 200, *lead)
    assert len(batch.curve_diagnostics) == 2
    assert isinstance(batch.diagnostics, Diagnostics)


def test_no_posterior_draw_leaves_the_truncation(batch):
    t = np.arange(1.0, 101.0)
    post = batch.idata.posterior
    c, a = post["ilog2.c"].values, post["ilog2.a"].values  # (C, S, B)
    f = ilog2(t, c[..., None], a[..., None])  # (C, S, B, 100)
    # the sampler checks in float32; 1e-6 covers rounding at the wall
    assert f.min() >= -1e-6 and f.max() <= 1.0 + 1e-6
    assert (f[..., -1] > f[..., 0]).all()
    # the near-wall curve's posterior presses against y_max: the wall is hit
    assert batch.curve_diagnostics[1].boundary_rejection_rate > 0


def exact_near_wall(n_draws: int = 2_000_000) -> tuple[np.ndarray, dict]:
    """Importance weights and quantities of the small prior, written out by hand.

    ilog2 with a > 0 increases in t, so its ends decide the truncation:
    f(1) >= 0, f(100) <= 1 and f(100) > f(1) (that is, a > 0).
    """
    rng = np.random.default_rng(0)
    c, a = rng.uniform(0.0, 1.0, n_draws), rng.uniform(-0.5, 0.5, n_draws)
    log_sigma = rng.normal(-4.0, 1.0, n_draws)
    keep = (a > 0) & (ilog2(1.0, c, a) >= 0) & (ilog2(100.0, c, a) <= 1)
    c, a, log_sigma = c[keep], a[keep], log_sigma[keep]
    t = np.arange(1.0, len(NEAR_WALL) + 1.0)
    f = ilog2(t, c[:, None], a[:, None])
    log_w = stats.norm.logpdf(NEAR_WALL, f, np.exp(log_sigma)[:, None]).sum(axis=1)
    w = np.exp(log_w - log_w.max())
    quantities = {"ilog2.a": a, "log_sigma": log_sigma, "f100": ilog2(100.0, c, a)}
    return w / w.sum(), quantities


def test_near_wall_posterior_matches_importance_sampling(batch):
    """The truncated posterior, computed independently of the sampler."""
    w, exact = exact_near_wall()
    assert 1 / (w**2).sum() > 2000  # importance sampling's effective sample size
    post = batch.idata.posterior.sel(curve=1)
    draws = {k: post[k].values for k in ("ilog2.a", "log_sigma")}  # (C, S)
    draws["f100"] = batch.curves([100.0])[:, 1, 0].reshape(2, -1)
    for name, x in exact.items():
        mean = (w * x).sum()
        sd = np.sqrt((w * (x - mean) ** 2).sum())
        # MCMC error is about sd / sqrt(ESS); 4.5 of those, plus a little for
        # the importance-sampling estimate, bounds a correct sampler's miss
        bound = 4.5 * sd / np.sqrt(float(az.ess(draws[name]))) + 0.03 * sd
        assert abs(draws[name].mean() - mean) < bound, (
            name,
            draws[name].mean(),
            mean,
            bound,
        )


def test_same_seed_same_draws(small_prior, synthetic_curve, single):
    t, y = synthetic_curve
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = fit_mcmc(t, y, small_prior, seed=0, **SETTINGS)
    assert again.compile_seconds == 0.0  # the compiled sampler was reused
    np.testing.assert_array_equal(
        again.idata.posterior["ilog2.c"].values,
        single.idata.posterior["ilog2.c"].values,
    )


# ---- the predictive: Prediction's protocol ------------------------------------


def test_prediction_shapes_for_one_curve_and_a_batch(single, batch):
    one = single.predict()
    assert one.steps.tolist() == list(range(11, 101))
    assert one.mean().shape == one.median().shape == (90,)
    assert one.quantile([0.1, 0.5, 0.9]).shape == (3, 90)
    assert one.quantile(0.3).shape == (90,)
    assert one.interval(0.9).shape == (2, 90)
    assert one.cdf(0.5).shape == one.prob_greater(0.5).shape == (90,)
    assert one.log_prob(np.full(90, 0.5)).shape == (90,)
    assert one.sample(7, seed=1).shape == (7, 90)
    two = batch.predict(t_query=[20.0, 50.0])
    assert two.mean().shape == (2, 2)
    assert two.quantile([0.1, 0.9]).shape == (2, 2, 2)
    assert two.interval(0.5).shape == (2, 2, 2)
    assert two.cdf(np.array([[0.5], [0.9]])).shape == (2, 2)
    assert two.sample(3).shape == (3, 2, 2)
    assert batch.predict(t_query=[[20.0], [30.0]]).mean().shape == (2, 1)
    for pred in (one, two):
        for a in (pred.mean(), pred.quantile([0.05, 0.95]), pred.log_prob(0.5)):
            assert np.isfinite(a).all()


def test_predictive_agrees_with_monte_carlo(single):
    pred = single.predict(t_query=[15.0, 60.0])
    draws = pred.sample(200_000, seed=3)  # (S, 2)
    v = np.median(draws, axis=0) + np.array([0.01, -0.02])
    p = pred.cdf(v)
    # binomial standard error of a frequency from 200k draws
    se = np.sqrt(p * (1 - p) / len(draws))
    assert np.all(np.abs((draws <= v).mean(axis=0) - p) < 4 * se)
    np.testing.assert_allclose(pred.prob_greater(v), 1 - p, atol=1e-12)
    np.testing.assert_allclose(draws.mean(axis=0), pred.mean(), atol=5e-4)
    # density: a histogram bin of width h around v, and the CDF's slope
    h = 0.004
    frac = (np.abs(draws - v) < h / 2).mean(axis=0)
    density = np.exp(pred.log_prob(v))
    assert np.all(np.abs(frac / h - density) < 4 * np.sqrt(frac / len(draws)) / h + 0.5)
    slope = (pred.cdf(v + 1e-5) - pred.cdf(v - 1e-5)) / 2e-5
    np.testing.assert_allclose(slope, density, rtol=1e-4)


def test_quantiles_invert_the_cdf_and_are_monotone(single):
    pred = single.predict(t_query=[12.0, 40.0, 100.0])
    levels = np.array([0.001, 0.05, 0.3, 0.5, 0.5000001, 0.95, 0.999])
    q = pred.quantile(levels)
    assert (np.diff(q, axis=0) >= 0).all()
    cdf = np.stack([pred.cdf(at_level) for at_level in q])
    np.testing.assert_allclose(
        cdf, np.broadcast_to(levels[:, None], q.shape), atol=1e-9
    )
    np.testing.assert_allclose(pred.median(), q[3])
    np.testing.assert_allclose(pred.interval(0.9), q[[1, 5]])


@settings(max_examples=30, deadline=None)
@given(levels=st.lists(st.floats(1e-6, 1 - 1e-6), min_size=1, max_size=6))
def test_quantiles_are_monotone_in_q(single, levels):
    q = single.predict(t_query=[12.0, 100.0]).quantile(levels)
    ordered = q[np.argsort(levels, kind="stable")]
    assert (np.diff(ordered, axis=0) >= 0).all()


def test_plot_draws_a_posterior_predictive(single):
    import matplotlib

    matplotlib.use("Agg")
    ax = lcpfn.plot(single.predict(), title="mcmc")
    assert ax.get_title() == "mcmc"


def test_mcmc_baseline_takes_a_ragged_list_like_predict(
    small_prior, synthetic_curve, batch
):
    # McmcBaseline reads its arguments with predict's parser: a ragged list is
    # the NaN-padded batch that ``batch`` fitted (same seed and settings, so the
    # same draws; the sampler compiled for ``batch`` is reused)
    baseline = McmcBaseline(prior=small_prior, seed=0, **SETTINGS)
    pred = baseline.predict([synthetic_curve[1], NEAR_WALL], t_query=[20.0, 50.0])
    direct = batch.predict(t_query=[20.0, 50.0])
    np.testing.assert_array_equal(pred.observed[1], batch.observed[1])
    levels = [0.1, 0.5, 0.9]
    np.testing.assert_array_equal(pred.quantile(levels), direct.quantile(levels))
    assert pred.status.shape == (2,)


# ---- errors and warnings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_obs": []}, "y_obs"),
        ({"y_obs": [np.nan, np.nan]}, "no observed value"),
        ({"t_obs": [1.0, 3.0, 2.0]}, "strictly increasing"),
        ({"t_obs": [1.0, 2.0, 300.0]}, "horizon"),
        ({"n_chains": 0}, "n_chains"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"target_accept_prob": 1.0}, "target_accept_prob"),
        ({"batch_size": 0}, "batch_size"),
        ({"seed": "zero"}, "seed"),
        ({"horizon": -1.0}, "horizon"),
    ],
)
def test_bad_arguments_raise_input_error_naming_them(kwargs, match):
    args = {"t_obs": None, "y_obs": [0.2, 0.3, 0.35], "prior": "lcpfn", **kwargs}
    with pytest.raises(InputError, match=match):
        fit_mcmc(args.pop("t_obs"), args.pop("y_obs"), args.pop("prior"), **args)


def test_prior_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="prior"):
        fit_mcmc(None, [0.2, 0.3], 42)


def test_bad_prediction_arguments(single):
    with pytest.raises(InputError, match="horizon"):
        single.predict(t_query=[150.0])
    # the prior's curves start at step 1 and a step before it is answered
    # there: pow3's t ** -alpha overflowed at 4.6e-143 and gave NaN quantiles
    early = single.predict(t_query=[4.6e-143, 0.5, 20.0]).quantile([0.05, 0.95])
    first = single.predict(t_query=[1.0, 1.0, 20.0]).quantile([0.05, 0.95])
    np.testing.assert_array_equal(early, first)
    assert np.isfinite(early).all()
    np.testing.assert_array_equal(single.curves([1e-300]), single.curves([1.0]))
    pred = single.predict(t_query=[20.0, 30.0])
    with pytest.raises(InputError, match="q must be levels"):
        pred.quantile([0.5, 1.0])
    with pytest.raises(InputError, match="level"):
        pred.interval(1.5)
    with pytest.raises(InputError, match="n_samples"):
        pred.sample(0)
    with pytest.raises(InputError, match="v must broadcast"):
        pred.cdf([0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="finite"):
        pred.log_prob([0.1, np.nan])


def test_missing_backend_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpyro", None)
    with pytest.raises(ImportError, match=r"pip install lcpfn\[mcmc\]"):
        fit_mcmc(None, [0.2, 0.3, 0.35], "lcpfn")


def test_degraded_fits_are_reported():
    good = Diagnostics(
        r_hat_max=1.002,
        ess_bulk_min=400.0,
        ess_tail_min=300.0,
        n_divergences=0,
        boundary_rejection_rate=0.01,
    )
    assert posterior.convergence_warning([good, good]) is None
    bad = Diagnostics(
        r_hat_max=1.2,
        ess_bulk_min=10.0,
        ess_tail_min=8.0,
        n_divergences=3,
        boundary_rejection_rate=0.0,
    )
    message = posterior.convergence_warning([good, bad])
    assert "r_hat > 1.01 on 1" in message and "divergent transitions on 1" in message
    assert posterior.summarize_diagnostics([good, bad]).n_divergences == 3


def test_predictive_mcse_is_the_spread_of_the_log_density_between_runs():
    """On i.i.d. draws of a spiky mixture (f ~ N(0, 1), sigma = 0.05) the
    estimate matches the measured spread of log p-hat over 100 independent
    sets of 4 x 1000 draws at the predictive's quantiles: within 20 % (the
    spread of 100 sets is itself known to ~7 %, the estimate's mean over 100
    curves to ~2 %; the quantiles taken from the sample add a few %). Chains
    that disagree (one chain's curves shifted by one prior sd) raise it."""
    rng = np.random.default_rng(0)
    B, S, Q = 100, 4000, 2
    loc = rng.standard_normal((B, S, Q))
    scale = np.full((B, S), 0.05)
    estimate = posterior.predictive_mcse(loc, scale, 4, rng)
    levels = (np.arange(20) + 0.5) / 20
    points = stats.norm.ppf(levels, scale=np.sqrt(1 + 0.05**2))  # exact quantiles
    density = stats.norm.pdf(points[:, None, None, None], loc, 0.05).mean(axis=2)
    measured = np.log(density).std(axis=1, ddof=1).mean()  # (L, B, Q) -> sd over sets
    assert abs(estimate.mean() / measured - 1) < 0.2, (estimate.mean(), measured)
    shifted = loc.copy()
    shifted[:, :1000] += 1.0
    assert posterior.predictive_mcse(shifted, scale, 4, rng).mean() > 2 * measured


def test_log_likelihood_mcse_is_the_spread_of_the_score_between_runs():
    """The score (mean log density over 3 steps) of y = 2, in the upper tail
    of a spiky mixture (f ~ N(0, 1) independently at each step, sigma =
    0.05), over 100 independent sets of 4 x 1000 i.i.d. draws: the estimate's
    mean matches the measured spread of the score within 15 % (that spread is
    known to ~7 %, the mean estimate to ~4 %, and the sd of 4 chains is ~8 %
    low on average); the mean of the three steps' own errors would be about
    sqrt(3) too large. Chains that disagree (one chain's curves shifted by one
    prior sd) raise it; with one chain it is NaN."""
    rng = np.random.default_rng(0)
    B, S = 100, 4000
    steps = np.array([1.0, 2.0, 3.0])
    loc = rng.standard_normal((B, S, len(steps)))
    scale = np.full((B, S), 0.05)

    def predictive(loc: np.ndarray, n_chains: int = 4) -> posterior.PosteriorPredictive:
        return posterior.PosteriorPredictive(
            loc, scale, n_chains=n_chains, steps=steps, observed=(steps, steps),
            single=False,
        )  # fmt: skip

    y = np.full(len(steps), 2.0)
    measured = predictive(loc).log_prob(y).mean(axis=1).std(ddof=1)
    estimate = predictive(loc).log_likelihood_mcse(y)
    assert estimate.shape == (B,) and np.isfinite(estimate).all()
    assert abs(estimate.mean() / measured - 1) < 0.15, (estimate.mean(), measured)
    shifted = loc.copy()
    shifted[:, :1000] += 1.0
    assert predictive(shifted).log_likelihood_mcse(y).mean() > 2 * measured
    assert np.isnan(predictive(loc, n_chains=1).log_likelihood_mcse(y)).all()


# ---- calibration (slow) -----------------------------------------------------------


@pytest.mark.slow
def test_simulation_based_calibration_on_the_lcpfn_prior():
    """Ranks of the true values among posterior draws are uniform (SBC).

    Talts et al. (2018): for curves drawn from the prior, an exact posterior
    sampler puts the truth at a uniform rank among its draws. 64 curves with
    20 observed steps, ranks among 39 thinned draws, 8 bins; benchmarks/sbc.py
    runs the same check at full size.
    """
    prior = lcpfn.priors.load("lcpfn")
    n_curves, n_ranks, n_bins = 64, 39, 8
    prior_draws = lcpfn.sample_curves(prior, n_curves, seed=2024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some multimodal posteriors mix slowly
        post = fit_mcmc(
            None,
            prior_draws.y[:, :20].double().numpy(),
            prior,
            seed=1,
            n_warmup=400,
            n_samples=400,
        )
    posterior = post.idata.posterior
    truth = {
        "log_sigma": prior_draws.log_sigma,
        **{k: prior_draws.params[k] for k in ("pow3.c", "ilog2.c", "janoschek.alpha")},
    }
    draws = {
        k: posterior[k].transpose("chain", "draw", "curve").values.reshape(-1, n_curves)
        for k in truth
    }
    for k, family in enumerate(("pow3", "ilog2", "janoschek")):
        truth[f"weights[{family}]"] = prior_draws.weights[:, k]
        weights = posterior["weights"].transpose("chain", "draw", "curve", "family")
        draws[f"weights[{family}]"] = weights.values[..., k].reshape(-1, n_curves)
    truth["f(100)"] = prior_draws.y_clean[:, -1]
    draws["f(100)"] = post.curves([100.0])[..., 0]
    n_draws = draws["log_sigma"].shape[0]  # chains x 400
    keep = np.linspace(0, n_draws - 1, n_ranks).round().astype(int)
    for name, true in truth.items():
        ranks = (draws[name][keep] < true.double().numpy()).sum(axis=0)
        counts = np.bincount(ranks, minlength=n_ranks + 1).reshape(n_bins, -1).sum(1)
        # 8 quantities at 1e-3 each: a correct sampler fails this 0.8 % of runs
        assert stats.chisquare(counts).pvalue > 1e-3, (name, counts.tolist())
