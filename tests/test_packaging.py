"""A built wheel carries the priors (and weights) so `pip install .` works offline."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

pytestmark = pytest.mark.integration  # several processes / faults / installs


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("lcpfn-*.whl")
    return path


def test_wheel_contains_priors_and_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "lcpfn/_priors/lcpfn.toml" in names
    assert "lcpfn/_priors/domhan11.toml" in names
    # every module of the checkout's package, subpackages included, and no other
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "lcpfn").rglob("*.py")}
    assert modules == {n for n in names if n.endswith(".py")}
    shipped = {
        p.name
        for p in (ROOT / "pretrained").glob("*")
        if p.suffix in (".safetensors", ".json")
    }
    assert {f"lcpfn/_pretrained/{n}" for n in shipped} <= names


def test_installed_wheel_loads_priors_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = "import lcpfn; print(lcpfn.priors.load('lcpfn').name, lcpfn.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target)},
    )
    name, location = out.stdout.split()
    assert name == "lcpfn" and location.startswith(str(target))
