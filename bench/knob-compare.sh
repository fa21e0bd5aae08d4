#!/usr/bin/env bash
# Knob values against each other in one run on one card: per kernel (the tuner's measurer: reference
# check, device events, weights rotated past the L2, median of repeats) and, with --decode, end to
# end (decode and prefill-512 tok/s, every matching kernel compiled with the variant).
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/knob-compare.sh [--model M] [--kernels REGEX] [--decode | --decode-only NAME,best] --variant NAME:knob=v,... --variant ...
#   ("best" end to end: each kernel compiled as its fastest variant was)
#   e.g. bash bench/knob-compare.sh --decode --variant shifted:nibbles=0 --variant in-place:nibbles=1
# Results in $OUT (or .)/knob-compare-<time>: the log, and a tuning database per variant (knob-compare-NAME/).
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
out="${OUT:-.}/knob-compare-$(date +%s)"
mkdir -p "$out"
java -Xss8m -cp ".device/lib/*" jmlc.engine.bench.KnobCompare --out "$out" "$@" | tee "$out/knob-compare.log"
