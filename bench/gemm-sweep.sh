#!/usr/bin/env bash
# Sweeps the prefill GEMM's tile knobs (bm × bn) for synthetic Llama-2-7B q4f16_1 on the GPU machine:
# each run writes a tuning database for the four GEMM signatures and times decode, short prompts
# and the 512-token prefill with bench/gpu-suite.sh's bench part. Results in $OUT/gemm-sweep.txt.
#
# On the GPU host (after packing .device as bench/gpu-suite.sh says):  bash bench/gemm-sweep.sh [BMxBN ...]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}"
sigs=(gemm_q4f16g32z7122884096_12288x4096 gemm_q4f16g32z740964096_4096x4096 gemm_q4f16g32z7220164096_22016x4096 gemm_q4f16g32z7409611008_4096x11008)
configs=("$@")
((${#configs[@]})) || configs=(64x128 128x128 64x256 128x64 32x128)
for cfg in "${configs[@]}"; do
  bm=${cfg%x*}; bn=${cfg#*x}
  db=$(mktemp)
  for s in "${sigs[@]}"; do printf '%s.bm=%s\n%s.bn=%s\n' "$s" "$bm" "$s" "$bn" >> "$db"; done
  echo "== bm=$bm bn=$bn" | tee -a "$out/gemm-sweep.txt"
  JMLC_KNOBS="$db" OUT="$(mktemp -d)" bash bench/gpu-suite.sh bench --models synthetic:llama-2-7b 2>&1 \
    | grep -E "^bench|prompt of n|prefill-512 kernels" | sort -u | tee -a "$out/gemm-sweep.txt"
done
