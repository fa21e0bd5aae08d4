#!/usr/bin/env bash
# Installs the jmlc Jupyter kernel (kernel spec "jmlc") for the current user.
#
#   install/install-kernel.sh                          build the kernel if it is not built, then install the spec
#   install/install-kernel.sh --rebuild                build first in any case
#   install/install-kernel.sh --java-options "-Xmx24g" the kernel's JVM options (heap size ...), written into
#                                                      kernel.json; default: $JMLC_JAVA_OPTS, as for ./jmlc
#
# Needs Java 25 (JAVA_HOME, else /usr/lib/jvm/temurin-25-jdk-amd64), Maven to build, and
# jupyter-client's "jupyter kernelspec" (Debian: apt-get install jupyter-client jupyter-core).
# kernel.json runs the jars in jupyter/target, so rebuilding and restarting the kernel picks up changes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REBUILD=0
JAVA_OPTIONS="${JMLC_JAVA_OPTS:-}"
while (($#)); do
  case "$1" in
    --rebuild) REBUILD=1 ;;
    --java-options)
      (($# >= 2)) || { echo "install-kernel.sh: --java-options needs a value, e.g. --java-options \"-Xmx24g\"" >&2; exit 2; }
      JAVA_OPTIONS="$2"; shift ;;
    --java-options=*) JAVA_OPTIONS="${1#--java-options=}" ;;
    -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-kernel.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
for opt in $JAVA_OPTIONS; do
  [[ "$opt" == -* ]] || { echo "install-kernel.sh: --java-options: '$opt' is not a JVM option (they start with -, e.g. -Xmx24g)" >&2; exit 2; }
done

# Java 25: JAVA_HOME if it is 25 or newer, else the Temurin 25 package.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
JAVA_HOME_25=""
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64; do
  if [[ -n "$candidate" && -x "$candidate/bin/java" ]] && (( $(java_major "$candidate") >= 25 )); then
    JAVA_HOME_25="$candidate"; break
  fi
done
if [[ -z "$JAVA_HOME_25" ]]; then
  echo "install-kernel.sh: no Java 25 found (JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
  exit 1
fi
JAVA="$JAVA_HOME_25/bin/java"

if ! command -v jupyter >/dev/null || ! jupyter kernelspec --version >/dev/null 2>&1; then
  echo "install-kernel.sh: 'jupyter kernelspec' not found: apt-get install jupyter-client jupyter-core" >&2
  exit 1
fi

KERNEL_JAR="$ROOT/jupyter/target/jmlc-jupyter.jar"
LIB="$ROOT/jupyter/target/lib"
# Build when asked, when never built, or when a source or pom changed since the last build.
stale() {
  [[ ! -f "$KERNEL_JAR" || ! -f "$LIB/jmlc-magics-0.1.0-SNAPSHOT.jar" ]] && return 0
  [[ -n "$(find "$ROOT/pom.xml" "$ROOT"/{compiler,engine,magics,jupyter}/pom.xml \
             "$ROOT"/{compiler,engine,magics,jupyter}/src/main -newer "$KERNEL_JAR" -print -quit 2>/dev/null)" ]]
}
if (( REBUILD )) || stale; then
  echo "Building the kernel (mvn -pl jupyter -am package -DskipTests) ..."
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_25" mvn -q -pl jupyter -am package -DskipTests)
fi

SPEC="$(mktemp -d)"
trap 'rm -rf "$SPEC"' EXIT
# interrupt_mode "message": Jupyter's interrupt button sends interrupt_request (a SIGINT would end the JVM).
/usr/bin/python3 - "$SPEC/kernel.json" "$JAVA" "$KERNEL_JAR:$LIB/*" "$JAVA_OPTIONS" <<'PY'
import json, sys
path, java, classpath, options = sys.argv[1:5]
# Java names files in the locale's charset: under LANG=C a model path such as 模型 cannot be opened.
# The kernel starts through sh, which takes C.UTF-8 for characters when the locale's charset is not UTF-8.
utf8 = ('if [ "$(locale charmap 2>/dev/null)" != UTF-8 ]; then '
        'if [ -n "$LC_ALL" ]; then export LC_ALL=C.UTF-8; else export LC_CTYPE=C.UTF-8; fi; fi; exec "$@"')
spec = {
    "argv": ["/bin/sh", "-c", utf8, "jmlc-kernel", java,
             "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
             "--sun-misc-unsafe-memory-access=allow",  # classgraph (jjava) and LWJGL (Vulkan) call sun.misc.Unsafe: no warnings
             "-Xss8m", "-Djava.awt.headless=true", *options.split(),
             "-cp", classpath, "jmlc.jupyter.Main", "{connection_file}"],
    "display_name": "Java (jmlc)",
    "language": "java",
    "interrupt_mode": "message",
    "metadata": {"debugger": False},
}
with open(path, "w") as f:
    json.dump(spec, f, indent=2)
PY

if ! log="$(jupyter kernelspec install --user --replace --name jmlc "$SPEC" 2>&1)"; then
  echo "$log" >&2
  exit 1
fi
echo "Installed kernel spec 'jmlc' in $(jupyter kernelspec list 2>/dev/null | awk '$1 == "jmlc" {print $2}')"
echo "  java:      $JAVA"
echo "  options:   ${JAVA_OPTIONS:-none} (--java-options to change)"
echo "  classpath: $KERNEL_JAR:$LIB/*"
