"""lcpfn.mcmc.symmetry_moves: the moves leave their target invariant.

Started from exact draws of a target, any number of valid Metropolis moves
must leave the draws distributed as the target; a wrong Jacobian or
acceptance ratio makes them drift, most along the moves' own directions (a
family's weight against its scale parameters, how the families share the
level), which is what the checks look at.
"""

import numpy as np
import pytest
from scipy import stats

import lcpfn
from lcpfn.errors import InputError
from lcpfn.mcmc.model import clean_curves, parameter_values, unconstrained_space
from lcpfn.mcmc.symmetry_moves import MOVE_KINDS, build_symmetry_moves
from lcpfn.prior.mixture import accepts

jax = pytest.importorskip("jax")
pytest.importorskip("numpyro")

N = 2000  # draws; a correct sampler fails the KS tests (Bonferroni) 1 % of the time


def _setup(prior):
    import jax.numpy as jnp

    space = unconstrained_space(prior)
    values_of = space.values_of
    grid = jnp.arange(1.0, 101.0)

    def curve(x):
        return clean_curves(
            prior, parameter_values(prior, values_of(x), jnp), grid, jnp
        )

    def in_support(x):
        return accepts(prior, curve(x), xp=jnp)

    def prior_draws(key, n):
        """Exact draws of the truncated prior, unconstrained: (n, d)."""
        x = _untruncated_draws(space, key, 20 * n)
        inside = np.asarray(jax.vmap(in_support)(x))
        return x[np.flatnonzero(inside)[:n]]

    return space, curve, in_support, prior_draws


def _untruncated_draws(space, key, n):
    """Draws of the prior without S, unconstrained: (n, d)."""
    keys = jax.random.split(key, len(space.sites))
    draws = {
        name: d.sample(k, (n,))
        for (name, d), k in zip(space.sites.items(), keys, strict=True)
    }
    return jax.vmap(space.x_of)(draws)


def _quantities(values_of, x):
    v = jax.vmap(values_of)(x)
    w = np.asarray(v["weights"])
    return {
        "w_pow3": w[:, 0],
        "w_janoschek": w[:, 2],
        "w*c pow3": w[:, 0] * np.asarray(v["pow3.c"]),
        "w*c ilog2": w[:, 1] * np.asarray(v["ilog2.c"]),
        "pow3.alpha": np.asarray(v["pow3.alpha"]),
        "log_sigma": np.asarray(v["log_sigma"]),
    }


@pytest.mark.integration  # compiles the moves for the full prior (~1 min each)
# the bijections alone, whose Jacobians decide where the weights drift (with
# the redraws mixed in, a missing Jacobian shifts the weights' means by only
# 0.02-0.03 in 20 rounds), and every kind together
@pytest.mark.parametrize("kinds", [("scale", "transfer"), MOVE_KINDS])
def test_moves_keep_the_truncated_prior(kinds):
    prior = lcpfn.priors.load("lcpfn")
    space, curve, in_support, prior_draws = _setup(prior)
    moves = build_symmetry_moves(prior, in_support, 20, kinds)
    key = jax.random.key(0)
    start = prior_draws(key, N)
    fresh = prior_draws(jax.random.key(1), N)
    assert start.shape[0] == N and fresh.shape[0] == N
    keys = jax.random.split(jax.random.key(2), N)
    moved, acceptance = jax.jit(
        jax.vmap(lambda k, x: moves(k, x, space.prior_density))
    )(keys, start)
    # the moves moved: most draws changed, a share of the proposals taken
    assert (np.abs(np.asarray(moved - start)).max(axis=1) > 0).mean() > 0.9
    assert 0.05 < float(acceptance.mean()) < 0.95
    assert np.asarray(jax.vmap(in_support)(moved)).all()
    before = _quantities(space.values_of, fresh)
    after = _quantities(space.values_of, moved)
    for name in before:
        p = stats.ks_2samp(before[name], after[name]).pvalue
        assert p > 0.01 / len(before), (name, p)


@pytest.mark.integration
def test_symmetry_moves_keep_the_curve_exactly_where_the_likelihood_is_sharp():
    """Under a target that pins the curve (sigma 1e-3 at every step), the
    scaling and transfer moves still move the parameters, and every accepted
    move keeps the curve: the redraws, which change it, are refused."""
    import jax.numpy as jnp

    prior = lcpfn.priors.load("lcpfn")
    space, curve, in_support, prior_draws = _setup(prior)
    moves = build_symmetry_moves(prior, in_support, n_rounds=10)
    start = prior_draws(jax.random.key(3), 64)
    target_curves = jax.vmap(curve)(start)  # (64, 100)

    def run(key, x, y):
        def logdensity(x_):
            return space.prior_density(x_) - 0.5 * jnp.sum(
                ((curve(x_) - y) / 1e-3) ** 2
            )

        return moves(key, x, logdensity)

    keys = jax.random.split(jax.random.key(4), 64)
    moved, _ = jax.jit(jax.vmap(run))(keys, start, target_curves)
    moved_curves = np.asarray(jax.vmap(curve)(moved))
    np.testing.assert_allclose(moved_curves, np.asarray(target_curves), atol=5e-3)
    w_before = np.asarray(jax.vmap(space.values_of)(start)["weights"])
    w_after = np.asarray(jax.vmap(space.values_of)(moved)["weights"])
    assert (np.abs(w_after - w_before).max(axis=1) > 1e-3).mean() > 0.5


def test_unknown_move_kinds_are_named():
    prior = lcpfn.priors.load("lcpfn")
    with pytest.raises(InputError, match="kinds"):
        build_symmetry_moves(prior, lambda x: True, 1, ("swap",))
