#!/usr/bin/env bash
# Fuzzes the readers of hostile input with Jazzer, on the CPU (no GPU needed):
#   GgufFuzzTest            any bytes as a .gguf file: open, check, touch tensors, build and run its tokenizer
#   SafetensorsFuzzTest     any bytes as a safetensors file: header and tensor views
#   TokenizerJsonFuzzTest   any bytes as tokenizer.json: load, encode, decode
# (engine/src/test/java/jmlc/engine/fuzz). Each must end every input with its result or one clear
# exception (ModelFormatException, TokenizerException) within 10 s, without running out of memory.
#
# Usage: install/fuzz.sh [SECONDS] [TARGET...]   fuzz each target SECONDS (default 600: the deep run);
#                                                 install/test.sh (CI) runs 20 s a target
#        install/fuzz.sh --seeds                  rewrite the seed inputs (FuzzSeeds: tiny models, tokenizers)
# Inputs live in engine/src/test/resources/jmlc/engine/fuzz/<Target>Inputs/<method>/; a normal
# `mvn verify` replays them all. Findings (crash-*, timeout-*, oom-*) are written there too: fix the
# reader, keep the input under a name that says what it is, and commit both. Jazzer's own corpus
# grows in engine/.cifuzz-corpus (ignored by git). Exits non-zero on a finding.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/java" ]] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
inputs=engine/src/test/resources/jmlc/engine/fuzz

if [[ "${1:-}" == "--seeds" ]]; then
  mvn -B -q -pl engine -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$root/engine/target/test.classpath"
  (cd engine && "$JAVA_HOME/bin/java" -cp "target/test-classes:target/classes:$(cat target/test.classpath)" jmlc.engine.fuzz.FuzzSeeds)
  echo "fuzz.sh: seeds written under $inputs"
  exit 0
fi

seconds="${1:-600}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(GgufFuzzTest SafetensorsFuzzTest TokenizerJsonFuzzTest)
list() { find "$inputs" -type f | sort; }
before="$(list)"
echo "fuzz.sh: ${targets[*]}, ${seconds} s each"
status=0
# -Pfuzz: each fuzz test in a JVM of its own with JAZZER_FUZZ=1 (engine/pom.xml)
JAZZER_MAX_DURATION="${seconds}s" mvn -B -q -pl engine -am test -Pfuzz -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest="$(IFS=,; echo "${targets[*]}")" || status=$?
found="$(comm -13 <(echo "$before") <(list) || true)"
if [[ -n "$found" ]]; then
  echo "fuzz.sh: new findings (replayed by every mvn verify from now on; fix the reader, then commit them):" >&2
  echo "$found" | sed 's/^/  /' >&2
  status=1
fi
if ((status)); then echo "fuzz.sh: FAILED (see engine/target/surefire-reports)" >&2; else echo "fuzz.sh: no findings"; fi
exit "$status"
