#!/usr/bin/env bash
# Installs what install/test.sh needs beyond Java 25 (install/setup.sh sees to that), on Debian or
# Ubuntu, with apt-get as root or through sudo: Maven, Node.js and npm (the tokenizer fixtures),
# Jupyter (client, nbconvert, nbclient, jupyter_kernel_test, ipykernel, console, the classic
# notebook), Selenium with Chromium and its driver (the browser test), hipcc (the HIP compile check;
# it pulls libamdhip64-dev, against which the HIP runtime's FFM bindings are tested), clang 19, lld 19
# and llvm 19 (AMD code objects for gfx1100/gfx1033/gfx1030/gfx90a/gfx942 and their disassembly with
# llvm-objdump), Mesa's lavapipe and the Vulkan loader (the Vulkan backend on the CPU) and glslang
# (every shader checked).
# Only what is missing; nothing when all is there.
#
#   install/test-deps.sh          install what is missing
#   install/test-deps.sh --check  only say what is missing (exit 1 if anything is)
#
# Tools are looked for as commands (mvn, npm, hipcc), since they may come from elsewhere than Debian
# (Node.js from NodeSource); the Jupyter and browser pieces as Debian packages, since the tests run
# Debian's /usr/bin/python3 with them.
set -euo pipefail

CHECK=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-deps.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "test-deps: $*"; }

PACKAGES=(jupyter-client jupyter-core jupyter-nbconvert jupyter-console jupyter-notebook
          python3-nbclient python3-jupyter-kernel-test python3-ipykernel
          python3-selenium chromium chromium-driver
          mesa-vulkan-drivers libvulkan1 glslang-tools
          clang-19 lld-19 llvm-19)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
command -v mvn >/dev/null || missing+=(maven)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v hipcc >/dev/null || missing+=(hipcc)

if ((${#missing[@]} == 0)); then
  say "all there"
  exit 0
fi
if ((CHECK)); then
  say "missing: ${missing[*]}"
  exit 1
fi

if ((EUID == 0)); then APT=(apt-get)
elif command -v sudo >/dev/null; then APT=(sudo apt-get)
else
  echo "test-deps.sh: missing ${missing[*]}, and installing needs root: run as root, or install sudo, or run" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "test-deps.sh: missing ${missing[*]}, and there is no apt-get here: install them yourself" >&2; exit 1; }
say "installing ${missing[*]} (apt-get) ..."
export DEBIAN_FRONTEND=noninteractive
"${APT[@]}" update -qq >/dev/null
if ! "${APT[@]}" install -y -qq "${missing[@]}" >/dev/null; then
  echo "test-deps.sh: apt-get install ${missing[*]} failed (its output: run it again without -qq)" >&2
  exit 1
fi
say "installed ${missing[*]}"
