#!/usr/bin/env bash
# Tuned against default in one run on one card: decode tok/s (1-token prompt, 512 greedy tokens) and
# prefill-512 tok/s of synthetic Llama-2-7B q4f16_1 with the rules' defaults, then `jmlc tune` within
# the budget (into a fresh database under $OUT/tuning), then the same benchmarks with the tuned
# kernels. Prints the per-kernel table, the candidates' distribution per kernel, and a summary last;
# $OUT/tune.json holds every candidate measured.
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/tune.sh [BUDGET] [--model M] [--device cuda:0]      (BUDGET: 3m by default; results in $OUT or .)
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
budget="${1:-3m}"
shift || true
out="${OUT:-.}/tune-$(date +%s)"
mkdir -p "$out"
java -Xss8m -cp ".device/lib/*" jmlc.engine.bench.TuneBench --budget "$budget" --out "$out" "$@"
