#!/usr/bin/env bash
# SourceMesh benchmark harness: the SourceMesh proxy side by side with nginx and HAProxy on this
# machine, all on loopback (127.77.0.0/24), one worker/thread each. See sourcemesh-bench/README.md.
#
#   sourcemesh-bench/run.sh [--quick] [--duration S] [--rounds N] [--idle N]
#                           [--only http|tcp|memory|startup] [--max-bg CORES] [--retries N]
#                           [--wait-quiet S] [--no-install]
#
# Environment:
#   SOURCEMESH_BIN   the launcher to benchmark (default: <repo root>/sourcemesh)
#   SOURCEMESH_ARGS  extra arguments appended to `sourcemesh proxy -c FILE --concurrency 1`
#   SOURCEMESH_BIN_B a second SourceMesh launcher (another build), benchmarked in the same
#                    interleaved run as the target "SourceMesh B 1w" (on 127.77.0.5)
#   SOURCEMESH_ARGS_B extra arguments for the second build (default: SOURCEMESH_ARGS)
#   SOURCEMESH_START_TIMEOUT  seconds to wait for SourceMesh (and the floor) to listen (default 60)
#   FLOOR=0          leave out the floor: sourcemesh-bench-floor, a plain Netty 4.2 HTTP/1.1 proxy with the
#                    proxy's JVM flags (lib/floor.sh, on 127.77.0.6), measured in the HTTP and memory phases
#                    when built, so a run shows what SourceMesh costs above the JVM and Netty
#   FLOOR_TRANSPORT  the floor's transport: io_uring (default, as SourceMesh's), epoll or nio
#   KEEP_WORK=1      keep the temporary work directory (rendered configs, logs)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))

# ---------------------------------------------------------------------------------------------
# options
MAX_BG=0.3; RETRIES=1; WAIT_QUIET=0; NOISY_RETRIES=0; NOISY_KEPT=0
DURATION=10; ROUNDS=3; IDLE_N=10000; WARMUP=5; STARTUP_ROUNDS=5; ONLY=all; INSTALL=1; QUICK=0
DURATION_SET=""; ROUNDS_SET=""; IDLE_SET=""
usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --duration) DURATION_SET=${2:?--duration needs seconds}; shift ;;
    --duration=*) DURATION_SET=${1#*=} ;;
    --rounds) ROUNDS_SET=${2:?--rounds needs a number}; shift ;;
    --rounds=*) ROUNDS_SET=${1#*=} ;;
    --idle) IDLE_SET=${2:?--idle needs a number}; shift ;;
    --idle=*) IDLE_SET=${1#*=} ;;
    --only) ONLY=${2:?--only needs http|tcp|memory|startup}; shift ;;
    --only=*) ONLY=${1#*=} ;;
    --max-bg) MAX_BG=${2:?--max-bg needs cores}; shift ;;
    --max-bg=*) MAX_BG=${1#*=} ;;
    --retries) RETRIES=${2:?--retries needs a number}; shift ;;
    --retries=*) RETRIES=${1#*=} ;;
    --wait-quiet) WAIT_QUIET=${2:?--wait-quiet needs seconds}; shift ;;
    --wait-quiet=*) WAIT_QUIET=${1#*=} ;;
    --no-install) INSTALL=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then DURATION=3; ROUNDS=1; IDLE_N=1000; WARMUP=1; STARTUP_ROUNDS=2; fi
[ -n "$DURATION_SET" ] && DURATION=$DURATION_SET
[ -n "$ROUNDS_SET" ] && ROUNDS=$ROUNDS_SET
[ -n "$IDLE_SET" ] && IDLE_N=$IDLE_SET
case "$ONLY" in all|http|tcp|memory|startup) ;; *) echo "run.sh: --only takes http|tcp|memory|startup" >&2; exit 2 ;; esac
for v in "$DURATION" "$ROUNDS" "$IDLE_N"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: not a positive integer: $v" >&2; exit 2; }
done
want() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# addresses: every listener is on loopback; nothing leaves 127.0.0.0/8
ORIGIN_HOST=127.77.0.1
declare -A HOST=([direct]=127.77.0.1 [nginx]=127.77.0.2 [haproxy]=127.77.0.3 [sourcemesh]=127.77.0.4 [sourcemeshb]=127.77.0.5 [floor]=127.77.0.6)
HTTP_PORT=8080
TCP_PORT=5201

# ---------------------------------------------------------------------------------------------
# prerequisites (installed from Debian the same way on any fresh machine)
install_prereqs() {
  local missing=()
  command -v nginx >/dev/null || missing+=(nginx)
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v iperf3 >/dev/null || missing+=(iperf3)
  command -v python3 >/dev/null || missing+=(python3)
  if ! find_stream_module >/dev/null; then missing+=(libnginx-mod-stream); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$INSTALL" = 1 ] || die "missing: ${missing[*]} (run without --no-install, or apt-get install them)"
  log "installing ${missing[*]} from Debian"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then command -v sudo >/dev/null && sudo=sudo || die "need root (or sudo) to install ${missing[*]}"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-stream haproxy wrk iperf3 python3 >/dev/null
}
find_stream_module() {
  local d
  for d in /usr/lib/nginx/modules /usr/share/nginx/modules /usr/lib64/nginx/modules; do
    [ -f "$d/ngx_stream_module.so" ] && { echo "load_module $d/ngx_stream_module.so;"; return 0; }
  done
  # built in statically?
  nginx -V 2>&1 | grep -qE -- '--with-stream( |$)' && { echo "# stream module built in"; return 0; }
  return 1
}

# ---------------------------------------------------------------------------------------------
# process bookkeeping: every process we start is recorded and ended by its PID on exit
PIDS=()
declare -A PID_OF=()
WORK=""
STARTUP_PIDFILE=""
IDLE_PID=""

pid_alive() { # running (a zombie left for us to reap does not count)
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
  local st; st=$(sed -E 's/.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

stop_pid() { # PID: TERM it and its descendants, wait, then KILL what is left
  local pid=$1 kids=() p i
  pid_alive "$pid" || return 0
  mapfile -t kids < <(python3 "$HERE/lib/bench.py" descendants "$pid" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    pid_alive "$pid" || break
    sleep 0.05
  done
  if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  for p in "${kids[@]}"; do pid_alive "$p" && kill -KILL "$p" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  [ -n "$IDLE_PID" ] && stop_pid "$IDLE_PID"
  if [ -n "$STARTUP_PIDFILE" ] && [ -s "$STARTUP_PIDFILE" ]; then stop_pid "$(cat "$STARTUP_PIDFILE")"; fi
  for (( i=${#PIDS[@]}-1; i>=0; i-- )); do stop_pid "${PIDS[$i]}"; done
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${KEEP_WORK:-0}" = 1 ] || [ $rc -ne 0 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_bg() { # NAME CMD...: start in background, remember the PID under NAME
  local name=$1; shift
  "$@" >>"$WORK/$name.log" 2>&1 </dev/null &
  local pid=$!
  PIDS+=("$pid"); PID_OF[$name]=$pid
}

stop_named() {
  local name=$1
  [ -n "${PID_OF[$name]:-}" ] || return 0
  stop_pid "${PID_OF[$name]}"
  unset "PID_OF[$name]"
}

wait_port() { # HOST PORT TIMEOUT_S [PID]: poll connect until it succeeds
  local host=$1 port=$2 timeout=$3 pid=${4:-} end
  end=$(( $(date +%s) + timeout ))
  while [ "$(date +%s)" -le "$end" ]; do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    if [ -n "$pid" ] && ! pid_alive "$pid"; then return 1; fi
    sleep 0.05
  done
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# target command lines
render() { # TEMPLATE -> rendered file in WORK
  local name; name=$(basename "$1")
  sed -e "s|@WORK@|$WORK|g" -e "s|@NOFILE@|$NOFILE|g" -e "s|@STREAM_MODULE@|$STREAM_LINE|g" \
    "$1" >"$WORK/$name"
  echo "$WORK/$name"
}
nginx_cmd() { local conf; conf=$(render "$HERE/conf/$1.conf"); mkdir -p "$WORK/origin-tmp" "$WORK/nginx-http-tmp"
  echo nginx -p "$WORK" -e "$WORK/$1.error.log" -c "$conf"; }
haproxy_cmd() { local conf; conf=$(render "$HERE/conf/$1.cfg"); echo haproxy -db -f "$conf"; }
# SourceMesh: one worker through both the env var and the Envoy-style flag
sm_cmd() { echo env SOURCEMESH_WORKERS=1 "$SOURCEMESH_BIN" proxy -c "$HERE/sourcemesh-$1.yaml" --concurrency 1 ${SOURCEMESH_ARGS:-}; }
# the second build: the same bootstrap, listening on its own address
smb_cmd() {
  sed -e "s|address: ${HOST[sourcemesh]}\$|address: ${HOST[sourcemeshb]}|" "$HERE/sourcemesh-$1.yaml" >"$WORK/sourcemeshb-$1.yaml"
  echo env SOURCEMESH_WORKERS=1 "$SOURCEMESH_BIN_B" proxy -c "$WORK/sourcemeshb-$1.yaml" --concurrency 1 ${SOURCEMESH_ARGS_B:-${SOURCEMESH_ARGS:-}}
}
is_sm() { [ "$1" = sourcemesh ] || [ "$1" = sourcemeshb ]; }
# the floor: a JVM too (its start timeout), and like SourceMesh left out of a run it fails in, not fatal
floor_cmd() { echo "$HERE/lib/floor.sh" --listen "${HOST[floor]}:$HTTP_PORT" --upstream "$ORIGIN_HOST:$HTTP_PORT" \
  --transport "${FLOOR_TRANSPORT:-io_uring}"; }
is_jvm() { is_sm "$1" || [ "$1" = floor ]; }

cmd_for() { # TARGET KIND(http|tcp)
  case "$1:$2" in
    nginx:http) nginx_cmd nginx-http ;;
    nginx:tcp) nginx_cmd nginx-tcp ;;
    haproxy:http) haproxy_cmd haproxy-http ;;
    haproxy:tcp) haproxy_cmd haproxy-tcp ;;
    sourcemesh:http) sm_cmd http ;;
    sourcemesh:tcp) sm_cmd tcp ;;
    sourcemeshb:http) smb_cmd http ;;
    sourcemeshb:tcp) smb_cmd tcp ;;
    floor:http) floor_cmd ;;
  esac
}

start_target() { # TARGET KIND: start, wait for its port; returns 1 if it did not come up
  local t=$1 kind=$2 port timeout=15 cmd
  port=$([ "$kind" = http ] && echo $HTTP_PORT || echo $TCP_PORT)
  is_jvm "$t" && timeout=${SOURCEMESH_START_TIMEOUT:-60}
  port_free "${HOST[$t]}" "$port" || die "${HOST[$t]}:$port is already in use (another bench running?)"
  read -r -a cmd <<<"$(cmd_for "$t" "$kind")"
  start_bg "$t-$kind" "${cmd[@]}"
  if ! wait_port "${HOST[$t]}" "$port" "$timeout" "${PID_OF[$t-$kind]}"; then
    log "$t ($kind) did not listen on ${HOST[$t]}:$port within ${timeout}s; last lines of its log:"
    tail -n 20 "$WORK/$t-$kind.log" >&2 || true
    stop_named "$t-$kind"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# setup
install_prereqs
STREAM_LINE=$(find_stream_module || true)
[ -n "$STREAM_LINE" ] || die "nginx has no stream module (apt-get install libnginx-mod-stream)"

HARD=$(ulimit -Hn)
if [ "$HARD" = unlimited ]; then ulimit -n 65536; else ulimit -n "$HARD"; fi
NOFILE=$(ulimit -n)
if [ $(( IDLE_N + 1000 )) -gt "$NOFILE" ]; then
  log "ulimit -n is $NOFILE: holding $(( NOFILE - 1000 )) idle connections instead of $IDLE_N"
  IDLE_N=$(( NOFILE - 1000 ))
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sourcemesh-bench.XXXXXX")
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR="$ROOT/bench-results"
mkdir -p "$RESULTS_DIR"
RAW="$RESULTS_DIR/$STAMP.raw.tsv"
WRKLOG="$RESULTS_DIR/$STAMP.log"
OUT="$RESULTS_DIR/$STAMP.md"
printf '# kind\tscenario\ttarget\tround\tvalues...\n' >"$RAW"
: >"$WRKLOG"

java_version=$( (java -version 2>&1 || true) | head -n1)
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  java_version="$java_version; JAVA_HOME: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
fi
MACHINE="nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); kernel $(uname -r); \
$(nginx -v 2>&1 | sed 's|nginx version: ||'); HAProxy $(haproxy -v 2>&1 | head -n1 | awk '{print $3}'); \
wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}'); iperf3 $(iperf3 -v 2>&1 | head -n1 | awk '{print $2}'); \
java: ${java_version:-none}; ulimit -n $NOFILE"
log "machine: $MACHINE"
log "duration ${DURATION}s, rounds $ROUNDS, warm-up ${WARMUP}s, idle connections $IDLE_N, only: $ONLY"

# which targets
TARGETS=(nginx haproxy)
SOURCEMESH_BIN=${SOURCEMESH_BIN:-$ROOT/sourcemesh}
NOTES=()
SM_OK=0
if [ -x "$SOURCEMESH_BIN" ] && [ -f "$SOURCEMESH_BIN" ]; then
  SM_OK=1; TARGETS+=(sourcemesh)
  log "SourceMesh: $SOURCEMESH_BIN"
else
  log "SourceMesh proxy not found at ${SOURCEMESH_BIN#"$ROOT"/} (not built yet?): benchmarking the peers only"
  NOTES+=("SourceMesh: not found (launcher missing or not built); peers only.")
fi
if [ "${FLOOR:-1}" != 0 ]; then
  if compgen -G "$ROOT/sourcemesh-bench-floor/target/sourcemesh-bench-floor-*.jar" >/dev/null; then
    TARGETS+=(floor)
    log "floor: a plain Netty 4.2 HTTP/1.1 proxy (${FLOOR_TRANSPORT:-io_uring}), HTTP and memory phases"
    NOTES+=("Netty floor: sourcemesh-bench-floor (Netty's HTTP codecs, a pooled upstream per loop, X-Forwarded-For; nothing else) on ${FLOOR_TRANSPORT:-io_uring} with the proxy's JVM flags, no AOT cache; HTTP and memory phases only.")
  else
    log "floor: not built (sourcemesh-bench-floor/target); left out"
  fi
fi
if [ -n "${SOURCEMESH_BIN_B:-}" ]; then
  if [ -x "$SOURCEMESH_BIN_B" ] && [ -f "$SOURCEMESH_BIN_B" ]; then
    TARGETS+=(sourcemeshb)
    log "SourceMesh B: $SOURCEMESH_BIN_B"
    NOTES+=("SourceMesh B: a second build (SOURCEMESH_BIN_B) in the same interleaved run, same bootstrap on ${HOST[sourcemeshb]}.")
  else
    die "SOURCEMESH_BIN_B is not an executable file: $SOURCEMESH_BIN_B"
  fi
fi
# Each SourceMesh build's AOT cache before anything is measured: the launcher otherwise makes it at its first proxy
# start, whatever the machine is doing, and a cache trained on a busy machine starts the request path colder (up to a
# tenth of the rate in BENCHMARKS.md, Session 36). Made after waiting for a quiet machine; a current cache is kept.
aot_cache() { # LAUNCHER LABEL
  local t0 t1
  wait_quiet
  t0=$(date +%s)
  if "$1" proxy --make-aot-cache >"$WORK/aot-$2.log" 2>&1; then
    t1=$(date +%s)
    if [ $((t1 - t0)) -gt 5 ]; then NOTES+=("$2: AOT cache made before the run ($((t1 - t0)) s)."); fi
  else
    log "$2: no AOT cache ($(tail -n 1 "$WORK/aot-$2.log")); its proxy starts without one"
    NOTES+=("$2: no AOT cache could be made; measured without one.")
  fi
}
drop_target() { # TARGET REASON: leave it out of the rest of the run
  local t=$1 kept=() x label=SourceMesh
  [ "$t" = sourcemeshb ] && label="SourceMesh B"
  [ "$t" = floor ] && label="Netty floor"
  for x in "${TARGETS[@]}"; do [ "$x" = "$t" ] || kept+=("$x"); done
  [ ${#kept[@]} -eq ${#TARGETS[@]} ] && return 0
  log "$label dropped from this run: $2"
  NOTES+=("$label: dropped — $2.")
  TARGETS=("${kept[@]}")
  [ "$t" = sourcemesh ] && SM_OK=0
  return 0
}

# ---------------------------------------------------------------------------------------------
# phases
if want http || want memory || want startup; then
  read -r -a ocmd <<<"$(nginx_cmd nginx-origin)"
  mkdir -p "$WORK/origin-tmp"
  port_free "$ORIGIN_HOST" "$HTTP_PORT" || die "$ORIGIN_HOST:$HTTP_PORT is already in use"
  start_bg origin "${ocmd[@]}"
  wait_port "$ORIGIN_HOST" "$HTTP_PORT" 15 "${PID_OF[origin]}" || { tail -n 20 "$WORK/origin.log" "$WORK/nginx-origin.error.log" >&2 || true; die "origin did not start"; }
  log "origin: $(python3 "$HERE/lib/bench.py" check "$ORIGIN_HOST" "$HTTP_PORT")"
fi

children_cpu() { # CPU seconds of this shell's reaped children so far (wrk and its like)
  times >"$WORK/times"
  CHILD_CPU=$(awk 'NR == 2 { s = 0; for (i = 1; i <= NF; i++) { f = $i; sub(/s$/, "", f); split(f, a, "m"); s += a[1] * 60 + a[2] } printf "%.3f", s }' "$WORK/times")
}

wait_quiet() { # with --wait-quiet S: before a measured run, wait up to S s for the machine to be idle
  [ "$WAIT_QUIET" -gt 0 ] 2>/dev/null || return 0
  local end=$(( $(date +%s) + WAIT_QUIET )) b
  while :; do
    b=$(python3 "$HERE/lib/bench.py" busy 1)
    awk -v b="$b" -v m="$MAX_BG" 'BEGIN { exit !(b <= m) }' && return 0
    if [ "$(date +%s)" -ge "$end" ]; then log "  machine still busy (${b} cores); measuring anyway"; return 0; fi
    log "  machine busy (${b} cores of other work); waiting"
    sleep 4
  done
}

if [ "$SM_OK" = 1 ]; then aot_cache "$SOURCEMESH_BIN" SourceMesh; fi
if [[ " ${TARGETS[*]} " == *" sourcemeshb "* ]]; then aot_cache "$SOURCEMESH_BIN_B" "SourceMesh B"; fi

scenario_args() { # SCENARIO -> SCEN_CONNS, SCEN_HDR: wrk's connections and headers for it
  SCEN_HDR=()
  case "$1" in
    ka1) SCEN_CONNS=1 ;; ka16) SCEN_CONNS=16 ;; ka64) SCEN_CONNS=64 ;;
    close16) SCEN_CONNS=16; SCEN_HDR=(-H "Connection: close") ;;
  esac
}

run_wrk() { # SCENARIO TARGET ROUND PID
  local scen=$1 t=$2 round=$3 pid=$4 conns hdr=() out line rps p50 p99 req err non2xx cpu bg
  local pids=("$pid") s0 s1 c0 c1
  LAST_ROW=""; LAST_BG=0
  [ "$t" != direct ] && pids+=("${PID_OF[origin]}")
  scenario_args "$scen"; conns=$SCEN_CONNS; hdr=("${SCEN_HDR[@]}")
  s0=$(python3 "$HERE/lib/bench.py" snap "${pids[@]}")
  children_cpu; c0=$CHILD_CPU
  out=$(wrk -t1 -c"$conns" -d"${DURATION}s" --latency -s "$HERE/lib/report.lua" "${hdr[@]}" \
    "http://${HOST[$t]}:$HTTP_PORT/" 2>&1) || true
  children_cpu; c1=$CHILD_CPU
  s1=$(python3 "$HERE/lib/bench.py" snap "${pids[@]}")
  printf '=== http %s %s round %s\n%s\n' "$scen" "$t" "$round" "$out" >>"$WRKLOG"
  line=$(grep '^BENCH ' <<<"$out" || true)
  if [ -z "$line" ]; then log "wrk gave no result for $t $scen: $(tail -n 3 <<<"$out" | tr '\n' ' ')"; return 0; fi
  rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
  p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
  req=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
  err=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
  non2xx=$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$line")
  # server CPU per request: the target's process tree (for direct: the origin's)
  # background: machine busy CPU minus target, origin and wrk, in cores, over the run
  read -r cpu bg < <(awk -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" -v r="$req" 'BEGIN {
    split(s0, a, " "); split(s1, b, " ")
    tgt = b[3] - a[3]; org = (length(b) > 3) ? b[4] - a[4] : 0
    other = (b[2] - a[2]) - tgt - org - (c1 - c0)
    if (other < 0) other = 0
    printf "%s %.2f\n", (r > 0 ? sprintf("%.1f", tgt * 1e6 / r) : "NA"), other / (b[1] - a[1]) }')
  LAST_BG=$bg
  LAST_ROW=$(printf 'http\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$scen" "$t" "$round" "$rps" "$p50" "$p99" "$err" "$non2xx" "$cpu" "$bg")
  log "http $scen $t r$round: $rps req/s, p50 ${p50}us, p99 ${p99}us, cpu ${cpu}us/req, errors $err/$non2xx, background ${bg} cores"
}

if want http; then
  log "== HTTP"
  ht=()
  for t in "${TARGETS[@]}"; do
    if start_target "$t" http; then
      chk=$(python3 "$HERE/lib/bench.py" check "${HOST[$t]}" "$HTTP_PORT") || {
        is_jvm "$t" && { drop_target "$t" "no 200 through it ($chk)"; stop_named "$t-http"; continue; }
        die "$t: no 200 through it ($chk)"; }
      log "$t: $chk"; ht+=("$t")
    elif is_jvm "$t"; then drop_target "$t" "did not start (HTTP)"
    else die "$t did not start"; fi
  done
  declare -A HPID=([direct]=${PID_OF[origin]})
  for t in "${ht[@]}"; do HPID[$t]=${PID_OF[$t-http]}; done
  order=(direct "${ht[@]}")
  for scen in ka1 ka16 ka64 close16; do
    # Each scenario's own warm-up, the same for every target: what the measured rounds run (its
    # connections, keep-alive or not) for WARMUP s, so no target's code path for it (the JVM's JIT
    # for a new connection per request) is still being compiled in the rounds.
    scenario_args "$scen"
    log "warm-up ${WARMUP}s of $scen per target"
    for t in "${order[@]}"; do
      wrk -t1 -c"$SCEN_CONNS" -d"${WARMUP}s" "${SCEN_HDR[@]}" "http://${HOST[$t]}:$HTTP_PORT/" >/dev/null 2>&1 || true
    done
    for round in $(seq 1 "$ROUNDS"); do
      for t in "${order[@]}"; do
        # a noisy run is run again; the attempt with the least background CPU is kept
        best_row=""; best_bg=""
        for attempt in $(seq 0 "$RETRIES"); do
          wait_quiet
          run_wrk "$scen" "$t" "$round" "${HPID[$t]}"
          sleep 0.5
          [ -n "$LAST_ROW" ] || continue
          if [ -z "$best_row" ] || awk -v b="$LAST_BG" -v m="$best_bg" 'BEGIN { exit !(b < m) }'; then
            best_row=$LAST_ROW; best_bg=$LAST_BG
          fi
          awk -v b="$best_bg" -v m="$MAX_BG" 'BEGIN { exit !(b <= m) }' && break
          if [ "$attempt" -lt "$RETRIES" ]; then
            log "  background CPU ${LAST_BG} > $MAX_BG cores: running it again"
            NOISY_RETRIES=$((NOISY_RETRIES + 1)); sleep 2
          fi
        done
        if [ -n "$best_row" ]; then
          printf '%s\n' "$best_row" >>"$RAW"
          if awk -v b="$best_bg" -v m="$MAX_BG" 'BEGIN { exit !(b > m) }'; then NOISY_KEPT=$((NOISY_KEPT + 1)); fi
        fi
      done
    done
  done
  for t in "${ht[@]}"; do stop_named "$t-http"; done
fi

if want tcp; then
  log "== Bulk TCP"
  port_free "$ORIGIN_HOST" "$TCP_PORT" || die "$ORIGIN_HOST:$TCP_PORT is already in use"
  start_bg iperf3-server iperf3 -s -B "$ORIGIN_HOST" -p "$TCP_PORT"
  wait_port "$ORIGIN_HOST" "$TCP_PORT" 10 "${PID_OF[iperf3-server]}" || die "iperf3 server did not start"
  sleep 0.3
  tt=()
  for t in "${TARGETS[@]}"; do
    [ "$t" = floor ] && continue # HTTP only
    if start_target "$t" tcp; then tt+=("$t")
    elif is_sm "$t"; then drop_target "$t" "did not start (TCP)"
    else die "$t (tcp) did not start"; fi
  done
  run_iperf() { # TARGET SECONDS -> prints GB/s or nothing
    local out
    out=$(iperf3 -c "${HOST[$1]}" -p "$TCP_PORT" -t "$2" -J 2>&1) || true
    printf '=== tcp %s %ss\n%s\n' "$1" "$2" "$out" >>"$WRKLOG"
    python3 -c 'import json,sys
try:
    d=json.loads(sys.stdin.read()); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/8e9))
except Exception: pass' <<<"$out"
  }
  for t in direct "${tt[@]}"; do run_iperf "$t" 1 >/dev/null; sleep 0.5; done   # warm-up
  for round in $(seq 1 "$ROUNDS"); do
    for t in direct "${tt[@]}"; do
      wait_quiet
      g=$(run_iperf "$t" "$DURATION")
      if [ -n "$g" ]; then
        printf 'tcp\t-\t%s\t%s\t%s\n' "$t" "$round" "$g" >>"$RAW"
        log "tcp $t r$round: $g GB/s"
      else
        log "tcp $t r$round: iperf3 failed (see the log)"
        [ "$t" = sourcemesh ] && NOTES+=("SourceMesh: iperf3 through tcp_proxy failed in round $round.")
        [ "$t" = sourcemeshb ] && NOTES+=("SourceMesh B: iperf3 through tcp_proxy failed in round $round.")
      fi
      sleep 0.5
    done
  done
  for t in "${tt[@]}"; do stop_named "$t-tcp"; done
  stop_named iperf3-server
fi

if want memory; then
  log "== Memory, $IDLE_N idle keep-alive connections"
  for t in "${TARGETS[@]}"; do
    start_target "$t" http || { is_jvm "$t" && { drop_target "$t" "did not start (memory)"; continue; }; die "$t did not start"; }
    pid=${PID_OF[$t-http]}
    python3 "$HERE/lib/bench.py" check "${HOST[$t]}" "$HTTP_PORT" >/dev/null || log "$t: first request failed"
    sleep 1
    read -r base _ < <(python3 "$HERE/lib/bench.py" stat "$pid")
    # and once settled: past a JVM's start-up and the launcher's 5 s native-heap trim, as footprint.sh reads it
    sleep 6
    read -r settled _ < <(python3 "$HERE/lib/bench.py" stat "$pid")
    : >"$WORK/idle.out"
    python3 "$HERE/lib/bench.py" idle --host "${HOST[$t]}" --port "$HTTP_PORT" -n "$IDLE_N" \
      >"$WORK/idle.out" 2>>"$WORK/idle.err" </dev/null &
    IDLE_PID=$!
    ok=0; failed=0
    for i in $(seq 1 1200); do
      if grep -q '^READY' "$WORK/idle.out"; then break; fi
      pid_alive "$IDLE_PID" || break
      sleep 0.1
    done
    if grep -q '^READY' "$WORK/idle.out"; then
      ok=$(sed -nE 's/^READY ok=([0-9]+).*/\1/p' "$WORK/idle.out")
      failed=$(sed -nE 's/^READY .*failed=([0-9]+).*/\1/p' "$WORK/idle.out")
      sleep 2
      read -r loaded _ < <(python3 "$HERE/lib/bench.py" stat "$pid")
      printf 'mem\t-\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$IDLE_N" "$base" "$loaded" "$ok" "$failed" "$settled" >>"$RAW"
      log "memory $t: idle ${base} kB (${settled} kB at 7 s), with $ok connections ${loaded} kB ($failed failed)"
    else
      log "memory $t: the idle client did not finish: $(tail -n 3 "$WORK/idle.err" 2>/dev/null | tr '\n' ' ')"
    fi
    stop_pid "$IDLE_PID"; IDLE_PID=""
    stop_named "$t-http"
    sleep 0.5
  done
fi

if want startup; then
  log "== Start-up, $STARTUP_ROUNDS rounds"
  STARTUP_PIDFILE="$WORK/startup.pid"
  for round in $(seq 1 "$STARTUP_ROUNDS"); do
    for t in "${TARGETS[@]}"; do
      [ "$t" = floor ] && continue # its start-up is not what it is for (no AOT cache)
      read -r -a cmd <<<"$(cmd_for "$t" http)"
      port_free "${HOST[$t]}" "$HTTP_PORT" || die "${HOST[$t]}:$HTTP_PORT still in use"
      to=15; is_sm "$t" && to=${SOURCEMESH_START_TIMEOUT:-60}
      : >"$STARTUP_PIDFILE"
      res=$(python3 "$HERE/lib/bench.py" startup --host "${HOST[$t]}" --port "$HTTP_PORT" --http \
        --timeout "$to" --pidfile "$STARTUP_PIDFILE" --log "$WORK/$t-startup.log" -- "${cmd[@]}") || true
      # the helper stops what it started; make sure, by PID
      [ -s "$STARTUP_PIDFILE" ] && stop_pid "$(cat "$STARTUP_PIDFILE")"
      c=$(sed -nE 's/.*connect_ms=([0-9.NA]+).*/\1/p' <<<"$res"); h=$(sed -nE 's/.*http_ms=([0-9.NA]+).*/\1/p' <<<"$res")
      if is_sm "$t" && [ "${c:-NA}" = NA ]; then
        log "$t did not listen within ${to}s; last lines of its log:"
        tail -n 20 "$WORK/$t-startup.log" >&2 || true
        drop_target "$t" "did not start (start-up)"; continue
      fi
      printf 'startup\t-\t%s\t%s\t%s\t%s\n' "$t" "$round" "${c:-NA}" "${h:-NA}" >>"$RAW"
      log "startup $t r$round: connect ${c:-NA} ms, first 200 ${h:-NA} ms"
      sleep 0.3
    done
  done
fi

# ---------------------------------------------------------------------------------------------
# report
args=(--raw "$RAW" --machine "$MACHINE" --out "$OUT" --stamp "$STAMP" --max-bg "$MAX_BG")
if want http; then
  NOTES+=("Background load: an HTTP run during which other processes used more than $MAX_BG cores was run again (up to $RETRIES times, keeping the quietest attempt); retries: $NOISY_RETRIES; runs kept although still noisy: $NOISY_KEPT.")
fi
NOTES+=("Settings: ${DURATION}s runs, $ROUNDS round(s) interleaved, ${WARMUP}s warm-up per scenario and target (the scenario's own connections and headers); wrk -t1; 1 worker/thread per proxy; all on loopback.")
for n in "${NOTES[@]}"; do args+=(--note "$n"); done
echo
python3 "$HERE/lib/bench.py" report "${args[@]}"
echo
log "written: bench-results/$STAMP.md (raw: $STAMP.raw.tsv, wrk/iperf3 output: $STAMP.log)"
