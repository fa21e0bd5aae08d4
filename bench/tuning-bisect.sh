#!/usr/bin/env bash
# Which entry of a tuning database makes a model's logits wrong on this card: `jmlc logits` with no database, with
# the whole database, then with each kernel entry alone; per run, the logits that are not finite at each position and
# the largest difference from the defaults' logits at the last. (2026-12-06, H100: a 7B's per-kernel result from
# `jmlc tune --budget 60s` gave NaN decode logits; this finds the kernel.)
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
#                  and copy the database (as jmlc tune wrote it) into .device/
# On the GPU host: bash bench/tuning-bisect.sh --db .device/FILE.json [--model synthetic:llama-2-7b] [--tokens 1] [--device cuda:0]
#   (--tokens 1: a decode step on CUDA, whose prompts of up to 3 tokens run as decode steps; 5 or more: the prefill program)
set -euo pipefail
cd "$(dirname "$0")/.."
source .device/setup.sh
db="" model=synthetic:llama-2-7b tokens=1 device=cuda:0
while [[ $# -gt 0 ]]; do
  case $1 in
    --db) db=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    *) echo "unknown argument $1; expected --db, --model, --tokens, --device" >&2; exit 2 ;;
  esac
done
[[ -f $db ]] || { echo "--db FILE: a tuning database (JSON, as jmlc tune writes it) is required, found '$db'" >&2; exit 2; }
# the database as this card's: its device name set to the card's (a database serves only a device of its name) and the
# file named as DeviceIdentity.fileName names it, so a database written on one card of a target bisects on another
card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
[[ -n $card ]] || card=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['device']['name'])" "$db")
name=$(python3 - "$db" "$card" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))["device"]
print(re.sub("[^A-Za-z0-9.-]+", "_", f"{d['backend']}-{d['target']}-{sys.argv[2]}") + ".json")
PY
)
work=$(mktemp -d)
out="${OUT:-.}/tuning-bisect-$(date +%s)"
mkdir -p "$out"
# a database holding the entries whose signature matches $2 (a Python regular expression)
only() { mkdir -p "$work/$1"; python3 - "$db" "$2" "$work/$1/$name" "$card" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
d["device"]["name"] = sys.argv[4]
d["kernels"] = {k: v for k, v in d["kernels"].items() if re.search(sys.argv[2], k)}
json.dump(d, open(sys.argv[3], "w"))
PY
}
run() { # $1: label, $2: database directory
  JMLC_TUNING=$2 java -Xss8m -cp ".device/lib/*" jmlc.engine.cli.Main logits "$model" --device "$device" --tokens "$tokens" 2>/dev/null > "$out/$1.json" || { echo "$1: jmlc logits failed"; return; }
  python3 - "$out/$1.json" "$out/defaults.json" "$1" <<'PY'
import json, math, sys
rows = json.load(open(sys.argv[1]))["logits"]
ref = json.load(open(sys.argv[2]))["logits"][-1] if sys.argv[1] != sys.argv[2] else rows[-1]
bad = [sum(1 for v in r if not math.isfinite(v)) for r in rows]
diff = max(abs(a - b) if math.isfinite(a) and math.isfinite(b) else float("inf") for a, b in zip(rows[-1], ref))
print(f"{sys.argv[3]:<70} non-finite a position {bad}  largest difference from the defaults {diff:.4g}")
PY
}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || true
echo "$model, tokens $tokens, database $db (as $name)" | tee "$out/bisect.txt"
run defaults "$work/none" | tee -a "$out/bisect.txt"
only all '.'; run all "$work/all" | tee -a "$out/bisect.txt"
for sig in $(python3 -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['kernels']))" "$db"); do
  only "one" "^$(python3 -c "import re,sys; print(re.escape(sys.argv[1]))" "$sig")\$"
  run "$sig" "$work/one" | tee -a "$out/bisect.txt"
  rm -rf "$work/one"
done
echo "written: $out/bisect.txt"
