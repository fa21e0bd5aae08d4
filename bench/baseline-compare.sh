#!/usr/bin/env bash
# This tree's build against the baseline bench/pack-baseline.sh packed, in one run on one card: `jmlc bench`
# (decode and prefill-512 tok/s, mean of its timed runs) for each model, the two builds alternating, twice.
#
# On the GPU host: bash bench/baseline-compare.sh [--model M]... [other jmlc bench arguments; --device cuda:0 unless given]
#   (default models: synthetic:llama-2-7b; results in $OUT (or .)/baseline-compare.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
[[ -d .device/baseline ]] || { echo "no baseline: run bench/pack-baseline.sh REV here first" >&2; exit 2; }
out="${OUT:-.}/baseline-compare.txt"
models=()
args=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == --model ]]; then models+=("$2"); shift 2; else args+=("$1"); shift; fi
done
[[ ${#models[@]} -gt 0 ]] || models=(synthetic:llama-2-7b)
[[ " ${args[*]} " == *" --device "* ]] || args+=(--device cuda:0)
base=$(cat .device/baseline/REV)
head=$(git log -1 --format=%h 2>/dev/null || echo tree)
{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || echo "no nvidia-smi"; } | tee "$out"
for m in "${models[@]}"; do
  for round in 1 2; do
    for build in baseline tree; do
      # the baseline's jars first on the class path: its classes are the ones loaded
      cp=".device/lib/*"; [[ $build == baseline ]] && cp=".device/baseline/*:.device/lib/*"
      line=$(java -Xss8m -cp "$cp" jmlc.engine.cli.Main bench "$m" "${args[@]}" 2>/dev/null | grep -E '^(decode|prefill):' | tr '\n' ' ')
      name=$([[ $build == baseline ]] && echo "$base" || echo "$head (this tree)")
      printf '%-22s %-24s round %d  %s\n' "$m" "$name" "$round" "$line" | tee -a "$out"
    done
  done
done
echo "written: $out"
