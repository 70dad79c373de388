"""Every family: the exp/log form equals the textbook formula, in every backend."""

import numpy as np
import pytest
import torch

from lcpfn.prior.curves import FAMILIES

# The textbook formulas (Domhan et al. 2015), written with plain powers.
TEXTBOOK = {
    "pow3": lambda t, c, a, alpha: c - a * t ** (-alpha),
    "ilog2": lambda t, c, a: c - a / np.log(t + 1),
    "janoschek": lambda t, alpha, beta, kappa, delta: (
        alpha - (alpha - beta) * np.exp(-kappa * t**delta)
    ),
    "weibull": lambda t, alpha, beta, kappa, delta: (
        alpha - (alpha - beta) * np.exp(-((kappa * t) ** delta))
    ),
    "mmf": lambda t, alpha, beta, kappa, delta: (
        alpha - (alpha - beta) / (1 + (kappa * t) ** delta)
    ),
    "log_power": lambda t, a, b, c: a / (1 + (t / np.exp(b)) ** c),
    "vap": lambda t, a, b, c: np.exp(a + b / t + c * np.log(t)),
    "loglog_linear": lambda t, a, b: np.log(a * np.log(t) + b),
    "exp4": lambda t, c, a, b, alpha: c - np.exp(-a * t**alpha + b),
    "pow4": lambda t, c, a, b, alpha: c - (a * t + b) ** (-alpha),
    "hill3": lambda t, theta, eta, kappa: theta * t**eta / (kappa**eta + t**eta),
}


def _params(name, batch, rng):
    # moderate positive values keep every textbook formula finite
    return {p: rng.uniform(0.2, 1.5, size=(batch, 1)) for p in FAMILIES[name].params}


def test_every_family_has_a_textbook_formula():
    assert set(FAMILIES) == set(TEXTBOOK)
    assert len(FAMILIES) == 11


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("batch,n_steps", [(1, 1), (7, 50)])
def test_numpy_matches_textbook(name, batch, n_steps):
    rng = np.random.default_rng(0)
    t = np.arange(1, n_steps + 1, dtype=np.float64)[None, :]
    params = _params(name, batch, rng)
    got = FAMILIES[name].fn(t, **params, xp=np)
    want = TEXTBOOK[name](t, **params)
    assert got.shape == (batch, n_steps)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# the declarations lcpfn.mcmc.symmetry_moves relies on, for the families that
# have them (checked against the textbook formula, not the code under test)
SCALED = {"pow3", "ilog2", "janoschek", "weibull", "mmf", "log_power", "hill3"}
SHIFTED = {"pow3", "ilog2", "janoschek", "weibull", "mmf", "exp4", "pow4"}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_scale_and_shift_parameters_scale_and_shift_the_curve(name):
    rng = np.random.default_rng(2)
    fam = FAMILIES[name]
    assert bool(fam.scale) == (name in SCALED)
    assert bool(fam.shift) == (name in SHIFTED)
    assert set(fam.scale) <= set(fam.params) and set(fam.shift) <= set(fam.params)
    t = np.arange(1, 51, dtype=np.float64)[None, :]
    params = _params(name, 7, rng)
    f = TEXTBOOK[name](t, **params)
    scaled = {p: v * 1.7 if p in fam.scale else v for p, v in params.items()}
    shifted = {p: v + 0.3 if p in fam.shift else v for p, v in params.items()}
    if fam.scale:
        np.testing.assert_allclose(TEXTBOOK[name](t, **scaled), 1.7 * f, rtol=1e-12)
    if fam.shift:
        np.testing.assert_allclose(TEXTBOOK[name](t, **shifted), f + 0.3, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_torch_float32_matches_numpy(name):
    rng = np.random.default_rng(1)
    t = np.arange(1, 51, dtype=np.float64)[None, :]
    params = _params(name, 7, rng)
    want = FAMILIES[name].fn(t, **params, xp=np)
    got = FAMILIES[name].fn(
        torch.tensor(t, dtype=torch.float32),
        **{k: torch.tensor(v, dtype=torch.float32) for k, v in params.items()},
        xp=torch,
    )
    assert got.dtype == torch.float32
    # float32 has ~7 significant digits; values here are O(1)
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_jax_matches_numpy(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(2)
    t = np.arange(1, 51, dtype=np.float64)[None, :]
    params = _params(name, 7, rng)
    want = FAMILIES[name].fn(t, **params, xp=np)
    got = FAMILIES[name].fn(
        jnp.asarray(t), **{k: jnp.asarray(v) for k, v in params.items()}, xp=jnp
    )
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)


def test_exp_floor_keeps_underflow_harmless():
    # pow3 with a huge alpha: t**-alpha underflows; the floored form must stay
    # within 2e-38 of the true value (which is c - 0 beyond t = 1)
    t = np.arange(1.0, 101.0)
    got = FAMILIES["pow3"].fn(t, c=0.7, a=0.3, alpha=400.0, xp=np)
    assert got[0] == pytest.approx(0.4)
    np.testing.assert_allclose(got[1:], 0.7, atol=1e-30)
