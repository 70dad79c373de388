"""The early-stopping replay's bookkeeping (benchmarks/early_stopping.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from early_stopping import (  # noqa: E402
    head_to_head,
    patience_stop,
    regret_curve,
    replay,
    speedup_at_equal_regret,
)

# two orderings of two runs of 3 steps; oracle 0.1
Y = np.array(
    [
        [[0.9, 0.5, 0.4], [0.8, 0.3, 0.1]],
        [[0.8, 0.3, 0.1], [0.9, 0.5, 0.4]],
    ]
)


def test_regret_curve_follows_the_steps_trained_in_order():
    full = regret_curve(Y, np.full((2, 2), 3), 0.1)
    # ordering 0 sees 0.9 .5 .4 .8 .3 .1; ordering 1 sees .8 .3 .1 .9 .5 .4
    best0 = np.array([0.9, 0.5, 0.4, 0.4, 0.3, 0.1]) - 0.1
    best1 = np.array([0.8, 0.3, 0.1, 0.1, 0.1, 0.1]) - 0.1
    np.testing.assert_allclose(full, (best0 + best1) / 2)
    # stopping run 0 of ordering 0 after 1 step: its compute ends at 4 and the
    # final regret is held after that
    short = regret_curve(Y, np.array([[1, 3], [3, 3]]), 0.1)
    best0 = np.array([0.9, 0.8, 0.3, 0.1, 0.1, 0.1]) - 0.1
    np.testing.assert_allclose(short, (best0 + best1) / 2)
    epochs, regret = replay(Y, np.array([[1, 3], [3, 3]]), 0.1)
    np.testing.assert_allclose(epochs, [4, 6])
    np.testing.assert_allclose(regret, [0.0, 0.0], atol=1e-12)


def test_speedup_at_equal_regret():
    no_stopping = np.array([0.5, 0.4, 0.2, 0.2, 0.1, 0.1])
    # no stopping first reaches 0.2 after 3 steps; the method used 1.5
    assert speedup_at_equal_regret(no_stopping, 0.2, 1.5) == pytest.approx(2.0)
    # a worse final regret is reached sooner: less credit than the compute ratio
    assert speedup_at_equal_regret(no_stopping, 0.45, 1.5) == pytest.approx(4 / 3)
    # better than no stopping ever gets: credited with its full compute
    assert speedup_at_equal_regret(no_stopping, 0.05, 2.0) == pytest.approx(3.0)


def test_head_to_head_compares_compute_at_the_regret_both_reach():
    def row(trace):
        return {"regret": trace[-1], "regret_vs_compute": trace}

    rows = {
        # ends at 0.1, reaches 0.3 after 2 steps
        "rule": row(np.array([0.5, 0.3, 0.2, 0.1, 0.1, 0.1])),
        # stops early at a worse 0.3, which it reaches after 1 step
        "greedy": row(np.array([0.3, 0.3, 0.3, 0.3, 0.3, 0.3])),
        # ends at 0.2, after 5 steps, where the rule is after 3
        "slow": row(np.array([0.5, 0.5, 0.4, 0.4, 0.2, 0.2])),
    }
    # at greedy's 0.3 greedy is there first: half the rule's compute
    assert head_to_head(rows, "rule", "greedy") == pytest.approx(0.5)
    # at slow's 0.2: 5 steps against the rule's 3
    assert head_to_head(rows, "rule", "slow") == pytest.approx(5 / 3)
    assert head_to_head(rows, "rule", "rule") == 1.0


def test_patience_stops_after_k_plus_one_stale_steps():
    y = np.array([[0.9, 0.8, 0.85, 0.86, 0.7, 0.6]])
    assert patience_stop(y, 0)[0] == 3  # step 3 did not improve
    assert patience_stop(y, 1)[0] == 4
    assert patience_stop(y, 2)[0] == 6  # step 5 improved in time


def test_diverged_runs_are_never_best_and_the_rule_stops_them():
    from early_stopping import lcpfn_stop

    import lcpfn

    # ordering 0: a good run, then one that is NaN from its first step on
    # (how most diverged TaskSet runs look)
    y = np.array([[[0.5, 0.3, 0.2, 0.1], [np.nan, np.nan, np.nan, np.nan]]])
    epochs, regret = replay(y, np.full((1, 2), 4), 0.1)
    assert epochs[0] == 8 and regret[0] == pytest.approx(0.0)  # NaN never best
    assert np.isfinite(regret_curve(y, np.full((1, 2), 4), 0.1)).all()

    class Hopeful:  # forecasts every run to beat any incumbent
        max_steps = 100

        def predict(self, y_obs, **kw):
            class P:
                def cdf(self, v):
                    return np.ones(np.broadcast(v, np.zeros((len(y_obs), 100))).shape)

            return P()

    steps = lcpfn_stop(Hopeful(), y, lcpfn.transforms.loss_curve(1.0), 4.0, None)
    # the good run is never stopped; the diverged one at the first check,
    # as LCPFNPruner prunes a trial whose min_steps reports are all NaN
    assert steps.tolist() == [[4, 2]]


def test_taskset_keeps_diverged_curves_on_request():
    from lcpfn.evaluation.datasets import load_taskset

    data = Path(__file__).parents[2] / "shared" / "data"
    if not (data / "taskset_dyhpo.npz").exists():
        pytest.skip("shared/data not present")
    finite = load_taskset(data)
    everything = load_taskset(data, keep_diverged=True)
    assert len(everything.y) == finite.n_source - everything.dropped["no_initial_loss"]
    assert len(everything.y) - len(finite.y) == sum(finite.dropped.values())
    assert not np.isinf(everything.y).any() and np.isnan(everything.y).any()


def test_the_rules_threshold_sets_how_soon_it_stops():
    from early_stopping import lcpfn_stop, rule_name, summarize

    import lcpfn

    class Doubtful:  # P(beat the incumbent) = 0.1 at every remaining step
        max_steps = 100

        def predict(self, y_obs, t_query, **kw):
            class P:
                def cdf(self, v):
                    return np.full((len(y_obs), len(t_query)), 0.1)

            return P()

    y = np.array([[[0.5, 0.3, 0.2, 0.1], [0.6, 0.5, 0.4, 0.3]]])
    t = lcpfn.transforms.loss_curve(1.0)
    # the first run has no incumbent; the second is stopped at its first check
    # when 0.1 <= threshold, and trained in full otherwise
    assert lcpfn_stop(Doubtful(), y, t, 4.0, None, 0.05).tolist() == [[4, 4]]
    assert lcpfn_stop(Doubtful(), y, t, 4.0, None, 0.2).tolist() == [[4, 2]]
    assert rule_name(0.05) == "LC-PFN every step"

    def row(trace):
        return {
            "epochs": 6.0,
            "regret": trace[-1],
            "regret_vs_compute": trace,
            "speedup_at_equal_regret": 1.0,
            "regret_se": 0.0,
        }

    per_task = {
        "task": {
            "no stopping": row(np.array([0.5, 0.4, 0.3, 0.2, 0.1, 0.1])),
            "patience 0": row(np.array([0.3, 0.3, 0.3, 0.3, 0.3, 0.3])),
            rule_name(0.05): row(np.array([0.5, 0.3, 0.2, 0.1, 0.1, 0.1])),
            rule_name(0.5): row(np.array([0.3, 0.25, 0.25, 0.25, 0.25, 0.25])),
        }
    }
    methods = list(per_task["task"])
    against = summarize(per_task, methods, [0.05, 0.5])["patience 0"][
        "against_thresholds"
    ]
    # at patience 0's 0.3, the paper's threshold needs 2 steps to its 1; the
    # larger threshold gets there as fast (1 step) and on to 0.25
    assert against["0.05"]["head_to_head"] == pytest.approx(0.5)
    assert against["0.5"]["head_to_head"] == pytest.approx(1.0)
    assert against["0.5"]["tasks_ahead"] == 0


def test_oracle_of_the_rules_protocol():
    from stopping_bound import MIN_STEPS, oracle_stop

    # three runs of 4 steps in one ordering: run 0 trains fully (no incumbent);
    # run 1 never beats its best (0.4) and stops at the first check; run 2
    # beats it at its step 3 and trains up to there; a NaN run never beats
    y = np.array(
        [
            [[0.9, 0.6, 0.5, 0.4], [0.8, 0.7, 0.6, 0.5], [0.9, 0.5, 0.2, 0.3]],
            [[0.5, 0.4, 0.3, 0.2], [np.nan] * 4, [0.1, 0.9, 0.9, 0.9]],
        ]
    )
    steps = oracle_stop(y)
    np.testing.assert_array_equal(steps, [[4, MIN_STEPS, 3], [4, MIN_STEPS, 2]])
    # it ends where no stopping ends: every run that improves is trained to its best
    _, regret = replay(y, steps, 0.1)
    _, full = replay(y, np.full((2, 3), 4), 0.1)
    np.testing.assert_allclose(regret, full)
