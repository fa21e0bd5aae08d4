#!/usr/bin/env bash
# For an AMD GPU owner: jmlc's ROCm backend on your card. Nothing of jmlc has run on AMD hardware yet;
# this script is what would first show it. What it needs: ROCm's HIP runtime and hiprtc (5.x or 6.x;
# RDNA3 cards need ROCm 5.5 or newer), Java 25, and the built tree:
#
#   install/setup.sh && bash bench/rocm-suite.sh [check] [bench] [tune] [--models synthetic:llama-2-7b,...]
#
#   devices  the card as ROCm reports it (gcnArchName, wavefront, compute units, LDS): always
#   check    every node of tiny models in every quantization against the reference interpreter, greedy
#            generation against the CPU, device sampling (the checks bench/gpu-suite.sh runs on NVIDIA)
#   bench    decode and prefill tok/s and % of the memory-bandwidth roofline, synthetic Llama-2-7B,
#            Llama-2-13B and Llama-3-8B q4f16_1 (about 4, 7.5 and 5 GB of GPU memory; --models picks others)
#   tune     synthetic Llama-2-7B q4f16_1 with the rules' defaults, then jmlc tune for 5 minutes (a database
#            of its own in $OUT/tune/tuning, not yours), then the same tuned: decode and prefill-512 tok/s
# Default: check and bench. Results in $OUT (default ./rocm-suite-out): send them back; bench/RESULTS.md
# records figures with the card, the date and the commit.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/rocm-suite-out}
mkdir -p "$OUT"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
CP="engine/target/jmlc-engine.jar:engine/target/lib/*"
[[ -f engine/target/jmlc-engine.jar ]] || { echo "rocm-suite: jmlc is not built: run install/setup.sh first" >&2; exit 1; }
./jmlc devices | tee "$OUT/devices.txt"
grep -q '^rocm:0 ' "$OUT/devices.txt" || { echo "rocm-suite: no AMD GPU found (see the 'no rocm device' line above)" >&2; exit 2; }
J=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-modules=jdk.incubator.vector -Xss8m -cp "$CP")
tune=0; suite=()
for a in "$@"; do if [[ $a == tune ]]; then tune=1; else suite+=("$a"); fi; done
status=0
if ((tune == 0)) || [[ " ${suite[*]} " == *" check "* || " ${suite[*]} " == *" bench "* ]]; then
  "${J[@]}" jmlc.engine.bench.GpuSuite --backend rocm --out "$OUT" "${suite[@]}" 2>&1 | tee "$OUT/gpu-suite-rocm.txt"
  status=${PIPESTATUS[0]}
  [[ -f "$OUT/gpu-suite.json" ]] && mv "$OUT/gpu-suite.json" "$OUT/gpu-suite-rocm.json"
fi
if ((tune)); then
  rm -rf "$OUT/tune" && mkdir -p "$OUT/tune"
  "${J[@]}" jmlc.engine.bench.TuneBench --device rocm:0 --budget 5m --out "$OUT/tune" 2>&1 | tee "$OUT/tune-rocm.txt"
  ((PIPESTATUS[0] == 0)) || status=1
fi
echo "results in $OUT"
exit "$status"
