"""The example notebook runs top to bottom: its code cells, in order, tiny model."""

import json
from pathlib import Path

import matplotlib

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
