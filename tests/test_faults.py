"""Faults: training killed with SIGKILL at random moments resumes without loss."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lcpfn.pfn.checkpoint import load_checkpoint, load_model

WORKER = Path(__file__).with_name("train_worker.py")

pytestmark = pytest.mark.integration  # several processes / faults / installs


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
    log = tmp_path / "b" / "train_log.jsonl"
    steps_at_kill = []
    for _ in range(5):
        proc = _start(tmp_path / "b", tmp_path / "b_model")
        # wait until this process has trained past the last checkpoint, then
        # kill it a random moment later: checkpoints are written every step,
        # so kills land in steps and in checkpoint writes alike
        done = steps_at_kill[-1] if steps_at_kill else 0
        while proc.poll() is None and _logged_steps(log) <= done + 1:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = load_checkpoint(tmp_path / "b")  # never a torn file
        steps_at_kill.append(state["step"])
    final = _start(tmp_path / "b", tmp_path / "b_model")
    assert final.wait(timeout=600) == 0, final.stderr.read().decode()[-2000:]
    assert len(steps_at_kill) >= 3, steps_at_kill
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


def _logged_steps(log: Path) -> int:
    try:
        lines = log.read_text().splitlines()
    except FileNotFoundError:
        return 0
    return len(lines)


def test_a_torn_temporary_file_is_ignored(tmp_path):
    from lcpfn.pfn.checkpoint import save_checkpoint

    save_checkpoint({"step": 3}, tmp_path)
    (tmp_path / ".checkpoint.pt.999.tmp").write_bytes(b"PK\x03\x04 torn")
    assert load_checkpoint(tmp_path)["step"] == 3
    save_checkpoint({"step": 4}, tmp_path)
    assert not list(tmp_path.glob("*.tmp"))


N_WRITE_KILLS = 5


def _write_checkpoints_forever(folder: str, weights: torch.Tensor, start: int) -> None:
    """Forked child: checkpoints of 32 MB from ``start`` on, w[0] = step.

    Only indexing and serialization run here: a parallel torch kernel could
    hang in a child forked from a process whose OpenMP pool is running.
    """
    from lcpfn.pfn.checkpoint import save_checkpoint

    torch.set_num_threads(1)
    for step in range(start, 10**6):
        weights[0] = step
        save_checkpoint({"step": step, "w": weights}, folder)


def test_sigkill_mid_checkpoint_write_keeps_the_last_complete_one(tmp_path):
    """Kill the writer while a temporary checkpoint file is being written: the
    folder still holds the last complete checkpoint, intact, and the next save
    clears the torn file."""
    import multiprocessing

    from lcpfn.pfn.checkpoint import save_checkpoint

    weights = torch.randn(8_000_000, generator=torch.Generator().manual_seed(0))
    weights[0] = 1
    save_checkpoint({"step": 1, "w": weights}, tmp_path)
    context = multiprocessing.get_context("fork")  # torch is already imported
    rng = np.random.default_rng(0)
    torn_at_kill, steps = 0, [1]
    for _ in range(N_WRITE_KILLS):
        child = context.Process(
            target=_write_checkpoints_forever,
            args=(tmp_path, weights.clone(), steps[-1] + 1),
        )
        child.start()
        time.sleep(rng.uniform(0.0, 1.0))  # let it complete a few checkpoints
        torn = tmp_path / f".checkpoint.pt.{child.pid}.tmp"  # this child's write
        deadline = time.monotonic() + 120
        while not torn.exists():  # a write began
            assert time.monotonic() < deadline and child.is_alive()
            time.sleep(0.001)
        time.sleep(rng.uniform(0.0, 0.002))  # a write takes ~50 ms: land inside it
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        torn_at_kill += torn.exists()
        state = load_checkpoint(tmp_path)  # never a torn file; sha256 checked
        assert state["w"][0] == state["step"]
        assert torch.equal(state["w"][1:], weights[1:])
        assert state["step"] >= steps[-1]
        steps.append(state["step"])
    assert torn_at_kill >= N_WRITE_KILLS // 2, "kills missed the checkpoint writes"
    assert steps[-1] > 1  # complete checkpoints of the killed writers were kept
    save_checkpoint({"step": 99}, tmp_path)
    assert not list(tmp_path.glob("*.tmp"))
