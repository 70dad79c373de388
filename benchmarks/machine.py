"""Describe the machine and software a benchmark ran on (for its JSON record)."""

from __future__ import annotations

import os
import platform
import subprocess
import warnings
from importlib import metadata
from pathlib import Path

import torch

import lcpfn

RESULTS = Path(__file__).parent / "results"
# the libraries whose versions decide a benchmark's figures (None: not installed)
PACKAGES = ("torch", "numpy", "scipy", "jax", "jaxlib", "numpyro", "blackjax", "arviz")
CHECKOUT = Path(__file__).resolve().parents[1]


def describe_machine() -> dict:
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "git_revision": _git_revision(),
        "lcpfn_from_checkout": _lcpfn_from_checkout(),
        "packages": {name: _version(name) for name in PACKAGES},
    }
    return info


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _lcpfn_from_checkout() -> bool:
    """Whether the lcpfn being benchmarked is this checkout's (whose git
    revision the record names); warns when it is an installed copy."""
    package = Path(lcpfn.__file__).resolve().parent
    if package == CHECKOUT / "lcpfn":
        return True
    warnings.warn(
        f"benchmarking the lcpfn installed at {package}, not this checkout's, "
        f"though the record names the checkout's git revision; run with "
        f"PYTHONPATH={CHECKOUT} or pip install -e {CHECKOUT}",
        stacklevel=3,
    )
    return False


def _git_revision() -> str | None:
    """The checkout's commit, with "+changes" when tracked files other than
    benchmark results differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()

    try:
        revision = git("rev-parse", "--short", "HEAD")
        changed = git(
            "status", "--porcelain", "--untracked-files=no", "--",
            ":(top)", ":(top,exclude)benchmarks/results",
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return revision + ("+changes" if changed else "")
