#!/usr/bin/env bash
# Where the short-context decode program stops paying (ShortContextDecode): one captured decode step
# of each decode program (the attention in one block per KV head without a combine, and the split
# attention with its combine) at positions across the context, device-timed over 50 replays, and the
# position from which the split attention is the faster. The default threshold (positions per KV head,
# per platform) was set from these on the H200 (bench/RESULTS.md).
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/short-context-sweep.sh [--device vulkan:0|cuda:0] [--model synthetic:llama-2-7b] [--kv-cache f16|i8] [--attention wide=1] [--positions 0,64,...]
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
java -Xss8m --sun-misc-unsafe-memory-access=allow -cp ".device/lib/*" jmlc.engine.bench.ShortContextSweep "$@"
