"""Training end to end on a tiny model: it learns, resumes exactly, exports safely."""

import json

import pytest
import torch

import lcpfn
from lcpfn.checkpoint import load_checkpoint, load_model, save_checkpoint
from lcpfn.errors import CheckpointError, InputError
from lcpfn.model import ModelConfig
from lcpfn.training import TrainConfig, _masked_nll, prior_marginal_nll, train

MC = ModelConfig(n_layers=2, n_heads=2, d_model=32, n_bars=50)


def _tc(tmp_path=None, **kw):
    base = dict(
        n_curves=40 * 32,
        batch_size=32,
        lr=2e-3,
        n_border_curves=1000,
        log_every=10,
        checkpoint_every=10,
        checkpoint_dir=str(tmp_path) if tmp_path else None,
    )
    return TrainConfig(**{**base, **kw})


def _held_out_nll(model, prior):
    held = lcpfn.sample_curves(prior, 1000, seed=999)
    n_obs = torch.randint(1, 100, (1000,), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model.forward_packed(held.t.expand(1000, -1), held.y, n_obs)
        return _masked_nll(model, logits, held.y, n_obs).item(), prior_marginal_nll(
            model, held.y
        )


def test_tiny_model_learns_beyond_the_prior_marginal(lcpfn_prior):
    result = train(lcpfn_prior, MC, _tc(n_curves=300 * 32), progress=False)
    nll, marginal = _held_out_nll(result.model, lcpfn_prior)
    # measured: marginal ~ +0.0, trained ~ -1.1 after 300 steps; a model that
    # ignored the observed points could not go below the marginal
    assert nll < marginal - 0.5, (nll, marginal)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert all(torch.isfinite(p).all() for p in result.model.parameters())


class _Killed(Exception):
    pass


def test_kill_and_resume_equals_uninterrupted(lcpfn_prior, tmp_path):
    straight = train(lcpfn_prior, MC, _tc(tmp_path / "a"), progress=False)

    def kill_at_20(step, metrics):
        if step == 20:
            raise _Killed

    with pytest.raises(_Killed):
        train(lcpfn_prior, MC, _tc(tmp_path / "b"), progress=False, callback=kill_at_20)
    # killed during step 20, before its checkpoint: steps 11..20 are redone
    assert load_checkpoint(tmp_path / "b")["step"] == 10
    resumed = train(lcpfn_prior, MC, _tc(tmp_path / "b"), progress=False)
    for (name, a), (_, b) in zip(
        straight.model.state_dict().items(),
        resumed.model.state_dict().items(),
        strict=True,
    ):
        assert torch.equal(a, b), name
    assert resumed.curves_seen == straight.curves_seen == 40 * 32


def test_time_limit_stops_and_resumes(lcpfn_prior, tmp_path):
    first = train(lcpfn_prior, MC, _tc(tmp_path), progress=False, time_limit=0.0)
    assert not first.finished and load_checkpoint(tmp_path)["step"] == 1
    second = train(lcpfn_prior, MC, _tc(tmp_path), progress=False)
    assert second.finished and second.curves_seen == 40 * 32
    log = [
        json.loads(line)
        for line in (tmp_path / "train_log.jsonl").read_text().splitlines()
    ]
    assert log[-1]["step"] == 40


def test_resume_refuses_another_run(lcpfn_prior, tmp_path):
    train(lcpfn_prior, MC, _tc(tmp_path, n_curves=10 * 32), progress=False)
    with pytest.raises(InputError, match="from another run"):
        train(
            lcpfn_prior,
            ModelConfig(n_layers=1, n_heads=2, d_model=32, n_bars=50),
            _tc(tmp_path),
            progress=False,
        )


def test_export_and_load_round_trip(lcpfn_prior, tmp_path):
    result = train(lcpfn_prior, MC, _tc(n_curves=5 * 32), progress=False)
    weights, card_path = result.save(tmp_path / "tiny")
    card = json.loads(card_path.read_text())
    assert card["prior_sha256"] == lcpfn_prior.hash() and card["curves_seen"] == 5 * 32
    model, _ = load_model(tmp_path / "tiny")
    t, y = torch.arange(1.0, 101).expand(2, -1), torch.rand(2, 100)
    n_obs = torch.tensor([5, 50])
    with torch.no_grad():
        torch.testing.assert_close(
            model.forward_packed(t, y, n_obs), result.model.forward_packed(t, y, n_obs)
        )
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256 differs"):
        load_model(tmp_path / "tiny")


def test_checkpoint_loading_refuses_pickles(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "checkpoint.pt").write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(CheckpointError, match="not a readable lcpfn checkpoint"):
        load_checkpoint(tmp_path)


def test_checkpoint_write_is_atomic(tmp_path):
    save_checkpoint({"step": 1}, tmp_path)
    save_checkpoint({"step": 2}, tmp_path)
    assert load_checkpoint(tmp_path)["step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == [
        "checkpoint.pt"
    ]  # no temp left over
