#!/usr/bin/env bash
# The long fuzz run: ListenerFuzzTest (random and malformed HTTP/1.1 and PROXY protocol bytes at two
# real SourceMesh listeners on loopback) for SECONDS (default 600), then the same checks as the unit
# run: a good request is still served, open file descriptors and threads are back at the baseline,
# and the live heap after a full GC and Netty's pooled memory are back within the test's margins.
#
#   sourcemesh-bench/fuzz.sh [SECONDS] [SEED]
#
# Prints the figures (cases, answers, fds, threads, exceptions counted) and the memory series: every
# FUZZ_SAMPLE_SECONDS (default 30) RSS (total, anonymous) and committed heap as the run left them,
# then, after a full GC, live and committed heap, Netty's pooled direct/heap memory and direct-memory
# counter and the JDK's direct buffers (FUZZ_SAMPLE_GC=false: no GC during the run, so the heap is
# sized by the collector alone; live heap then only at the start and the end). Left in sourcemesh-proxy/target/fuzz-report.txt. Uses the
# offline Maven repository when it can.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))
SECONDS_TO_RUN=${1:-600}
SEED_ARG=()
if [ -n "${2:-}" ]; then SEED_ARG=(-Dsourcemesh.fuzz.seed="$2"); fi

cd "$ROOT"
# shellcheck disable=SC1091
. .ci/java-env
# The test JVM runs with the launcher's proxy heap settings (sourcemesh script), so the committed
# heap and RSS it reports are the proxy's as deployed, not G1's sizing towards a quarter of the
# machine's memory. The JVM also holds the fuzzer's 8 clients (the test origin runs in a child JVM). Override with
# FUZZ_JAVA_OPTS; the forked test JVM (and Maven) read them from JAVA_TOOL_OPTIONS.
export JAVA_TOOL_OPTIONS="${FUZZ_JAVA_OPTS:--XX:+UseSerialGC -Xms16m -Xmx512m -XX:+UseCompactObjectHeaders -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:-ShrinkHeapInSteps -XX:TrimNativeHeapInterval=5000}"
REPORT="$ROOT/sourcemesh-proxy/target/fuzz-report.txt"
mkdir -p "$(dirname "$REPORT")"
rm -f "$REPORT"
OFFLINE=()
if ./mvnw -B -q -o -pl sourcemesh-proxy -am help:help >/dev/null 2>&1; then OFFLINE=(-o); fi
echo "fuzz: load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
rc=0
./mvnw -B -q "${OFFLINE[@]}" -pl sourcemesh-proxy -am verify -Dtest=ListenerFuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsourcemesh.fuzz.seconds="$SECONDS_TO_RUN" -Dsourcemesh.fuzz.sampleSeconds="${FUZZ_SAMPLE_SECONDS:-30}" \
  -Dsourcemesh.fuzz.sampleGc="${FUZZ_SAMPLE_GC:-true}" \
  -Dsourcemesh.fuzz.report="$REPORT" "${SEED_ARG[@]}" \
  -Dsurefire.timeout=$((SECONDS_TO_RUN + 600)) || rc=$?
echo "fuzz: wall=$(( $(date +%s) - start ))s load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$REPORT" 2>/dev/null || echo "fuzz: no report (the run did not get to its figures)"
exit $rc
