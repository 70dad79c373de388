"""Concurrency: the pruner in 4 processes on one SQLite storage agrees with serial."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pruner_worker

WORKER = Path(__file__).with_name("pruner_worker.py")


def _make_study(storage: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="shared", storage=storage, direction="maximize"
    )
    rng = np.random.default_rng(0)
    for final in (0.6, 0.7, 0.75):  # completed trials: the incumbent is 0.75
        curve = final * (1 - np.exp(-np.arange(1, 21) / 4))
        study.add_trial(
            optuna.trial.create_trial(
                value=final,
                intermediate_values={i + 1: float(v) for i, v in enumerate(curve)},
            )
        )
    for level in np.linspace(0.2, 0.9, 8):  # running trials, 6 steps reported each
        trial = study.ask()
        for step in range(1, 7):
            trial.report(
                float(level * (1 - np.exp(-step / 3)) + rng.normal(0, 0.01)), step
            )


def test_pruner_in_four_processes_matches_serial(tiny_model_path, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    _make_study(storage)
    serial = pruner_worker.decisions(storage, str(tiny_model_path))
    assert len(serial) == 8
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), storage, str(tiny_model_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        parallel = {int(k): v for k, v in json.loads(out).items()}
        assert parallel == serial
