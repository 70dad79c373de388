"""Optuna studies that replay known curves, for the pruner's tests.

Each config of a study is one curve ``y(t) = c + b / sqrt(t)`` (some configs
diverge to NaN); the objective is the standard user loop: report every step,
ask ``should_prune`` after each report (the last step included), return the
final value. ``PowerLawOracle`` is a stand-in model that knows the curve
family: from two or more observed points it fits (c, b) by least squares and
forecasts N(fit, SCALE), so the pruner's decisions have known answers.

Run as a script, it is one worker process of a shared-storage study:
``python tests/study_replay.py STORAGE STUDY_NAME DIRECTION PRUNE(0|1) N_TRIALS``.
"""

from __future__ import annotations

import sys

import numpy as np
import optuna
from scipy import stats

from lcpfn.stopping import LCPFNPruner

HORIZON = 20
SCALE = 0.01
N_CONFIGS = 20


def curve_set(seed: int = 0) -> np.ndarray:
    """(N_CONFIGS, HORIZON) accuracies with one clear winner; configs 3 and 11
    diverge (NaN from step 4 on)."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.5, 0.85, N_CONFIGS)
    c[rng.integers(N_CONFIGS)] = 0.93  # the winner, 0.08 above every other
    b = -rng.uniform(0.2, 0.5, N_CONFIGS)
    t = np.arange(1, HORIZON + 1)
    y = c[:, None] + b[:, None] / np.sqrt(t)[None, :]
    y[[3, 11], 3:] = np.nan
    return y


def in_direction(y: np.ndarray, direction: str) -> np.ndarray:
    """The same runs as accuracies (maximize) or as errors 1 - accuracy (minimize)."""
    return y if direction == "maximize" else 1.0 - y


class _Gaussian:
    def __init__(self, mu: np.ndarray) -> None:
        self.mu = mu

    def cdf(self, v):
        return stats.norm.cdf(v, self.mu, SCALE)

    def prob_greater(self, v):
        return stats.norm.sf(v, self.mu, SCALE)


class PowerLawOracle:
    """Forecasts ``c + b / sqrt(t)`` fitted to the observed points, +- SCALE."""

    max_steps = 100

    def predict(self, y_obs, t_obs=None, t_query=None, horizon=None, transform=None):
        y = np.asarray(y_obs, dtype=float)
        t = np.asarray(t_obs, dtype=float)
        mu = np.empty((len(y), len(t_query)))
        for i, (yi, ti) in enumerate(zip(y, t, strict=True)):
            seen = ~np.isnan(yi)
            design = np.stack([np.ones(seen.sum()), ti[seen] ** -0.5], axis=1)
            c, b = np.linalg.lstsq(design, yi[seen], rcond=None)[0]
            mu[i] = c + b / np.sqrt(np.asarray(t_query, dtype=float))
        return _Gaussian(mu)


def config_of(trial_number: int, seed: int = 0) -> int:
    """Trial n runs the n-th config of a shuffled order (the winner is not
    first); trial numbers are unique across workers of one storage."""
    return int(np.random.default_rng(seed + 1).permutation(N_CONFIGS)[trial_number])


def objective_for(curves: np.ndarray):
    def objective(trial: optuna.Trial) -> float:
        config = config_of(trial.number)
        trial.set_user_attr("config", config)
        curve = curves[config]
        for step, value in enumerate(curve, 1):
            trial.set_user_attr("steps", step)
            trial.report(float(value), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(curve[-1])

    return objective


def make_pruner(prune: bool):
    if not prune:
        return optuna.pruners.NopPruner()
    return LCPFNPruner(PowerLawOracle(), horizon=HORIZON, transform=None)


def worker(storage: str, name: str, direction: str, prune: bool, n_trials: int) -> None:
    """Run ``n_trials`` of a shared-storage study."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(
        study_name=name, storage=storage, pruner=make_pruner(prune)
    )
    study.optimize(
        objective_for(in_direction(curve_set(), direction)), n_trials=n_trials
    )


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", int(sys.argv[5]))
