#!/usr/bin/env bash
# Set-up and tests: install lcpfn with its dev extras, then run the fast tests.
# Extra arguments go to pytest (e.g. -m slow, -m gpu).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh dev
.venv/bin/python -m pytest -q "$@"
