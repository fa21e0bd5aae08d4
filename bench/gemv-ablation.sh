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
bash bench/gemv-ablation/build.sh ".device/lib/*" "$arch" /tmp/jmlc-gemv-ablation "$model"
{
    nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader
    git log -1 --format='main at %h' 2>/dev/null || true
    echo "model $model, kernels of 'jmlc compile --tuning=none' for sm_$arch"
    timeout 300 /tmp/jmlc-gemv-ablation
} 2>&1 | tee "$out"
echo "written: $out"
