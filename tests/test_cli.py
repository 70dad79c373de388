"""The command line: predict (values or CSV, table, plot), export, sample."""

import json

import numpy as np
import pytest

import lcpfn
from lcpfn.cli import main

VALUES = ["0.42", "0.55", "0.61", "0.64", "0.67", "0.68"]


def test_predict_prints_a_quantile_table_and_writes_a_plot(
    tiny_model_path, tmp_path, capsys
):
    png = tmp_path / "forecast.png"
    code = main(
        [
            "predict",
            *VALUES,
            "--model",
            str(tiny_model_path),
            "--plot",
            str(png),
            "--rows",
            "3",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and png.stat().st_size > 1000
    lines = out.splitlines()
    assert "forecast for t = 7..100" in lines[0]
    table = [line.split() for line in lines[2:5]]
    assert [row[0] for row in table] == ["7", "53", "100"]
    # the numbers are the Prediction's, to the printed precision
    pred = lcpfn.load(tiny_model_path).predict(np.array(VALUES, dtype=float))
    assert float(table[2][4]) == pytest.approx(pred.median()[-1], rel=1e-3)


def test_predict_reads_a_csv_with_steps_and_a_loss_metric(
    tiny_model_path, tmp_path, capsys
):
    csv = tmp_path / "run.csv"
    csv.write_text("epoch,loss\n2,2.1\n4,1.5\n6,1.2\n8,1.05\n")
    argv = ["predict", "--csv", str(csv), "--t-column", "epoch", "--metric", "loss"]
    argv += ["--horizon", "40", "--model", str(tiny_model_path), "--rows", "2"]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0 and "forecast for t = 9..40" in out
    medians = [float(line.split()[4]) for line in out.splitlines()[2:4]]
    assert all(0 <= m < 10 for m in medians)  # loss units, not the prior's [0, 1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["predict"], "give the observed values"),
        (["predict", "0.1", "0.2", "--t", "1,x"], "--t must be comma-separated"),
        (["predict", "--csv", "/no/such.csv"], "cannot read"),
        (["predict", "0.1", "nan"], None),  # a NaN step is simply unobserved
        (["predict", "0.1", "0.2", "--t", "1,5", "--horizon", "3"], "beyond horizon"),
        (["predict", "0.1", "0.2", "--horizon", "2"], "no steps left"),
    ],
)
def test_predict_errors_are_one_clear_line(tiny_model_path, argv, message, capsys):
    code = main([*argv, "--model", str(tiny_model_path)])
    err = capsys.readouterr().err
    if message is None:
        assert code == 0
    else:
        assert code == 2 and message in err and "Traceback" not in err


def test_export_to_float16_halves_the_file_and_keeps_predictions(
    tiny_model_path, tmp_path, capsys
):
    results = tmp_path / "prior_accuracy_x.json"
    results.write_text(json.dumps({"summary": {"10%": {"mean_log_likelihood": 1.0}}}))
    out = tmp_path / "half"
    assert (
        main(["export", str(tiny_model_path), str(out), "--results", str(results)]) == 0
    )
    full = tiny_model_path.with_suffix(".safetensors").stat().st_size
    assert out.with_suffix(".safetensors").stat().st_size < 0.6 * full
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["weights_dtype"] == "float16" and card["name"] == "half"
    assert card["benchmarks"]["prior_accuracy_x"]["10%"]["mean_log_likelihood"] == 1.0
    y = np.linspace(0.3, 0.6, 10)
    a = lcpfn.load(tiny_model_path).predict(y).quantile([0.1, 0.5, 0.9])
    b = lcpfn.load(out).predict(y).quantile([0.1, 0.5, 0.9])
    # float16 weights: relative precision 5e-4 per weight, outputs move ~1e-3
    np.testing.assert_allclose(a, b, atol=5e-3)


def test_export_from_an_unfinished_checkpoint(lcpfn_prior, tmp_path, capsys):
    from lcpfn.pfn.model import ModelConfig
    from lcpfn.pfn.training import TrainConfig, train

    tc = TrainConfig(
        n_curves=40 * 32,
        batch_size=32,
        n_border_curves=1000,
        checkpoint_dir=str(tmp_path / "ckpt"),
    )
    mc = ModelConfig(n_layers=1, n_heads=2, d_model=32, n_bars=50)
    partial = train(lcpfn_prior, mc, tc, progress=False, time_limit=0.0)
    assert main(["export", str(tmp_path / "ckpt"), str(tmp_path / "m")]) == 0
    card = json.loads((tmp_path / "m.json").read_text())
    assert (
        card["finished"] is False and card["curves_seen"] == partial.curves_seen == 32
    )
    assert card["prior_sha256"] == lcpfn_prior.hash()
    pred = lcpfn.load(tmp_path / "m").predict([0.2, 0.3])
    assert np.isfinite(pred.mean()).all()
    assert main(["export", str(tmp_path / "ckpt"), str(tmp_path / "x"),
                 "--prior", "domhan11"]) == 2  # fmt: skip
    assert "not on 'domhan11'" in capsys.readouterr().err
