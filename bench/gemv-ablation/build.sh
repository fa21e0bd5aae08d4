#!/usr/bin/env bash
# Builds the GEMV ablation (bench/gemv-ablation.sh runs it on the GPU machine; install/test.sh builds it in CI, so a
# change of the emitter's layout that breaks ablate.py's cuts fails there): the model's kernels of
# `jmlc compile --tuning=none`, their ablated copies (ablate.py), and step.cu around them.
# usage: build.sh CLASSPATH ARCH BINARY [MODEL]   (jmlc's jars; e.g. 90 for sm_90; default MODEL synthetic:llama-2-7b)
set -euo pipefail
cd "$(dirname "$0")/../.."
classpath=$1 arch=$2 binary=$3 model="${4:-synthetic:llama-2-7b}"
work=$(mktemp -d)
"${JAVA_HOME:+$JAVA_HOME/bin/}java" --add-modules=jdk.incubator.vector -cp "$classpath" jmlc.engine.cli.Main \
    compile "$model" --target=cuda:sm_"$arch" --emit="$work/emit" --tuning=none > "$work/compile.log" 2>&1 \
    || { cat "$work/compile.log"; exit 1; }
mkdir -p "$work/gemv-ablation"
"$(command -v /usr/bin/python3 || command -v python3)" bench/gemv-ablation/ablate.py "$work/emit" "$work/gemv-ablation/ablated.cuh"
# 177, 550: variables the cuts leave unused
nvcc -O3 -std=c++17 -arch=sm_"$arch" -diag-suppress 177,550 -I"$work/gemv-ablation" -o "$binary" bench/gemv-ablation/step.cu \
    2> "$work/nvcc.log" || { cat "$work/nvcc.log"; exit 1; }
