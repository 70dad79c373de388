"""Property-based fuzzing of the other public entry points: transforms, the
baselines, ``lcpfn.metrics`` and the Optuna pruner; and that every predictor
(the PFN, the baselines, MCMC) reads a request with the same parser.

The contract is that of tests/test_fuzz.py: every call either returns outputs
without NaN (quantiles monotone in q, inside the transform's bounds) or raises
ValueError / TypeError whose message names the offending argument. No other
exception type may escape. The pruner, which sees whatever a trial reports,
must answer True or False for any reported values (NaN and inf included).
"""

import functools
import math

import numpy as np
import optuna
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lcpfn import transforms as tr
from lcpfn.evaluation import baselines as bl
from lcpfn.evaluation import metrics as mt
from lcpfn.stopping import LCPFNPruner

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SLOW_FUZZ = settings(FUZZ, max_examples=20)  # one least-squares fit per curve

special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, 1e300, -1e-300])
values = st.one_of(st.floats(-2, 3, allow_nan=False), special)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def _names_one_of(err: Exception, names: tuple[str, ...]) -> None:
    event(
        f"raised {type(err).__name__}"
    )  # outcome counts: --hypothesis-show-statistics
    assert isinstance(err, (ValueError, TypeError)), repr(err)
    assert any(name in str(err) for name in names), str(err)


# ---- transforms ------------------------------------------------------------------

PARAM = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-5, 5),
    st.sampled_from([None, "1.0", "x", [0.0, 1.0], [[0.0]], object()]),
    hnp.arrays(np.float64, st.integers(1, 3), elements=st.floats(-5, 5)),
)
TRANSFORM_PARAMS = ("lower", "upper", "soft_lower", "soft_upper")


@st.composite
def transforms(draw):
    """A valid transform with scalar parameters (finite soft range, any bounds)."""
    kind = draw(st.sampled_from(["linear", "squash", "loss", "accuracy", "error"]))
    minimize = draw(st.booleans())
    if kind == "linear":
        lo = draw(st.floats(-1e6, 1e6))
        width = draw(st.floats(1e-3, 1e6))
        return tr.Linear(lo, lo + width, minimize=minimize)
    if kind == "squash":
        slo = draw(st.floats(-1e6, 1e6))
        shi = slo + draw(st.floats(1e-3, 1e6))
        lo = draw(st.one_of(st.just(-np.inf), st.floats(slo - 1e6, slo)))
        hi = draw(st.one_of(st.just(np.inf), st.floats(shi, shi + 1e6)))
        return tr.Squash(lo, hi, slo, shi, minimize=minimize)
    if kind == "loss":
        return tr.loss_curve(draw(st.floats(1e-3, 1e4)))
    return tr.accuracy() if kind == "accuracy" else tr.error_rate(percent=minimize)


@FUZZ
@given(
    kind=st.sampled_from([tr.Linear, tr.Squash]),
    params=st.fixed_dictionaries({}, optional=dict.fromkeys(TRANSFORM_PARAMS, PARAM)),
    minimize=st.booleans(),
)
def test_transform_constructors(kind, params, minimize):
    if kind is tr.Linear:
        params = {k: v for k, v in params.items() if k in ("lower", "upper")}
    try:
        transform = kind(**params, minimize=minimize)
    except (ValueError, TypeError) as err:
        _names_one_of(err, TRANSFORM_PARAMS)
        return
    B = transform.n_curves() or 1
    lo, hi = (np.broadcast_to(b, (B,))[:, None] for b in transform.bounds())
    # (B, N): the curve axis second to last, as for any batch
    x = transform.inverse(np.broadcast_to(np.linspace(-0.5, 1.5, 9), (B, 9)))
    assert not np.isnan(x).any() and (x >= lo).all() and (x <= hi).all()
    assert not np.isnan(transform.forward(x)).any()


@FUZZ
@given(
    transform=transforms(),
    y=hnp.arrays(np.float64, st.integers(1, 30), elements=values),
    u=st.floats(-0.2, 1.2),
)
def test_transform_maps_are_monotone_and_stay_in_bounds(transform, y, u):
    lo, hi = (float(b) for b in transform.bounds())
    x = transform.inverse(np.sort(y[~np.isnan(y)]))  # any y, inf included
    assert not np.isnan(x).any() and (x >= lo).all() and (x <= hi).all()
    steps = np.diff(x)
    assert (steps <= 0).all() if transform.minimize else (steps >= 0).all()
    # forward on the metric's own range: finite, monotone, and a round trip
    inside = np.sort(x[np.isfinite(x)])
    z = transform.forward(inside)
    assert np.isfinite(z).all()
    dz = np.diff(z)
    assert (dz <= 1e-12).all() if transform.minimize else (dz >= -1e-12).all()
    assert np.isfinite(transform.log_slope(inside[(inside > lo) & (inside < hi)])).all()
    x_u = transform.inverse(np.array([u]))
    if 0.01 < u < 0.99 and np.isfinite(x_u).all():
        # away from the clipped ends and the sigmoid's flat tails, forward inverts
        # inverse to float rounding of the soft range (module docstring: 1e-9 rel)
        assume(isinstance(transform, tr.Linear) or _unsaturated(transform, x_u))
        np.testing.assert_allclose(transform.forward(x_u), [u], atol=1e-6)


def _unsaturated(transform: tr.Squash, x: np.ndarray) -> bool:
    slo, shi = float(transform.soft_lower), float(transform.soft_upper)
    return bool(np.all(np.abs(2 * (x - slo) / (shi - slo) - 1) <= 10))


@FUZZ
@given(
    transform=transforms(),
    x=hnp.arrays(np.float64, st.integers(1, 20), elements=values),
)
def test_transform_check_names_the_argument(transform, x):
    lo, hi = (float(b) for b in transform.bounds())
    outside = np.isfinite(x) & ((x < lo) | (x > hi))
    if outside.any():
        with pytest.raises(ValueError, match="my_values"):
            transform.check(x, "my_values")
    else:
        transform.check(x, "my_values")


# ---- baselines -------------------------------------------------------------------

BASELINE_ARGS = ("y_obs", "t_obs", "t_query", "horizon", "transform")


def _check_prediction(pred, transform=None):
    event("worked")
    q = pred.quantile([0.05, 0.5, 0.95])
    for out in (pred.mean(), q, pred.cdf(0.5), pred.log_prob(0.5), pred.sample(2)):
        assert not np.isnan(out).any()
    assert np.all(np.diff(q, axis=0) >= 0)
    if transform is not None:
        lo, hi = (float(b) for b in transform.bounds())
        assert (q >= lo).all() and (q <= hi).all()
        assert (pred.mean() >= lo).all() and (pred.mean() <= hi).all()


def _curves():
    """Small float arrays with NaN/inf/extremes, any of 0-3 dimensions."""
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=8),
        elements=values,
    )


@st.composite
def baseline_calls(draw):
    y = draw(
        st.one_of(_curves(), hnp.arrays(np.float64, (3, 8), elements=st.floats(0, 1)))
    )
    t = draw(st.one_of(st.none(), _curves(), st.just(np.arange(8.0, 0.0, -1.0))))
    q = draw(st.one_of(st.none(), _curves(), st.just([150.0]), st.just([1.0, 1.0])))
    horizon = draw(st.one_of(st.none(), st.floats(0.5, 300), special))
    transform = draw(st.one_of(st.none(), transforms()))
    return dict(y_obs=y, t_obs=t, t_query=q, horizon=horizon, transform=transform)


@FUZZ
@given(kwargs=baseline_calls())
def test_last_value_on_random_input(kwargs):
    try:
        pred = bl.LastValue().predict(**kwargs)
    except (ValueError, TypeError) as err:
        _names_one_of(err, BASELINE_ARGS)
        return
    _check_prediction(pred, kwargs["transform"])


@SLOW_FUZZ
@given(kwargs=baseline_calls(), family=st.sampled_from(sorted(bl.FIT_FAMILIES)))
def test_parametric_fit_on_random_input(kwargs, family):
    try:
        pred = bl.ParametricFit(family=family, max_nfev=20).predict(**kwargs)
    except (ValueError, TypeError) as err:
        _names_one_of(err, BASELINE_ARGS)
        return
    _check_prediction(pred, kwargs["transform"])
    assert set(pred.status) <= {"ok", "too_few_points", "failed"}


@FUZZ
@given(
    family=st.one_of(st.sampled_from([*bl.FIT_FAMILIES, "pow5", ""]), st.integers()),
    min_scale=st.one_of(
        st.floats(allow_nan=True), st.sampled_from([True, "0.1", None])
    ),
    max_nfev=st.one_of(st.integers(-3, 5), st.sampled_from([1.5, None, True])),
)
def test_baseline_settings(family, min_scale, max_nfev):
    for make in (
        lambda: bl.LastValue(min_scale=min_scale),
        lambda: bl.ParametricFit(family=family, min_scale=min_scale, max_nfev=max_nfev),
    ):
        try:
            method = make()
        except (ValueError, TypeError) as err:
            _names_one_of(err, ("family", "min_scale", "max_nfev"))
            continue
        pred = method.predict(np.linspace(0.2, 0.6, 10), t_query=[20.0, 50.0])
        _check_prediction(pred)


# ---- one request parser behind every predictor -----------------------------------


class _Sampled(Exception):
    """Raised by the stub MCMC sampler: the request got through every check."""


def _stub_sampler(*args):
    raise _Sampled


@pytest.fixture
def predictors(tiny, monkeypatch):
    """Every ``predict(y_obs, t_obs, t_query, *, horizon, transform)``; MCMC
    stops where sampling would begin (all of its checks run for real)."""
    pytest.importorskip("numpyro")
    from lcpfn.mcmc import sampler, smc
    from lcpfn.mcmc.baseline import McmcBaseline

    monkeypatch.setattr(sampler, "_sample_batches", _stub_sampler)
    monkeypatch.setattr(smc, "run_in_chunks", _stub_sampler)
    return {
        "pfn": tiny.predict,
        "last_value": bl.LastValue().predict,
        "pow3": bl.ParametricFit(max_nfev=1).predict,
        "mcmc": McmcBaseline(n_chains=1, n_warmup=1, n_samples=1).predict,
        "smc": McmcBaseline(method="smc", n_runs=1, n_particles=4).predict,
    }


def _outcome(fn, *args, **kwargs):
    """The string "accepted", or the error's type and message."""
    try:
        fn(*args, **kwargs)
    except _Sampled:
        pass
    except (ValueError, TypeError) as err:
        return type(err).__name__, str(err)
    return "accepted"


BAD_REQUESTS = {  # one fault each
    "empty": dict(y_obs=[]),
    "all_nan": dict(y_obs=[[np.nan, np.nan], [0.1, 0.2]]),
    "inf": dict(y_obs=[0.1, np.inf]),
    "strings": dict(y_obs=["a", "b"]),
    "3d": dict(y_obs=np.zeros((2, 2, 2))),
    "unsorted_t": dict(y_obs=[0.1, 0.2, 0.3], t_obs=[1.0, 3.0, 2.0]),
    "t_all_nan": dict(y_obs=[0.1, 0.2, 0.3], t_obs=[np.nan, np.nan, np.nan]),
    "t_shape": dict(y_obs=[0.1, 0.2, 0.3], t_obs=[1.0, 2.0]),
    "negative_t": dict(y_obs=[np.array([0.1, 0.2]), np.array([0.3])], t_obs=[-1, 2]),
    "beyond": dict(y_obs=[0.1, 0.2, 0.3], t_obs=[1.0, 2.0, 300.0], t_query=100.0),
    "horizon": dict(y_obs=[0.1, 0.2], horizon="x"),
    "negative_horizon": dict(y_obs=[0.1, 0.2], horizon=-1.0),
    "query_beyond": dict(y_obs=[0.1, 0.2], t_query=[200.0]),
    "query_shape": dict(y_obs=[[0.1, 0.2]] * 2, t_query=np.ones((3, 2))),
    "no_steps_left": dict(y_obs=[0.1, 0.2, 0.3], horizon=3),
    "transform_type": dict(y_obs=[0.1, 0.2], transform="loss"),
    "transform_bounds": dict(y_obs=[0.1, 2.0], transform=tr.accuracy()),
    "transform_curves": dict(
        y_obs=[[0.1, 0.2]] * 3, transform=tr.loss_curve(np.array([1.0, 2.0]))
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_every_entry_point_gives_the_same_error(predictors, case):
    kwargs = BAD_REQUESTS[case]
    outcomes = {name: _outcome(fn, **kwargs) for name, fn in predictors.items()}
    assert outcomes["last_value"] != "accepted"
    assert len(set(outcomes.values())) == 1, outcomes
    if "transform" not in kwargs and case not in ("query_beyond", "query_shape"):
        # fit_mcmc takes no transform and no t_query: it checks the observed
        # steps against the horizon, as a query at the horizon would be
        from lcpfn.mcmc import fit_mcmc, fit_posterior, fit_smc

        samplers = (
            fit_mcmc,
            fit_smc,
            functools.partial(fit_posterior, method="smc"),
            functools.partial(fit_posterior, method="nuts"),
        )
        for sampler in samplers:
            fit = _outcome(
                sampler,
                kwargs.get("t_obs"),
                kwargs["y_obs"],
                "lcpfn",
                horizon=kwargs.get("horizon"),
            )
            if case == "no_steps_left":  # no query to be made yet: fits
                assert fit == "accepted"
            else:
                assert fit == outcomes["last_value"]


@st.composite
def requests(draw):
    """Mostly valid requests (curves in [0, 1], ragged lists among them), so
    that every check is reached, with the transforms that keep y_obs within
    the prior's reach (where the PFN alone refuses values far outside it)."""
    shapes = st.tuples(st.integers(1, 3), st.integers(1, 8))
    good = hnp.arrays(np.float64, shapes, elements=st.floats(0, 1))
    ragged = st.lists(
        hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(0, 1)),
        min_size=2,
        max_size=3,
    )
    y = draw(st.one_of(good, good.map(lambda y: y[0]), ragged, _curves()))
    if isinstance(y, list):
        T = max(c.size for c in y)
    else:
        T = np.shape(y)[-1] if np.ndim(y) else 1
        y = np.where(np.isfinite(y) & (np.abs(y) > 10), 3.0, y)
    steps = st.just(np.arange(1.0, T + 1.0) * 2.0)
    return dict(
        y_obs=y,
        t_obs=draw(st.one_of(st.none(), steps, _curves())),
        t_query=draw(st.one_of(st.none(), st.just([20.0, 50.0]), _curves())),
        horizon=draw(st.one_of(st.none(), st.floats(0.5, 300), special)),
        transform=draw(
            st.sampled_from(
                [None, tr.accuracy(), tr.error_rate(), tr.loss_curve(2.0), "x"]
            )
        ),
    )


@settings(FUZZ, max_examples=30)  # an accepted MCMC request builds JAX keys
@given(kwargs=requests())
def test_every_predictor_reads_a_request_alike(predictors, kwargs):
    outcomes = {name: _outcome(fn, **kwargs) for name, fn in predictors.items()}
    event(str(outcomes["last_value"])[:40])
    assert len(set(outcomes.values())) == 1, outcomes


# ---- metrics ---------------------------------------------------------------------

METRIC_ARGS = (
    "values",
    "y_true",
    "levels",
    "quantiles",
    "scale",
    "task",
    "pit",
    "n_levels",
    "level",
    "n_boot",
    "groups",
    "seed",
    "samples",
    "lower",
    "upper",
    "point",
    "log_prob",
)
metric_values = st.one_of(st.floats(-1e3, 1e3), special)


def _grid(shape):
    return hnp.arrays(np.float64, shape, elements=metric_values)


def _mostly_finite(shape):
    """Arrays whose elements are special (NaN, inf, ...) one time in 20."""
    elements = st.one_of(*[st.floats(-1e3, 1e3)] * 19, special)
    return hnp.arrays(np.float64, shape, elements=elements)


def _mostly(valid, invalid):
    """``valid`` three times in four: so that the other arguments get checked."""
    return st.one_of(valid, valid, valid, invalid)


def _metric_call(fn):
    try:
        out = fn()
    except (ValueError, TypeError) as err:
        _names_one_of(err, METRIC_ARGS)
        return None
    event("worked")
    return out


@FUZZ
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6),
    other=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=6),
    data=st.data(),
)
def test_per_curve_scores(shape, other, data):
    y = data.draw(_grid(shape))
    v = data.draw(st.one_of(_grid(shape), _grid(other)))
    for fn in (mt.curve_mean, mt.log_likelihood, mt.squared_error):
        out = _metric_call(lambda fn=fn: fn(v, y))
        if out is not None:
            _check_curve_means(out, v, y)
    out = _metric_call(lambda: mt.interval_coverage(v, v + 1.0, y))
    if out is not None:
        assert ((out >= 0) & (out <= 1) | np.isnan(out)).all()


def _check_curve_means(out, v, y):
    """NaN for a curve without a scored step; a number for one whose scored
    values are all finite (with inf or NaN scored, anything but an error)."""
    scored = ~np.isnan(y)
    v = np.broadcast_to(v, y.shape)
    empty = np.atleast_1d(~scored.any(axis=-1))
    finite = np.atleast_1d((~scored | np.isfinite(v)).all(axis=-1)) & ~empty
    out = np.atleast_1d(out)
    assert np.isnan(out[empty]).all() and not np.isnan(out[finite]).any()


@FUZZ
@given(
    levels=st.one_of(
        hnp.arrays(np.float64, st.integers(0, 5), elements=st.floats(-0.5, 1.5)),
        st.just(np.array([0.05, 0.5, 0.95])),
    ),
    data=st.data(),
)
def test_crps_estimators(levels, data):
    L = data.draw(st.sampled_from([levels.size, 2]))
    q = np.sort(data.draw(_grid((L, 3, 4))), axis=0)
    y = data.draw(hnp.arrays(np.float64, (3, 4), elements=st.floats(-1e3, 1e3)))
    out = _metric_call(lambda: mt.crps_from_quantiles(q, levels, y))
    if out is not None and np.isfinite(q).all():
        assert np.isfinite(out).all() and (out >= -1e-9).all()
    out = _metric_call(lambda: mt.crps_from_samples(q, y))
    if out is not None and np.isfinite(q).all():
        # E|X - y| - E|X - X'| / 2 >= 0, up to rounding of the two sums
        assert np.isfinite(out).all() and (out >= -1e-6 * (1 + np.abs(q).max())).all()
    loc, scale = data.draw(_grid((4,))), data.draw(_grid((4,)))
    out = _metric_call(lambda: mt.crps_gaussian(loc, scale, y))
    if out is not None and np.isfinite(loc).all() and (scale < 1e300).all():
        assert np.isfinite(out).all() and (out >= -1e-9 * np.abs(out).max()).all()


@FUZZ
@given(
    pit=hnp.arrays(np.float64, st.integers(0, 30), elements=st.floats(0, 1)),
    n_levels=st.one_of(st.integers(-2, 200), st.sampled_from([1.5, None, "9"])),
    nan=st.booleans(),
)
def test_calibration_error(pit, n_levels, nan):
    if nan and pit.size:
        pit[0] = np.nan
    out = _metric_call(lambda: mt.calibration_error(pit, n_levels=n_levels))
    if out is not None:
        assert 0.0 <= out <= 1.0


@FUZZ
@given(
    scores=st.one_of(_grid((2, 6)), _grid((6,)), _grid((3,))),
    task=st.one_of(
        st.just(np.array([0, 0, 1, 1, 2, 2])),
        st.just(np.array(["a", "b", "a", "b", "a", "b"])),
        st.just(np.zeros((2, 3))),
    ),
    higher=st.booleans(),
)
def test_task_means_and_ranks(scores, task, higher):
    out = _metric_call(lambda: mt.average_ranks(np.atleast_2d(scores), task, higher))
    if out is not None:
        M = np.atleast_2d(scores).shape[0]
        assert out.shape == (M,) and ((out >= 1) & (out <= M)).all()


@FUZZ
@given(
    v=_mostly(
        st.one_of(_mostly_finite((5,)), _mostly_finite((2, 5))),
        st.one_of(_grid((0,)), _grid((2, 2, 2))),
    ),
    level=_mostly(st.floats(0.01, 0.99), st.one_of(st.floats(-1, 2), special)),
    n_boot=_mostly(st.integers(1, 50), st.sampled_from([0, -1, 2.5, None])),
    seed=_mostly(st.integers(0, 2**70), st.sampled_from([-3, None, "s", 1.5])),
    groups=st.one_of(
        st.none(), st.just(np.array([1, 1, 2, 2, 3])), st.just(np.array([1]))
    ),
)
def test_bootstrap_ci(v, level, n_boot, seed, groups):
    out = _metric_call(
        lambda: mt.bootstrap_ci(v, level=level, n_boot=n_boot, seed=seed, groups=groups)
    )
    if out is not None:
        assert not np.isnan(out).any() and (out[0] <= out[1]).all()
        assert out[0].min() >= v.min() - 1e-9 * abs(v.min()) - 1e-12


@FUZZ
@given(
    y_true=_mostly(_mostly_finite((2, 3)), st.one_of(_grid((3,)), _grid((2, 2)))),
    level=_mostly(st.floats(0.01, 0.99), st.one_of(st.floats(-1, 2), special)),
    n_levels=_mostly(st.integers(1, 50), st.sampled_from([0, -1, 2.5, None])),
)
def test_score_of_a_prediction(y_true, level, n_levels):
    pred = bl.LastValue().predict(
        np.array([[0.1, 0.2, 0.3], [0.5, 0.6, 0.6]]), t_query=[5.0, 10.0, 20.0]
    )
    s = _metric_call(lambda: mt.score(pred, y_true, level=level, n_levels=n_levels))
    if s is None:
        return
    scored = ~np.isnan(y_true)
    for per_curve in (s.log_likelihood, s.squared_error, s.crps, s.coverage):
        assert np.array_equal(np.isnan(per_curve), ~scored.any(axis=-1))


# ---- the pruner in a real study --------------------------------------------------

PRUNER_ARGS = ("horizon", "transform", "step", "min_steps", "threshold")
report_values = st.one_of(
    st.floats(0, 1),
    st.floats(-1e6, 1e6),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, 1e300, -1e300]),
)


@FUZZ
@given(
    direction=st.sampled_from(["maximize", "minimize"]),
    finals=st.lists(st.floats(-10, 10), max_size=3),
    reports=st.dictionaries(st.integers(0, 30), report_values, max_size=25),
    horizon=st.sampled_from([20, 30, 30.0]),
    data=st.data(),
)
def test_pruner_on_random_reports(
    tiny_model_path, direction, finals, reports, horizon, data
):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction=direction, pruner=LCPFNPruner(tiny_model_path, horizon=horizon)
    )
    for value in finals:
        study.add_trial(optuna.trial.create_trial(value=value))
    trial = study.ask()
    order = data.draw(st.permutations(sorted(reports)))  # reported in any order
    for step in order:
        trial.report(float(reports[step]), step)
    try:
        decision = trial.should_prune()
    except (ValueError, TypeError) as err:
        _names_one_of(err, PRUNER_ARGS)
        return
    assert isinstance(decision, bool)
    event(f"decided prune={decision}")
    finite = [v for v in reports.values() if math.isfinite(v)]
    if reports and max(reports) >= horizon:
        assert not decision  # at its horizon: nothing left to save
    elif len(reports) >= 2 and not finite:
        assert decision  # diverged: every report is NaN or inf
    if not finals:
        assert not decision or not finite  # nothing to beat yet


@FUZZ
@given(
    horizon=_mostly(
        st.floats(3, 1e3), st.one_of(st.floats(), st.sampled_from([0, "10", None]))
    ),
    threshold=_mostly(
        st.floats(0.001, 0.999), st.one_of(st.floats(), st.sampled_from([0, 1, "x"]))
    ),
    min_steps=_mostly(st.integers(1, 5), st.sampled_from([0, -2, 1.5, None])),
)
# a horizon near the float max: the rule's steps must not overflow to inf
@example(horizon=1.797693134862316e306, threshold=0.5, min_steps=1)
def test_pruner_settings(tiny_model_path, horizon, threshold, min_steps):
    try:
        pruner = LCPFNPruner(
            tiny_model_path, horizon=horizon, threshold=threshold, min_steps=min_steps
        )
    except (ValueError, TypeError) as err:
        _names_one_of(err, PRUNER_ARGS)
        return
    study = optuna.create_study(direction="maximize", pruner=pruner)
    study.add_trial(optuna.trial.create_trial(value=0.9))
    trial = study.ask()
    for step in range(1, 4):
        trial.report(0.1 * step, step)
    try:
        assert isinstance(trial.should_prune(), bool)
    except (ValueError, TypeError) as err:
        _names_one_of(err, PRUNER_ARGS)
