#!/usr/bin/env bash
# Re-measure every figure README.md and the model card quote, for the shipped
# default, in benchmarks/results/. A step whose result file is newer than the
# default's card is skipped, so re-running after an interruption resumes.
#
# Usage: bash benchmarks/readme_figures.sh [--data-dir ../shared/data]
# About 2 h on a 2-core CPU, then about 6 h for the reference posterior and
# 30 min for its importance-sampling rechecks (last steps); the timing steps
# (inference_latency, pruner_overhead) want the machine otherwise idle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=../shared/data
if [[ "${1:-}" == "--data-dir" ]]; then DATA=$2; fi
CARD=pretrained/default.json
PY="${PYTHON:-.venv/bin/python}"
export PYTHONPATH=.

step() {  # step RESULT_FILE COMMAND...: run COMMAND unless RESULT_FILE is newer
    local result=benchmarks/results/$1
    shift
    if [[ -f "$result" && "$result" -nt "$CARD" ]]; then
        echo "up to date: $result"
        return
    fi
    echo "running: $*"
    "$@"
}

step prior_accuracy_default.json "$PY" benchmarks/prior_accuracy.py --model default
step noise_strata_default.json "$PY" benchmarks/noise_strata.py --model default --n-curves 6000
step inference_latency_default_cpu.json "$PY" benchmarks/inference_latency.py --model default
step pruner_overhead_sqlite.json "$PY" benchmarks/pruner_overhead.py --storage sqlite --n-completed 20
step optuna_taskset.json "$PY" benchmarks/optuna_taskset.py --data-dir "$DATA" --draws 2
step real_curves.json "$PY" benchmarks/real_curves.py --data-dir "$DATA" --n-curves 600 --n-mcmc 16
step range_guarantee.json "$PY" benchmarks/range_guarantee.py --data-dir "$DATA"
step early_stopping.json "$PY" benchmarks/early_stopping.py --data-dir "$DATA" --model default \
    --orderings 40 --runs 20
# the cheaper SMC budget and NUTS timed together, then the reference beside them
step pfn_vs_mcmc_smc250_max1000_noise_moves.json "$PY" benchmarks/pfn_vs_mcmc.py \
    --model default --n-curves 16 --budgets 1000 --smc-particles 250 --smc-max-factor 4 \
    --n-chains 4 --batch-size 16 --out pfn_vs_mcmc_smc250_max1000_noise_moves
step pfn_vs_mcmc.json "$PY" benchmarks/pfn_vs_mcmc.py --model default --n-curves 16 \
    --budgets --smc-particles 1000 --n-chains 4 --batch-size 16 \
    --include pfn_vs_mcmc_smc250_max1000_noise_moves
# the reference posterior against brute force on 256 prior curves, then SBC from
# its ranks (not tied to the default); it resumes from its JSON, so it always
# runs, and a finished run only reports
"$PY" benchmarks/reference_posterior.py --n-curves 256 --chunk 16 --methods smc \
    --importance-curves 64 --importance-from reference_posterior_256_draws4000 \
    --out reference_posterior_256_noise_moves
"$PY" benchmarks/sbc.py --from-run reference_posterior_256_noise_moves
# where SMC and 4M-draw importance sampling disagree, importance sampling again
"$PY" benchmarks/importance_recheck.py --run reference_posterior_256_noise_moves
"$PY" benchmarks/importance_recheck.py --run reference_posterior_256_noise_moves \
    --n-draws 64000000 --seed 2 --curves 21 36 50 \
    --out reference_posterior_256_noise_moves_recheck_64M
