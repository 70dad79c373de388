"""Training end to end on a tiny model: it learns, resumes exactly, exports safely."""

import json

import pytest
import torch

import lcpfn
from lcpfn.errors import CheckpointError, InputError
from lcpfn.pfn.bars import make_curve_borders
from lcpfn.pfn.checkpoint import load_checkpoint, load_model, save_checkpoint
from lcpfn.pfn.model import CurvePFN, ModelConfig, query_positions
from lcpfn.pfn.training import (
    TrainConfig,
    TrainingBatch,
    batch_loss,
    train,
)

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


def prior_marginal_nll(model: CurvePFN, y: torch.Tensor) -> float:
    """NLL of ``y`` under the bar distribution with equal logits: the prior marginal.

    Borders are equal-mass quantiles of prior values, so equal logits are what
    a model that ignores the observed points would predict at best.
    """
    logits = torch.zeros(model.config.n_bars, device=y.device)
    return float(-model.bars.log_prob(logits, y).mean())


def _held_out(prior, n=1000, seed=999) -> TrainingBatch:
    held = lcpfn.sample_curves(prior, n, seed=seed)
    n_obs = torch.randint(1, 100, (n,), generator=torch.Generator().manual_seed(0))
    return TrainingBatch(
        t=held.t.expand(n, -1), y=held.y, y_clean=held.y_clean,
        sigma=held.log_sigma.exp(), n_obs=n_obs, weight=torch.ones(n),
    )  # fmt: skip


def _held_out_nll(model, prior):
    held = _held_out(prior)
    with torch.no_grad():
        logits = model.forward_packed(held.t, held.y, held.n_obs)
        nll = batch_loss(model, logits, held, False).item()
    return nll, prior_marginal_nll(model, held.y)


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


@pytest.mark.integration
def test_compiled_training_matches_eager(lcpfn_prior):
    eager = train(lcpfn_prior, MC, _tc(n_curves=3 * 32), progress=False)
    compiled = train(
        lcpfn_prior, MC, _tc(n_curves=3 * 32, compile=True), progress=False
    )
    t, y = torch.arange(1.0, 101).expand(2, -1), torch.rand(2, 100)
    n_obs = torch.tensor([5, 50])
    with torch.no_grad():
        # fused kernels reorder float32 sums (~1e-6); compiling the wrong module
        # or skipping a step changes logits by ~1e-2 at lr 2e-3
        torch.testing.assert_close(
            compiled.model.forward_packed(t, y, n_obs),
            eager.model.forward_packed(t, y, n_obs),
            atol=1e-4,
            rtol=1e-4,
        )


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


def test_resume_from_a_moved_checkpoint_dir(lcpfn_prior, tmp_path):
    train(lcpfn_prior, MC, _tc(tmp_path / "a"), progress=False, time_limit=0.0)
    (tmp_path / "a").rename(tmp_path / "b")
    resumed = train(lcpfn_prior, MC, _tc(tmp_path / "b"), progress=False)
    assert resumed.finished and resumed.curves_seen == 40 * 32
    with pytest.raises(InputError, match="used train_config"):
        train(lcpfn_prior, MC, _tc(tmp_path / "b", lr=1e-3), progress=False)


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


@pytest.mark.integration
def test_ddp_on_two_gloo_processes_equals_averaged_gradients(lcpfn_prior, tmp_path):
    """Two torchrun ranks train 3 steps; one process replays them by averaging
    the two ranks' gradients by hand. DDP must give the same parameters."""
    import subprocess
    import sys
    from pathlib import Path

    import ddp_worker

    from lcpfn.pfn.bars import make_borders, make_curve_borders
    from lcpfn.pfn.model import CurvePFN
    from lcpfn.pfn.training import lr_factor, training_batch

    worker = Path(__file__).with_name("ddp_worker.py")
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
         "--master-port", "29517", str(worker), str(tmp_path / "ddp")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    ddp_model, _ = load_model(tmp_path / "ddp.safetensors")

    mc, tc = ddp_worker.MC, ddp_worker.TC
    if mc.curve_units:
        borders = make_curve_borders(mc.n_bars)
    else:
        values = lcpfn.sample_curves(
            lcpfn_prior, tc.n_border_curves, mc.max_steps, seed=tc.seed ^ 0x5EED
        ).y
        borders = make_borders(values, mc.n_bars)
    torch.manual_seed(tc.seed)
    model = CurvePFN(mc, borders)
    held = lcpfn.sample_curves(lcpfn_prior, 64, seed=7)
    cutoffs = torch.arange(64) % 99 + 1
    with torch.no_grad():
        before = model.forward_packed(held.t.expand(64, -1), held.y, cutoffs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(tc, 3, world=2))
    for step in range(3):
        optimizer.zero_grad()
        for rank in (0, 1):
            batch = training_batch(lcpfn_prior, mc, tc, step, rank, "cpu")
            logits = model.forward_packed(batch.t, batch.y, batch.n_obs)
            loss = batch_loss(model, logits, batch, tc.integrate_noise)
            (loss / 2).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        scheduler.step()

    # Compare the functions, not raw parameters: the key biases get gradient ~0
    # (softmax ignores them), so Adam turns float32 summation-order noise into
    # visible steps there without changing any output.
    with torch.no_grad():
        mine = model.forward_packed(held.t.expand(64, -1), held.y, cutoffs)
        theirs = ddp_model.forward_packed(held.t.expand(64, -1), held.y, cutoffs)
    # measured max |difference| ~1e-6; a missing gradient average or a rank
    # drawing the other rank's curves changes logits by > 1e-2
    assert (mine - theirs).abs().max() < 1e-4
    assert (mine - before).abs().max() > 1e-2  # the replay did train


def test_export_is_byte_for_byte_reproducible(lcpfn_prior, tmp_path):
    result = train(lcpfn_prior, MC, _tc(n_curves=2 * 32), progress=False)
    first, _ = result.save(tmp_path / "a")
    second, _ = result.save(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()  # same weights, same sha256


SHARP = ModelConfig(
    n_layers=1, n_heads=2, d_model=32, n_bars=200, scale_aware=True, curve_units=True
)


def test_scale_aware_model_learns_with_the_whole_recipe(lcpfn_prior):
    tc = _tc(n_curves=100 * 32, schedule="wsd", warmup_curves=320,
             noise_prior_share=0.75, integrate_noise=True)  # fmt: skip
    result = train(lcpfn_prior, SHARP, tc, progress=False)
    held = _held_out(lcpfn_prior)
    with torch.no_grad():
        logits = result.model.forward_packed(held.t, held.y, held.n_obs)
        nll = batch_loss(result.model, logits, held, False).item()
    # nll is in each curve's own units: add log scale back for the prior's units
    scale = result.model.output_scale(held.y, ~query_positions(held.n_obs, 100))
    rows = query_positions(held.n_obs, 100).nonzero()[:, 0]
    nll_y = nll + scale.scale.log()[rows].mean().item()
    # measured: -1.6 after 100 steps; the prior marginal of y is ~+0.0
    # and a model ignoring its inputs could not go below it
    assert nll_y < -0.8, nll_y
    # its card states the bar widths in y: far below 1e-3 at a low-noise
    # curve's last value (equal-mass prior bars: ~1e-2 near 0)
    widths = result.card()["bar_widths"]
    assert widths["units"] == "curve" and widths["finest"] < 1e-5


def test_integrated_noise_loss_is_the_expected_sampled_loss(lcpfn_prior):
    torch.manual_seed(0)
    model = CurvePFN(SHARP, make_curve_borders(SHARP.n_bars))
    held = _held_out(lcpfn_prior, n=8)
    with torch.no_grad():
        logits = model.forward_packed(held.t, held.y, held.n_obs)
        exact = batch_loss(model, logits, held, True).item()
        # the observed points stay as they are; only the targets are redrawn
        draws = []
        g = torch.Generator().manual_seed(1)
        is_query = query_positions(held.n_obs, 100)
        for _ in range(400):
            fresh = (
                held.y_clean
                + torch.randn(held.y.shape, generator=g) * held.sigma[:, None]
            )
            y = torch.where(is_query, fresh, held.y)
            batch = TrainingBatch(**{**held.__dict__, "y": y})
            draws.append(batch_loss(model, logits, batch, False).item())
    draws = torch.tensor(draws)
    # the Monte Carlo mean has a standard error of std / 20; 4 s.e. tolerance
    assert abs(draws.mean().item() - exact) < 4 * draws.std().item() / 20 + 1e-3


def test_noise_proposal_weights_recover_prior_moments(lcpfn_prior):
    from lcpfn.pfn.training import training_batch

    tc = _tc(batch_size=4096, noise_prior_share=0.5)
    batch = training_batch(lcpfn_prior, SHARP, tc, 0, 0, "cpu")
    log_sigma = batch.sigma.log().double()
    w = batch.weight.double() / batch.weight.double().sum()
    # proposal: more low noise than the prior N(-4, 1)
    assert (log_sigma < -6).double().mean() > 0.1
    # weighted moments are the prior's (s.e. of a weighted mean ~ 0.02 here)
    assert abs((w * log_sigma).sum().item() + 4.0) < 0.1
    assert abs((w * (log_sigma + 4) ** 2).sum().item() - 1.0) < 0.15
    # the observed points carry the redrawn noise
    resid = (batch.y - batch.y_clean) / batch.sigma[:, None]
    assert abs(resid.std().item() - 1.0) < 0.02


def test_wsd_run_extends_to_the_run_planned_that_long(lcpfn_prior, tmp_path):
    kw = dict(schedule="wsd", decay_fraction=0.25, batch_size=8, warmup_curves=16)
    long = train(lcpfn_prior, MC, _tc(tmp_path / "long", n_curves=40 * 8, **kw),
                 progress=False)  # fmt: skip
    short = train(lcpfn_prior, MC, _tc(tmp_path / "ext", n_curves=20 * 8, **kw),
                  progress=False)  # fmt: skip
    assert load_checkpoint(tmp_path / "ext" / "stable")["step"] == 15
    extended = train(lcpfn_prior, MC, _tc(tmp_path / "ext", n_curves=40 * 8, **kw),
                     progress=False)  # fmt: skip
    for (name, a), (_, b) in zip(
        long.model.state_dict().items(), extended.model.state_dict().items(),
        strict=True,
    ):  # fmt: skip
        assert torch.equal(a, b), name
    assert not torch.equal(short.model.head.weight, long.model.head.weight)
    assert [r["step"] for r in extended.resumes] == [15]
    cosine = dict(schedule="cosine", batch_size=8, log_every=5, checkpoint_every=5)
    train(lcpfn_prior, MC, _tc(tmp_path / "cos", n_curves=5 * 8, **cosine),
          progress=False)  # fmt: skip
    with pytest.raises(InputError, match="used train_config"):  # cosine: fixed length
        train(lcpfn_prior, MC, _tc(tmp_path / "cos", n_curves=10 * 8, **cosine),
              progress=False)  # fmt: skip


def test_training_continues_from_exported_weights(lcpfn_prior, tmp_path):
    first = train(lcpfn_prior, MC, _tc(n_curves=10 * 32), progress=False)
    first.save(tmp_path / "first")
    state = torch.get_rng_state()
    second = train(
        lcpfn_prior, MC, _tc(n_curves=10 * 32, init_from=str(tmp_path / "first")),
        progress=False,
    )  # fmt: skip
    assert torch.equal(torch.get_rng_state(), state)  # train() leaves it alone
    card = second.card()
    assert card["lineage"][0]["curves_seen"] == 10 * 32
    assert card["curves_seen_in_all"] == 20 * 32
    assert torch.equal(second.model.bars.borders, first.model.bars.borders)
    assert not torch.equal(second.model.head.weight, first.model.head.weight)
