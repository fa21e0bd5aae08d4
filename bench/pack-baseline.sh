#!/usr/bin/env bash
# Puts another commit's jmlc jars beside this tree's in .device/, so one lease on the GPU machine times both
# builds on the same card in the same run (bench/baseline-compare.sh): the way to measure a change to the compiler
# or the runtime that is not a knob. Builds REV in a temporary worktree (nothing installed, this tree untouched).
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
#                  bash bench/pack-baseline.sh REV                       (default: main's previous landing, HEAD~1)
# On the GPU host: bash bench/baseline-compare.sh [jmlc bench arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-HEAD~1}"
[[ -f .device/setup.sh ]] || { echo "pack .device first: ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib" >&2; exit 2; }
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}" PATH="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin:$PATH"
wt=$(mktemp -d /tmp/jmlc-baseline-XXXXXX)
trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git worktree add -q --detach "$wt" "$rev"
(cd "$wt" && mvn -q -o package -DskipTests -pl compiler,engine -am 2>&1 | tail -20)
rm -rf .device/baseline && mkdir -p .device/baseline
cp "$wt"/engine/target/jmlc-engine.jar .device/baseline/
cp "$wt"/engine/target/lib/jmlc-compiler-*.jar .device/baseline/
git rev-parse --short "$rev" > .device/baseline/REV
echo "baseline $(cat .device/baseline/REV) in .device/baseline: $(ls .device/baseline | tr '\n' ' ')"
