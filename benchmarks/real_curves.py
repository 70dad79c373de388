"""The real-curve benchmark suite, written into benchmarks/results/.

Usage:
    python benchmarks/real_curves.py [--data-dir ../shared/data] [lcpfn evaluate
        options: --n-curves 600 --n-mcmc 16 --models default ...]

The same as ``lcpfn evaluate --out benchmarks/results``: see
``lcpfn.real_curves`` for what is evaluated and how. Writes
``real_curves.md``, ``real_curves.json`` and ``real_curves_*.png``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lcpfn.cli import main

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).parent.parent.parent / "shared" / "data"

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--data-dir" not in argv:
        argv = ["--data-dir", os.path.relpath(DATA), *argv]
    sys.exit(main(["evaluate", "--out", os.path.relpath(RESULTS), *argv]))
