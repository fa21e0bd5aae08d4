#!/usr/bin/env bash
# Every notebook in notebooks/, as users run them: installs the kernel spec (into a private Jupyter
# data dir), runs the LLM magics' protocol tests (test_llm_magics.py: streaming, interrupt, errors),
# checks the notebooks are saved without outputs, then executes each one headless with nbclient,
# checks its outputs (notebook_checks.py) and exports it to HTML with nbconvert, as a user shares
# one. Exits non-zero, saying what failed, on any failure.
#
#   jupyter/src/test/jupyter/run-notebooks.sh                 every notebook
#   jupyter/src/test/jupyter/run-notebooks.sh getting-started  only those named (with or without .ipynb)
#
# Needs (Debian 12):
#   apt-get install -y jupyter-client jupyter-core jupyter-nbconvert python3-nbclient \
#                      python3-jupyter-kernel-test python3-ipykernel
# and Java 25 + Maven (install/install-kernel.sh builds the kernel if it is not built).
# Set KEEP_OUTPUT=DIR to keep the executed notebooks and their HTML there; NOTEBOOK_MAX_SECONDS (default 120) bounds each.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
PY=/usr/bin/python3
export PATH="/usr/bin:$PATH" # Debian's jupyter, the one that goes with /usr/bin/python3

missing=()
for module in jupyter_client nbclient nbformat; do
  "$PY" -c "import $module" 2>/dev/null || missing+=("$module")
done
if ((${#missing[@]})); then
  echo "run-notebooks.sh: missing Python modules: ${missing[*]}" >&2
  echo "  apt-get install -y jupyter-client jupyter-core jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test python3-ipykernel" >&2
  exit 1
fi

notebooks=()
if (($#)); then
  for name in "$@"; do notebooks+=("$ROOT/notebooks/${name%.ipynb}.ipynb"); done
else
  notebooks=("$ROOT"/notebooks/*.ipynb)
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export JUPYTER_DATA_DIR="$WORK/data" JUPYTER_RUNTIME_DIR="$WORK/runtime" JUPYTER_CONFIG_DIR="$WORK/config"
export PYDEVD_DISABLE_FILE_VALIDATION=1

passed=0
failed=()
echo "== install the kernel (install/install-kernel.sh)"
if ! "$ROOT/install/install-kernel.sh"; then
  echo "FAIL: install/install-kernel.sh" >&2
  exit 1
fi

if (($# == 0)); then
  echo "== LLM magics over the protocol (test_llm_magics.py)"
  if (cd "$HERE" && "$PY" -m unittest -v test_llm_magics 2>&1); then
    passed=$((passed + 1))
  else
    failed+=("LLM magic protocol tests (test_llm_magics.py)")
  fi
fi

echo "== notebooks are saved without outputs"
if "$PY" - "${notebooks[@]}" <<'PY'
import sys, nbformat
bad = []
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            bad.append(f"{path}: cell {cell.get('id')} has outputs or an execution count")
print("\n".join(bad) if bad else f"ok   {len(sys.argv) - 1} notebooks without outputs")
sys.exit(1 if bad else 0)
PY
then
  passed=$((passed + 1))
else
  failed+=("notebooks saved with outputs (clear them: jupyter nbconvert --clear-output --inplace notebooks/*.ipynb)")
fi

for nb in "${notebooks[@]}"; do
  name="$(basename "$nb")"
  echo "== notebook $name (nbclient)"
  if [[ ! -f "$nb" ]]; then
    failed+=("notebook $name (no such file)")
    continue
  fi
  executed="$WORK/${name%.ipynb}.executed.ipynb"
  start=$SECONDS
  if (cd "$HERE" && "$PY" "$HERE/run_notebook.py" "$nb" "$executed"); then
    passed=$((passed + 1))
  else
    failed+=("notebook $name")
  fi
  echo "   $name: $((SECONDS - start)) s with kernel start-up"
  if [[ -f "$executed" ]]; then
    if log="$(jupyter nbconvert --to html --output-dir "$WORK/html" "$executed" 2>&1)"; then
      echo "ok   exported to HTML ($(du -k "$WORK/html/${name%.ipynb}.executed.html" | cut -f1) KiB)"
      passed=$((passed + 1))
    else
      echo "$log" | tail -5
      failed+=("HTML export of $name (jupyter nbconvert --to html)")
    fi
  fi
  if [[ -n "${KEEP_OUTPUT:-}" && -f "$executed" ]]; then
    mkdir -p "$KEEP_OUTPUT" && cp "$executed" "$KEEP_OUTPUT/"
    [[ -f "$WORK/html/${name%.ipynb}.executed.html" ]] && cp "$WORK/html/${name%.ipynb}.executed.html" "$KEEP_OUTPUT/"
  fi
done

echo "notebook tests: $passed passed, ${#failed[@]} failed"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
