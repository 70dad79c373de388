#!/usr/bin/env bash
# Set-up and main job: install lcpfn (a real, non-editable install) and run it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/lcpfn sample --prior lcpfn --n-curves 100000 --seed 0 --plot out/prior_curves.png
