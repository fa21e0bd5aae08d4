#!/usr/bin/env bash
# Would a shared-memory ring of asynchronous copies (cp.async, sm_80+) make the decode GEMVs faster (issue 12)?
# bench/gemv-async-probe/probe.cu runs jmlc's own emitted 7B GEMV kernels (emitted here by `jmlc compile`)
# against a hand-written GEMV with the same arithmetic whose lanes copy weights and scales into a per-lane
# ring of S stages, the first S-1 before the prologue: a step's 128 GEMVs in one graph, then each matrix
# alone; every variant's outputs checked against the emitted kernels'.
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/gemv-async-probe.sh [--replays 20]      (writes $OUT (or .)/gemv-async-probe.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}/gemv-async-probe.txt"
dir=/tmp/jmlc-gemv-async-probe
rm -rf "$dir" && mkdir -p "$dir"
if command -v nvidia-smi >/dev/null; then arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .); else arch=90; fi
if [[ -f .device/setup.sh ]]; then
  source .device/setup.sh
  java -Xss8m -cp ".device/lib/*" jmlc.engine.cli.Main compile synthetic:llama-2-7b --target "cuda:sm_$arch" --emit "$dir/emit" >/dev/null
else
  ./jmlc compile synthetic:llama-2-7b --target "cuda:sm_$arch" --emit "$dir/emit" >/dev/null
fi
# emitted.cuh: each kernel in a namespace of its own (they share helper names), its name and grid as macros
for pair in QKV:12288x4096_norm O:4096x4096_res GU:22016x4096_norm_silupairs DOWN:4096x11008_res; do
  key=${pair%%:*} shape=${pair#*:}
  file=$(ls "$dir"/emit/kernels/gemvh_*_"${shape}"_w*.cu | head -1)
  name=$(basename "$file" .cu)
  grid=$(sed -n 's|^// launch: .*grid (\([0-9]*\),.*|\1|p' "$file")
  ns=e_$(echo "$key" | tr 'A-Z' 'a-z')
  printf 'namespace %s {\n#include "%s"\n}\n#define EMITTED_%s %s::%s\n#define EMITTED_%s_GRID %s\n' "$ns" "$file" "$key" "$ns" "$name" "$key" "$grid" >> "$dir/emitted.cuh"
done
nvcc -O3 -std=c++17 -arch=sm_"$arch" -I"$dir" -o "$dir/probe" bench/gemv-async-probe/probe.cu
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee "$out"
  git log -1 --format='main at %h' 2>/dev/null | tee -a "$out" || true
  timeout 300 "$dir/probe" "$@" 2>&1 | tee -a "$out"
  echo "written: $out"
else
  echo "built $dir/probe (no GPU here to run it)"
fi
