#!/usr/bin/env bash
# Vulkan against CUDA on the GPU machine, one run, one card (issue 9's bar: Llama-2-7B q4f16_1 decode
# through Vulkan >= 85% of jmlc's CUDA tok/s):
#   1. the Vulkan devices NVIDIA's driver offers (jmlc devices),
#   2. the GPU suite's checks through Vulkan: every node of tiny models in every quantization against
#      the reference interpreter, greedy generation equal to the CPU's, device argmax,
#   3. Llama-2-7B and -13B q4f16_1 (synthetic weights) through Vulkan and CUDA: decode (seed protocol),
#      the captured step's device time, prefill of 512 tokens; a table last.
# Results (logs, gpu-suite.json, backend-comparison.tsv/.txt) in $OUT (or .).
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/vulkan-vs-cuda.sh [check] [bench]        (both by default)
set -uo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
out=${OUT:-.}
mkdir -p "$out"
parts=("$@")
((${#parts[@]})) || parts=(check bench)
java_=(java -Xss8m --sun-misc-unsafe-memory-access=allow -cp ".device/lib/*")
status=0

echo "==== devices (VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset})"
"${java_[@]}" jmlc.engine.cli.Main devices 2>&1 | tee "$out/devices.txt"

if [[ " ${parts[*]} " == *" check "* ]]; then
  echo "==== checks through Vulkan"
  "${java_[@]}" jmlc.engine.bench.GpuSuite check --backend vulkan --out "$out" 2>&1 | tee "$out/vulkan-check.txt"
  check=${PIPESTATUS[0]}
  ((check == 0)) || status=1
fi

if [[ " ${parts[*]} " == *" bench "* ]]; then
  echo "==== Vulkan and CUDA timed"
  "${java_[@]}" jmlc.engine.bench.BackendComparison --backends vulkan,cuda \
      --models synthetic:llama-2-7b,synthetic:llama-2-13b --quant q4f16_1 --out "$out" 2>&1 | tee "$out/vulkan-vs-cuda.txt"
  ((PIPESTATUS[0] == 0)) || status=1
fi

echo
[[ -n "${check:-}" ]] && grep -E "ALL CHECKS PASSED|CHECK\(S\) FAILED" "$out/vulkan-check.txt" | tail -1 | sed 's/^/checks through Vulkan: /'
[[ -f "$out/backend-comparison.txt" ]] && cat "$out/backend-comparison.txt"
exit $status
