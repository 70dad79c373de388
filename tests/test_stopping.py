"""The stopping rule, the loop helper and the Optuna pruner, on a stub model."""

import math

import numpy as np
import optuna
import pytest
from scipy import stats

from lcpfn.errors import InputError
from lcpfn.stopping import EarlyStopper, LCPFNPruner, rule_steps, stop_decisions
from lcpfn.transforms import loss_curve

SCALE = 0.01


class _Flat:
    """Prediction of a stub: y(t') ~ Normal(last observed value, SCALE) for all t'."""

    def __init__(self, last, n_query):
        self.mu = np.repeat(last[:, None], n_query, axis=1)

    def cdf(self, v):
        return stats.norm.cdf(v, self.mu, SCALE)

    def prob_greater(self, v):
        return stats.norm.sf(v, self.mu, SCALE)


class StubModel:
    """A model whose forecast is flat at the last observed value (known answers)."""

    max_steps = 100

    def __init__(self):
        self.calls = 0
        self.t_query = None

    def predict(self, y, t_obs=None, t_query=None, horizon=None, transform=None):
        self.calls += 1
        self.t_query = np.asarray(t_query)
        y = np.asarray(y, dtype=float)
        last = np.array([row[~np.isnan(row)][-1] for row in y])
        return _Flat(last, len(t_query))


def test_rule_stops_hopeless_runs_and_keeps_promising_ones():
    y = np.array([[0.3, 0.5], [0.7, 0.79], [0.6, 0.85]])
    d = stop_decisions(StubModel(), y, incumbent=0.8, horizon=100)
    # P(N(0.5, .01) > .8) ~ 0; P(N(.79, .01) > .8) = 0.16; P(N(.85, .01) > .8) ~ 1
    np.testing.assert_allclose(d.prob_better, [0.0, stats.norm.sf(1.0), 1.0], atol=1e-6)
    assert d.stop.tolist() == [True, False, False] and d.checked.all()


def test_minimize_flips_the_comparison():
    y = np.array([[2.0, 1.5], [1.0, 0.6]])
    d = stop_decisions(StubModel(), y, incumbent=0.7, horizon=100, minimize=True)
    assert d.stop.tolist() == [True, False]


def test_min_steps_schedule_and_nan_policy():
    y = np.array([[0.1, np.nan, np.nan], [0.1, 0.1, 0.1]])
    d = stop_decisions(StubModel(), y, incumbent=0.9, horizon=100, min_steps=2)
    assert d.checked.tolist() == [False, True] and d.stop.tolist() == [False, True]
    assert math.isnan(d.prob_better[0])
    d = stop_decisions(StubModel(), y, incumbent=0.9, horizon=100, check_at=[10, 20])
    assert not d.checked.any() and not d.stop.any()  # step 3 is not on the schedule
    with pytest.raises(InputError, match="threshold"):
        stop_decisions(StubModel(), y, incumbent=0.9, horizon=100, threshold=1.5)
    with pytest.raises(InputError, match="incumbent must be finite"):
        stop_decisions(StubModel(), y, incumbent=np.nan, horizon=100)


def test_early_stopper_in_a_loop():
    stopper = EarlyStopper(StubModel(), horizon=50, incumbent=0.9)
    curve = [0.2, 0.3, 0.35, 0.4]
    stopped_at = next(
        (e for e, v in enumerate(curve, 1) if stopper.should_stop(e, v)), None
    )
    assert stopped_at == 2  # first check once min_steps = 2 values are in
    first_run = EarlyStopper(StubModel(), horizon=50)  # no incumbent: never stops
    assert not any(first_run.should_stop(e, 0.1) for e in range(1, 5))
    with pytest.raises(InputError, match="step must increase"):
        first_run.should_stop(3, 0.2)


def _run(study, values, pruner_steps=None):
    """Ask a trial, report values, return (pruned at step or None)."""
    trial = study.ask()
    for step, v in enumerate(values, 1):
        trial.report(v, step)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return step
    study.tell(trial, values[-1])
    return None


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_pruner_in_a_real_study(direction):
    def m(v):  # the same runs as accuracies, or as errors 1 - accuracy
        return v if direction == "maximize" else 1 - v

    study = optuna.create_study(
        direction=direction, pruner=LCPFNPruner(StubModel(), horizon=10, transform=None)
    )
    assert _run(study, [m(v) for v in (0.5, 0.7, 0.8, 0.9)]) is None  # incumbent
    assert _run(study, [m(v) for v in (0.2, 0.3, 0.35, 0.4)]) == 2
    assert _run(study, [m(v) for v in (0.6, 0.92, 0.95, 0.97)]) is None
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "PRUNED", "COMPLETE"]


def test_pruner_prunes_diverged_trials_and_waits_for_an_incumbent():
    study = optuna.create_study(pruner=LCPFNPruner(StubModel(), horizon=10))
    assert _run(study, [float("nan")] * 3) == 2  # all NaN: pruned at min_steps
    assert _run(study, [0.1, 0.1, 0.1]) is None  # no completed trial to beat yet


@pytest.mark.parametrize("first", [0.0, -1.0, 1e-310])  # 1e-310: subnormal
def test_a_minimize_study_without_transform_needs_a_positive_first_report(first):
    """The default transform loss_curve(first report) has the soft range
    [0, first]: a first report without a width a float holds names transform=."""
    study = optuna.create_study(pruner=LCPFNPruner(StubModel(), horizon=10))
    _run(study, [0.5, 0.4, 0.3])
    trial = study.ask()
    for step, value in enumerate([first, 0.1, 0.1], start=1):
        trial.report(value, step)
    with pytest.raises(InputError, match="needs transform="):
        trial.should_prune()


def test_pruner_needs_a_horizon():
    with pytest.raises(InputError, match="horizon"):
        LCPFNPruner(horizon=0)


# Real Optuna studies on curve sets with a known winner (tests/study_replay.py),
# run the way users write them: report every step, should_prune after each
# report (the last included), TrialPruned raised, final value returned.
def test_rule_steps_are_k_horizon_over_n_and_end_at_the_horizon():
    # whole horizons up to max_steps give 1..horizon; any other horizon gives
    # max_steps points k * horizon / n, exactly as that product rounds where
    # it is finite, never inf, and the last one the horizon itself
    rng = np.random.default_rng(0)
    horizons = np.concatenate(
        [
            np.arange(1.0, 300.0),
            rng.uniform(1, 1e4, 2000),
            np.exp(rng.uniform(0, 709, 2000)),
        ]
    )
    for horizon in [*horizons, 1.797693134862316e306, np.finfo(float).max]:
        steps = rule_steps(float(horizon), 100)
        whole = horizon == int(horizon) and horizon <= 100
        n = int(horizon) if whole else 100
        with np.errstate(over="ignore"):
            product = np.arange(1, n + 1) * horizon / n
        finite = np.isfinite(product)
        assert np.array_equal(steps[:-1][finite[:-1]], product[:-1][finite[:-1]])
        assert np.isfinite(steps).all() and steps[-1] == horizon
        assert (np.diff(steps) > 0).all()
        if whole:
            assert np.array_equal(steps, np.arange(1.0, n + 1))


import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import study_replay as replay  # noqa: E402

STEPS = optuna.trial.TrialState


def _study_outcome(study: optuna.Study) -> dict:
    trials = study.trials
    return {
        "best_config": study.best_trial.user_attrs["config"],
        "best_state": study.best_trial.state,
        "steps": sum(t.user_attrs["steps"] for t in trials),
        "pruned_at_horizon": sum(
            t.state == STEPS.PRUNED and t.user_attrs["steps"] == replay.HORIZON
            for t in trials
        ),
        "states": {t.user_attrs["config"]: t.state for t in trials},
    }


def _in_process(direction: str, prune: bool, storage=None) -> dict:
    study = optuna.create_study(
        direction=direction, storage=storage, pruner=replay.make_pruner(prune)
    )
    curves = replay.in_direction(replay.curve_set(), direction)
    study.optimize(replay.objective_for(curves), n_trials=replay.N_CONFIGS)
    return _study_outcome(study)


def _in_workers(direction: str, prune: bool, db: Path, n_workers: int = 2) -> dict:
    storage, name = f"sqlite:///{db}", f"replay-{direction}-{prune}"
    optuna.create_study(study_name=name, storage=storage, direction=direction)
    per_worker = replay.N_CONFIGS // n_workers
    script = Path(__file__).with_name("study_replay.py")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                storage,
                name,
                direction,
                str(int(prune)),
                str(per_worker),
            ]
        )  # fmt: skip
        for _ in range(n_workers)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0] * n_workers
    return _study_outcome(optuna.load_study(study_name=name, storage=storage))


def _check_pruned_against_plain(
    pruned: dict, plain: dict, max_share: float = 0.5
) -> None:
    winner = int(np.nanargmax(replay.curve_set()[:, -1]))
    assert plain["best_config"] == pruned["best_config"] == winner
    assert pruned["best_state"] == STEPS.COMPLETE
    assert pruned["states"][winner] == STEPS.COMPLETE  # the best is never pruned
    assert pruned["pruned_at_horizon"] == 0
    assert plain["steps"] == replay.N_CONFIGS * replay.HORIZON
    # the oracle model is sure by step 2 about configs 0.08 below the winner,
    # and about most of the others soon after: at least half the steps go
    assert pruned["steps"] <= max_share * plain["steps"]
    # diverged configs (NaN from step 4) are pruned, not trained to the end
    assert all(pruned["states"][c] == STEPS.PRUNED for c in (3, 11))


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_pruned_study_finds_the_same_best_in_memory(direction):
    _check_pruned_against_plain(
        _in_process(direction, prune=True), _in_process(direction, prune=False)
    )


def test_pruned_study_finds_the_same_best_in_sqlite(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    _check_pruned_against_plain(
        _in_process("maximize", True, storage), _in_process("maximize", False)
    )


@pytest.mark.integration
@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_pruned_study_finds_the_same_best_with_two_workers(tmp_path, direction):
    plain = _in_workers(direction, False, tmp_path / "plain.db")
    # each worker starts without an incumbent and sees the other's trials only
    # once they end, so how many steps are trained depends on the interleaving:
    # 168-196 of 400 in 16 runs, and over 200 (the one-process bound) in 6 of
    # 38 runs of this test (202 in one)
    _check_pruned_against_plain(
        _in_workers(direction, True, tmp_path / "pruned.db"), plain, max_share=0.55
    )


def test_a_trial_at_its_horizon_is_never_stopped():
    # hopeless at every step, but nothing is left to save at the last one
    y = np.full((1, 10), 0.1)
    assert stop_decisions(StubModel(), y[:, :9], incumbent=0.9, horizon=10).stop[0]
    final = stop_decisions(StubModel(), y, incumbent=0.9, horizon=10)
    assert not final.stop[0] and not final.checked[0]
    with pytest.raises(InputError, match="beyond horizon=9"):
        stop_decisions(StubModel(), y, incumbent=0.9, horizon=9)


def test_pruner_raises_for_a_step_beyond_its_horizon():
    study = optuna.create_study(pruner=LCPFNPruner(StubModel(), horizon=3))
    _run(study, [0.5, 0.6, 0.7])
    trial = study.ask()
    for step in (1, 2, 3, 4):
        trial.report(0.1, step)
    with pytest.raises(
        InputError, match="reported step 4, beyond the pruner's horizon=3"
    ):
        trial.should_prune()


def test_per_curve_transform_follows_the_checked_runs(tiny):
    # run 0 has too few points to be checked: the rule must give run 1 its own
    # transform, and decide it as it would alone
    y = np.array([[2.0, np.nan, np.nan], [2.5, 2.2, 2.1]])
    transform = loss_curve(initial_loss=np.array([2.2, 3.0]))
    both = stop_decisions(tiny, y, 1.9, horizon=100, transform=transform)
    alone = stop_decisions(
        tiny, y[1:], 1.9, horizon=100, transform=loss_curve(initial_loss=3.0)
    )
    assert both.checked.tolist() == [False, True]
    assert both.prob_better[1] == pytest.approx(alone.prob_better[0], rel=1e-6)


def test_probability_is_the_max_over_each_runs_own_remaining_steps(tiny):
    # runs at different steps in one batch: each run's probability must be the
    # largest over the grid points after its own last step, as the model gives
    # them for that run alone on the whole grid (points already passed excluded,
    # none of the run's remaining points left out)
    horizon = 50
    lengths = [3, 17, 40, 49]
    rng = np.random.default_rng(0)
    y = np.full((len(lengths), 49), np.nan)
    for i, n in enumerate(lengths):
        y[i, :n] = np.sort(rng.uniform(0.2, 0.6, n))
    # minimize on rising curves: the passed points are the likeliest to be
    # below the incumbent, so counting them would raise the probability
    d = stop_decisions(tiny, y, 0.4, horizon=horizon, minimize=True)
    grid = np.arange(1.0, horizon + 1)  # a whole horizon <= max_steps: its steps
    whole_grid = []
    for i, n in enumerate(lengths):
        p = tiny.predict(y[i, :n], t_query=grid, horizon=horizon).cdf(0.4)
        assert d.prob_better[i] == pytest.approx(p[grid > n].max(), rel=1e-5)
        whole_grid.append(p.max())
    # the checks can fail: with the passed points counted, some run differs
    assert not np.allclose(d.prob_better, whole_grid, rtol=1e-3)


@pytest.mark.parametrize("horizon", [10, 20, 50, 37.5, 300])
def test_only_the_steps_ahead_are_asked_for(horizon):
    # the model is asked for the rule's steps after the earliest checked run's
    # last step, never for a step some run has already passed; a run's own last
    # step is not ahead of it even where the grid's float arithmetic could
    # land a hair above it (5.000000000000001 for 100 points over (0, 20])
    model = StubModel()
    width = int(np.ceil(horizon)) - 1  # t = 1..width, all before the horizon
    for last in range(2, width):
        y = np.full((2, width), np.nan)
        y[0, :last] = 0.5
        y[1, : min(last + 3, width)] = 0.5
        stop_decisions(model, y, incumbent=0.9, horizon=horizon)
        # the whole steps for a whole horizon <= max_steps = 100, else 100
        # points over (0, horizon]
        whole = horizon == int(horizon) and horizon <= 100
        grid = (
            np.arange(1.0, horizon + 1) if whole else np.arange(1, 101) * horizon / 100
        )
        assert model.t_query.min() > last
        assert not np.isclose(model.t_query, last, rtol=0, atol=1e-9).any()
        np.testing.assert_array_equal(model.t_query, grid[grid > last])
        assert model.t_query[-1] == horizon
