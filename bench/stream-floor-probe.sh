#!/usr/bin/env bash
# How fast can a kernel that only reads stream the decode GEMVs' byte counts on this card (issue 12)? The floor
# any GEMV design meets: per size alone, and a 7B step's 128 reads in one graph, plain and as dependents.
# bench/stream-floor-probe/probe.cu says what it runs. Needs only nvcc and a GPU (no jmlc).
# On the GPU host: bash bench/stream-floor-probe.sh      (writes $OUT (or .)/stream-floor-probe.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}/stream-floor-probe.txt"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
nvcc -O3 -std=c++17 -arch=sm_"$arch" -o /tmp/jmlc-stream-floor-probe bench/stream-floor-probe/probe.cu
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee "$out"
git log -1 --format='main at %h' 2>/dev/null | tee -a "$out" || true
timeout 300 /tmp/jmlc-stream-floor-probe 2>&1 | tee -a "$out"
echo "written: $out"
