"""Property-based fuzzing of the public entry points: work cleanly or say why.

Every call either returns outputs without NaN (quantiles monotone in q) or
raises ValueError / TypeError whose message names the offending argument.
No other exception type may escape.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lcpfn
from lcpfn import transforms as tr
from lcpfn.cli import main as cli_main
from lcpfn.stopping import stop_decisions

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
ARGUMENTS = ("y_obs", "t_obs", "t_query", "horizon", "transform", "batch_size")

special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, 1e300, -1e-300])
values = st.one_of(st.floats(-2, 3, allow_nan=False), special)


def arrays(max_dims=3):
    """Float arrays of any shape with NaN, inf and extremes, as float64, float32
    or nested lists."""
    base = hnp.arrays(
        dtype=np.float64,
        shape=hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=12),
        elements=values,
    )
    return st.tuples(base, st.sampled_from(["f8", "f4", "list"])).map(
        lambda a: a[0].tolist() if a[1] == "list" else a[0].astype(a[1])
    )


def _check_outputs(pred):
    q = pred.quantile([0.05, 0.5, 0.95])
    for out in (pred.mean(), q, pred.cdf(0.5), pred.log_prob(0.5), pred.sample(2)):
        assert not np.isnan(out).any()
    assert np.all(np.diff(q, axis=0) >= 0)


def _call_predict(model, **kwargs):
    try:
        pred = model.predict(**kwargs)
    except (ValueError, TypeError) as err:
        assert any(name in str(err) for name in ARGUMENTS), str(err)
        return None
    _check_outputs(pred)
    return pred


@FUZZ
@given(y=arrays(), t=st.one_of(st.none(), arrays(2)), q=st.one_of(st.none(), arrays(2)))
def test_predict_on_random_arrays(tiny, y, t, q):
    _call_predict(tiny, y_obs=y, t_obs=t, t_query=q)


@FUZZ
@given(
    n=st.integers(1, 30),
    horizon=st.one_of(st.none(), st.floats(0.5, 1e4), special),
    scale=st.floats(1e-3, 1e3),
    data=st.data(),
)
def test_predict_with_random_steps_and_horizons(tiny, n, horizon, scale, data):
    t = np.sort(data.draw(hnp.arrays(np.float64, n, elements=st.floats(1e-3, 1e4))))
    y = data.draw(hnp.arrays(np.float64, n, elements=st.floats(0, 1)))
    q = data.draw(
        hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(-1, 2e4))
    )
    _call_predict(tiny, y_obs=y, t_obs=t * scale, t_query=q, horizon=horizon)


@FUZZ
@given(
    kind=st.sampled_from(["loss", "error", "accuracy%", "squash"]),
    y=hnp.arrays(np.float64, st.integers(1, 20), elements=values),
    p=st.floats(-10, 10),
)
@example(kind="loss", y=np.array([0.0]), p=2.225073858507e-311)  # subnormal range
@example(kind="loss", y=np.array([0.0]), p=3e-308)  # the narrowest accepted
def test_predict_through_transforms(tiny, kind, y, p):
    try:
        transform = {
            "loss": lambda: tr.loss_curve(p),
            "error": tr.error_rate,
            "accuracy%": lambda: tr.accuracy(percent=True),
            "squash": lambda: tr.Squash(lower=p, soft_lower=p, soft_upper=p + 1.0),
        }[kind]()
    except ValueError as err:  # bad parameters: named in the message
        assert "soft" in str(err) or "lower" in str(err)
        return
    _call_predict(tiny, y_obs=y, transform=transform, t_query=[50, 100])


@FUZZ
@given(
    n=st.one_of(st.integers(-5, 300), st.sampled_from([0.5, "10", None])),
    steps=st.one_of(st.integers(-2, 200), st.sampled_from([1.5, None])),
)
def test_sample_curves_arguments(lcpfn_prior, n, steps):
    try:
        batch = lcpfn.sample_curves(lcpfn_prior, n, steps, seed=0)
    except (ValueError, TypeError) as err:
        assert "n_curves" in str(err) or "n_steps" in str(err), str(err)
        return
    assert batch.y.shape == (n, steps) and not batch.y.isnan().any()


@FUZZ
@given(
    y=arrays(2),
    incumbent=st.one_of(values, st.lists(values, min_size=1, max_size=3)),
    threshold=st.one_of(st.floats(-1, 2), special),
)
def test_stopping_rule_arguments(tiny, y, incumbent, threshold):
    try:
        d = stop_decisions(tiny, y, incumbent, horizon=100, threshold=threshold)
    except (ValueError, TypeError) as err:
        names = ("y_obs", "t_obs", "incumbent", "threshold", "horizon", "t_query")
        assert any(name in str(err) for name in names), str(err)
        return
    assert d.stop.dtype == bool and d.stop.shape == d.checked.shape


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "nan", "nan"],
        ["predict", "inf"],
        ["predict", "0.5", "--horizon", "-3"],
        ["predict", "0.5", "0.6", "--t", "2,1"],
        ["predict", "0.5", "--metric", "accuracy-percent", "--rows", "0"],
        ["predict", "5", "--metric", "accuracy"],
        ["predict", "-1", "--metric", "loss"],
        ["predict", "0.1", "--quantiles", "0,1"],
        ["predict", "0.1", "--quantiles", "x"],
        ["predict", "0.1", "--model", "/no/such/model"],
        ["sample", "--n-curves", "0"],
        ["export", "/no/such", "/tmp/x"],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tiny_model_path, argv, capsys):
    if argv[0] == "predict" and "--model" not in argv:
        argv = [*argv, "--model", str(tiny_model_path)]
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("lcpfn: error:") and "Traceback" not in err


@pytest.mark.parametrize(
    "y, error",
    [
        (np.array([0, 1, 1]), None),  # integers are numbers
        (np.array([True, False]), None),
        (np.array(["0.1", "0.2"]), TypeError),
        (np.array([0.1 + 1j, 0.2]), TypeError),
        ([[0.1, 0.2], [0.3]], None),  # ragged list: curves of two lengths
        ([[0.1, [0.2]]], ValueError),
        (object(), TypeError),
    ],
)
def test_predict_dtypes(tiny, y, error):
    if error is None:
        _check_outputs(tiny.predict(y, t_query=[50]))
    else:
        with pytest.raises(error, match="y_obs"):
            tiny.predict(y, t_query=[50])


def test_huge_batches_are_chunked(tiny):
    rng = np.random.default_rng(0)
    y = np.sort(rng.uniform(0, 1, (3000, 8)), axis=1)
    pred = tiny.predict(y, t_query=[50, 100], batch_size=256)
    assert pred.quantile(0.5).shape == (3000, 2)


@FUZZ
@given(
    t=hnp.arrays(np.float64, st.integers(2, 12), elements=st.integers(1, 15)),
    gaps=st.lists(st.booleans(), min_size=12, max_size=12),
    n_curves=st.sampled_from([None, 1, 3]),
)
def test_predict_with_unsorted_or_repeated_steps(tiny, t, gaps, n_curves):
    y = np.linspace(0.2, 0.6, t.size)
    y[np.array(gaps[: t.size])] = np.nan  # unobserved steps do not count
    assume(not np.isnan(y).all())
    seen = t[~np.isnan(y)]
    increasing = bool(np.all(np.diff(seen) > 0))
    if n_curves is not None:
        y, t = np.tile(y, (n_curves, 1)), np.tile(t, (n_curves, 1))
    try:
        pred = tiny.predict(y, t_obs=t, t_query=[50.0, 100.0])
    except ValueError as err:
        assert not increasing, str(err)
        assert "t_obs must be strictly increasing" in str(err)
        return
    assert increasing
    _check_outputs(pred)


@FUZZ
@given(
    n=st.integers(1, 20),
    stretch=st.floats(0.05, 20),
    horizon=st.floats(1, 400),
    q=hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(-5, 500)),
)
def test_predict_beyond_the_horizon(tiny, n, stretch, horizon, q):
    t = np.arange(1.0, n + 1) * stretch
    reach = max(t.max(), q.max())
    assume(abs(reach - horizon) > 1e-6 * horizon)  # not on the edge of the check
    try:
        pred = tiny.predict(np.linspace(0.3, 0.5, n), t, q, horizon=horizon)
    except ValueError as err:
        if (q <= 0).any():
            assert "t_query must be finite and > 0" in str(err)
        else:
            assert reach > horizon and f"beyond horizon={horizon:g}" in str(err)
        return
    assert reach < horizon and (q > 0).all()
    _check_outputs(pred)


@st.composite
def bounded_transforms(draw):
    """A transform with at least one finite hard bound, and those bounds."""
    kind = draw(st.sampled_from(["linear", "accuracy%", "error", "loss", "squash"]))
    if kind == "linear":
        lo = draw(st.floats(-1e3, 1e3))
        transform = tr.Linear(lo, lo + draw(st.floats(1e-2, 1e3)), draw(st.booleans()))
    elif kind == "accuracy%":
        transform = tr.accuracy(percent=True)
    elif kind == "error":
        transform = tr.error_rate()
    elif kind == "loss":
        transform = tr.loss_curve(draw(st.floats(0.1, 10)))
    else:
        transform = tr.Squash(lower=-1.0, upper=2.0, soft_lower=0.0, soft_upper=1.0)
    return transform


@settings(FUZZ, max_examples=25)  # means through a transform: ~0.3 s a case
@given(transform=bounded_transforms(), data=st.data())
def test_predict_at_and_beyond_transform_bounds(tiny, transform, data):
    lo, hi = (float(b) for b in transform.bounds())
    top = hi if np.isfinite(hi) else lo + 10.0
    width = top - lo
    picks = st.sampled_from(
        [lo, top, lo - 1e-9 * width, top + 1e-9 * width, lo - width, top + width]
    )
    inside = st.floats(lo, top)
    y = data.draw(
        hnp.arrays(np.float64, st.integers(1, 12), elements=st.one_of(picks, inside))
    )
    outside = (y < lo) | (y > hi)
    try:
        pred = tiny.predict(y, transform=transform, t_query=[50.0, 100.0])
    except ValueError as err:
        assert outside.any(), str(err)
        assert "y_obs must lie within the transform's" in str(err)
        return
    assert not outside.any()
    q, mean = pred.quantile([0.01, 0.5, 0.99]), pred.mean()
    for out in (q, mean, pred.log_prob(y[:1]), pred.sample(2)):
        assert not np.isnan(out).any()
    assert np.all(np.diff(q, axis=0) >= 0)
    assert (q >= lo).all() and (q <= hi).all() and (mean >= lo).all()
    assert (mean <= hi).all()
    if np.isfinite(hi):
        np.testing.assert_array_equal(pred.cdf(hi), 1.0)  # a hard bound holds it all
    np.testing.assert_array_equal(pred.cdf(lo - width), 0.0)


@FUZZ
@given(
    n_curves=st.integers(1, 4),
    n=st.integers(1, 12),
    incumbent=st.one_of(
        values,
        st.lists(values, min_size=1, max_size=5),
        st.sampled_from(["x", None, [[0.5]]]),
    ),
    horizon=st.one_of(st.floats(0.5, 300), special, st.sampled_from(["10", None])),
    minimize=st.sampled_from([None, False, True]),
    check_at=st.one_of(st.none(), st.lists(st.integers(1, 15)), st.just("x")),
    transform=st.sampled_from([None, "loss", "accuracy"]),
)
def test_stopping_rule_on_valid_curves(
    tiny, n_curves, n, incumbent, horizon, minimize, check_at, transform
):
    y = np.tile(np.linspace(0.2, 0.5, n), (n_curves, 1))
    transform = {
        None: None,
        "loss": tr.loss_curve(np.full(n_curves, 2.0)),
        "accuracy": tr.accuracy(),
    }[transform]
    try:
        d = stop_decisions(
            tiny,
            y,
            incumbent,
            horizon=horizon,
            minimize=minimize,
            check_at=check_at,
            transform=transform,
        )
    except (ValueError, TypeError) as err:
        names = ("incumbent", "horizon", "check_at", "t_obs", "t_query")
        assert any(name in str(err) for name in names), str(err)
        return
    assert d.stop.shape == d.checked.shape == d.prob_better.shape == (n_curves,)
    p = d.prob_better[d.checked]
    assert not np.isnan(p).any() and ((p >= 0) & (p <= 1)).all()
    assert not (d.stop & ~d.checked).any()
