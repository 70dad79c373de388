"""The real-curve evaluation: scoring, ranks, intervals, report and CLI."""

import json

import numpy as np
import pytest
from test_datasets import DATA_DIR, needs_data

from lcpfn import evaluation as ev
from lcpfn.cli import main
from lcpfn.errors import InputError
from lcpfn.evaluation import report
from lcpfn.evaluation.baselines import GaussianPrediction, LastValue
from lcpfn.evaluation.datasets import CurveSet
from lcpfn.predictive import InMetricUnits
from lcpfn.transforms import Identity, accuracy, loss_curve


def flat_curves(n=36, T=20, noise=0.002, seed=0) -> CurveSet:
    """Nearly flat accuracy curves of 3 tasks: the last value is almost exact."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.3, 0.8, (n, 1))
    y = level + noise * rng.standard_normal((n, T))
    return CurveSet(
        name="synthetic/flat",
        y=y,
        t=np.arange(1.0, T + 1),
        horizon=float(T),
        task=np.array(["a", "b", "c"])[np.arange(n) % 3],
        config=np.arange(n).astype(str),
        seed=np.full(n, -1),
        rows=np.arange(n),
        metric="accuracy",
        direction="maximize",
        transform=accuracy(),
        n_source=n,
        dropped={},
        n_with_gaps=0,
    )


METHODS = {"sharp": LastValue(min_scale=0.01), "wide": LastValue(min_scale=0.3)}


def test_in_metric_units_equals_the_transformed_gaussian():
    # the same Gaussian in prior units, read through a loss transform either
    # by GaussianPrediction itself or by the generic wrapper: they must agree
    rng = np.random.default_rng(1)
    loc, scale = rng.uniform(0.2, 0.8, (3, 5)), rng.uniform(0.01, 0.2, (3, 5))
    transform = loss_curve(np.array([0.7, 1.0, 2.3]))
    kw = dict(steps=np.arange(5.0), observed=(np.zeros(1), np.zeros(1)), single=False)
    status = np.full(3, "ok")
    direct = GaussianPrediction(loc, scale, transform=transform, status=status, **kw)
    base = GaussianPrediction(loc, scale, transform=Identity(), status=status, **kw)
    wrapped = InMetricUnits(base, transform, observed=kw["observed"])
    levels = [0.05, 0.3, 0.5, 0.9]
    np.testing.assert_allclose(wrapped.quantile(levels), direct.quantile(levels))
    y = direct.median() * 1.05
    np.testing.assert_allclose(wrapped.cdf(y), direct.cdf(y), atol=1e-12)
    np.testing.assert_allclose(wrapped.log_prob(y), direct.log_prob(y), atol=1e-12)
    # midpoint rule over 256 quantiles against Gauss-Legendre quadrature: the
    # loss transform's heavy upper tail (no hard upper bound) beyond the last
    # level is what the midpoint rule misses (measured 2.4 % at most here)
    np.testing.assert_allclose(wrapped.mean(), direct.mean(), rtol=4e-2)
    linear = InMetricUnits(base, accuracy(), observed=kw["observed"])
    exact = GaussianPrediction(loc, scale, transform=accuracy(), status=status, **kw)
    np.testing.assert_allclose(linear.mean(), exact.mean(), rtol=1e-3)
    assert wrapped.sample(4).shape == (4, 3, 5)


def test_sharper_method_ranks_first_on_every_task():
    evaluation = ev.evaluate(flat_curves(), METHODS)
    rows = ev.summarize(evaluation, n_boot=200)
    assert len(rows) == 2 * len(ev.fraction_splits())
    for row in rows:
        rank = row.ranks["log_likelihood"]
        assert rank == (1.0 if row.method == "sharp" else 2.0)
        lo, hi = row.ci["log_likelihood"]
        assert lo <= row.means["log_likelihood"] <= hi
        assert row.n_tasks == 3 and row.status == {"ok": row.n_curves}
    sharp = next(r for r in rows if r.method == "sharp")
    wide = next(r for r in rows if r.method == "wide")
    assert sharp.means["log_likelihood"] > wide.means["log_likelihood"] + 1.0


def test_scores_do_not_depend_on_the_batch_size():
    curves = flat_curves()
    one = ev.evaluate(curves, METHODS, batch_size=512)
    many = ev.evaluate(curves, METHODS, batch_size=5)
    for key, run in one.runs.items():
        for metric in ev.METRICS:
            np.testing.assert_allclose(
                run.values(metric), many.runs[key].values(metric)
            )


def test_run_index_points_at_the_scored_curves():
    curves = flat_curves()
    shuffled = curves.subset(np.random.default_rng(0).permutation(curves.n_curves))
    run = ev.evaluate(shuffled, METHODS).run("sharp", "20 %")
    np.testing.assert_array_equal(shuffled.task[run.index], run.task)
    # the first scored curve's score, recomputed from the curve at its index
    p = run.index[0]
    alone = ev.evaluate(shuffled.subset([p]), METHODS).run("sharp", "20 %")
    assert alone.values("log_likelihood")[0] == pytest.approx(
        run.values("log_likelihood")[0]
    )


def test_count_splits_and_exclusions():
    curves = flat_curves(T=6)
    evaluation = ev.evaluate(curves, METHODS, [ev.Split("count", 5)])
    assert evaluation.n_excluded == {"5 observed": 0}
    assert evaluation.run("sharp", "5 observed").scores.pit.shape == (36, 1)
    with pytest.raises(InputError, match="no curve"):
        ev.evaluate(curves, METHODS, [ev.Split("count", 6)])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ev.Split("percent", 0.1), "kind"),
        (lambda: ev.evaluate(flat_curves(), {}), "methods"),
        (lambda: ev.evaluate(flat_curves(), METHODS, batch_size=0), "batch_size"),
    ],
)
def test_bad_arguments_name_themselves(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_compare_and_worst_curves():
    evaluation = ev.evaluate(flat_curves(), METHODS)
    c = report.compare(evaluation, "sharp", "wide", "40 %", "log_likelihood")
    assert c.difference > 0 and c.ci[0] > 0 and c.tasks_better == c.n_tasks == 3
    mse = report.compare(evaluation, "sharp", "wide", "40 %", "squared_error")
    assert mse.difference == pytest.approx(0.0, abs=1e-12)  # same medians
    worst = report.worst_curves(evaluation, "wide", "sharp", "40 %", n=4)
    run = evaluation.run("wide", "40 %")
    gap = run.values("log_likelihood") - evaluation.run("sharp", "40 %").values(
        "log_likelihood"
    )
    assert set(worst) == set(run.index[np.argsort(gap)[:4]])
    table = report.markdown_table(ev.summarize(evaluation, n_boot=50), "40 %")
    assert table.count("\n| ") == 2 and "| sharp |" in table


@needs_data
def test_cli_evaluate_writes_the_report(tmp_path, tiny_model_path):
    out = tmp_path / "report"
    code = main(
        [
            "evaluate",
            "--data-dir",
            str(DATA_DIR),
            "--benchmarks",
            "taskset",
            "--models",
            str(tiny_model_path),
            "--n-curves",
            "12",
            "--n-mcmc",
            "0",
            "--n-boot",
            "50",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = (out / "real_curves.md").read_text()
    for cutoff in ("10 %", "20 %", "40 %", "80 %"):
        assert f"### {cutoff}" in text
    record = json.loads((out / "real_curves.json").read_text())
    rows = record["benchmarks"]["taskset"]["rows"]
    assert len(rows) == 4 * 5  # cutoffs x (PFN, last value, pow3, pow4, MMF)
    assert all(np.isfinite(r["means"]["log_likelihood"]) for r in rows)
    for png in ("real_curves_taskset.png", "real_curves_gallery_taskset.png"):
        assert (out / png).stat().st_size > 10_000


def test_cli_evaluate_missing_data_is_a_clean_error(tmp_path, capsys):
    code = main(["evaluate", "--data-dir", str(tmp_path), "--n-mcmc", "0"])
    assert code == 2
    assert "taskset_dyhpo.npz" in capsys.readouterr().err


@pytest.mark.slow
def test_mcmc_baseline_reads_out_in_metric_units():
    # loss curves: MCMC runs in the prior's space and answers in loss units
    t = np.arange(1.0, 11.0)
    loss = 0.7 * (0.5 + 0.5 * t**-0.5)[None] * np.array([[1.0], [1.2]])
    transform = loss_curve(np.array([0.8, 0.9]))
    mcmc = ev.McmcBaseline(n_chains=2, n_warmup=30, n_samples=30, batch_size=2)
    pred = mcmc.predict(
        loss,
        t,
        np.arange(11.0, 21.0)[None].repeat(2, 0),
        horizon=20.0,
        transform=transform,
    )
    q = pred.quantile([0.05, 0.5, 0.95])
    assert np.isfinite(q).all() and (np.diff(q, axis=0) >= 0).all()
    # a loss curve that is falling keeps falling below its last value
    assert (q[1][:, -1] < loss[:, -1]).all()
    assert set(pred.status) <= {"ok", "r_hat>1.01", "divergent"}
