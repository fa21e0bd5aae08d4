#!/usr/bin/env bash
# Where does a decode GEMV lose its time against a kernel that only reads (issue 12)? jmlc's own GEMV kernels for a
# model, as emitted and with parts cut away (the prologue after the wait; the wait; the dot products), timed alone and
# as a step's GEMVs in one graph of dependent launches. bench/gemv-ablation/{ablate.py,step.cu} say what each cut is.
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/gemv-ablation.sh [MODEL]   (default synthetic:llama-2-7b; writes $OUT (or .)/gemv-ablation.txt;
#                  the program stays at /tmp/jmlc-gemv-ablation, for Nsight Compute)
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
model="${1:-synthetic:llama-2-7b}"
out="${OUT:-.}/gemv-ablation.txt"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
work=$(mktemp -d)
java -cp ".device/lib/*" jmlc.engine.cli.Main compile "$model" --target=cuda:sm_"$arch" --emit="$work/emit" --tuning=none > "$work/compile.log" 2>&1 \
    || { cat "$work/compile.log"; exit 1; }
python3 bench/gemv-ablation/ablate.py "$work/emit" "$work/ablated.cuh"
mkdir -p "$work/gemv-ablation" && mv "$work/ablated.cuh" "$work/gemv-ablation/"
nvcc -O3 -std=c++17 -arch=sm_"$arch" -diag-suppress 177,550 -I"$work/gemv-ablation" -o /tmp/jmlc-gemv-ablation bench/gemv-ablation/step.cu 2> "$work/nvcc.log" \
    || { cat "$work/nvcc.log"; exit 1; }
{
    nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader
    git log -1 --format='main at %h' 2>/dev/null || true
    echo "model $model, kernels of 'jmlc compile --tuning=none' for sm_$arch"
    timeout 300 /tmp/jmlc-gemv-ablation
} 2>&1 | tee "$out"
echo "written: $out"
