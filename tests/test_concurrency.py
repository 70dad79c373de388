"""Concurrency: predict from 8 threads and the pruner in 4 processes on one
SQLite storage agree with serial calls; nothing crashes or deadlocks."""

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import numpy as np
import optuna
import pruner_worker
import pytest

from lcpfn import transforms as tr
from lcpfn.predict import MAX_CACHED_BYTES as MAX_CACHED

WORKER = Path(__file__).with_name("pruner_worker.py")

pytestmark = pytest.mark.integration  # several processes / faults / installs


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


N_THREADS = 8


def _jobs():
    """Calls of every kind: one curve, batches, ragged lists, per-curve
    transforms, a chunked batch (batch_size 7) and an uncached one."""
    rng = np.random.default_rng(0)
    batch = np.sort(rng.uniform(0.1, 0.8, (20, 15)), axis=1)
    batch[np.arange(15)[None, :] >= rng.integers(2, 16, 20)[:, None]] = np.nan
    losses = 2.0 * np.exp(-np.arange(1.0, 13.0) / rng.uniform(2, 9, (6, 1)))
    return [
        dict(y_obs=np.linspace(0.2, 0.5, 10)),
        dict(y_obs=batch, t_query=[20.0, 50.0, 100.0]),
        dict(y_obs=batch, batch_size=7),
        dict(y_obs=[np.linspace(0.1, 0.4, n) for n in (3, 9, 17)], horizon=50),
        dict(y_obs=losses, transform=tr.loss_curve(losses[:, 0]), t_query=[40.0]),
        dict(y_obs=100 * batch[:5], transform=tr.accuracy(percent=True)),
    ]


def _answers(model, kwargs, uncached=False):
    # uncached: no logits kept, every method recomputes them chunk by chunk
    with mock.patch("lcpfn.predict.MAX_CACHED_BYTES", 0 if uncached else MAX_CACHED):
        pred = model.predict(**kwargs)
    return (
        pred.mean(),
        pred.quantile([0.05, 0.5, 0.95]),
        pred.cdf(0.5),
        pred.sample(3, seed=1),
    )


def test_predict_from_eight_threads_matches_serial(tiny):
    jobs = [(kwargs, i % 2 == 1) for i, kwargs in enumerate(_jobs())]
    serial = [_answers(tiny, kwargs, uncached) for kwargs, uncached in jobs]
    start = threading.Barrier(N_THREADS)

    def worker(offset):
        start.wait(timeout=60)  # all threads call predict at the same moment
        # each thread goes through every job, starting at a different one
        order = [(offset + i) % len(jobs) for i in range(len(jobs))]
        return [(j, _answers(tiny, *jobs[j])) for j in order]

    with ThreadPoolExecutor(N_THREADS) as pool:
        futures = [pool.submit(worker, k) for k in range(N_THREADS)]
        results = [f.result(timeout=600) for f in futures]  # a deadlock fails here
    n_calls = 0
    for per_thread in results:
        for j, answers in per_thread:
            for a, b in zip(answers, serial[j], strict=True):
                np.testing.assert_array_equal(a, b)
            n_calls += 1
    assert n_calls == N_THREADS * len(jobs)


def test_one_prediction_shared_by_eight_threads(tiny):
    """Methods of one Prediction (uncached: recomputing logits) in parallel."""
    rng = np.random.default_rng(1)
    with mock.patch("lcpfn.predict.MAX_CACHED_BYTES", 0):  # recompute per method
        pred = tiny.predict(np.sort(rng.uniform(0, 1, (30, 10)), axis=1), batch_size=4)
    expected = pred.quantile([0.1, 0.9])
    with ThreadPoolExecutor(N_THREADS) as pool:
        futures = [pool.submit(pred.quantile, [0.1, 0.9]) for _ in range(2 * N_THREADS)]
        for f in futures:
            np.testing.assert_array_equal(f.result(timeout=600), expected)
