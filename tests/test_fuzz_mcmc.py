"""Property-based fuzzing of ``fit_mcmc``'s arguments and of its posterior.

Contract as in tests/test_fuzz.py: a call either works (no NaN in outputs,
quantiles monotone) or raises ValueError / TypeError naming the argument.

Compiling a NUTS chain takes tens of seconds, so the argument fuzz stops each
call where sampling would begin (``_sample_batches`` replaced by a stub that
raises ``_Validated``): everything before it, the checks and the JAX keys,
runs for real. The posterior fuzz shares one tiny real fit (``slow``).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lcpfn.mcmc import sampler as mcmc

pytest.importorskip("numpyro")

FUZZ = settings(
    max_examples=60,  # argument checks only: about 0.2 s a case
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
FIT_ARGS = (
    "t_obs",
    "y_obs",
    "prior",
    "seed",
    "n_chains",
    "n_warmup",
    "n_samples",
    "n_steps",
    "horizon",
    "target_accept_prob",
    "max_tree_depth",
    "dense_mass",
    "batch_size",
)
COUNTS = ("n_chains", "n_warmup", "n_samples", "max_tree_depth", "batch_size")

special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, 1e300])
values = st.one_of(st.floats(-2, 3, allow_nan=False), special)
ints = st.one_of(
    st.integers(-2, 4),
    st.sampled_from([1.5, None, True, "2", np.int64(3), 2**70]),
)


class _Validated(Exception):
    """Raised by the stub sampler: the arguments got through every check."""


def _stub_sampler(prior, settings, batch_size, keys, t, y, mask):
    raise _Validated


def _arrays(max_dims):
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=8),
        elements=values,
    )


def _curves():
    """Mostly well-formed curves, so that the other arguments get checked too."""
    good = hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(1, 8)),
        elements=st.floats(0, 1),
    )
    return st.one_of(good, good.map(lambda y: y[0]), _arrays(3))


@FUZZ
@given(
    y=_curves(),
    t=st.one_of(st.none(), _arrays(2), st.just(np.arange(8.0, 0.0, -1.0))),
    prior=st.sampled_from(["lcpfn", "object", "nope", 3, None, "/no/such.toml"]),
    seed=st.one_of(st.integers(-5, 2**63 - 1), st.sampled_from([None, "1", 1.5])),
    counts=st.fixed_dictionaries({}, optional=dict.fromkeys(COUNTS, ints)),
    n_steps=ints,
    horizon=st.one_of(st.none(), st.floats(0.5, 300), special, st.just("10")),
    accept=st.one_of(st.floats(-1, 2), special, st.just(True)),
    dense_mass=st.sampled_from([False, True, 1, "yes"]),
)
def test_fit_mcmc_arguments(
    monkeypatch,
    lcpfn_prior,
    y,
    t,
    prior,
    seed,
    counts,
    n_steps,
    horizon,
    accept,
    dense_mass,
):
    monkeypatch.setattr(mcmc, "_sample_batches", _stub_sampler)
    kwargs = dict(
        prior=lcpfn_prior if prior == "object" else prior,
        seed=seed,
        n_steps=n_steps,
        horizon=horizon,
        target_accept_prob=accept,
        dense_mass=dense_mass,
        **counts,
    )
    try:
        mcmc.fit_mcmc(t, y, **kwargs)
    except _Validated:
        event("validated")
        _assert_valid(kwargs, y, t)
    except (ValueError, TypeError) as err:
        event(f"raised {type(err).__name__}")
        assert any(name in str(err) for name in FIT_ARGS), str(err)


VALID = dict(
    prior="lcpfn",
    seed=0,
    n_chains=1,
    n_warmup=5,
    n_samples=5,
    n_steps=100,
    horizon=None,
    target_accept_prob=0.8,
    max_tree_depth=4,
    dense_mass=False,
    batch_size=4,
)
ONE_BAD = {
    **dict.fromkeys(COUNTS, ints),
    "n_steps": ints,
    "seed": st.one_of(st.integers(-5, 2**63 - 1), st.sampled_from([None, "1", 1.5])),
    "prior": st.sampled_from(["nope", 3, None, "/no/such.toml", b"lcpfn"]),
    "horizon": st.one_of(st.floats(0.5, 300), special, st.sampled_from(["x", -3])),
    "target_accept_prob": st.one_of(st.floats(-1, 2), special, st.just(True)),
    "dense_mass": st.sampled_from([True, 1, "yes", None]),
    "y_obs": _curves(),
    "t_obs": st.one_of(_arrays(2), st.just(np.arange(8.0, 0.0, -1.0))),
}


@settings(FUZZ, max_examples=40)  # a validated case builds JAX keys: ~0.5 s
@given(name=st.sampled_from(sorted(ONE_BAD)), data=st.data())
def test_fit_mcmc_one_argument_at_a_time(monkeypatch, name, data):
    """All arguments valid but one: an error must name that one."""
    monkeypatch.setattr(mcmc, "_sample_batches", _stub_sampler)
    value = data.draw(ONE_BAD[name], label=name)
    kwargs = {**VALID, "y_obs": np.linspace(0.2, 0.5, 8), "t_obs": None, name: value}
    try:
        mcmc.fit_mcmc(**kwargs)
    except _Validated:
        event("validated")
        _assert_valid(kwargs, kwargs["y_obs"], kwargs["t_obs"])
    except (ValueError, TypeError) as err:
        event(f"raised {type(err).__name__}")
        # the curves' checks name y_obs or t_obs, whichever shows the problem
        # (horizon defaults to n_steps, so a small n_steps shows as a horizon)
        names = {"y_obs": ("y_obs", "t_obs"), "t_obs": ("y_obs", "t_obs")}.get(
            name, {"n_steps": ("n_steps", "horizon")}.get(name, (name,))
        )
        assert any(n in str(err) for n in names), (name, str(err))


def _assert_valid(kwargs, y, t):
    """What got through the checks is what the docstring allows."""
    for name in COUNTS:
        value = kwargs.get(name, 1)
        assert isinstance(value, int | np.integer) and not isinstance(value, bool)
        assert value >= 1, name
    assert isinstance(kwargs["n_steps"], int | np.integer) and kwargs["n_steps"] >= 2
    assert 0 < kwargs["target_accept_prob"] < 1
    assert isinstance(kwargs["dense_mass"], bool)
    y = np.asarray(y, dtype=np.float64)
    assert y.ndim in (1, 2) and not np.isinf(y).any()
    assert (~np.isnan(y.reshape(-1, y.shape[-1]))).any(axis=1).all()


@pytest.mark.parametrize("seed", [2**63, 2**64, -1])
def test_fit_mcmc_out_of_range_seed_names_the_argument(monkeypatch, seed):
    # jax.random.key takes 64-bit seeds: a larger one escaped as OverflowError
    monkeypatch.setattr(mcmc, "_sample_batches", _stub_sampler)
    with pytest.raises(ValueError, match="seed"):
        mcmc.fit_mcmc(None, [0.2, 0.3, 0.4], "lcpfn", seed=seed)


# ---- the posterior of one tiny real fit -------------------------------------------


@pytest.fixture(scope="module")
def tiny_posterior():
    """Three curves (a clean rise, a NaN gap, values beyond [0, 1]); 1 chain,
    5 warm-up + 5 draws: enough to exercise every code path, not to converge."""
    y = np.array(
        [
            np.linspace(0.3, 0.6, 10),
            [0.2, np.nan, 0.3, 0.35, np.nan, 0.4, 0.41, 0.43, 0.44, 0.45],
            [-0.02, 0.1, 0.5, 0.9, 1.02, 1.0, 0.99, 1.01, 1.0, 1.0],
        ]
    )
    with pytest.warns(UserWarning):  # 5 draws cannot pass the r_hat check
        return mcmc.fit_mcmc(
            None, y, "lcpfn", seed=0, n_chains=1, n_warmup=5, n_samples=5
        )


@pytest.mark.slow
@settings(FUZZ, max_examples=40)
@given(
    q=st.one_of(
        st.none(),
        _arrays(2),
        hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(1, 100)),
        st.just([150.0]),
        st.just(np.full((3, 2), 50.0)),
    ),
    levels=st.lists(st.floats(0.001, 0.999), min_size=1, max_size=4),
    v=st.one_of(st.floats(-1, 2), special),
)
def test_posterior_predict_on_random_queries(tiny_posterior, q, levels, v):
    try:
        pred = tiny_posterior.predict(q)
    except (ValueError, TypeError) as err:
        event(f"raised {type(err).__name__}")
        assert "t_query" in str(err) or "horizon" in str(err), str(err)
        return
    event("worked")
    quantiles = pred.quantile(sorted(levels))
    assert not np.isnan(quantiles).any()
    assert np.all(np.diff(quantiles, axis=0) >= 0)
    for out in (pred.mean(), pred.sample(3, seed=1), pred.median()):
        assert not np.isnan(out).any()
    try:
        cdf, log_prob = pred.cdf(v), pred.log_prob(v)
    except ValueError as err:
        assert not np.isfinite(v) and ("v must" in str(err) or "y must" in str(err))
        return
    assert ((cdf >= 0) & (cdf <= 1)).all() and not np.isnan(log_prob).any()


@pytest.mark.slow
def test_tiny_fit_has_finite_draws(tiny_posterior):
    draws = tiny_posterior.curves(np.arange(11.0, 101.0))
    assert draws.shape == (5, 3, 90) and np.isfinite(draws).all()
