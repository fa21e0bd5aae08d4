# Sourced by the scripts that run `jmlc bench` on several models (baseline-compare.sh, counters-compare.sh):
# splits "$@" into models (each --model M; synthetic:llama-2-7b when none) and the other jmlc bench arguments
# (--device cuda:0 unless given), and writes the card's line to $out.
models=()
args=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == --model ]]; then models+=("$2"); shift 2; else args+=("$1"); shift; fi
done
[[ ${#models[@]} -gt 0 ]] || models=(synthetic:llama-2-7b)
[[ " ${args[*]} " == *" --device "* ]] || args+=(--device cuda:0)
{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || echo "no nvidia-smi"; } | tee -a "$out"
