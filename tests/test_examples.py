"""The examples run as written: the notebook's code cells in order (tiny model),
the README's Python example (the shipped default, with the shapes its comments
state)."""

import ast
import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

NOTEBOOK = Path(__file__).parents[1] / "examples" / "forecast.ipynb"
README = Path(__file__).parents[1] / "README.md"
# a trailing comment that is only shapes: "# (90,), (2, 90)" or "# (3, B, Q)"
SHAPE_COMMENT = re.compile(r"#\s*(\([\w\s,]*\)(?:\s*,\s*\([\w\s,]*\))*)\s*$")


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


def test_readme_example_runs_as_written():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)
    assert blocks, "README.md has no ```python block"
    checked = 0
    try:
        for i, source in enumerate(blocks):
            name, lines, namespace = f"README.md[block {i}]", source.split("\n"), {}
            # statement by statement, as one exec would run them, so that each
            # expression whose comment states shapes can be checked against them
            for stmt in ast.parse(source).body:
                if not isinstance(stmt, ast.Expr):
                    module = ast.Module(body=[stmt], type_ignores=[])
                    exec(compile(module, name, "exec"), namespace)
                    continue
                value = eval(
                    compile(ast.Expression(stmt.value), name, "eval"), namespace
                )
                comment = SHAPE_COMMENT.search(lines[stmt.end_lineno - 1])
                if comment:
                    _assert_shapes(value, comment.group(1), lines[stmt.end_lineno - 1])
                    checked += 1
    finally:
        plt.close("all")
    assert checked >= 2  # the README's shape comments were found and checked


def _assert_shapes(value, stated: str, line: str) -> None:
    """``value`` (an array, a tuple of arrays, or a shape) has the ``stated``
    shapes; a letter (B, Q) stands for any length."""
    expected = [
        [d.strip() for d in dims.split(",") if d.strip()]
        for dims in re.findall(r"\(([^()]*)\)", stated)
    ]
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        shapes = [value]
    elif isinstance(value, tuple):
        shapes = [np.shape(v) for v in value]
    else:
        shapes = [np.shape(value)]
    assert len(shapes) == len(expected), line
    for shape, dims in zip(shapes, expected, strict=True):
        assert len(shape) == len(dims), (line, shape)
        for n, d in zip(shape, dims, strict=True):
            assert (n == int(d)) if d.isdigit() else (n >= 1), (line, shape)
