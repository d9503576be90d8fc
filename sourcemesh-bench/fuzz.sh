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
