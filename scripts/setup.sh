#!/usr/bin/env bash
# Create .venv (once) and install lcpfn with the given extras into it.
# Usage: source scripts/setup.sh [EXTRAS]     e.g. source scripts/setup.sh dev
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
# torch first, as a CPU build where there is no GPU: an unpinned torch would
# pull several GB of CUDA wheels. On this project's machines torch==2.13.0
# resolves to a local CPU wheel; elsewhere add
# --index-url https://download.pytorch.org/whl/cpu (or keep your own torch).
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q "torch==2.13.0"
fi
.venv/bin/python -m pip install -q ".${extras:+[$extras]}"
