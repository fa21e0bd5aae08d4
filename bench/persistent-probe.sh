#!/usr/bin/env bash
# Before the compiler fuses a decode step's GEMVs into persistent kernels (issue 12), what would it gain?
# bench/persistent-probe/probe.cu streams the 7B/13B/8B decode GEMVs' q4f16_1 bytes as one kernel a matrix
# in a CUDA graph (today's structure), one persistent kernel a layer, one for the step, and one for the step
# with L2 prefetch before each grid barrier; and times a bare kernel boundary against a bare grid barrier.
# Needs only nvcc and a GPU (no Java). Each run is killed after 120 s (a barrier that waits 2 s traps).
#
# On the GPU host: bash bench/persistent-probe.sh [SHAPES]     (default: 7b 13b 8b)
# Writes $OUT (or .)/persistent-probe.txt.
set -euo pipefail
cd "$(dirname "$0")/persistent-probe"
out="${OUT:-.}/persistent-probe.txt"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
nvcc -O3 -arch=sm_"$arch" -o /tmp/jmlc-persistent-probe probe.cu
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee "$out"
status=0
for shape in ${1:-7b 13b 8b}; do
    echo "== $shape" | tee -a "$out"
    timeout 120 /tmp/jmlc-persistent-probe --shape "$shape" 2>&1 | tee -a "$out" || status=1
done
# the grid: jmlc's GEMVs run 4 blocks an SM (64 registers); the probe's kernels would fit 8
echo "== 7b, 8 blocks an SM" | tee -a "$out"
timeout 120 /tmp/jmlc-persistent-probe --shape 7b --blocks-per-sm 8 2>&1 | tee -a "$out" || status=1
echo "written: $out"
exit $status
