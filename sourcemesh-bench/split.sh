#!/usr/bin/env bash
# Where a proxied request's CPU goes, for every target in one run: the proxy's CPU per request split into
# user space and kernel (/proc/PID/stat utime and stime of the proxy's processes), its context switches per
# request (voluntary + involuntary, all its threads), and the TCP segments per request on the machine
# (nstat TcpInSegs/TcpOutSegs; on loopback every segment is counted once out and once in). These are counts
# of the target's own work: other load on the machine moves them far less than it moves req/s.
# "one cpu": the share of samples (every 0.2 s) in which the target's busiest thread, wrk's and the origin's
# worker last ran on the same CPU. On this VM an idle vCPU halts, and a wake-up sent to it costs tens of µs:
# a one-connection exchange runs ~1.5x faster when the scheduler keeps the three on one CPU, and it moves
# between the two placements by itself, for every target (BENCHMARKS.md, Session 19).
#
#   sourcemesh-bench/split.sh [--connections N] [--duration S] [--warmup S] [--rounds N] [--close]
#
# Targets as in run.sh (same configurations, one worker each), on 127.76.0.0/24: the nginx origin
# (direct), nginx, HAProxy, SourceMesh. Rounds are interleaved; each line is one target's round, then
# the medians per target.
#
# Environment: SOURCEMESH_BIN (default <repo root>/sourcemesh), SOURCEMESH_ARGS, FLOOR and FLOOR_TRANSPORT as in
# run.sh (the Netty floor, on 127.76.0.6, is a target when built).
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))
CONNS=16; DURATION=5; ROUNDS=3; WARMUP=5; WRK_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) CONNS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --close) WRK_ARGS=(-H "Connection: close") ;;
    *) echo "split.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
for c in wrk nginx haproxy nstat python3; do command -v $c >/dev/null || { echo "split.sh: needs $c" >&2; exit 1; }; done
SOURCEMESH_BIN=${SOURCEMESH_BIN:-$ROOT/sourcemesh}
NET=127.76.0; PORT=8080
. "$HERE/lib/prologue.sh"
bench_prologue split
port_free() { ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# every configuration from run.sh's, moved from 127.77.0.x to this script's range
render() { sed -e "s|@WORK@|$WORK|g" -e "s|@NOFILE@|$(ulimit -n)|g" -e "s|127\.77\.0\.|$NET.|g" "$1" >"$2"; }

declare -A HOST=([direct]=$NET.1 [nginx]=$NET.2 [haproxy]=$NET.3 [sourcemesh]=$NET.4 [floor]=$NET.6)
TARGETS=(direct nginx haproxy sourcemesh)
if [ "${FLOOR:-1}" != 0 ] && compgen -G "$ROOT/sourcemesh-bench-floor/target/sourcemesh-bench-floor-*.jar" >/dev/null; then
  TARGETS+=(floor)
fi
for t in "${TARGETS[@]}"; do
  port_free "${HOST[$t]}" $PORT || { echo "split.sh: ${HOST[$t]}:$PORT is already in use (another split.sh running?)" >&2; exit 1; }
done
mkdir -p "$WORK/origin-tmp" "$WORK/nginx-http-tmp"
render "$HERE/conf/nginx-origin.conf" "$WORK/origin.conf"
nginx -p "$WORK" -e "$WORK/origin.error.log" -c "$WORK/origin.conf" >"$WORK/origin.log" 2>&1 &
PIDS+=($!); declare -A ROOTPID=([direct]=$!)
render "$HERE/conf/nginx-http.conf" "$WORK/nginx.conf"
nginx -p "$WORK" -e "$WORK/nginx.error.log" -c "$WORK/nginx.conf" >"$WORK/nginx.log" 2>&1 &
PIDS+=($!); ROOTPID[nginx]=$!
render "$HERE/conf/haproxy-http.cfg" "$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!); ROOTPID[haproxy]=$!
render "$HERE/sourcemesh-http.yaml" "$WORK/sourcemesh.yaml"
env SOURCEMESH_WORKERS=1 "$SOURCEMESH_BIN" proxy -c "$WORK/sourcemesh.yaml" --concurrency 1 ${SOURCEMESH_ARGS:-} >"$WORK/sourcemesh.log" 2>&1 &
PIDS+=($!); ROOTPID[sourcemesh]=$!
if [[ " ${TARGETS[*]} " == *" floor "* ]]; then
  "$HERE/lib/floor.sh" --listen "${HOST[floor]}:$PORT" --upstream "${HOST[direct]}:$PORT" --transport "${FLOOR_TRANSPORT:-io_uring}" \
    >"$WORK/floor.log" 2>&1 &
  PIDS+=($!); ROOTPID[floor]=$!
fi
for t in "${TARGETS[@]}"; do
  wait_port "${HOST[$t]}" $PORT || { log "$t did not listen"; tail "$WORK"/*.log >&2; exit 1; }
done

# A target's processes: the one started and its descendants (nginx's worker, the launcher's JVM).
tree() { local p=$1 c; echo "$p"; for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done; }
# utime stime ctxsw, summed over a target's processes (ticks, ticks, switches of every thread)
counters() {
  local p u=0 s=0 x=0 a b
  for p in $(tree "$1"); do
    read -r a b < <(awk '{ print $14, $15 }' /proc/"$p"/stat 2>/dev/null || echo "0 0")
    u=$((u + a)); s=$((s + b))
    x=$((x + $(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { t += $2 } END { printf "%.0f\n", t }')))
  done
  echo "$u $s $x"
}
# The thread of $1's tree that used the most CPU over the next 0.3 s, as /proc/PID/task/TID.
busiest() {
  local p t before=() f best="" most=-1 d
  for p in $(tree "$1"); do for t in /proc/"$p"/task/*; do before+=("$t $(awk '{ print $14 + $15 }' "$t"/stat 2>/dev/null)"); done; done
  sleep 0.3
  for f in "${before[@]}"; do
    set -- $f
    d=$(( $(awk '{ print $14 + $15 }' "$1"/stat 2>/dev/null || echo "$2") - $2 ))
    [ "$d" -gt "$most" ] && { most=$d; best=$1; }
  done
  echo "$best"
}
# While wrk ($1) runs: the share of samples with the target's thread ($2), wrk's ($4) and the origin worker's ($3) on one CPU.
one_cpu() {
  local same=0 all=0 a b c
  while kill -0 "$1" 2>/dev/null; do
    a=$(awk '{ print $39 }' "$2"/stat 2>/dev/null); b=$(awk '{ print $39 }' "$4"/stat 2>/dev/null)
    c=$(awk '{ print $39 }' "$3"/stat 2>/dev/null)
    if [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ]; then
      all=$((all + 1)); [ "$a" = "$b" ] && [ "$b" = "$c" ] && same=$((same + 1))
    fi
    sleep 0.2
  done
  awk -v s=$same -v a=$all 'BEGIN { printf "%.2f\n", a ? s / a : 0 }'
}
ORIGIN_WORKER=/proc/$(cat /proc/"${ROOTPID[direct]}"/task/*/children | awk '{ print $1 }')
segs() { nstat -az TcpInSegs TcpOutSegs 2>/dev/null | awk '/^Tcp(In|Out)Segs/ { t += $2 } END { printf "%.0f\n", t }'; }
HZ=$(getconf CLK_TCK)
log "warm-up ${WARMUP}s per target, $CONNS connections${WRK_ARGS:+, Connection: close}"
for t in "${TARGETS[@]}"; do
  wrk "${WRK_ARGS[@]}" -t1 -c"$CONNS" -d"${WARMUP}s" "http://${HOST[$t]}:$PORT/" >/dev/null
done
printf '%-10s %5s %9s %8s %8s %8s %9s %9s %7s %6s\n' target round req/s "cpu us" "user us" "sys us" "ctxsw" "segments" "one cpu" load
for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    read -r u0 s0 x0 < <(counters "${ROOTPID[$t]}"); g0=$(segs)
    wrk "${WRK_ARGS[@]}" -t1 -c"$CONNS" -d"${DURATION}s" -s "$HERE/lib/report.lua" "http://${HOST[$t]}:$PORT/" >"$WORK/wrk.out" &
    w=$!; thread=$(busiest "${ROOTPID[$t]}"); client=$(busiest $w); one=$(one_cpu $w "$thread" "$ORIGIN_WORKER" "$client"); wait $w
    out=$(cat "$WORK/wrk.out")
    read -r u1 s1 x1 < <(counters "${ROOTPID[$t]}"); g1=$(segs)
    n=$(sed -nE 's/.*requests=([0-9]+).*/\1/p' <<<"$out"); rps=$(sed -nE 's/.*rps=([0-9.]+).*/\1/p' <<<"$out")
    awk -v t="$t" -v r="$r" -v n="$n" -v rps="$rps" -v hz="$HZ" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v x=$((x1 - x0)) \
      -v g=$((g1 - g0)) -v one="$one" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "%-10s %5d %9.0f %8.2f %8.2f %8.2f %9.3f %9.2f %7s %6s\n", t, r, rps, (u + s) / hz * 1e6 / n,
          u / hz * 1e6 / n, s / hz * 1e6 / n, x / n, g / n, one, l }' | tee -a "$WORK/rows"
  done
done
echo "medians of $ROUNDS rounds (cpu/user/sys: the proxy's (direct: the origin's) CPU per request in us; ctxsw: its context switches per request; segments: TCP segments per request on the machine, in + out; one cpu: the share of samples with the target's busiest thread, wrk and the origin's worker on one CPU):"
python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[0], []).append([float(v) for v in f[2:9]])
for t, rs in rows.items():
    med = [statistics.median(c) for c in zip(*rs)]
    print(f"{t:<10} req/s {med[0]:8.0f}  cpu {med[1]:6.2f}  user {med[2]:5.2f}  sys {med[3]:6.2f}  ctxsw {med[4]:6.3f}  segments {med[5]:5.2f}  one cpu {med[6]:4.2f}")
PY
