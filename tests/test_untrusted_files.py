"""Untrusted files: tampered, truncated or mismatched weights, checkpoints and
prior specs fail with an error naming the file; nothing is ever unpickled."""

import json
import pickle
import re
import shutil
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lcpfn
from lcpfn.cli import main as cli_main
from lcpfn.errors import CheckpointError, PriorSpecError
from lcpfn.pfn.checkpoint import load_checkpoint, save_checkpoint
from lcpfn.shipped import shipped_dir

PACKAGE = Path(lcpfn.__file__).parent


class _Payload:
    """Unpickling this creates ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _copy_model(src: Path, dst: Path) -> Path:
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(src.with_suffix(suffix), dst.with_suffix(suffix))
    return dst


def _reseal(path: Path) -> None:
    """Set the card's sha256 to the weights as they are now (a forgery)."""
    import hashlib

    card = json.loads(path.with_suffix(".json").read_text())
    card["sha256"] = hashlib.sha256(
        path.with_suffix(".safetensors").read_bytes()
    ).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(card))


def _edit_card(path: Path, **changes) -> None:
    card = json.loads(path.with_suffix(".json").read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            card[key] = {**card[key], **value}
        else:
            card[key] = value
    path.with_suffix(".json").write_text(json.dumps(card))


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# each case: what is done to a copy of the tiny model, and what the error says
WEIGHT_CASES = {
    "bit flip": (lambda p: _flip(p.with_suffix(".safetensors")), "sha256 differs"),
    "truncated weights": (
        lambda p: _truncate(p.with_suffix(".safetensors"), 0.5),
        "sha256 differs",
    ),
    "truncated and resealed": (
        lambda p: (_truncate(p.with_suffix(".safetensors"), 0.5), _reseal(p)),
        "cannot rebuild the model",
    ),
    "empty weights, resealed": (
        lambda p: (p.with_suffix(".safetensors").write_bytes(b""), _reseal(p)),
        "cannot rebuild the model",
    ),
    "weights deleted": (
        lambda p: p.with_suffix(".safetensors").unlink(),
        "cannot read weights",
    ),
    "card deleted": (
        lambda p: p.with_suffix(".json").unlink(),
        "cannot read model card",
    ),
    "card truncated": (lambda p: _truncate(p.with_suffix(".json"), 0.5), "model card"),
    "card not an object": (
        lambda p: p.with_suffix(".json").write_text("[1, 2]"),
        "a model card is a JSON object; got list",
    ),
    "card for a wider model": (
        lambda p: _edit_card(p, model_config={"d_model": 64}),
        "do not match the card's config",
    ),
    "card for more bars": (
        lambda p: _edit_card(p, model_config={"n_bars": 60}),
        "borders must have n_bars + 1 = 61 entries",
    ),
    "card with an unknown config key": (
        lambda p: _edit_card(p, model_config={"colour": 3}),
        "cannot rebuild the model",
    ),
    "card without a config": (
        lambda p: _edit_card(p, model_config=None),
        "cannot rebuild the model",
    ),
    "weights of another model": (
        lambda p: (_swap_in_other_weights(p), _reseal(p)),
        "do not match the card's config",
    ),
    "pickle in place of the weights, resealed": (
        lambda p: (
            p.with_suffix(".safetensors").write_bytes(
                pickle.dumps({"x": _Payload(p.parent / "pwned")})
            ),
            _reseal(p),
        ),
        "cannot rebuild the model",
    ),
}


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x10
    path.write_bytes(bytes(data))


def _swap_in_other_weights(path: Path) -> None:
    from safetensors.torch import save_file

    from lcpfn.pfn.model import CurvePFN, ModelConfig

    other = CurvePFN(
        ModelConfig(n_layers=2, n_heads=2, d_model=32, n_bars=50),
        torch.linspace(0, 1, 51),
    )
    save_file(other.state_dict(), str(path.with_suffix(".safetensors")))


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_tampered_model_files_are_refused_naming_the_file(
    tiny_model_path, tmp_path, case
):
    tamper, match = WEIGHT_CASES[case]
    path = _copy_model(tiny_model_path, tmp_path / "model")
    tamper(path)
    with pytest.raises(CheckpointError, match=re.escape(match)) as info:
        lcpfn.load(path)
    assert str(tmp_path / "model") in str(info.value)  # names the file
    assert not (tmp_path / "pwned").exists()  # nothing was unpickled


def test_cli_refuses_a_tampered_model_in_one_line(tiny_model_path, tmp_path, capsys):
    path = _copy_model(tiny_model_path, tmp_path / "model")
    _flip(path.with_suffix(".safetensors"))
    code = cli_main(["predict", "0.3", "0.4", "--model", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("lcpfn: error:") and "Traceback" not in err
    assert "model.safetensors" in err


# ---- training checkpoints ---------------------------------------------------------


def _checkpoint(folder: Path) -> Path:
    save_checkpoint({"step": 3, "w": torch.arange(1000.0)}, folder)
    return folder / "checkpoint.pt"


CHECKPOINT_CASES = {
    "malicious pickle": lambda p: p.write_bytes(
        pickle.dumps({"step": 4, "x": _Payload(p.parent / "pwned")})
    ),
    "malicious pickle via torch.save": lambda p: torch.save(
        {"format_version": 1, "x": _Payload(p.parent / "pwned")}, p
    ),
    "truncated": lambda p: _truncate(p, 0.6),
    "truncated to nothing": lambda p: p.write_bytes(b""),
    "bit flip": _flip,
    "wrong format version": lambda p: torch.save({"format_version": 99}, p),
    "not a dict": lambda p: torch.save([1, 2, 3], p),
    "text file": lambda p: p.write_text("step = 3\n"),
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_tampered_checkpoints_are_refused_naming_the_file(tmp_path, case):
    path = _checkpoint(tmp_path)
    CHECKPOINT_CASES[case](path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tmp_path)
    assert str(path) in str(info.value)
    assert not (tmp_path / "pwned").exists()


def test_training_refuses_to_resume_from_a_malicious_checkpoint(lcpfn_prior, tmp_path):
    from lcpfn.pfn.model import ModelConfig
    from lcpfn.pfn.training import TrainConfig, train

    (tmp_path / "checkpoint.pt").write_bytes(
        pickle.dumps({"step": 1, "x": _Payload(tmp_path / "pwned")})
    )
    with pytest.raises(CheckpointError, match="checkpoint.pt"):
        train(
            lcpfn_prior,
            ModelConfig(n_layers=1, n_heads=2, d_model=32, n_bars=50),
            TrainConfig(n_curves=64, batch_size=32, checkpoint_dir=str(tmp_path)),
            progress=False,
        )
    assert not (tmp_path / "pwned").exists()


def test_no_module_can_unpickle():
    """Every loader in the package refuses pickles: torch.load only with
    weights_only=True, np.load only with allow_pickle=False, no pickle module."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        for call in re.finditer(r"torch\.load\((.*?)\)", text, re.S):
            if "weights_only=True" not in call.group(1):
                offenders.append(f"{path.name}: {call.group(0)}")
        for call in re.finditer(r"np\.load\((.*?)\)", text, re.S):
            if "allow_pickle=False" not in call.group(1):
                offenders.append(f"{path.name}: {call.group(0)}")
        if re.search(
            r"^\s*(import|from) (pickle|dill|cloudpickle|joblib)\b", text, re.M
        ):
            offenders.append(f"{path.name}: imports a pickle module")
        if re.search(r"\bpd\.read_pickle|\.load_state_dict\(torch\.load", text):
            offenders.append(f"{path.name}: reads a pickle")
    assert not offenders, offenders


# ---- prior specs ------------------------------------------------------------------

SHIPPED_PRIOR = (shipped_dir("priors") / "lcpfn.toml").read_text()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edit=st.sampled_from(["truncate", "drop line", "replace value", "garbage bytes"]),
    where=st.floats(0, 1, exclude_max=True),
    value=st.one_of(
        st.sampled_from(
            ['"x"', "nan", "inf", "-inf", "1e999", "[]", "{}", "true", "-1"]
        ),
        st.floats(-1e6, 1e6).map(repr),
    ),
)
def test_tampered_prior_specs_load_or_name_the_file(tmp_path, edit, where, value):
    text = SHIPPED_PRIOR
    path = tmp_path / "tampered.toml"
    if edit == "truncate":
        path.write_text(text[: int(len(text) * where)])
    elif edit == "drop line":
        lines = text.splitlines()
        del lines[int(len(lines) * where)]
        path.write_text("\n".join(lines))
    elif edit == "replace value":
        numbers = list(re.finditer(r"(?<== )-?[0-9][0-9.e-]*", text))
        m = numbers[int(len(numbers) * where)]
        path.write_text(text[: m.start()] + value + text[m.end() :])
    else:
        cut = int(len(text) * where)
        path.write_bytes(text[:cut].encode() + b"\xff\xfe\x00" + text[cut:].encode())
    try:
        prior = lcpfn.priors.load(path)
    except PriorSpecError as err:
        assert str(path) in str(err)
        return
    assert prior.name  # a harmless edit (a comment, a number in range) loads
