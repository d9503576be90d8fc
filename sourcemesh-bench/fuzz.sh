#!/usr/bin/env bash
# The long fuzz run: ListenerFuzzTest (random and malformed HTTP/1.1 and PROXY protocol bytes at two
# real SourceMesh listeners on loopback) for SECONDS (default 600), then the same checks as the unit
# run: a good request is still served, open file descriptors and threads are back at the baseline.
#
#   sourcemesh-bench/fuzz.sh [SECONDS] [SEED]
#
# Prints the figures (cases, answers, fds, threads and RSS before/after, exceptions counted) and leaves
# them in sourcemesh-proxy/target/fuzz-report.txt. Uses the offline Maven repository when it can.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))
SECONDS_TO_RUN=${1:-600}
SEED_ARG=()
if [ -n "${2:-}" ]; then SEED_ARG=(-Dsourcemesh.fuzz.seed="$2"); fi

cd "$ROOT"
# shellcheck disable=SC1091
. .ci/java-env
# The test JVM runs with the launcher's proxy heap settings (sourcemesh script), so the RSS it
# reports is the proxy's as deployed, not G1's growth towards a quarter of the machine's memory
# (20 s of fuzzing: 153 -> 250 MB with the JVM defaults, 102 -> 146 MB with these). Override with
# FUZZ_JAVA_OPTS; the forked test JVM (and Maven) read them from JAVA_TOOL_OPTIONS.
export JAVA_TOOL_OPTIONS="${FUZZ_JAVA_OPTS:--XX:+UseSerialGC -Xms16m -Xmx512m -XX:+UseCompactObjectHeaders -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:TrimNativeHeapInterval=5000}"
REPORT="$ROOT/sourcemesh-proxy/target/fuzz-report.txt"
mkdir -p "$(dirname "$REPORT")"
rm -f "$REPORT"
OFFLINE=()
if ./mvnw -B -q -o -pl sourcemesh-proxy -am help:help >/dev/null 2>&1; then OFFLINE=(-o); fi
start=$(date +%s)
./mvnw -B -q "${OFFLINE[@]}" -pl sourcemesh-proxy -am verify -Dtest=ListenerFuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsourcemesh.fuzz.seconds="$SECONDS_TO_RUN" -Dsourcemesh.fuzz.report="$REPORT" "${SEED_ARG[@]}" \
  -Dsurefire.timeout=$((SECONDS_TO_RUN + 600))
echo "fuzz: $(cat "$REPORT") wall=$(( $(date +%s) - start ))s"
