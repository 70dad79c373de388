"""The example notebook runs top to bottom: its code cells, in order, tiny model."""

import json
from pathlib import Path

import matplotlib
import pytest

NOTEBOOK = Path(__file__).parents[1] / "examples" / "forecast.ipynb"


def test_forecast_notebook_runs(tiny_model_path, capsys):
    matplotlib.use("Agg")
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
    assert len(code) >= 4
    namespace = {"MODEL": str(tiny_model_path)}
    for i, source in enumerate(code):
        exec(compile(source, f"{NOTEBOOK.name}[code cell {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "(3, 3, 2)" in out and "torch.Size([90, 3])" in out
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


@pytest.mark.integration
def test_optuna_pruning_example_runs_with_two_workers(tiny_model_path, tmp_path):
    import sys

    # importable by name: the example's spawned workers re-import it
    sys.path.insert(0, str(NOTEBOOK.parent))
    import optuna_pruning as example

    results = example.main(
        ["--trials", "4", "--workers", "2", "--epochs", "5",
         "--model", str(tiny_model_path), "--storage-dir", str(tmp_path)]
    )  # fmt: skip
    plain, pruned = results["no pruning"], results["LCPFNPruner"]
    assert plain["trials"] == pruned["trials"] == 4 and plain["pruned"] == 0
    assert plain["epochs"] == 4 * 5
    # whatever the tiny model forecasts: the first trial has no incumbent to
    # lose to, no trial is pruned after its last epoch, and the best is complete
    assert pruned["pruned"] <= 3 and pruned["pruned_at_last_epoch"] == 0
    assert pruned["best_state"] == "COMPLETE" and 0 < pruned["best"] <= 1
