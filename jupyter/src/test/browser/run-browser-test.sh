#!/usr/bin/env bash
# A person's view: the classic Jupyter Notebook (Debian's jupyter-notebook) on localhost with a token,
# notebooks/kernel-smoke.ipynb opened in headless Chromium driven by Selenium, two cells run with
# Shift+Enter; then notebooks/getting-started.ipynb, its %device, %load and %bench cells run; the pages
# and a screenshot checked. Exits non-zero, saying what failed, on failure.
#
# Needs (Debian 12):
#   apt-get install -y jupyter-notebook jupyter-client jupyter-core python3-selenium chromium chromium-driver
# and Java 25 + Maven (install/install-kernel.sh builds the kernel if it is not built).
# The screenshot is written to $SCREENSHOT_DIR (default jupyter/target/browser-test)/getting-started.png.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
PY=/usr/bin/python3
export PATH="/usr/bin:$PATH" # Debian's jupyter, the one that goes with /usr/bin/python3
SHOTS="${SCREENSHOT_DIR:-$ROOT/jupyter/target/browser-test}"

for need in /usr/bin/chromium /usr/bin/chromedriver; do
  [[ -x "$need" ]] || { echo "run-browser-test.sh: $need missing: apt-get install -y chromium chromium-driver" >&2; exit 1; }
done
if ! "$PY" -c "import selenium, notebook" 2>/dev/null; then
  echo "run-browser-test.sh: apt-get install -y jupyter-notebook python3-selenium" >&2
  exit 1
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export JUPYTER_DATA_DIR="$WORK/data" JUPYTER_RUNTIME_DIR="$WORK/runtime" JUPYTER_CONFIG_DIR="$WORK/config"
export PYDEVD_DISABLE_FILE_VALIDATION=1

"$ROOT/install/install-kernel.sh" || { echo "FAIL: install/install-kernel.sh" >&2; exit 1; }

# The server works on a copy: the browser may autosave, the repository's notebook stays clean.
mkdir -p "$WORK/notebooks" "$SHOTS"
cp "$ROOT/notebooks/kernel-smoke.ipynb" "$ROOT/notebooks/getting-started.ipynb" "$WORK/notebooks/"
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TOKEN="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
jupyter notebook --no-browser --allow-root --ip=127.0.0.1 --port="$PORT" \
  --NotebookApp.token="$TOKEN" --NotebookApp.open_browser=False \
  --notebook-dir="$WORK/notebooks" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 120); do
  if "$PY" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$PORT/api/status?token=$TOKEN', timeout=2)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL: the notebook server exited:" >&2; cat "$WORK/server.log" >&2; exit 1
  fi
  sleep 0.5
done

"$PY" "$HERE/browser_test.py" "http://127.0.0.1:$PORT" "$TOKEN" "$SHOTS/getting-started.png"
rc=$?
if ((rc != 0)); then
  echo "--- notebook server log ---" >&2
  tail -50 "$WORK/server.log" >&2
  echo "browser test: 0 passed, 1 failed"
  exit 1
fi
echo "browser test: 1 passed, 0 failed"
