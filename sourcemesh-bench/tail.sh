#!/usr/bin/env bash
# The one-connection tail, request by request (issue 14 item 6): a fresh SourceMesh proxy on run.sh's
# ka1 schedule (one check request, a warm-up at one keep-alive connection, then rounds each on a new
# connection after an idle gap, as run.sh's other targets' turns leave it), each request's start and
# latency recorded by lib/pingpong.c on CLOCK_MONOTONIC, and the proxy's JVM logging its safepoints,
# deoptimizations and JIT compilations on the same clock. lib/tail.py puts each slow request beside
# them. Same origin and config as run.sh, on other loopback addresses (127.80.0.0/24).
#
#   sourcemesh-bench/tail.sh [--rounds N] [--duration S] [--warmup S] [--warmup-runs N] [--idle S] [--slow-us US]
#
# --warmup-runs N splits the warm-up into N wrk runs (N-1 connection closes before the rounds).
#
# Environment: SOURCEMESH_BIN (default <repo root>/sourcemesh), SOURCEMESH_JAVA_OPTS (added to the
# logging options). Needs nginx, wrk, gcc, python3.
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))
ROUNDS=3; DURATION=10; WARMUP=5; WARMUP_RUNS=1; IDLE=20; SLOW_US=500
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --warmup-runs) WARMUP_RUNS=$2; shift ;;
    --idle) IDLE=$2; shift ;;
    --slow-us) SLOW_US=$2; shift ;;
    *) echo "tail.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
for c in wrk nginx gcc python3 curl; do command -v $c >/dev/null || { echo "tail.sh: needs $c" >&2; exit 1; }; done
SOURCEMESH_BIN=${SOURCEMESH_BIN:-$ROOT/sourcemesh}
ORIGIN=127.80.0.1; PROXY=127.80.0.4; PORT=8080
. "$HERE/lib/prologue.sh"
bench_prologue tail

gcc -O2 -o "$WORK/pingpong" "$HERE/lib/pingpong.c"
mkdir -p "$WORK/origin-tmp"
sed -e "s|@WORK@|$WORK|g" -e "s|@NOFILE@|$(ulimit -n)|g" -e "s|127.77.0.1|$ORIGIN|g" "$HERE/conf/nginx-origin.conf" >"$WORK/origin.conf"
nginx -p "$WORK" -e "$WORK/origin.error.log" -c "$WORK/origin.conf" >"$WORK/origin.log" 2>&1 &
PIDS+=($!)
sed -e "s|127.77.0.4|$PROXY|g" -e "s|127.77.0.1|$ORIGIN|g" "$HERE/sourcemesh-http.yaml" >"$WORK/sourcemesh.yaml"
JVM_LOG="-Xlog:safepoint,deoptimization=debug,jit+compilation=debug:file=$WORK/jvm.log:timenanos,tags"
env SOURCEMESH_WORKERS=1 SOURCEMESH_JAVA_OPTS="$JVM_LOG ${SOURCEMESH_JAVA_OPTS:-}" \
  "$SOURCEMESH_BIN" proxy -c "$WORK/sourcemesh.yaml" --concurrency 1 >"$WORK/sourcemesh.log" 2>&1 &
SM=$!; PIDS+=($SM)
wait_port $ORIGIN $PORT && wait_port $PROXY $PORT || { tail "$WORK"/*.log >&2; exit 1; }
HZ=$(getconf CLK_TCK)
# CPU of the JIT's compiler threads, in ms: on 2 cores a compiling thread takes a core from the ping-pong
compiler_ms() { local t s=0; for t in /proc/$SM/task/*; do case "$(cat "$t/comm")" in C1*|C2*) s=$((s + $(awk '{ print $14 + $15 }' "$t/stat"))) ;; esac; done; echo $((s * 1000 / HZ)); }
curl -s -o /dev/null "http://$PROXY:$PORT/"
log "SourceMesh pid $SM ($SOURCEMESH_BIN); warm-up ${WARMUP}s at one connection, $WARMUP_RUNS run(s)"
for w in $(seq 1 "$WARMUP_RUNS"); do
  wrk -t1 -c1 -d"$(( (WARMUP + WARMUP_RUNS - 1) / WARMUP_RUNS ))s" "http://$PROXY:$PORT/" >/dev/null
done
ARGS=()
for r in $(seq 1 "$ROUNDS"); do
  sleep "$IDLE"
  c0=$(compiler_ms); load=$(cut -d' ' -f1 /proc/loadavg)
  out=$("$WORK/pingpong" $PROXY $PORT "$DURATION" "$WORK/round$r")
  log "round $r (load average $load): $out"
  ARGS+=("$WORK/round$r:$(($(compiler_ms) - c0))")
done
python3 "$HERE/lib/tail.py" "$WORK/jvm.log" "$SLOW_US" "${ARGS[@]}"
