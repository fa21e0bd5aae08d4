#!/usr/bin/env bash
# What one kernel boundary costs inside a captured step, CUDA graph against Vulkan command buffer, on
# one card (LaunchCost: 200 dependent launches of out[i] += 1 a replay, device-timed, median of 7).
# A decode step of Llama-2-7B has about 200 kernels, so a few microseconds a boundary is a visible
# share of a 2 ms step.
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/launch-cost.sh [--backends cuda,vulkan] [--launches 200]
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
java -Xss8m --sun-misc-unsafe-memory-access=allow -cp ".device/lib/*" jmlc.engine.bench.LaunchCost "$@"
