#!/usr/bin/env bash
# The jmlc kernel as Jupyter sees it: installs the kernel spec (into a private Jupyter data dir),
# runs jupyter_kernel_test's protocol checks plus ours, then executes notebooks/kernel-smoke.ipynb
# headless with nbclient. Exits non-zero, saying what failed, on any failure.
#
# Needs (Debian 12):
#   apt-get install -y jupyter-client jupyter-core jupyter-nbconvert python3-nbclient \
#                      python3-jupyter-kernel-test python3-ipykernel jupyter-console
# and Java 25 + Maven (install/install-kernel.sh builds the kernel if it is not built).
# Set KEEP_OUTPUT=DIR to keep the executed notebook there.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
PY=/usr/bin/python3
export PATH="/usr/bin:$PATH" # Debian's jupyter, the one that goes with /usr/bin/python3

missing=()
for module in jupyter_client jupyter_kernel_test nbclient nbformat; do
  "$PY" -c "import $module" 2>/dev/null || missing+=("$module")
done
if ((${#missing[@]})); then
  echo "run-kernel-tests.sh: missing Python modules: ${missing[*]}" >&2
  echo "  apt-get install -y jupyter-client jupyter-core jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test python3-ipykernel" >&2
  exit 1
fi

# A private Jupyter data dir: the kernel spec installed here is the one under test, and the user's stays as it was.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export JUPYTER_DATA_DIR="$WORK/data" JUPYTER_RUNTIME_DIR="$WORK/runtime" JUPYTER_CONFIG_DIR="$WORK/config"
export PYDEVD_DISABLE_FILE_VALIDATION=1

failed=()
echo "== install the kernel (install/install-kernel.sh)"
if ! "$ROOT/install/install-kernel.sh"; then
  echo "FAIL: install/install-kernel.sh" >&2
  exit 1
fi

echo "== protocol tests (jupyter_kernel_test + jmlc's)"
if ! (cd "$HERE" && "$PY" -m unittest -v test_kernel_protocol 2>&1); then
  failed+=("protocol tests (test_kernel_protocol.py)")
fi

echo "== jupyter console: cells, then exit; no JVM warnings from the kernel"
if command -v jupyter-console >/dev/null || jupyter console --version >/dev/null 2>&1; then
  console_log="$WORK/console.log"
  # %bench draws with Tablesaw, whose classgraph called sun.misc.Unsafe (a JVM warning on the console);
  # "exit" must leave at once: the cell after it never runs (it printed "cannot find symbol" before)
  printf '6 * 7\n%%load synthetic:tiny --max-context 64\n%%bench --gen 4 --runs 1 --warmup 0\nexit\n6 * 8\n' \
    | timeout 180 jupyter console --kernel jmlc --simple-prompt >"$console_log" 2>&1
  if grep -q "Out\[1\]: 42" "$console_log" && ! grep -q "Out\[[0-9]*\]: 48" "$console_log" && ! grep -q "cannot find symbol" "$console_log" \
      && ! grep -q "sun.misc.Unsafe" "$console_log"; then
    echo "ok   6 * 7 printed 42, exit left the console before 6 * 8; no sun.misc.Unsafe warnings"
  else
    echo "--- jupyter console's output:"; cat "$console_log"
    failed+=("jupyter console --kernel jmlc: 'exit' must leave it, and the kernel print no sun.misc.Unsafe warnings")
  fi
else
  failed+=("jupyter console missing: apt-get install -y jupyter-console")
fi

echo "== install-kernel.sh --java-options: the kernel's JVM gets them (heap size, properties)"
opts_log="$WORK/opts.log"
if JUPYTER_DATA_DIR="$WORK/opts-data" "$ROOT/install/install-kernel.sh" --java-options "-Xmx700m -Djmlc.test.option=given" >"$opts_log" 2>&1 \
    && printf 'System.getProperty("jmlc.test.option") + " " + (Runtime.getRuntime().maxMemory() < 800L << 20)\nexit\n' \
       | JUPYTER_DATA_DIR="$WORK/opts-data" timeout 120 jupyter console --kernel jmlc --simple-prompt >>"$opts_log" 2>&1 \
    && grep -q '"given true"' "$opts_log"; then
  echo "ok   the kernel ran with -Xmx700m -Djmlc.test.option=given"
else
  cat "$opts_log"
  failed+=("install-kernel.sh --java-options")
fi

echo "== notebook notebooks/kernel-smoke.ipynb (nbclient)"
executed="$WORK/kernel-smoke.executed.ipynb"
if ! "$PY" "$HERE/run_notebook.py" "$ROOT/notebooks/kernel-smoke.ipynb" "$executed"; then
  failed+=("notebook kernel-smoke.ipynb")
fi
if [[ -n "${KEEP_OUTPUT:-}" && -f "$executed" ]]; then
  mkdir -p "$KEEP_OUTPUT" && cp "$executed" "$KEEP_OUTPUT/"
fi

echo "jupyter kernel tests: $((4 - ${#failed[@]})) passed, ${#failed[@]} failed"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
