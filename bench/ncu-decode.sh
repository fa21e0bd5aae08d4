#!/usr/bin/env bash
# Nsight Compute on the kernels of a decode step, as the model runs them (inside the captured graph,
# real clocks): throughput, occupancy, launch, warp stalls, scheduler, memory and instruction
# sections, one report per kernel launch.
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/ncu-decode.sh [KERNEL_REGEX] [MODEL] [TUNING_DIR]
#   KERNEL_REGEX  which kernels (default: gemvh|attention_decode); the first decode steps are skipped
#   MODEL         default synthetic:llama-2-7b
#   TUNING_DIR    a tuning database directory to compile with (default: none, the rules' defaults)
# Writes $OUT (or .)/ncu-<time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
regex="${1:-gemvh|attention_decode}"
model="${2:-synthetic:llama-2-7b}"
tuning="${3:-$(mktemp -d)}"
out="${OUT:-.}/ncu-$(date +%s).txt"
# one decode step is ~200 launches: skip the first few steps' worth of matching kernels, profile one layer's and the LM head's
ncu --graph-profiling node --clock-control none --kernel-name "regex:$regex" --launch-skip 400 --launch-count 7 \
    --section SpeedOfLight --section LaunchStats --section Occupancy --section WarpStateStats --section SchedulerStats \
    --section MemoryWorkloadAnalysis --section InstructionStats --section SourceCounters \
    java -Xss8m -Djmlc.tuning="$tuning" -cp ".device/lib/*" jmlc.engine.cli.Main bench "$model" --device cuda:0 --gen 64 --runs 1 --warmup 0 \
    > "$out" 2>&1 || { echo "ncu failed: see $out"; tail -30 "$out"; exit 1; }
grep -E "^  [a-z_]+.*\(|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Executed Ipc Active|Block Limit Registers|Grid Size|Waves Per SM" "$out" | head -150
echo "full report: $out"
