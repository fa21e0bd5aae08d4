#!/usr/bin/env bash
# Persistent decode kernels (PersistentDecode, knob decode_persistent.kernels) against one launch a kernel,
# on one GPU in one process: for each knob value the model's logits over a prompt and 16 decode steps must
# equal those of kernels=1 bit for bit (and greedy decoding its tokens), then one captured decode step is
# device-timed at several positions and the seed protocol's decode tok/s measured. CUDA only (grid barriers
# need a cooperative launch). Results go to bench/RESULTS.md ("Decode towards the roofline").
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/persistent-compare.sh [--model synthetic:llama-2-7b] [--kernels 1,2,4,8] [--positions 0,256,1024] [--gemv prefetch=1]
# Smoke test here: bash bench/persistent-compare.sh --local --device sim:cuda:sm_90 --model synthetic:tiny --kernels 1,4 --tokens 3 --replays 1 --positions 0
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--local" ]]; then
  shift
  export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
  exec "$JAVA_HOME/bin/java" -Xss8m --sun-misc-unsafe-memory-access=allow -cp "engine/target/jmlc-engine.jar:engine/target/lib/*" jmlc.engine.bench.PersistentCompare "$@"
fi
source .device/setup.sh
java -Xss8m --sun-misc-unsafe-memory-access=allow -cp ".device/lib/*" jmlc.engine.bench.PersistentCompare "$@"
