#!/usr/bin/env bash
# Counter dependencies (JMLC_COUNTERS=1, RuntimeSettings.counterDependencies) against the grid's wait, in one run on one
# card: `jmlc bench` (decode and prefill-512 tok/s, mean of its timed runs) for each model, the two settings alternating,
# twice. Correctness under counters: bench/gpu-suite.sh bench with JMLC_COUNTERS=1 (the captured step against its
# kernels one at a time, bit for bit).
#
# On the GPU host: bash bench/counters-compare.sh [--model M]... [other jmlc bench arguments; --device cuda:0 unless given]
#   (default models: synthetic:llama-2-7b; results in $OUT (or .)/counters-compare.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
out="${OUT:-.}/counters-compare.txt"
source bench/bench-args.sh
for m in "${models[@]}"; do
  for round in 1 2; do
    for counters in 0 1; do
      line=$(JMLC_COUNTERS=$counters java -Xss8m -cp ".device/lib/*" jmlc.engine.cli.Main bench "$m" "${args[@]}" 2>&1 | grep -E '^(decode|prefill):|rror' | tr '\n' ' ')
      printf '%-22s JMLC_COUNTERS=%d round %d  %s\n' "$m" "$counters" "$round" "$line" | tee -a "$out"
    done
  done
done
