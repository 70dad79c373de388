"""``lcpfn predict``: forecast the rest of a curve; quantile table, optional plot."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from lcpfn.errors import InputError

METRICS = ("raw", "accuracy", "accuracy-percent", "error", "error-percent", "loss")
METRIC_LABELS = {  # the y axis of a plot of values given on the command line
    "raw": "y",
    "accuracy": "accuracy",
    "accuracy-percent": "accuracy (%)",
    "error": "error rate",
    "error-percent": "error rate (%)",
    "loss": "loss",
}


@dataclass(frozen=True)
class Curve:
    """The observed curve and the names of its axes (a CSV's column names).

    Shapes: t None or (T,), y (T,)
    """

    t: np.ndarray | None
    y: np.ndarray
    t_label: str
    y_label: str


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "predict",
        help="forecast the rest of a curve: quantile table, optional plot",
        description="Forecast the rest of a learning curve with a shipped or "
        "exported model. Values in order of t = 1, 2, ... unless --t / --t-column.",
    )
    p.add_argument("values", nargs="*", type=float, help="observed values, in order")
    p.add_argument("--csv", help="read the curve from this CSV file")
    p.add_argument("--column", help="CSV column of the values (default: the last)")
    p.add_argument("--t-column", help="CSV column of the steps (default: 1, 2, ...)")
    p.add_argument("--t", help="comma-separated steps of the values")
    p.add_argument("--horizon", type=float, help="planned total length, units of t")
    p.add_argument(
        "--metric",
        choices=METRICS,
        default="raw",
        help="how to map the values onto the prior (default: as they are)",
    )
    p.add_argument(
        "--initial-loss",
        type=float,
        help="loss before training, for --metric loss "
        "(default: the first observed value)",
    )
    p.add_argument("--quantiles", default="0.05,0.25,0.5,0.75,0.95")
    p.add_argument("--rows", type=int, default=12, help="table rows (default 12)")
    p.add_argument("--model", default="default", help="shipped name or path")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--plot",
        help="write the fan chart to this PNG (axes named after the CSV columns "
        "or the metric)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lcpfn.predict import load

    curve = read_curve(args)
    transform = _transform(args.metric, args.initial_loss, curve.y)
    try:
        levels = [float(q) for q in args.quantiles.split(",")]
    except ValueError as err:
        raise InputError(
            f"--quantiles must be comma-separated numbers; got {args.quantiles!r}"
        ) from err
    if args.rows < 1:
        raise InputError(f"--rows must be >= 1; got {args.rows}")
    model = load(args.model, device=args.device)
    pred = model.predict(
        curve.y, t_obs=curve.t, horizon=args.horizon, transform=transform
    )
    q, mean = pred.quantile(levels), pred.mean()
    print(
        f"model {args.model!r} ({model.card.get('n_parameters', '?')} parameters); "
        f"{len(curve.y)} observed values, forecast for t = {pred.steps[0]:g}.."
        f"{pred.steps[-1]:g}"
    )
    rows = np.unique(np.linspace(0, len(pred.steps) - 1, args.rows).round().astype(int))
    print("     t      mean  " + "  ".join(f"q{q * 100:05.2f}".rstrip("0").rstrip(".")
                                         .ljust(8) for q in levels))  # fmt: skip
    for i in rows:
        cells = "  ".join(f"{v:<8.4g}" for v in q[:, i])
        print(f"{pred.steps[i]:6g}  {mean[i]:<8.4g}  {cells}")
    if args.plot:
        _save_plot(pred, curve, f"lcpfn forecast ({args.model})", args.plot)
        print(f"wrote {args.plot}")
    return 0


def read_curve(args: argparse.Namespace) -> Curve:
    """The curve from the positional values or a CSV column, with axis names.

    Raises:
        InputError: both or neither source given, unreadable CSV, missing or
            non-numeric column, unparsable --t.
    """
    if args.csv and args.values:
        raise InputError("give either values or --csv, not both")
    if args.csv:
        import csv

        try:
            with open(args.csv, newline="") as f:
                table = list(csv.DictReader(f))
        except OSError as err:
            raise InputError(f"--csv {args.csv}: cannot read: {err}") from err
        if not table:
            raise InputError(f"--csv {args.csv}: no rows")
        column = args.column or list(table[0])[-1]
        y = _column(table, column, args.csv)
        t = _column(table, args.t_column, args.csv) if args.t_column else None
        return Curve(t, y, t_label=args.t_column or "t", y_label=column)
    if not args.values:
        raise InputError("give the observed values, or --csv FILE")
    t = None
    if args.t:
        try:
            t = np.array([float(v) for v in args.t.split(",")])
        except ValueError as err:
            raise InputError(
                f"--t must be comma-separated numbers; got {args.t!r}"
            ) from err
    return Curve(t, np.array(args.values), "t", METRIC_LABELS[args.metric])


def _transform(metric: str, initial_loss: float | None, y: np.ndarray):
    """The ``lcpfn.transforms`` object for ``--metric`` (None for raw)."""
    from lcpfn import transforms

    return {
        "raw": lambda: None,
        "accuracy": transforms.accuracy,
        "accuracy-percent": lambda: transforms.accuracy(percent=True),
        "error": transforms.error_rate,
        "error-percent": lambda: transforms.error_rate(percent=True),
        "loss": lambda: transforms.loss_curve(
            initial_loss if initial_loss is not None else y[0]
        ),
    }[metric]()


def _column(table: list[dict], name: str, path: str) -> np.ndarray:
    if name not in table[0]:
        raise InputError(f"--csv {path}: no column {name!r}; columns: {list(table[0])}")
    try:
        return np.array(
            [float(row[name]) if row[name] != "" else np.nan for row in table]
        )
    except ValueError as err:
        raise InputError(
            f"--csv {path}: column {name!r} is not numeric: {err}"
        ) from err


def _save_plot(pred, curve: Curve, title: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lcpfn.plotting import plot

    ax = plot(pred, title=title, xlabel=curve.t_label, ylabel=curve.y_label)
    try:
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=120)
    finally:
        plt.close(ax.figure)
