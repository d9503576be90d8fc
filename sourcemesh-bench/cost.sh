#!/usr/bin/env bash
# Per-request cost of the SourceMesh HTTP proxy, in measures that background load barely moves:
# the proxy's CPU time per request and its system calls per request (strace -c). Wall-clock
# req/s on a shared machine is noisy; these are not. Same origin and config as run.sh, on
# other loopback addresses (127.78.0.0/24) so both can run on one machine.
#
#   sourcemesh-bench/cost.sh [--connections N] [--duration S] [--warmup S] [--strace-seconds S] [--rounds N] [--close]
#
# --close sends every request with Connection: close (wrk then opens a connection per request): the
# cost of the close path (issue 14 item 1) instead of keep-alive's.
#
# Prints each round's req/s and CPU us/req with the load average, then the lowest and the median
# CPU us/req (other work on the machine only ever adds to it: the lowest is the least disturbed),
# then system calls per request from strace -c -f over a separate run.
#
# Environment: SOURCEMESH_BIN (default <repo root>/sourcemesh), SOURCEMESH_ARGS as in run.sh.
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))
CONNS=16; DURATION=10; STRACE_S=5; ROUNDS=3; WARMUP=15; WRK_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) CONNS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --strace-seconds) STRACE_S=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --close) WRK_ARGS=(-H "Connection: close") ;;
    *) echo "cost.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
for c in wrk nginx strace python3; do command -v $c >/dev/null || { echo "cost.sh: needs $c" >&2; exit 1; }; done
SOURCEMESH_BIN=${SOURCEMESH_BIN:-$ROOT/sourcemesh}
ORIGIN=127.78.0.1; PROXY=127.78.0.4; PORT=8080
. "$HERE/lib/prologue.sh"
bench_prologue cost
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

mkdir -p "$WORK/origin-tmp"
sed -e "s|@WORK@|$WORK|g" -e "s|@NOFILE@|$(ulimit -n)|g" -e "s|127.77.0.1|$ORIGIN|g" "$HERE/conf/nginx-origin.conf" >"$WORK/origin.conf"
nginx -p "$WORK" -e "$WORK/origin.error.log" -c "$WORK/origin.conf" >"$WORK/origin.log" 2>&1 &
PIDS+=($!)
sed -e "s|127.77.0.4|$PROXY|g" -e "s|127.77.0.1|$ORIGIN|g" "$HERE/sourcemesh-http.yaml" >"$WORK/sourcemesh.yaml"
env SOURCEMESH_WORKERS=1 "$SOURCEMESH_BIN" proxy -c "$WORK/sourcemesh.yaml" --concurrency 1 ${SOURCEMESH_ARGS:-} >"$WORK/sourcemesh.log" 2>&1 &
SM=$!; PIDS+=($SM)
wait_port $ORIGIN $PORT && wait_port $PROXY $PORT || { tail "$WORK"/*.log >&2; exit 1; }
HZ=$(getconf CLK_TCK)
log "SourceMesh pid $SM ($SOURCEMESH_BIN); warm-up ${WARMUP}s"
wrk "${WRK_ARGS[@]}" -t1 -c"$CONNS" -d"${WARMUP}s" "http://$PROXY:$PORT/" >/dev/null
requests() { sed -nE 's/.*requests=([0-9]+).*/\1/p'; }
CPUS=()
for r in $(seq 1 "$ROUNDS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(cpu_ticks $SM)
  out=$(wrk "${WRK_ARGS[@]}" -t1 -c"$CONNS" -d"${DURATION}s" -s "$HERE/lib/report.lua" "http://$PROXY:$PORT/")
  t1=$(cpu_ticks $SM)
  n=$(requests <<<"$out"); rps=$(sed -nE 's/.*rps=([0-9.]+).*/\1/p' <<<"$out")
  awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$n" -v rps="$rps" -v l="$load" -v c="$CONNS" -v r="$r" \
    'BEGIN { printf "round %d, %d connections: %.0f req/s, proxy CPU %.1f us/req, load average %s\n", r, c, rps, t / hz * 1e6 / n, l }'
  CPUS+=("$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')")
done
printf '%s\n' "${CPUS[@]}" | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "proxy CPU us/req: lowest %s, median %.1f\n", v[1], m }'
# system calls per request: strace slows the proxy down but does not change what it calls per request
strace -c -f -q -p "$SM" -o "$WORK/strace.txt" &
ST=$!
sleep 1
out=$(wrk "${WRK_ARGS[@]}" -t1 -c"$CONNS" -d"${STRACE_S}s" -s "$HERE/lib/report.lua" "http://$PROXY:$PORT/")
kill -INT $ST; wait $ST 2>/dev/null || true
n=$(requests <<<"$out")
echo "system calls per request over $n requests (strace -c -f), load average $(cut -d' ' -f1 /proc/loadavg):"
awk -v n="$n" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { name = $NF; calls = $4; if (NF == 5) calls = $4;
  printf "  %-16s %7.3f\n", name, calls / n; total += calls } END { printf "  %-16s %7.3f\n", "total", total / n }' "$WORK/strace.txt"
