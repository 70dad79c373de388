"""Early stopping with the LC-PFN rule, for hand-written loops and for Optuna.

The rule (LC-PFN paper, Section 5), as implemented here. At a check after a
run's last observed step ``t_last``, the remaining steps are the model's grid
points ``t'`` with ``t_last < t' <= horizon`` (``max_steps`` points evenly
spaced over ``(0, horizon]``, the last one at ``horizon``). The run is stopped
when some step remains and, for every remaining ``t'``, the predictive
probability that the metric at ``t'`` is better than the incumbent (the best
final value of the runs so far) is at most ``threshold`` (0.05 in the paper).
So the probability compares what the run can still reach with the incumbent;
a run that has reached its horizon has nothing left to save and is never
stopped, and a step beyond the horizon is an ``InputError`` (the horizon is
the planned length of every run: its last reported step). Checks start once
``min_steps`` values are observed (2 in the paper). "Better" is greater for a
metric to maximize, smaller for one to minimize; the model sees the metric
through a transform (``lcpfn.transforms``) and answers in the metric's own
units, so the rule needs nothing else.

- ``stop_decisions``: the rule as a pure function over many runs at once.
- ``EarlyStopper``: a small stateful helper for one training loop
  (``if stopper.should_stop(epoch, value): break``).
- ``LCPFNPruner``: an ``optuna.pruners.BasePruner`` (needs ``lcpfn[optuna]``).

NaN policy: NaN values are unobserved steps and are ignored; a run with no
finite value yet is not stopped by ``stop_decisions`` (there is nothing to
judge) but is pruned by ``LCPFNPruner`` once it is past ``min_steps`` and
short of its horizon (an all-NaN run has diverged).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lcpfn.errors import InputError
from lcpfn.predict import Extrapolator, load
from lcpfn.request import parse_curves, parse_horizon
from lcpfn.transforms import Transform, loss_curve, take

__all__ = [
    "EarlyStopper",
    "LCPFNPruner",
    "StopDecision",
    "rule_steps",
    "stop_decisions",
]


@dataclass(frozen=True)
class StopDecision:
    """The rule's verdict for each run.

    Shapes: all (B,): ``stop`` bool; ``prob_better`` the largest probability
    over the remaining steps of beating the incumbent (NaN where not checked);
    ``checked`` whether the rule was applied (enough steps, on the schedule).
    """

    stop: np.ndarray
    prob_better: np.ndarray
    checked: np.ndarray


def stop_decisions(
    model: Extrapolator,
    y_obs: Any,
    incumbent: float | Sequence[float],
    *,
    horizon: float,
    t_obs: Any = None,
    minimize: bool | None = None,
    threshold: float = 0.05,
    min_steps: int = 2,
    check_at: Sequence[float] | None = None,
    transform: Transform | None = None,
) -> StopDecision:
    """Apply the LC-PFN stopping rule to a batch of runs.

    Args:
        model: the PFN (``lcpfn.load()``).
        y_obs: (B, T) values so far, NaN where not observed (or a list of 1-D
            arrays); t defaults to 1..T.
        incumbent: best final value so far, one for all runs or (B,).
        horizon: planned total length of every run, in the units of t.
        minimize: True when smaller values are better; default: the
            transform's direction (False without a transform).
        threshold: stop when P(better than the incumbent) <= threshold at
            every remaining step: the points of ``rule_steps(horizon,
            model.max_steps)`` after the run's last observed step.
        min_steps: observed values needed before the first check.
        check_at: the steps (units of t) at which to check; None = every step.
        transform: the metric's transform (default: values as they are).

    Returns:
        StopDecision of (B,) arrays.
    """
    _check_rule(threshold, min_steps)
    if minimize is None:
        minimize = transform is not None and transform.minimize
    y, t, _ = parse_curves(y_obs, t_obs)
    B = y.shape[0]
    horizon = parse_horizon(horizon, model.max_steps)
    try:
        best = np.broadcast_to(np.asarray(incumbent, dtype=np.float64), (B,))
    except (TypeError, ValueError) as err:
        raise InputError(
            f"incumbent must be one number or ({B},) numbers; got {incumbent!r}"
        ) from err
    if not np.isfinite(best).all():
        raise InputError(f"incumbent must be finite; got {incumbent!r}")
    observed = ~np.isnan(y)
    last = np.where(observed, t, -np.inf).max(axis=1)  # (B,)
    beyond = np.flatnonzero(last > horizon)
    if beyond.size:
        raise InputError(
            f"run(s) {beyond[:5].tolist()} reached t = {last[beyond[0]]:g}, beyond "
            f"horizon={horizon:g}; horizon is the planned length of every run"
        )
    # a run at its horizon has no step left to save
    checked = (observed.sum(axis=1) >= min_steps) & (last < horizon)
    if check_at is not None:
        try:
            at = np.asarray(check_at, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InputError(f"check_at must be steps; got {check_at!r}") from err
        checked &= np.isin(last, at)
    prob = np.full(B, np.nan)
    if checked.any():
        # Only points some checked run still has ahead are asked for: queries
        # do not see each other, so the others would change nothing.
        grid = rule_steps(horizon, model.max_steps)
        rows = np.flatnonzero(checked)
        ahead = grid[grid > last[rows].min()]  # (Q,), not empty: last < horizon
        pred = model.predict(
            y[rows],
            t_obs=t[rows],
            t_query=ahead,
            horizon=horizon,
            transform=None if transform is None else take(transform, rows),
        )
        p = (
            pred.cdf(best[rows, None])
            if minimize
            else pred.prob_greater(best[rows, None])
        )
        remaining = ahead[None, :] > last[rows, None]  # (R, Q), a True in every row
        prob[rows] = np.where(remaining, p, 0.0).max(axis=1)
    stop = checked & (np.nan_to_num(prob, nan=1.0) <= threshold)
    return StopDecision(stop=stop, prob_better=prob, checked=checked)


def rule_steps(horizon: float, max_steps: int) -> np.ndarray:
    """The steps (units of t) at which ``stop_decisions`` compares a run with
    the incumbent, those after the run's last step being its remaining steps.

    The whole steps 1..horizon when ``horizon`` is a whole number no larger
    than the model's ``max_steps`` (a run that reports once per step);
    otherwise ``max_steps`` points evenly over (0, horizon], the model's
    resolution. ``k * horizon / n`` is exact at whole steps, so a run's own
    last step is never a hair ahead of it. The last is ``horizon`` itself.

    Shapes: -> (n,) increasing, n = horizon or max_steps
    """
    n = int(horizon) if horizon == int(horizon) and horizon <= max_steps else max_steps
    # k * horizon / n with horizon's power of two taken out and put back, both
    # exact: the same values, and no overflow for a horizon near the float max
    mantissa, exponent = np.frexp(horizon)
    steps = np.ldexp(np.arange(1, n + 1) * mantissa / n, exponent)
    steps[-1] = horizon  # n * mantissa / n can miss it by a rounding
    return steps


def _check_rule(threshold: Any, min_steps: Any) -> None:
    if not (isinstance(threshold, int | float | np.floating) and 0 < threshold < 1):
        raise InputError(f"threshold must lie in (0, 1); got {threshold!r}")
    if isinstance(min_steps, bool) or not isinstance(min_steps, int) or min_steps < 1:
        raise InputError(f"min_steps must be a positive integer; got {min_steps!r}")


class EarlyStopper:
    """The rule for one run of a hand-written training loop.

    Example::

        stopper = EarlyStopper(lcpfn.load(), horizon=100, incumbent=best_so_far)
        for epoch in range(1, 101):
            accuracy = train_one_epoch()
            if stopper.should_stop(epoch, accuracy):
                break
    """

    def __init__(
        self,
        model: Extrapolator,
        *,
        horizon: float,
        incumbent: float | None = None,
        minimize: bool | None = None,
        threshold: float = 0.05,
        min_steps: int = 2,
        check_at: Sequence[float] | None = None,
        transform: Transform | None = None,
    ) -> None:
        self.model, self.horizon, self.incumbent = model, horizon, incumbent
        self.minimize, self.threshold, self.min_steps = minimize, threshold, min_steps
        self.check_at, self.transform = check_at, transform
        self.steps: list[float] = []
        self.values: list[float] = []
        self.last_decision: StopDecision | None = None

    def should_stop(self, step: float, value: float) -> bool:
        """Record ``value`` at ``step`` and say whether to stop now."""
        if self.steps and step <= self.steps[-1]:
            raise InputError(
                f"step must increase; got {step!r} after {self.steps[-1]!r}"
            )
        self.steps.append(float(step))
        self.values.append(float(value))
        if self.incumbent is None:  # the first run has nothing to beat
            return False
        self.last_decision = stop_decisions(
            self.model,
            np.array(self.values)[None],
            self.incumbent,
            horizon=self.horizon,
            t_obs=np.array(self.steps)[None],
            minimize=self.minimize,
            threshold=self.threshold,
            min_steps=self.min_steps,
            check_at=self.check_at,
            transform=self.transform,
        )
        return bool(self.last_decision.stop[0])


_MODELS: dict[str, Extrapolator] = {}
_MODELS_LOCK = threading.Lock()


def _shared_model(name_or_path: str) -> Extrapolator:
    """One loaded model per process and name, safe to call from many threads."""
    with _MODELS_LOCK:
        if name_or_path not in _MODELS:
            _MODELS[name_or_path] = load(name_or_path)
        return _MODELS[name_or_path]


try:  # the pruner subclasses optuna's base class, so the import cannot wait
    from optuna.pruners import BasePruner as _PrunerBase
except ImportError:  # optuna is the optional extra lcpfn[optuna]
    _PrunerBase = object


class LCPFNPruner(_PrunerBase):  # type: ignore[misc, valid-type]
    """Optuna pruner: prune a trial when it is unlikely to beat the best trial.

    The incumbent is the best value of the study's completed trials, in the
    study's direction; trials are judged on their intermediate values
    (``trial.report(value, step)``), steps 1..horizon, by the rule of
    ``stop_decisions``. With no completed trial yet nothing is pruned, and a
    trial that reports its last step (``step == horizon``) is never pruned; a
    step beyond ``horizon`` raises ``InputError`` from ``should_prune``. Each
    process loads the model once (a thread-safe cache), and everything else is
    read from the study's storage, so workers sharing one storage (SQLite,
    journal, RDB) cooperate.

    Args:
        model: shipped model name or path (loaded lazily, once per process),
            or a loaded model (anything with ``predict`` and ``max_steps``).
        horizon: the number of steps a full trial reports (the last step).
        threshold, min_steps, check_at: as in ``stop_decisions``.
        transform: the metric's transform; default: values as they are for a
            study that maximizes (a metric in [0, 1]), and
            ``loss_curve(first reported value)`` for one that minimizes.
    """

    def __init__(
        self,
        model: str | Path | Extrapolator = "default",
        *,
        horizon: float,
        threshold: float = 0.05,
        min_steps: int = 2,
        check_at: Sequence[float] | None = None,
        transform: Transform | None = None,
    ) -> None:
        if _PrunerBase is object:
            raise ImportError("LCPFNPruner needs optuna: pip install 'lcpfn[optuna]'")
        if not (isinstance(horizon, (int, float)) and 0 < horizon < np.inf):
            raise InputError(f"horizon must be a positive number; got {horizon!r}")
        _check_rule(threshold, min_steps)
        self.model = model if hasattr(model, "predict") else str(model)
        self.horizon, self.threshold, self.min_steps = (
            float(horizon),
            threshold,
            min_steps,
        )
        self.check_at, self.transform = check_at, transform

    def prune(self, study: Any, trial: Any) -> bool:
        import optuna

        reports = trial.intermediate_values
        if not reports:
            return False
        steps = np.array(sorted(reports), dtype=np.float64)
        values = np.array([reports[int(s)] for s in steps], dtype=np.float64)
        finite = np.isfinite(values)
        if steps[-1] > self.horizon:
            raise InputError(
                f"trial {trial.number} reported step {steps[-1]:g}, beyond the "
                f"pruner's horizon={self.horizon:g}; set horizon to the last step "
                f"a full trial reports"
            )
        if steps[-1] >= self.horizon:
            return False  # a trial at its horizon has nothing left to save
        if len(steps) >= self.min_steps and not finite.any():
            return True  # diverged: every report is NaN or inf
        if finite.sum() < self.min_steps:
            return False
        try:  # one indexed storage query, however many trials the study has
            incumbent = study.best_value
        except ValueError:  # no completed trial yet: nothing to beat
            return False
        minimize = study.direction == optuna.study.StudyDirection.MINIMIZE
        transform = self.transform
        if transform is None and minimize:
            first = float(values[finite][0])
            # loss_curve's soft range [0, first] needs a width a float can hold
            if not first >= np.finfo(np.float64).tiny:
                raise InputError(
                    f"a minimize study needs transform= for values like these: the "
                    f"default transform loss_curve(first value) needs a first "
                    f"reported value > 0 (a normal float, at least 2.2e-308); got "
                    f"{first!r}"
                )
            transform = loss_curve(first)
        decision = stop_decisions(
            _shared_model(self.model) if isinstance(self.model, str) else self.model,
            np.where(finite, values, np.nan)[None],
            incumbent,
            horizon=self.horizon,
            t_obs=steps[None],
            minimize=minimize,
            threshold=self.threshold,
            min_steps=self.min_steps,
            check_at=self.check_at,
            transform=transform,
        )
        return bool(decision.stop[0])
