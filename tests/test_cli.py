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


# ---- config files, errors --------------------------------------------------------

TINY_MODEL = {"n_layers": 1, "n_heads": 2, "d_model": 32, "n_bars": 50}


def _json(path, value):
    path.write_text(json.dumps(value))
    return str(path)


@pytest.mark.parametrize(
    "flag, config, message",
    [
        ("--model-config", {"n_layer": 1}, "unknown key 'n_layer'"),
        ("--model-config", {"n_heads": "two"}, "key 'n_heads' must be int"),
        ("--model-config", {**TINY_MODEL, "n_heads": 5}, "d_model % n_heads"),
        ("--model-config", [1, 2], "a config is a JSON object"),
        ("--train-config", {"lr": "fast"}, "key 'lr' must be float"),
        ("--train-config", {"n_curves": 0}, "n_curves must be a positive integer"),
        ("--train-config", {"checkpoint_dir": 3}, "key 'checkpoint_dir'"),
        ("--train-config", {"cuda_bf16": "no"}, "key 'cuda_bf16' must be bool"),
    ],
)
def test_a_bad_config_file_names_the_file_and_the_key(
    tmp_path, flag, config, message, capsys
):
    path = _json(tmp_path / "config.json", config)
    code = main(["train", flag, path, "--out", str(tmp_path / "m"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("lcpfn: error:") and "Traceback" not in err
    assert f"{flag} {path}" in err and message in err, err
    assert not (tmp_path / "m.json").exists()


def test_an_unreadable_config_file_is_named(tmp_path, capsys):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    code = main(["train", "--model-config", str(path), "--out", str(tmp_path / "m")])
    assert code == 2 and f"--model-config {path}: cannot read JSON" in (
        capsys.readouterr().err
    )


def test_a_type_error_from_a_bug_keeps_its_traceback(monkeypatch):
    import lcpfn.cli.predict

    def broken(args):
        raise TypeError("a bug, not the user's mistake")

    monkeypatch.setattr(lcpfn.cli.predict, "run", broken)
    with pytest.raises(TypeError, match="a bug"):
        main(["predict", "0.3", "0.4"])


def test_only_missing_files_the_user_named_are_one_line(
    tiny_model_path, tmp_path, monkeypatch, capsys
):
    png = tmp_path / "no" / "such" / "dir" / "forecast.png"
    code = main(["predict", "0.3", "0.4", "--model", str(tiny_model_path),
                 "--plot", str(png)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("lcpfn: error:") and str(png) in err

    import lcpfn.cli.predict

    def broken(args):
        raise FileNotFoundError(2, "No such file or directory", "/internal/cache")

    monkeypatch.setattr(lcpfn.cli.predict, "run", broken)
    with pytest.raises(FileNotFoundError, match="/internal/cache"):
        main(["predict", "0.3", "0.4"])


# ---- train --init-from -------------------------------------------------------------


def test_train_init_from_an_exported_model(tmp_path, capsys):
    model_config = _json(tmp_path / "m.json", TINY_MODEL)
    first = {"n_curves": 320, "batch_size": 32, "lr": 2e-3, "n_border_curves": 1000}
    argv = ["train", "--model-config", model_config, "--device", "cpu"]
    argv += ["--train-config", _json(tmp_path / "t1.json", first)]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main(["export", str(tmp_path / "a"), str(tmp_path / "b")]) == 0  # float16
    # the flag overrides the JSON's init_from; ModelConfig comes from b's card.
    # lr 1e-9 for 2 steps moves no weight by more than ~2e-9 (Adam steps are
    # ~lr), so the result predicts what b predicts; from a fresh initialization
    # (init_from ignored) it would not
    second = {**first, "n_curves": 64, "lr": 1e-9, "init_from": "/no/such/model"}
    code = main(["train", "--train-config", _json(tmp_path / "t2.json", second),
                 "--init-from", str(tmp_path / "b"), "--device", "cpu",
                 "--out", str(tmp_path / "c")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    card = json.loads((tmp_path / "c.json").read_text())
    assert card["train_config"]["init_from"] == str(tmp_path / "b")
    assert card["lineage"][-1]["init_from"] == str(tmp_path / "b")
    assert card["curves_seen"] == 64 and card["curves_seen_in_all"] == 64 + 320
    y = np.linspace(0.3, 0.6, 10)
    levels = [0.1, 0.5, 0.9]
    b = lcpfn.load(tmp_path / "b").predict(y).quantile(levels)
    c = lcpfn.load(tmp_path / "c").predict(y).quantile(levels)
    a = lcpfn.load(tmp_path / "a").predict(y).quantile(levels)
    # c is b's float16 weights in float32 after two negligible steps
    np.testing.assert_allclose(c, b, atol=1e-4)
    assert np.abs(a - b).max() < 5e-3  # the export itself (float16) moves little


def test_train_init_from_a_missing_model_is_one_line(tmp_path, capsys):
    code = main(["train", "--init-from", str(tmp_path / "none"),
                 "--out", str(tmp_path / "c")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and f"--init-from {tmp_path / 'none.json'}" in err


# ---- plot labels -------------------------------------------------------------------


def _saved_labels(monkeypatch) -> list[tuple[str, str]]:
    """Record (xlabel, ylabel) of each figure as the command saves it."""
    from matplotlib.figure import Figure

    saved, original = [], Figure.savefig

    def savefig(fig, *args, **kwargs):
        saved.append((fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()))
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


@pytest.mark.parametrize(
    "extra, labels",
    [
        (["--t-column", "epoch", "--column", "val_loss", "--metric", "loss"],
         ("epoch", "val_loss")),
        (["--metric", "loss"], ("t", "val_loss")),  # default column: the last
        (["--column", "acc"], ("t", "acc")),
    ],
)  # fmt: skip
def test_predict_csv_plot_names_the_axes_after_the_columns(
    tiny_model_path, tmp_path, monkeypatch, extra, labels
):
    csv = tmp_path / "run.csv"
    csv.write_text("epoch,acc,val_loss\n1,0.3,2.1\n2,0.4,1.5\n3,0.5,1.2\n")
    saved = _saved_labels(monkeypatch)
    png = tmp_path / "forecast.png"
    argv = ["predict", "--csv", str(csv), *extra, "--horizon", "20"]
    assert main([*argv, "--model", str(tiny_model_path), "--plot", str(png)]) == 0
    assert saved == [labels] and png.stat().st_size > 1000


def test_predict_values_plot_names_the_metric(tiny_model_path, tmp_path, monkeypatch):
    saved = _saved_labels(monkeypatch)
    argv = ["predict", "42", "55", "61", "--metric", "accuracy-percent"]
    argv += ["--model", str(tiny_model_path), "--plot", str(tmp_path / "f.png")]
    assert main(argv) == 0 and saved == [("t", "accuracy (%)")]


def test_plot_labels_its_axes_as_told(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lcpfn.plotting import plot

    pred = tiny.predict([0.3, 0.4, 0.5])
    ax = plot(pred, xlabel="epoch", ylabel="val_acc")
    default = pred.plot()
    try:
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "val_acc")
        assert (default.get_xlabel(), default.get_ylabel()) == ("t", "y")
    finally:
        plt.close("all")


# ---- bench --strata ----------------------------------------------------------------


def test_bench_strata_prints_and_writes_the_table(tiny_model_path, tmp_path, capsys):
    from lcpfn.evaluation.bench import CUTOFFS, noise_strata

    out = tmp_path / "bench.json"
    argv = ["bench", "--model", str(tiny_model_path), "--n-curves", "10"]
    code = main([*argv, "--repeats", "1", "--strata", "40", "--out", str(out)])
    printed = capsys.readouterr().out
    record = json.loads(out.read_text())
    assert code == 0 and "noise strata, 40 prior curves" in printed
    strata = record["noise_strata"]
    assert strata["n_curves"] == 40 and list(strata["table"]) == [
        f"{c}%" for c in CUTOFFS
    ]
    direct = noise_strata(lcpfn.load(tiny_model_path), 40)
    for cutoff, row in direct.table.items():
        assert list(strata["table"][cutoff]) == list(row)  # bins, "< -5", "all"
        for name, cell in row.items():
            assert strata["table"][cutoff][name] == pytest.approx(cell, rel=1e-9)
    rows = [line.split() for line in printed.splitlines() if line.startswith("   ")]
    for cutoff, row in direct.table.items():
        for name, cell in row.items():
            printed_row = next(
                r for r in rows if r[0] == cutoff and " ".join(r[1:-4]) == name
            )
            assert float(printed_row[-3]) == pytest.approx(
                cell["pfn_log_likelihood"], abs=1e-3
            )
            assert float(printed_row[-1]) == pytest.approx(
                cell["width90_over_sigma"], abs=1e-2
            )
    # without --strata the record has no such section
    assert main([*argv, "--repeats", "1", "--out", str(out)]) == 0
    assert "noise_strata" not in json.loads(out.read_text())
    assert main([*argv, "--strata", "-1"]) == 2
    assert "--strata must be >= 0" in capsys.readouterr().err
