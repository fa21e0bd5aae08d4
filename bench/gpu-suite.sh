#!/usr/bin/env bash
# The GPU machine's one script: correctness of every kernel against the reference interpreter,
# and the decode/prefill benchmarks (synthetic Llama-2-7B/13B, Llama-3-8B). Knob searches: bench/tune.sh.
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/gpu-suite.sh [check] [bench] [reopen] [--backend cuda|rocm|vulkan] [--kv-cache i8]   (results in $OUT or .)
#   (check includes reopen: the device opened and closed 60 times beside the one the suite holds)
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
java -Xss8m --sun-misc-unsafe-memory-access=allow -cp ".device/lib/*" jmlc.engine.bench.GpuSuite "$@" --out "${OUT:-.}"
