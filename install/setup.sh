#!/usr/bin/env bash
# Sets jmlc up on a Debian/Ubuntu machine: installs what is missing, builds every module, says what next.
#
#   install/setup.sh            install Maven if absent (apt-get), check Java 25, build if sources changed
#   install/setup.sh --rebuild  build in any case
#   install/setup.sh --check    only report what is present and missing; install and build nothing
#
# Java 25: JAVA_HOME if it is 25 or newer, else /usr/lib/jvm/temurin-25-jdk-amd64, else another JDK 25
# under /usr/lib/jvm, else java on PATH (the same search as ./jmlc). When none is found and apt knows a
# JDK 25 package (temurin-25-jdk from packages.adoptium.net, or Debian's openjdk-25-jdk-headless), it is
# installed; otherwise the script says how to get one.
# Then: install/setup.sh && ./jmlc demo
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REBUILD=0
CHECK=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    --check) CHECK=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*"; }
fail() { echo "setup: error: $*" >&2; exit 1; }

# apt-get as root, or through sudo; empty when neither is possible.
APT=""
if command -v apt-get >/dev/null; then
  if (( EUID == 0 )); then APT="apt-get"
  elif command -v sudo >/dev/null; then APT="sudo apt-get"
  fi
fi
APT_UPDATED=0
apt_install() {
  [[ -n "$APT" ]] || return 1
  if (( ! APT_UPDATED )); then $APT update -qq >/dev/null || true; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $APT install -y -qq "$@" >/dev/null
}
apt_knows() { command -v apt-cache >/dev/null && [[ -n "$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)')" ]]; }

# ---- Java 25 ----
java_major() {
  local home="$1" v=""
  [[ -f "$home/release" ]] && v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")"
  [[ -z "$v" && -x "$home/bin/java" ]] && v="$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  echo "${v:-0}"
}
find_jdk() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    if [[ -n "$c" && -x "$c/bin/java" && -x "$c/bin/javac" ]] && (( $(java_major "$c") >= 25 )); then echo "$c"; return 0; fi
  done
  if command -v javac >/dev/null; then
    c="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
    if (( $(java_major "$c") >= 25 )); then echo "$c"; return 0; fi
  fi
  return 1
}

MISSING=0
if JDK="$(find_jdk)"; then
  say "Java $(java_major "$JDK"): $JDK"
elif (( CHECK )); then
  say "Java 25: missing"; MISSING=1
else
  for pkg in temurin-25-jdk openjdk-25-jdk-headless; do
    if apt_knows "$pkg"; then
      say "installing $pkg (apt-get) ..."
      apt_install "$pkg" || fail "apt-get install $pkg failed"
      break
    fi
  done
  JDK="$(find_jdk)" || fail "no Java 25 (JDK) found: looked at JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm/*, javac on PATH.
  Install one, then run this again:
    - Temurin 25 from Adoptium's apt repository (https://adoptium.net/installation/linux/):
        sudo apt-get install -y wget apt-transport-https gpg
        wget -qO - https://packages.adoptium.net/artifactory/api/gpg/key/public | gpg --dearmor | sudo tee /etc/apt/trusted.gpg.d/adoptium.gpg >/dev/null
        echo \"deb https://packages.adoptium.net/artifactory/deb \$(. /etc/os-release; echo \$VERSION_CODENAME) main\" | sudo tee /etc/apt/sources.list.d/adoptium.list
        sudo apt-get update && sudo apt-get install -y temurin-25-jdk
    - or any JDK 25 unpacked anywhere, with JAVA_HOME pointing at it"
  say "Java $(java_major "$JDK"): $JDK"
fi

# ---- Maven ----
if command -v mvn >/dev/null; then
  say "Maven: $(command -v mvn)"
elif (( CHECK )); then
  say "Maven: missing"; MISSING=1
else
  say "installing Maven (apt-get install maven) ..."
  apt_install maven || fail "Maven is missing and could not be installed with apt-get (run as root, or with sudo; or install Apache Maven 3.8+ yourself)"
  command -v mvn >/dev/null || fail "apt-get installed maven but mvn is not on PATH"
  say "Maven: $(command -v mvn)"
fi

# ---- build ----
JAR="$ROOT/engine/target/jmlc-engine.jar"
stale() {
  [[ ! -f "$JAR" || ! -d "$ROOT/engine/target/lib" || ! -f "$ROOT/jupyter/target/jmlc-jupyter.jar" ]] && return 0
  [[ -n "$(find "$ROOT/pom.xml" "$ROOT"/{compiler,engine,magics,jupyter}/pom.xml \
             "$ROOT"/{compiler,engine,magics,jupyter}/src/main -newer "$JAR" -print -quit 2>/dev/null)" ]]
}
if (( CHECK )); then
  if stale; then say "build: not built, or sources changed since (run install/setup.sh)"; MISSING=1; else say "build: up to date"; fi
  exit "$MISSING"
fi
if (( REBUILD )) || stale; then
  say "building every module (mvn -B -q package -DskipTests; the first build downloads dependencies) ..."
  (cd "$ROOT" && JAVA_HOME="$JDK" mvn -B -q package -DskipTests) || fail "the build failed (see Maven's output above)"
  touch "$JAR"
  say "built $JAR"
else
  say "build: up to date (--rebuild to build anyway)"
fi

cat <<NEXT

jmlc is ready. Next:
  ./jmlc demo                          a two-turn chat and a short benchmark on a small synthetic model
  ./jmlc chat synthetic:tiny           chat yourself (/help inside; random weights, so made-up words)
  ./jmlc chat PATH                     a Hugging Face model directory or a .gguf file
  ./jmlc bench synthetic:llama-2-7b    decode speed and % of the memory-bandwidth roofline
  ./jmlc help                          every command
  install/install-kernel.sh            the Jupyter kernel (needs jupyter-client; --java-options "-Xmx24g" for its heap)
  install/test.sh                      every test; it installs what they need first (Jupyter, Chromium, Node.js ...)
NEXT
