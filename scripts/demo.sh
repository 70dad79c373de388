#!/usr/bin/env bash
# Set-up and main job: install lcpfn (a real, non-editable install) and forecast
# the rest of a learning curve with the shipped model, offline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
mkdir -p out
# validation accuracy of the first 12 epochs of a run planned for 100 epochs
.venv/bin/lcpfn predict 0.31 0.45 0.53 0.58 0.62 0.64 0.66 0.675 0.69 0.695 0.70 0.71 \
    --metric accuracy --plot out/forecast.png
