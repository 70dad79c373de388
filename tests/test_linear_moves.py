"""lcpfn.mcmc.linear_moves: the moves leave their tempered target invariant.

At lambda = 1 the check is Geweke's: a parameter drawn from the prior and a
noisy curve drawn from it are a joint draw, so the parameter is an exact
posterior draw for that curve; moves that keep every posterior keep the
parameters' marginal, which is the prior. Without the Jacobians of x the
weights drift (KS p = 3e-6), without the prior ratio of a redraw pow3's
exponent does (p = 1e-56). A reverse density taken at the proposed shape
instead of the old one was not detected (it errs only on the rare accepted
jumps between modes, and about as much each way), nor a proposal ratio of
exp(e) instead of 1 for the noise level's shift by e (it tilts log sigma's
posterior by its variance, about 0.04 here, and at lambda = 0 most such
proposals leave S). At lambda = 0 the target is the truncated prior.

The untruncated prior is the sharper check of the proposal ratios: without S
and the wall every move mixes at lambda = 0, and log sigma's prior variance
is 1. There the shift's ratio of exp(e) moves log sigma's mean by 0.1 (KS p
= 6e-7 at 8,000 draws), and a scaling move's ratio of 1 instead of exp(e)
moves pow3's exponent and Janoschek's rate (p = 2e-10, 5e-9).
"""

import numpy as np
import pytest
from scipy import stats
from test_symmetry_moves import _quantities, _setup, _untruncated_draws

import lcpfn
from lcpfn.mcmc.linear_moves import build_linear_moves, linear_sites
from lcpfn.mcmc.model import WALL_WIDTH, violation

jax = pytest.importorskip("jax")
pytest.importorskip("numpyro")

N = 2000  # draws; a correct sampler fails the KS tests (Bonferroni) 1 % of the time
N_UNTRUNCATED = 8000  # draws of the untruncated check: log sigma tilted by 0.1 shows
T_OBS = 10  # observed steps of each curve


def _targets(prior, space, curve):
    """log_prior (with the soft wall) and the log-likelihood of (y, mask)."""
    import jax.numpy as jnp
    from jax.scipy.stats import norm

    def log_prior(x):
        wall = -0.5 * jnp.square(violation(prior, curve(x), jnp) / WALL_WIDTH)
        return space.prior_density(x) + wall

    def log_likelihood(x, y, mask):
        sigma = jnp.exp(space.values_of(x)["log_sigma"])
        ll = norm.logpdf(y, curve(x)[:T_OBS], sigma)
        return jnp.where(mask, ll, 0.0).sum()

    return log_prior, log_likelihood


def _extra(values_of, x):
    v = jax.vmap(values_of)(x)
    return {
        "pow3.a": np.asarray(v["pow3.a"]),
        "ilog2.a": np.asarray(v["ilog2.a"]),
        "janoschek.kappa": np.asarray(v["janoschek.kappa"]),
    }


@pytest.mark.integration  # compiles the moves for the full prior (~1 min each)
@pytest.mark.parametrize("lam", [1.0, 0.0])
def test_moves_keep_the_tempered_posterior(lam):
    import jax.numpy as jnp

    prior = lcpfn.priors.load("lcpfn")
    space, curve, in_support, prior_draws = _setup(prior)
    log_prior, log_likelihood = _targets(prior, space, curve)
    start = prior_draws(jax.random.key(0), N)
    fresh = prior_draws(jax.random.key(1), N)
    sigma = np.exp(np.asarray(jax.vmap(space.values_of)(start)["log_sigma"]))
    noise = np.random.default_rng(2).normal(size=(N, T_OBS)) * sigma[:, None]
    y = np.asarray(jax.vmap(curve)(start))[:, :T_OBS] + noise  # the joint draws
    t = jnp.arange(1.0, T_OBS + 1.0)
    mask = jnp.ones(T_OBS, dtype=bool)

    def run(key, x, y):
        def loglik(x_):
            return log_likelihood(x_, y, mask)

        moves = build_linear_moves(
            prior, in_support, log_prior, loglik, (t, y, mask), n_rounds=10
        )
        return moves(key, x, lam)

    keys = jax.random.split(jax.random.key(3), N)
    moved, acceptance = jax.jit(jax.vmap(run))(keys, start, jnp.asarray(y))
    # the moves moved: most draws changed, a share of the proposals taken (at
    # lambda = 0 the Gaussian is the prior's moments, often outside S)
    moved_share = (np.abs(np.asarray(moved - start)).max(axis=1) > 0).mean()
    assert moved_share > 0.5
    assert 0.01 < float(acceptance.mean()) < 0.99
    assert np.asarray(jax.vmap(in_support)(moved)).all()
    before = {**_quantities(space.values_of, fresh), **_extra(space.values_of, fresh)}
    after = {**_quantities(space.values_of, moved), **_extra(space.values_of, moved)}
    for name in before:
        p = stats.ks_2samp(before[name], after[name]).pvalue
        assert p > 0.01 / len(before), (name, p)


@pytest.mark.integration  # compiles the moves for the full prior (~1 min)
def test_moves_keep_the_untruncated_prior():
    import jax.numpy as jnp

    prior = lcpfn.priors.load("lcpfn")
    space, _, _, _ = _setup(prior)
    start = _untruncated_draws(space, jax.random.key(0), N_UNTRUNCATED)
    fresh = _untruncated_draws(space, jax.random.key(1), N_UNTRUNCATED)
    t = jnp.arange(1.0, T_OBS + 1.0)
    no_data = (t, jnp.zeros(T_OBS), jnp.zeros(T_OBS, dtype=bool))
    moves = build_linear_moves(
        prior,
        in_support=lambda x: True,
        log_prior=space.prior_density,
        log_likelihood=lambda x: 0.0,
        data=no_data,
        n_rounds=10,
    )
    keys = jax.random.split(jax.random.key(3), N_UNTRUNCATED)
    moved, acceptance = jax.jit(jax.vmap(lambda k, x: moves(k, x, 0.0)))(keys, start)
    assert 0.1 < float(acceptance.mean()) < 0.99
    before = {**_quantities(space.values_of, fresh), **_extra(space.values_of, fresh)}
    after = {**_quantities(space.values_of, moved), **_extra(space.values_of, moved)}
    for name in before:
        p = stats.ks_2samp(before[name], after[name]).pvalue
        assert p > 0.01 / len(before), (name, p)


def test_linear_sites_are_the_families_scale_parameters():
    prior = lcpfn.priors.load("lcpfn")
    linear, shapes = linear_sites(prior)
    assert linear == [
        "pow3.c",
        "pow3.a",
        "ilog2.c",
        "ilog2.a",
        "janoschek.alpha",
        "janoschek.beta",
    ]
    assert shapes == ["pow3.alpha", "janoschek.kappa", "janoschek.delta"]


def test_moves_make_no_lapack_call():
    # batched LAPACK calls deadlock XLA's CPU thread pool when two run at once
    # (jaxlib 0.10): the moves, vmapped over particles, must not contain any
    import jax.numpy as jnp

    prior = lcpfn.priors.load("lcpfn")
    space, curve, in_support, prior_draws = _setup(prior)
    log_prior, log_likelihood = _targets(prior, space, curve)
    t = jnp.arange(1.0, T_OBS + 1.0)
    y, mask = jnp.full(T_OBS, 0.5), jnp.ones(T_OBS, dtype=bool)

    def loglik(x):
        return log_likelihood(x, y, mask)

    moves = build_linear_moves(prior, in_support, log_prior, loglik, (t, y, mask), 1)
    x = prior_draws(jax.random.key(0), 4)
    keys = jax.random.split(jax.random.key(1), 4)

    hlo = jax.jit(jax.vmap(lambda k, x_: moves(k, x_, 1.0))).lower(keys, x).as_text()
    assert "lapack" not in hlo.lower()
