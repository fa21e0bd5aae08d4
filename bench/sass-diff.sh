#!/usr/bin/env bash
# One kernel's machine code under two knob settings, side by side: ptxas's registers and spills for each, then
# the difference of their SASS (cuobjdump; the GPU host has it) with register numbers and addresses blanked, so
# what remains is what the compiler scheduled differently. Where cuobjdump is missing (this machine) the PTX is
# compared instead. The question it answers: a knob changed a kernel's speed, yet its source differs by a few
# lines; what did ptxas make of it?
#
# Here or on the GPU host (needs nvcc; sources via jmlc compile with this tree's build, else the jars packed in .device):
#   bash bench/sass-diff.sh [--model M] [--target cuda:sm_90] --kernel REGEX [--a SIG.KNOB=V]... [--b SIG.KNOB=V]...
#   e.g. bash bench/sass-diff.sh --kernel 'attention_decode.*_partial' \
#          --b attention_decode_h32_kv32_d128_c4096_f16.kv_prefetch=2
# Writes $OUT (or .)/sass-diff-<time>/: each side's source, cubin, listing, and diff.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
model=synthetic:llama-2-7b target=cuda:sm_90 kernel=""
a=() b=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --a) a+=(--knob "$2"); shift 2 ;;
    --b) b+=(--knob "$2"); shift 2 ;;
    *) echo "unknown argument $1; expected --model, --target, --kernel, --a, --b" >&2; exit 2 ;;
  esac
done
[[ -n $kernel ]] || { echo "--kernel REGEX is required (a kernel name, as jmlc compile --emit names its files)" >&2; exit 2; }
[[ $target == cuda:* ]] || { echo "--target must be a CUDA target (cuda:sm_NN), found $target" >&2; exit 2; }
arch=${target#cuda:}
# this tree's build where there is one (here), else the packed jars (the GPU host)
if [[ -f engine/target/jmlc-engine.jar ]]; then
  export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}; cp="engine/target/jmlc-engine.jar:engine/target/lib/*"
else source .device/setup.sh; cp=".device/lib/*"; fi
out="${OUT:-.}/sass-diff-$(date +%s)"
mkdir -p "$out"
listing() { # $1: cubin, $2: the kernel's name -> its SASS (or PTX), registers, labels, addresses and name blanked
  if command -v cuobjdump >/dev/null; then
    cuobjdump --dump-sass "$1" | grep -E '^\s+/\*[0-9a-f]{4}\*/' | sed -E 's#^\s+/\*[0-9a-f]+\*/\s+##; s#\s*/\*.*##; s#R[0-9]+#R#g; s#P[0-9]#P#g; s#0x[0-9a-f]+#0x#g'
  else
    sed -E 's/%(r|rd|f|p|rs|fd)[0-9]+/%\1/g; s/%(r|rd|f|p|rs|fd)<[0-9]+>/%\1<n>/g; s/\$L__BB[0-9_]+/$L/g' "${1%.cubin}.ptx"
  fi | sed "s/$2/KERNEL/g; s/_ZZ[0-9]*KERNEL/_ZZKERNEL/g"
}
for side in a b; do
  declare -n knobs=$side
  mkdir -p "$out/$side"
  "$JAVA_HOME/bin/java" -Xss8m -cp "$cp" jmlc.engine.cli.Main compile "$model" --target "$target" --emit "$out/$side/emit" \
      --no-code-objects "${knobs[@]}" > "$out/$side/compile.log" 2>&1 || { echo "jmlc compile ($side) failed:"; tail -5 "$out/$side/compile.log"; exit 1; }
  src=$(ls "$out/$side/emit/kernels/" | grep -E "$kernel" | head -1 || true)
  [[ -n $src ]] || { echo "side $side: no kernel matches '$kernel'; its kernels:"; ls "$out/$side/emit/kernels/"; exit 1; }
  cp "$out/$side/emit/kernels/$src" "$out/$side/kernel.cu"
  echo "$side: $src ${knobs[*]:-(defaults)}"
  nvcc -arch="$arch" -cubin -o "$out/$side/kernel.cubin" -Xptxas -v "$out/$side/kernel.cu" 2>&1 | grep -E "registers|spill" | sed 's/^/   /'
  nvcc -arch="$arch" -ptx -o "$out/$side/kernel.ptx" "$out/$side/kernel.cu"
  listing "$out/$side/kernel.cubin" "${src%.cu}" > "$out/$side/listing.txt"
done
what=$(command -v cuobjdump >/dev/null && echo SASS || echo "PTX (no cuobjdump here)")
diff "$out/a/listing.txt" "$out/b/listing.txt" > "$out/diff.txt" || true
echo "$what: a $(wc -l < "$out/a/listing.txt") lines, b $(wc -l < "$out/b/listing.txt"), $(grep -c '^[<>]' "$out/diff.txt" || true) differing:"
head -80 "$out/diff.txt"
echo "written: $out"
