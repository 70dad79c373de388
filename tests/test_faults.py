"""Faults: training killed with SIGKILL at random moments resumes without loss."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from lcpfn.checkpoint import load_checkpoint, load_model

WORKER = Path(__file__).with_name("train_worker.py")


def _start(ckpt: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # same float order in every run
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(ckpt), str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_at_random_points_resumes_to_the_same_model(tmp_path):
    straight = _start(tmp_path / "a", tmp_path / "a_model")
    assert straight.wait(timeout=600) == 0, straight.stderr.read().decode()[-2000:]

    rng = np.random.default_rng(0)
    kills, steps_at_kill = 0, []
    while True:
        proc = _start(tmp_path / "b", tmp_path / "b_model")
        # checkpoints are written every step, so many kills land mid-write
        try:
            code = proc.wait(timeout=rng.uniform(3.0, 6.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            state = load_checkpoint(tmp_path / "b")  # never a torn file
            steps_at_kill.append(state["step"] if state else 0)
            continue
        assert code == 0, proc.stderr.read().decode()[-2000:]
        break
    assert kills >= 2, "the run finished before it could be killed twice"
    assert steps_at_kill == sorted(steps_at_kill)  # progress is never lost

    a, _ = load_model(tmp_path / "a_model")
    b, _ = load_model(tmp_path / "b_model")
    for (name, p), q in zip(
        a.state_dict().items(), b.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name
    log = [
        json.loads(x)
        for x in (tmp_path / "b" / "train_log.jsonl").read_text().splitlines()
    ]
    assert [m["step"] for m in log] == list(range(1, 61))  # no repeats, no torn lines
    assert not list((tmp_path / "b").glob("*.tmp"))  # torn writes cleaned up


def test_a_torn_temporary_file_is_ignored(tmp_path):
    from lcpfn.checkpoint import save_checkpoint

    save_checkpoint({"step": 3}, tmp_path)
    (tmp_path / ".checkpoint.pt.999.tmp").write_bytes(b"PK\x03\x04 torn")
    assert load_checkpoint(tmp_path)["step"] == 3
    save_checkpoint({"step": 4}, tmp_path)
    assert not list(tmp_path.glob("*.tmp"))
