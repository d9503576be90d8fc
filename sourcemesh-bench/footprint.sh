#!/usr/bin/env bash
# Footprint of one proxy process: RSS idle (fresh process, one request served), RSS holding N idle
# keep-alive connections (one request answered on each), and the bytes per idle connection; for
# SourceMesh also where the JVM's memory is (Native Memory Tracking categories, anonymous vs
# file-backed RSS). With --load S, RSS every 10 s under S seconds of wrk load (16 keep-alive
# connections), to see whether it keeps growing once warm.
#
#   sourcemesh-bench/footprint.sh [-n N] [--only sourcemesh|nginx|haproxy] [--load S]
#
# Same origin and proxy configs as run.sh, on other loopback addresses (127.79.0.0/24), so both can
# run on one machine. Environment: SOURCEMESH_BIN (default <repo root>/sourcemesh),
# SOURCEMESH_JAVA_OPTS (extra JVM flags, e.g. to compare settings), SOURCEMESH_ARGS as in run.sh.
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))
N=10000; ONLY=""; LOAD=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --load) LOAD=$2; shift ;;
    *) echo "footprint.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
for c in nginx python3; do command -v $c >/dev/null || { echo "footprint.sh: needs $c" >&2; exit 1; }; done
[ "$LOAD" = 0 ] || command -v wrk >/dev/null || { echo "footprint.sh: --load needs wrk" >&2; exit 1; }
SOURCEMESH_BIN=${SOURCEMESH_BIN:-$ROOT/sourcemesh}
NET=127.79.0; PORT=8080
# Seconds to let a process settle before reading its RSS: longer than the launcher's
# -XX:TrimNativeHeapInterval (5 s), so memory glibc could return has been returned.
SETTLE=${SETTLE:-7}
declare -A HOST=([nginx]=$NET.2 [haproxy]=$NET.3 [sourcemesh]=$NET.4)
. "$HERE/lib/prologue.sh"
bench_prologue footprint
NOFILE=$(ulimit -Hn); ulimit -n "$NOFILE" 2>/dev/null || true
render() { sed -e "s|@WORK@|$WORK|g" -e "s|@NOFILE@|$NOFILE|g" -e "s|127\.77\.0\.|$NET.|g" "$1" >"$WORK/$(basename "$1")"; echo "$WORK/$(basename "$1")"; }
rss_kb() { python3 "$HERE/lib/bench.py" stat "$1" | cut -d' ' -f1; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

mkdir -p "$WORK/origin-tmp" "$WORK/nginx-http-tmp"
nginx -p "$WORK" -e "$WORK/origin.error.log" -c "$(render "$HERE/conf/nginx-origin.conf")" >"$WORK/origin.log" 2>&1 &
PIDS+=($!)
wait_port $NET.1 $PORT || { echo "footprint.sh: origin did not start" >&2; exit 1; }

start() { # TARGET -> pid in STARTED
  case "$1" in
    nginx) nginx -p "$WORK" -e "$WORK/nginx.error.log" -c "$(render "$HERE/conf/nginx-http.conf")" >"$WORK/nginx.log" 2>&1 & ;;
    haproxy) haproxy -db -f "$(render "$HERE/conf/haproxy-http.cfg")" >"$WORK/haproxy.log" 2>&1 & ;;
    sourcemesh) SOURCEMESH_JAVA_OPTS="${SOURCEMESH_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary" SOURCEMESH_WORKERS=1 \
      "$SOURCEMESH_BIN" proxy -c "$(render "$HERE/sourcemesh-http.yaml")" --concurrency 1 ${SOURCEMESH_ARGS:-} >"$WORK/sourcemesh.log" 2>&1 & ;;
  esac
  STARTED=$!; PIDS+=($STARTED)
  wait_port "${HOST[$1]}" $PORT || { tail -n 20 "$WORK/$1.log" >&2; return 1; }
}

jvm_breakdown() { # PID: NMT committed per category (MB), and RSS anonymous vs file-backed
  local jcmd="${JAVA_HOME:-}/bin/jcmd"
  [ -x "$jcmd" ] || { . "$ROOT/.ci/java-env"; jcmd="$JAVA_HOME/bin/jcmd"; }
  "$jcmd" "$1" VM.native_memory summary 2>/dev/null | awk '
    /^-/ { name = $0; sub(/^- */, "", name); sub(/ *\(.*/, "", name)
           if (match($0, /committed=[0-9]+KB/)) { kb = substr($0, RSTART + 10, RLENGTH - 12) + 0; if (kb >= 1024) printf "%s %.1f, ", name, kb / 1024 } }
    END { print "" }' | sed 's/, $//; s/^/  NMT committed MB: /'
  awk '/^Anonymous|^Rss/ { v[$1] = $2 } END { printf "  RSS %.1f MB: anonymous %.1f, file-backed %.1f\n", v["Rss:"] / 1024, v["Anonymous:"] / 1024, (v["Rss:"] - v["Anonymous:"]) / 1024 }' "/proc/$1/smaps_rollup"
  echo "  threads: $(ls "/proc/$1/task" | wc -l)"
}

targets=(sourcemesh nginx haproxy)
[ -n "$ONLY" ] && targets=("$ONLY")
log "N=$N, load average $(load_avg)${SOURCEMESH_JAVA_OPTS:+, SOURCEMESH_JAVA_OPTS=$SOURCEMESH_JAVA_OPTS}"
printf '%-12s %10s %14s %8s %10s\n' target "idle MB" "with N MB" "ok" "B/conn"
for t in "${targets[@]}"; do
  command -v "$t" >/dev/null || [ "$t" = sourcemesh ] || { log "$t not installed: skipped"; continue; }
  start "$t" || { log "$t did not start"; continue; }
  pid=$STARTED
  python3 "$HERE/lib/bench.py" check "${HOST[$t]}" $PORT >/dev/null || log "$t: first request failed"
  sleep "$SETTLE"
  idle=$(rss_kb "$pid")
  [ "$t" = sourcemesh ] && jvm_breakdown "$pid" >"$WORK/breakdown-idle.txt"
  python3 "$HERE/lib/bench.py" idle --host "${HOST[$t]}" --port $PORT -n "$N" >"$WORK/idle.out" 2>"$WORK/idle.err" </dev/null &
  ipid=$!
  for i in $(seq 1 1200); do grep -q '^READY' "$WORK/idle.out" && break; kill -0 $ipid 2>/dev/null || break; sleep 0.1; done
  ok=$(sed -nE 's/^READY ok=([0-9]+).*/\1/p' "$WORK/idle.out"); ok=${ok:-0}
  sleep "$SETTLE"
  held=$(rss_kb "$pid")
  [ "$t" = sourcemesh ] && jvm_breakdown "$pid" >"$WORK/breakdown-held.txt"
  kill -TERM $ipid 2>/dev/null || true; wait $ipid 2>/dev/null || true
  awk -v t="$t" -v i="$idle" -v h="$held" -v ok="$ok" 'BEGIN { printf "%-12s %10.1f %14.1f %8d %10.0f\n", t, i / 1024, h / 1024, ok, ok ? (h - i) * 1024 / ok : 0 }'
  if [ "$t" = sourcemesh ]; then
    echo " idle:"; cat "$WORK/breakdown-idle.txt"; echo " holding $ok connections:"; cat "$WORK/breakdown-held.txt"
  fi
  if [ "$LOAD" -gt 0 ]; then
    log "$t: ${LOAD}s of load (wrk, 16 keep-alive connections), load average $(load_avg)"
    wrk -t1 -c16 -d"${LOAD}s" "http://${HOST[$t]}:$PORT/" >"$WORK/wrk.out" 2>&1 &
    wpid=$!
    for s in $(seq 10 10 "$LOAD"); do sleep 10; echo "  under load t=${s}s RSS $(( $(rss_kb "$pid") / 1024 )) MB"; done
    wait $wpid || true
    echo "  $(grep -E 'Requests/sec' "$WORK/wrk.out"), load average $(load_avg)"
    sleep 5
    echo "  5 s after the load: RSS $(( $(rss_kb "$pid") / 1024 )) MB"
    [ "$t" = sourcemesh ] && jvm_breakdown "$pid"
  fi
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
done
log "done, load average $(load_avg)"
