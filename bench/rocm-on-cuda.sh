#!/usr/bin/env bash
# jmlc's ROCm runtime (HIP and hiprtc through Java FFM, engine/.../runtime/rocm) run for real on the GPU
# machine's NVIDIA GPU, through the HIP-on-CUDA test library bench/hip-on-cuda/ (built here against CUDA's
# cuda.h; it forwards the hip*/hiprtc* calls jmlc makes to the CUDA driver API and NVRTC). The device
# reports gcnArchName sm_NN, so the kernels are CUDA C compiled by NVRTC behind hiprtc: what this checks
# is jmlc's FFM runtime (loading, device properties, memory, copies, modules, launches, hipGraph capture
# and replay, events, device sampling), not AMD code. Nothing here runs on AMD hardware.
#
#   greedy  the model loads through --device rocm:0 and its greedy tokens (prefill of 12 tokens, then 64
#           decode steps) equal the CUDA backend's, synthetic TinyLlama-1.1B and Llama-2-7B, q4f16_1;
#           the library's call counts show the decode step captured once and replayed per token
#   check   bench/gpu-suite.sh's correctness checks through the ROCm runtime: every node of every
#           quantization against the reference interpreter, greedy against the CPU, device sampling
#   bench   decode and prefill tok/s of synthetic Llama-2-7B q4f16_1, ROCm runtime and CUDA backend
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/rocm-on-cuda.sh [greedy] [check] [bench]   (default: all three; results in $OUT,
#                  else ./rocm-on-cuda-out; CC, CUDA_HOME and JMLC_NVRTC_LIBRARY override what is found)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/rocm-on-cuda-out}
mkdir -p "$OUT"
parts=("$@")
((${#parts[@]})) || parts=(greedy check bench)
want() { [[ " ${parts[*]} " == *" $1 "* ]]; }
rows=()       # the table printed last: "what|result"
failed=0
row() { rows+=("$1|$2"); }
fail() { row "$1" "FAILED: $2"; failed=1; }

source .device/setup.sh
J=(java -Xss8m --sun-misc-unsafe-memory-access=allow -cp ".device/lib/*")   # LWJGL (Vulkan detection) reads memory through sun.misc.Unsafe

# ---- the HIP-on-CUDA library ----
nvcc_path=$(command -v nvcc || true)
CUDA_HOME=${CUDA_HOME:-${nvcc_path:+$(dirname "$(dirname "$(readlink -f "$nvcc_path")")")}}
inc=""
for d in "${CUDA_HOME:-/nonexistent}/include" "${CUDA_HOME:-/nonexistent}/targets/x86_64-linux/include" /usr/local/cuda/include /usr/include; do
  [[ -f "$d/cuda.h" ]] && { inc=$d; break; }
done
lib="$OUT/libhip_on_cuda.so"
cc=${CC:-$(command -v gcc || command -v cc || echo "$nvcc_path")}
if [[ -z "$inc" ]]; then
  fail "build libhip_on_cuda.so" "no cuda.h (set CUDA_HOME)"
elif "$cc" -O2 -shared -fPIC -fvisibility=hidden -I"$inc" bench/hip-on-cuda/hip_on_cuda.c -o "$lib" -ldl -lpthread > "$OUT/build.log" 2>&1 \
    || "$cc" -O2 -shared -Xcompiler -fPIC,-fvisibility=hidden -I"$inc" bench/hip-on-cuda/hip_on_cuda.c -o "$lib" -ldl >> "$OUT/build.log" 2>&1; then
  row "build libhip_on_cuda.so" "ok ($(basename "$cc"), $inc/cuda.h)"
else
  fail "build libhip_on_cuda.so" "see $OUT/build.log"; cat "$OUT/build.log"
fi
export JMLC_HIP_LIBRARY=$lib

# NVRTC for hiprtc: where the loader finds it, else in CUDA's or PyTorch's folders
if [[ -z "${JMLC_NVRTC_LIBRARY:-}" ]]; then
  JMLC_NVRTC_LIBRARY=$(ldconfig -p 2>/dev/null | awk '/libnvrtc\.so\.13 / {print $NF; exit}')
  if [[ -z "$JMLC_NVRTC_LIBRARY" ]]; then
    JMLC_NVRTC_LIBRARY=$(timeout 60 find "${CUDA_HOME:-/usr/local/cuda}" /usr/local /usr/lib /opt -name 'libnvrtc.so.13*' -not -name '*builtins*' 2>/dev/null | head -1)
  fi
  if [[ -z "$JMLC_NVRTC_LIBRARY" ]]; then
    py=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__file__ or nvidia.__path__[0]))' 2>/dev/null || true)
    [[ -n "$py" ]] && JMLC_NVRTC_LIBRARY=$(find "$py" -name 'libnvrtc.so.1[23]*' -not -name '*builtins*' 2>/dev/null | head -1)
  fi
fi
export JMLC_NVRTC_LIBRARY=${JMLC_NVRTC_LIBRARY:-libnvrtc.so.13}
echo "JMLC_HIP_LIBRARY=$JMLC_HIP_LIBRARY JMLC_NVRTC_LIBRARY=$JMLC_NVRTC_LIBRARY"

# ---- the device as ROCm sees it ----
"${J[@]}" jmlc.engine.cli.Main devices > "$OUT/devices.txt" 2>&1
cat "$OUT/devices.txt"
if grep -q '^rocm:0 ' "$OUT/devices.txt"; then
  row "rocm:0 detected" "$(grep '^rocm:0 ' "$OUT/devices.txt" | sed 's/^rocm:0 *//; s/ *(default.*//'), $(grep -m1 'architecture:' "$OUT/devices.txt" | sed 's/^ *architecture: //')"
else
  fail "rocm:0 detected" "$(grep '^no rocm device' "$OUT/devices.txt" || echo 'no rocm line')"
fi

prompt=1,450,4996,1000,2000,3000,4000,5000,6000,7000,8000,9000
count() { awk -v k="$1" '$1 == k {print $2}' "$2" 2>/dev/null; }

# ---- greedy tokens: ROCm runtime == CUDA backend ----
if want greedy; then
  for m in tinyllama-1.1b llama-2-7b; do
    rm -f "$OUT/trace-$m.txt"
    for dev in rocm:0 cuda:0; do
      trace=""; [[ $dev == rocm:0 ]] && trace="$OUT/trace-$m.txt"   # the CUDA run loads the library too (to detect)
      JMLC_HIP_ON_CUDA_TRACE="$trace" "${J[@]}" jmlc.engine.cli.Main generate "synthetic:$m" --quant q4f16_1 --tokens "$prompt" \
          --max-tokens 64 --ignore-eos --greedy --json --device "$dev" > "$OUT/greedy-$m-${dev%%:*}.json" 2> "$OUT/greedy-$m-${dev%%:*}.log"
      echo "$m on $dev: exit $?, $(tail -c 300 "$OUT/greedy-$m-${dev%%:*}.json")"
    done
    r=$(python3 - "$OUT/greedy-$m-rocm.json" "$OUT/greedy-$m-cuda.json" <<'EOF'
import json, sys
try:
    a, b = (json.load(open(f))["tokens"] for f in sys.argv[1:3])
except Exception as e:
    print("no result: %s" % e); sys.exit(1)
same = sum(x == y for x, y in zip(a, b))
print("%d of %d tokens equal%s" % (same, len(b), "" if a == b and len(a) == 64 else ", first difference at %d" % next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))))
sys.exit(0 if a == b and len(a) == 64 else 1)
EOF
    )
    if [[ $? == 0 ]]; then row "greedy $m: rocm:0 == cuda:0" "$r"; else fail "greedy $m: rocm:0 == cuda:0" "$r (logs: $OUT/greedy-$m-*.log)"; tail -20 "$OUT/greedy-$m-rocm.log"; fi
    t="$OUT/trace-$m.txt"
    if [[ -f "$t" ]]; then
      row "  $m: HIP calls" "$(count hipModuleLoadData "$t") modules, $(count hipStreamBeginCapture "$t") captures, $(count hipGraphLaunch "$t") graph replays, $(count hipModuleLaunchKernel "$t") launches"
      # captured once (decode, greedy and sampling steps), replayed once a token after the prefill's first
      (( $(count hipStreamBeginCapture "$t") >= 1 && $(count hipGraphLaunch "$t") >= 63 )) || fail "  $m: decode graph captured and replayed" "see $t"
    else
      fail "  $m: HIP calls" "no trace written ($t)"
    fi
  done
fi

# ---- every kernel against the reference interpreter, through the ROCm runtime ----
if want check; then
  "${J[@]}" jmlc.engine.bench.GpuSuite check --backend rocm --out "$OUT" 2>&1 | tee "$OUT/gpu-suite-rocm.txt"
  [[ -f "$OUT/gpu-suite.json" ]] && mv "$OUT/gpu-suite.json" "$OUT/gpu-suite-rocm.json"
  if grep -q "ALL CHECKS PASSED" "$OUT/gpu-suite-rocm.txt"; then
    row "GpuSuite check --backend rocm" "ALL CHECKS PASSED ($(grep -c '^check ' "$OUT/gpu-suite-rocm.txt") checks)"
  else
    fail "GpuSuite check --backend rocm" "$(grep -m1 'CHECK(S) FAILED\|no rocm device\|Exception' "$OUT/gpu-suite-rocm.txt" || echo 'did not finish'): $OUT/gpu-suite-rocm.txt"
  fi
fi

# ---- speed of the same kernels through either runtime ----
if want bench; then
  for dev in rocm:0 cuda:0; do
    "${J[@]}" jmlc.engine.cli.Main bench synthetic:llama-2-7b --quant q4f16_1 --device "$dev" --json > "$OUT/bench-${dev%%:*}.json" 2> "$OUT/bench-${dev%%:*}.log"
  done
  r=$(python3 - "$OUT/bench-rocm.json" "$OUT/bench-cuda.json" <<'EOF'
import json, sys
try:
    a, b = (json.load(open(f)) for f in sys.argv[1:3])
    print("decode %.1f / %.1f tok/s, prefill %.1f / %.1f tok/s" % (a["decode_tok_s"], b["decode_tok_s"], a["prefill_tok_s"], b["prefill_tok_s"]))
except Exception as e:
    print("no result: %s" % e); sys.exit(1)
EOF
  )
  if [[ $? == 0 ]]; then row "Llama-2-7B q4f16_1, rocm:0 / cuda:0" "$r"; else fail "Llama-2-7B q4f16_1, rocm:0 / cuda:0" "$r (logs: $OUT/bench-*.log)"; fi
fi

echo
echo "==== jmlc's ROCm runtime on an NVIDIA GPU (HIP on CUDA; CUDA C kernels; not AMD hardware) ===="
for r in "${rows[@]}"; do printf '%-50s %s\n' "${r%%|*}" "${r#*|}"; done | tee "$OUT/summary.txt"
((failed == 0)) && echo "ALL PASSED" || echo "SOME FAILED"
exit $failed
