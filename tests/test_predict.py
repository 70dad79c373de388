"""predict(): shapes, ragged batches, t mapping, transforms, errors, loading."""

import hashlib
import json

import numpy as np
import pytest
import torch

import lcpfn
from lcpfn import transforms as tr
from lcpfn.errors import CheckpointError, InputError
from lcpfn.predict import Extrapolator

CURVE = np.linspace(0.2, 0.6, 10)


def test_shapes_for_one_curve_and_a_batch(tiny):
    one = tiny.predict(CURVE)
    assert one.steps.tolist() == list(range(11, 101))
    assert one.mean().shape == one.median().shape == (90,)
    assert one.quantile([0.1, 0.5, 0.9]).shape == (3, 90)
    assert one.interval(0.9).shape == (2, 90)
    assert one.cdf(0.5).shape == one.prob_greater(0.5).shape == (90,)
    assert one.log_prob(np.full(90, 0.5)).shape == (90,)
    assert one.sample(7, seed=1).shape == (7, 90)
    batch = tiny.predict(np.stack([CURVE, CURVE[::-1]]), t_query=[20, 50])
    assert batch.mean().shape == (2, 2) and batch.quantile([0.1, 0.9]).shape == (
        2,
        2,
        2,
    )
    assert batch.sample(3).shape == (3, 2, 2)


def test_ragged_batch_equals_curve_by_curve(tiny):
    a, b = np.linspace(0.1, 0.5, 7), np.linspace(0.3, 0.4, 15)
    q = [30.0, 60.0, 100.0]
    batch = tiny.predict([a, b], t_query=q)
    padded = np.full((2, 15), np.nan)
    padded[0, :7], padded[1] = a, b
    from_nan = tiny.predict(padded, t_query=q)
    for i, curve in enumerate((a, b)):
        alone = tiny.predict(curve, t_query=q)
        # padding is masked out of attention: float32 sums of other lengths only
        np.testing.assert_allclose(batch.mean()[i], alone.mean(), atol=1e-5)
        np.testing.assert_allclose(
            from_nan.quantile(0.9)[i], alone.quantile(0.9), atol=1e-5
        )


def test_nan_gaps_are_unobserved_steps(tiny):
    gappy = np.array([0.2, np.nan, 0.3, np.nan, 0.35])
    a = tiny.predict(gappy, t_query=[50])
    b = tiny.predict([0.2, 0.3, 0.35], t_obs=[1, 3, 5], t_query=[50])
    np.testing.assert_allclose(a.mean(), b.mean(), atol=1e-6)


def test_inputs_from_lists_numpy_torch_and_pandas_agree(tiny):
    import pandas as pd

    ref = tiny.predict(CURVE).mean()
    for given in (
        CURVE.tolist(),
        torch.tensor(CURVE),
        pd.Series(CURVE),
        CURVE.astype(np.float32),
    ):
        np.testing.assert_allclose(tiny.predict(given).mean(), ref, atol=1e-6)
    frame = pd.DataFrame(np.stack([CURVE, CURVE]))
    np.testing.assert_allclose(tiny.predict(frame).mean()[1], ref, atol=1e-6)


def test_time_is_mapped_onto_the_model_horizon(tiny):
    epochs = np.arange(1, 11) * 3.0  # a 300-epoch run observed every 3rd epoch
    a = tiny.predict(CURVE, t_obs=epochs, t_query=[150.0, 300.0], horizon=300)
    b = tiny.predict(CURVE, t_obs=np.arange(1, 11.0), t_query=[50.0, 100.0])
    np.testing.assert_allclose(
        a.quantile([0.1, 0.9]), b.quantile([0.1, 0.9]), atol=1e-6
    )
    fractions = tiny.predict(
        CURVE, t_obs=np.arange(1, 11) / 100, t_query=[1.0], horizon=1
    )
    np.testing.assert_allclose(fractions.mean(), b.mean()[1:], atol=1e-6)


def test_long_curves_are_thinned_to_the_model_horizon(tiny):
    rng = np.random.default_rng(0)
    y = np.sort(rng.uniform(0.2, 0.7, 400))
    pred = tiny.predict(y, t_obs=np.arange(1, 401), t_query=[500, 1000], horizon=1000)
    # 400 points are thinned to 100 evenly spread ones, the last kept: every
    # 4th point, t = 4, 8, ..., 400 (model steps 0.4 .. 40)
    every_4th = tiny.predict(
        y[3::4], t_obs=np.arange(4, 401, 4), t_query=[500, 1000], horizon=1000
    )
    np.testing.assert_array_equal(pred.mean(), every_4th.mean())
    shifted = tiny.predict(
        y[2::4], t_obs=np.arange(3, 400, 4), t_query=[500, 1000], horizon=1000
    )
    assert not np.array_equal(pred.mean(), shifted.mean())
    assert np.isfinite(pred.mean()).all()


def test_quantiles_are_monotone_and_consistent_with_cdf(tiny):
    pred = tiny.predict(np.stack([CURVE, CURVE * 0.5]))
    levels = np.linspace(0.01, 0.99, 25)
    q = pred.quantile(levels)
    assert np.all(np.diff(q, axis=0) >= 0)
    # cdf(quantile(p)) = p for a continuous distribution (float32 bars: 1e-4)
    np.testing.assert_allclose(pred.cdf(q[12]), levels[12], atol=1e-4)
    np.testing.assert_allclose(pred.prob_greater(q[5]), 1 - levels[5], atol=1e-4)


@pytest.mark.parametrize(
    "transform, values",
    [
        (tr.loss_curve(2.5), 2.3 * np.exp(-np.arange(1, 16) / 8) + 0.2),
        (tr.error_rate(), 0.8 - np.linspace(0.1, 0.5, 15)),
        (tr.Squash(soft_lower=10.0, soft_upper=50.0), np.linspace(12.0, 40.0, 15)),
    ],
)
def test_transformed_predictions_are_in_metric_units(tiny, transform, values):
    pred = tiny.predict(values, transform=transform, t_query=[30, 60, 100])
    q = pred.quantile([0.05, 0.5, 0.95])
    assert np.all(np.diff(q, axis=0) >= 0) and np.isfinite(q).all()
    # the median is the back-transform of the prior-space median (quantiles commute)
    plain = tiny.predict(transform.forward(values), t_query=[30, 60, 100])
    np.testing.assert_allclose(
        q[1], transform.inverse(plain.quantile(0.5)), rtol=1e-9, atol=1e-9
    )
    # the mean integrates over the back-transformed distribution: it must
    # agree with the mean of 100,000 samples within 4 standard errors (the
    # tiny model's tails are heavy in loss units, so the error is estimated)
    samples = pred.sample(100_000, seed=0)
    se = samples.std(axis=0) / np.sqrt(len(samples))
    assert np.all(np.abs(pred.mean() - samples.mean(axis=0)) < 4 * se + 1e-3)
    # cdf in metric units: P(y <= median) = 1/2 whatever the direction
    np.testing.assert_allclose(pred.cdf(q[1]), 0.5, atol=1e-3)


def test_mean_of_a_nonlinear_transform_is_not_the_transformed_mean(tiny):
    transform = tr.loss_curve(2.5)
    values = 2.3 * np.exp(-np.arange(1, 6) / 8) + 0.2
    pred = tiny.predict(values, transform=transform, t_query=[100])
    plain = tiny.predict(transform.forward(values), t_query=[100])
    naive = transform.inverse(plain.mean())
    # with a wide predictive (a 5-point curve) Jensen's gap is clearly visible
    assert abs(pred.mean()[0] - naive[0]) > 1e-3


def test_log_prob_includes_the_jacobian(tiny):
    transform = tr.Linear(0.0, 100.0)
    pred = tiny.predict(CURVE * 100, transform=transform, t_query=[50])
    plain = tiny.predict(CURVE, t_query=[50])
    np.testing.assert_allclose(
        pred.log_prob(42.0), plain.log_prob(0.42) - np.log(100.0), atol=1e-6
    )


def test_chunked_and_uncached_batches_give_the_same_answers(tiny, monkeypatch):
    rng = np.random.default_rng(1)
    y = np.sort(rng.uniform(0.1, 0.8, (37, 20)), axis=1)
    y[rng.random((37, 20)) < 0.3] = np.nan
    y[:, 0] = 0.1
    whole = tiny.predict(y)
    monkeypatch.setattr("lcpfn.predict.MAX_CACHED_BYTES", 0)
    calls = []
    forward = tiny.logits
    monkeypatch.setattr(tiny, "logits", lambda *a: calls.append(1) or forward(*a))
    chunked = tiny.predict(y, batch_size=5)
    assert calls == []  # nothing kept: each method runs the network itself
    chunked.median()
    assert len(calls) == 8  # ceil(37 / 5) chunks
    # the range guarantee shifts the mean by quantiles, which move within a
    # wide bar with the logits' float32 rounding (this untrained model's
    # predictive lies far outside the prior's range, all of it mirrored) ...
    np.testing.assert_allclose(chunked.mean(), whole.mean(), rtol=1e-3, atol=5e-4)
    # ... while the mean bar by bar (no range: a card without a prior) is linear
    plain = Extrapolator(tiny.model)
    np.testing.assert_allclose(
        plain.predict(y, batch_size=5).mean(), plain.predict(y).mean(), atol=1e-5
    )
    np.testing.assert_allclose(chunked.sample(3, seed=2).shape, (3, 37, 80))
    # chunks group curves by observed count: every answer goes back to its row
    values = rng.uniform(0.1, 0.9, (37, 80))
    np.testing.assert_allclose(
        chunked.quantile([0.1, 0.9]), whole.quantile([0.1, 0.9]), rtol=1e-5
    )
    np.testing.assert_allclose(
        chunked.log_prob(values), whole.log_prob(values), rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(chunked.cdf(values), whole.cdf(values), atol=1e-5)
    torch.testing.assert_close(chunked.logits, whole.logits, atol=1e-4, rtol=1e-4)
    seen = ~np.isnan(y[7])
    one = tiny.predict(
        y[7][seen], t_obs=np.flatnonzero(seen) + 1.0, t_query=whole.steps[7]
    )
    np.testing.assert_allclose(one.quantile(0.5), whole.quantile(0.5)[7], atol=1e-5)


def test_per_curve_transform_parameters_follow_their_curves(tiny, monkeypatch):
    values = np.stack(
        [1.0 * np.exp(-np.arange(1, 11) / 5), 4.0 * np.exp(-np.arange(1, 11) / 5)]
    )
    transform = tr.loss_curve(np.array([1.0, 4.0]))
    monkeypatch.setattr("lcpfn.predict.MAX_CACHED_BYTES", 0)
    pred = tiny.predict(values, transform=transform, batch_size=1)
    # the second curve is the first scaled by 4, and so is its soft range
    np.testing.assert_allclose(pred.mean()[1], 4 * pred.mean()[0], rtol=1e-4)
    with pytest.raises(InputError, match="per-curve parameters for 2 curves"):
        tiny.predict(values[:1], transform=transform)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(y_obs=[]), InputError, "y_obs must be one curve"),
        (dict(y_obs=np.zeros((2, 3, 4))), InputError, r"y_obs must be one curve"),
        (dict(y_obs=["a", "b"]), TypeError, "y_obs must hold real numbers"),
        (dict(y_obs=[0.1, np.inf]), InputError, "y_obs must not contain inf"),
        (dict(y_obs=[[np.nan, np.nan], [0.1, 0.2]]), InputError, r"curve\(s\) \[0\]"),
        (dict(y_obs=[0.1, 0.2], t_obs=[2, 1]), InputError, "strictly increasing"),
        (dict(y_obs=[0.1, 0.2], t_obs=[1, 1]), InputError, "strictly increasing"),
        (
            dict(y_obs=[0.1, 0.2], t_obs=[0, 1]),
            InputError,
            r"t_obs must be finite and > 0",
        ),
        (dict(y_obs=[0.1, 0.2], t_obs=[1, 2, 3]), InputError, r"t_obs must have shape"),
        (dict(y_obs=[0.1, 0.2], t_query=[150]), InputError, "beyond horizon=100"),
        (dict(y_obs=[0.1, 0.2], t_query=[-1]), InputError, "t_query must be finite"),
        (dict(y_obs=[0.1, 0.2], horizon=-5), InputError, "horizon must be"),
        (dict(y_obs=np.ones(100)), InputError, "no steps left to predict"),
        (dict(y_obs=[0.1, 0.2], batch_size=0), InputError, "batch_size"),
        (dict(y_obs=[0.1, 1.5], transform=tr.accuracy()), InputError, "y_obs must lie"),
        (dict(y_obs=[0.1, 0.2], transform="loss"), TypeError, "transform must be"),
    ],
)
def test_bad_input_names_the_argument(tiny, kwargs, error, match):
    with pytest.raises(error, match=match):
        tiny.predict(**kwargs)


def test_bad_method_arguments(tiny):
    pred = tiny.predict(CURVE)
    for bad in (0.0, 1.0, [0.5, 2.0]):
        with pytest.raises(InputError, match="q must be levels"):
            pred.quantile(bad)
    with pytest.raises(InputError, match="v must broadcast"):
        pred.cdf(np.zeros(3))
    with pytest.raises(InputError, match="y must be finite"):
        pred.log_prob(np.nan)
    with pytest.raises(InputError, match="n_samples"):
        pred.sample(0)


def test_load_by_path_and_by_name(tiny_model_path, tmp_path):
    model = lcpfn.load(tiny_model_path)
    same = lcpfn.load(str(tiny_model_path) + ".safetensors")
    assert model.card["sha256"] == same.card["sha256"]
    with pytest.raises(InputError, match="not a shipped model"):
        lcpfn.load("no_such_model")
    # a tampered weights file is refused, naming the file
    bad = tmp_path / "bad"
    for suffix in (".safetensors", ".json"):
        (tmp_path / f"bad{suffix}").write_bytes(
            tiny_model_path.with_suffix(suffix).read_bytes()
        )
    data = bytearray((tmp_path / "bad.safetensors").read_bytes())
    data[len(data) // 2] ^= 1
    (tmp_path / "bad.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        lcpfn.load(bad)
    card = json.loads((tmp_path / "bad.json").read_text())
    tampered = hashlib.sha256((tmp_path / "bad.safetensors").read_bytes()).hexdigest()
    assert card["sha256"] == model.card["sha256"] != tampered  # what load() checks


def test_threads_share_one_model(tiny):
    from concurrent.futures import ThreadPoolExecutor

    curves = [np.linspace(0.1, 0.1 + 0.05 * i, 10) for i in range(16)]
    serial = [tiny.predict(c).quantile([0.1, 0.9]) for c in curves]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(
            pool.map(lambda c: tiny.predict(c).quantile([0.1, 0.9]), curves)
        )
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


def test_plot_draws_bands_and_truth(tiny, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    pred = tiny.predict(np.stack([CURVE, CURVE]))
    ax = pred.plot(curve=1, y_true=np.linspace(0.6, 0.7, 90))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "90 % interval",
        "50 % interval",
        "median",
        "observed",
        "true continuation",
    ]
    ax.figure.savefig(tmp_path / "fan.png")
    assert (tmp_path / "fan.png").stat().st_size > 1000
    with pytest.raises(InputError, match="curve must lie"):
        pred.plot(curve=5)


def test_bfloat16_network_gives_nearly_the_same_predictive(tiny):
    rng = np.random.default_rng(3)
    y = np.sort(rng.uniform(0.1, 0.8, (16, 30)), axis=1)
    exact = tiny.predict(y)
    fast = tiny.predict(y, precision="bfloat16")
    p = torch.softmax(exact.logits.double(), -1)
    log_ratio = torch.log_softmax(exact.logits.double(), -1) - torch.log_softmax(
        fast.logits.double(), -1
    )
    kl = (p * log_ratio).sum(-1)  # (B, Q): KL(float32 || bfloat16) per query
    assert fast.logits.dtype == torch.float32
    assert float(kl.max()) > 0  # the products did run in bfloat16
    assert float(kl.mean()) < 1e-3, float(kl.mean())  # measured ~1e-4 on `default`
    width = np.diff(exact.quantile([0.05, 0.95]), axis=0)[0]
    assert np.all(np.abs(fast.median() - exact.median()) < 0.05 * width)
    assert np.isfinite(fast.log_prob(y[:, -1:].repeat(70, axis=1))).all()
    with pytest.raises(InputError, match="precision"):
        tiny.predict(y, precision="float16")
