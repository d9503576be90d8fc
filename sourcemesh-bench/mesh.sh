#!/usr/bin/env bash
# Mesh benchmark, Istio's way: client pod -> server pod through two sidecars with the netns
# runtime's real interception (istio-iptables REDIRECT or TPROXY), against the same path without
# sidecars and through two HAProxy hops. Root only; everything runs inside two network namespaces
# this script creates (and removes on exit). See sourcemesh-bench/README.md, "Mesh benchmark".
#
#   sourcemesh-bench/mesh.sh [--quick] [--duration S] [--rounds N] [--rate R] [--conns C]
#                            [--modes "none redirect tproxy haproxy"] [--only fixed|max]
#                            (one hop at a time: redirect-client redirect-server haproxy-client haproxy-server)
#                            [--access-log] [--dry-run]
#
# Environment:
#   SOURCEMESH_BIN   the launcher the sidecars run (default: <repo root>/sourcemesh)
#   KEEP_WORK=1      keep the work directory (rendered configs, every process's log)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

DURATION=15; ROUNDS=3; RATE=1000; CONNS=16; WARMUP=10; ONLY=all; ACCESS_LOG=0; DRY=0; QUICK=0
MODES="none redirect tproxy haproxy"
DURATION_SET=""; ROUNDS_SET=""
usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --duration) DURATION_SET=${2:?--duration needs seconds}; shift ;;
    --rounds) ROUNDS_SET=${2:?--rounds needs a number}; shift ;;
    --rate) RATE=${2:?--rate needs requests per second}; shift ;;
    --conns) CONNS=${2:?--conns needs a number}; shift ;;
    --modes) MODES=${2:?--modes needs a list}; shift ;;
    --only) ONLY=${2:?--only needs fixed|max}; shift ;;
    --access-log) ACCESS_LOG=1 ;;
    --dry-run) DRY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mesh.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then DURATION=5; ROUNDS=1; WARMUP=3; fi
[ -n "$DURATION_SET" ] && DURATION=$DURATION_SET
[ -n "$ROUNDS_SET" ] && ROUNDS=$ROUNDS_SET
for v in "$DURATION" "$ROUNDS" "$RATE" "$CONNS"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "mesh.sh: not a positive integer: $v" >&2; exit 2; }
done
case "$ONLY" in all|fixed|max) ;; *) echo "mesh.sh: --only takes fixed or max, not $ONLY" >&2; exit 2 ;; esac
for m in $MODES; do
  case "$m" in none|redirect|tproxy|haproxy|redirect-client|redirect-server|haproxy-client|haproxy-server) ;;
    *) echo "mesh.sh: unknown mode $m (none redirect tproxy haproxy redirect-client redirect-server haproxy-client haproxy-server)" >&2; exit 2 ;;
  esac
done
want() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }

log() { printf '[mesh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The two "pods": a namespace each, joined by one veth pair. Names carry this script's PID so two
# runs (or a cluster's own pods) never meet.
NS_C="smb$$-client"; NS_S="smb$$-server"
VETH_C="smb$$c"; VETH_S="smb$$s"
CLIENT_IP=10.213.0.1; SERVER_IP=10.213.0.2; APP_PORT=8000
PROXY_UID=1337

# ---------------------------------------------------------------------------------------------
# --dry-run: the steps, in order, without doing any
steps() {
  cat <<EOF
1. check: root; ip, iptables-restore, setpriv, nginx, haproxy, wrk, gcc, python3, java 25; the SourceMesh CLI built;
   compile lib/rate.c
2. create namespaces $NS_C ($CLIENT_IP) and $NS_S ($SERVER_IP) joined by veth $VETH_C/$VETH_S; lo up in both
3. start the app in $NS_S: nginx, 1 worker, 0.0.0.0:$APP_PORT, 200 with a 1 KB body and X-Remote-Addr: \$remote_addr
4. for round in 1..$ROUNDS, for mode in: $MODES
   none:     no rules, no proxies (the baseline)
   redirect: the runtime's istio-iptables REDIRECT rules (netns.IstioIptables) in both namespaces;
             a SourceMesh sidecar (uid $PROXY_UID, CAP_NET_ADMIN+CAP_NET_RAW, --concurrency 1) in each
   tproxy:   the runtime's TPROXY rules and route table in both namespaces; the sidecars in TPROXY mode
   haproxy:  the REDIRECT rules; HAProxy (uid $PROXY_UID, nbthread 1) on 15001 in $NS_C and 15006 in $NS_S
   redirect-client, haproxy-client: one hop, the client's (rules and proxy in $NS_C only);
   redirect-server, haproxy-server: one hop, the server's (rules and proxy in $NS_S only)
   a. check one request from $NS_C: 200, through the proxies, and the address the app saw
      (none, tproxy and the client hops alone: $CLIENT_IP; redirect, haproxy and the server hops: 127.0.0.6)
   b. warm up ${WARMUP} s (wrk, $CONNS connections)
   c. max: wrk -t1 -c$CONNS for $DURATION s
   d. fixed rate: lib/rate.c, $RATE req/s on $CONNS connections for $DURATION s (+1 s not counted; latency from each
      request's scheduled start)
   e. each proxy's CPU (utime+stime from /proc/PID/stat over the run) and RSS; the load average
   f. stop the proxies (by PID), flush the rules
5. report: medians over rounds; latency added over "none"; vCPU and MB per sidecar per 1,000 req/s
6. on exit (also on failure): stop every process started (by PID), delete both namespaces
EOF
}
sidecar_conf() { # sidecar_conf POD POD_IP MODE > file
  local keep_tproxy=$([ "$3" = TPROXY ] && echo 1 || echo 0)
  sed -e "s/@POD@/$1/g; s/@POD_IP@/$2/g; s/@MODE@/$3/g; s/@SERVER_IP@/$SERVER_IP/g; s/@CLIENT_IP@/$CLIENT_IP/g" \
    "$HERE/conf/mesh-sidecar.yaml" \
    | { if [ "$keep_tproxy" = 1 ]; then cat; else sed '/#@tproxy/d'; fi; } \
    | { if [ "$ACCESS_LOG" = 1 ]; then cat; else sed '/#@log/d'; fi; }
}
if [ "$DRY" = 1 ]; then
  # Not only a listing: the sidecar bootstraps of both modes must pass the proxy's own validation,
  # and the runtime's rules must print, or the real run would fail later, as root.
  steps
  # shellcheck disable=SC1091
  . "$ROOT/.ci/java-env"
  DRY_DIR=$(mktemp -d -t sourcemesh-mesh-dry.XXXXXX)
  trap 'rm -rf "$DRY_DIR"' EXIT
  for mode in REDIRECT TPROXY; do
    for pod in client server; do
      if [ $pod = client ]; then ip=$CLIENT_IP; else ip=$SERVER_IP; fi
      sidecar_conf "$pod" "$ip" "$mode" >"$DRY_DIR/$pod-$mode.yaml"
      "${SOURCEMESH_BIN:-$ROOT/sourcemesh}" proxy --mode validate -c "$DRY_DIR/$pod-$mode.yaml" >/dev/null 2>"$DRY_DIR/err" \
        || { cat "$DRY_DIR/err" >&2; echo "mesh.sh: the $pod sidecar's $mode bootstrap is refused" >&2; exit 1; }
    done
  done
  for m in redirect tproxy; do
    java -cp "$ROOT/sourcemesh-cluster/target/classes" "$HERE/lib/MeshRules.java" "$m" iptables | grep -q ISTIO_OUTPUT \
      || { echo "mesh.sh: no $m rules from netns.IstioIptables (is sourcemesh-cluster compiled?)" >&2; exit 1; }
  done
  echo "dry run: the sidecar bootstraps (REDIRECT, TPROXY; client, server) pass 'sourcemesh proxy --mode validate'; the runtime's rules print"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# prerequisites
[ "$(id -u)" = 0 ] || die "mesh.sh needs root (network namespaces and iptables)"
for t in ip iptables-restore setpriv nginx haproxy wrk gcc python3; do
  command -v "$t" >/dev/null || die "missing $t (Debian: apt-get install iproute2 iptables util-linux nginx haproxy wrk gcc python3)"
done
# shellcheck disable=SC1091
. "$ROOT/.ci/java-env"
SM_BIN=${SOURCEMESH_BIN:-$ROOT/sourcemesh}
ls "$ROOT"/sourcemesh-cli/target/sourcemesh-cli-*.jar >/dev/null 2>&1 || [ -n "${SOURCEMESH_BIN:-}" ] \
  || die "the SourceMesh CLI is not built: ./mvnw -DskipTests package"
[ -d "$ROOT/sourcemesh-cluster/target/classes/io/sourcemesh/cluster/netns" ] \
  || die "sourcemesh-cluster is not compiled (its netns.IstioIptables gives the rules): ./mvnw -DskipTests package"
BENCH_PY="$HERE/lib/bench.py"

# ---------------------------------------------------------------------------------------------
# cleanup: only what this script made, by PID and by name
WORK=$(mktemp -d -t sourcemesh-mesh.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$?
  set +e
  for p in "${PIDS[@]}"; do stop_tree "$p"; done
  ip netns del "$NS_C" 2>/dev/null
  ip netns del "$NS_S" 2>/dev/null
  if [ "$rc" != 0 ] || [ -n "${KEEP_WORK:-}" ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
gcc -O2 -Wall -o "$WORK/rate" "$HERE/lib/rate.c" || die "lib/rate.c does not compile"
mkdir "$WORK/requests"

forget_pid() { local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }
stop_tree() { # stop_tree PID: SIGTERM to it and its descendants, SIGKILL to those left after 10 s
  local pids t
  [ -d "/proc/$1" ] || return 0
  pids="$1 $(python3 "$BENCH_PY" descendants "$1" 2>/dev/null | tr '\n' ' ')"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for t in $(seq 1 100); do
    local alive=""
    for q in $pids; do [ -d "/proc/$q" ] && ! grep -q '^State:.*Z' "/proc/$q/status" 2>/dev/null && alive+="$q "; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  [ -z "$alive" ] || kill -KILL $alive 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
stop_pid() { stop_tree "$1"; forget_pid "$1"; }
in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# ---------------------------------------------------------------------------------------------
# the two namespaces
log "namespaces $NS_C and $NS_S"
ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S"
ip -n "$NS_C" addr add "$CLIENT_IP/24" dev "$VETH_C"
ip -n "$NS_S" addr add "$SERVER_IP/24" dev "$VETH_S"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set "$VETH_C" up
ip -n "$NS_S" link set "$VETH_S" up

# the runtime's own rules, from its class
for m in redirect tproxy; do
  java -cp "$ROOT/sourcemesh-cluster/target/classes" "$HERE/lib/MeshRules.java" "$m" iptables >"$WORK/rules-$m.txt"
  java -cp "$ROOT/sourcemesh-cluster/target/classes" "$HERE/lib/MeshRules.java" "$m" routes >"$WORK/routes-$m.txt"
done

# ---------------------------------------------------------------------------------------------
# the app: nginx in the server namespace, 1 KB body (Istio's load test payload)
BODY=$(python3 -c 'print("x" * 1024, end="")')
mkdir -p "$WORK/app-tmp"
cat >"$WORK/app.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/app.pid;
error_log $WORK/app.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/app-tmp/body;
    proxy_temp_path $WORK/app-tmp/proxy;
    fastcgi_temp_path $WORK/app-tmp/fastcgi;
    uwsgi_temp_path $WORK/app-tmp/uwsgi;
    scgi_temp_path $WORK/app-tmp/scgi;
    server {
        listen 0.0.0.0:$APP_PORT backlog=4096;
        location / {
            default_type text/plain;
            add_header X-Remote-Addr \$remote_addr always;
            return 200 '$BODY';
        }
    }
}
EOF
ip netns exec "$NS_S" nginx -c "$WORK/app.conf" -e "$WORK/app.error.log" >"$WORK/app.log" 2>&1 &
APP_PID=$!; PIDS+=("$APP_PID")

wait_200() { # wait_200 SECONDS: a request from the client namespace answers 200; prints the response headers
  local deadline=$((SECONDS + $1)) out
  while [ $SECONDS -lt $deadline ]; do
    if out=$(in_c curl -s -m 2 -D - -o /dev/null "http://$SERVER_IP:$APP_PORT/" 2>/dev/null) && [[ "$out" == "HTTP/1.1 200"* ]]; then
      printf '%s\n' "$out"; return 0
    fi
    sleep 0.2
  done
  return 1
}
wait_200 20 >/dev/null || die "the app does not answer in $NS_S (see $WORK/app.error.log)"

# ---------------------------------------------------------------------------------------------
# modes
PROXY_PIDS=()
pod_ns() { if [ "$1" = client ]; then echo "$NS_C"; else echo "$NS_S"; fi; }
rules_on() { # rules_on redirect|tproxy POD...: the rules in those pods' namespaces
  local pod ns m=$1; shift
  for pod in "$@"; do
    ns=$(pod_ns "$pod")
    ip netns exec "$ns" iptables-restore <"$WORK/rules-$m.txt"
    if [ -s "$WORK/routes-$m.txt" ]; then ip -n "$ns" -batch - <"$WORK/routes-$m.txt"; fi
  done
}
rules_off() {
  local ns t
  for ns in "$NS_C" "$NS_S"; do
    for t in nat mangle; do ip netns exec "$ns" iptables -t "$t" -F; ip netns exec "$ns" iptables -t "$t" -X; done
    ip -n "$ns" rule del fwmark 1337 lookup 133 2>/dev/null || true
    ip -n "$ns" route flush table 133 2>/dev/null || true
  done
}
as_proxy() { # as_proxy NS CMD... &: uid/gid 1337 with CAP_NET_ADMIN+CAP_NET_RAW, as the runtime's ProxyProcess
  local ns=$1; shift
  # exec: the background subshell becomes the proxy, so its PID's tree (CPU, RSS) is the proxy alone
  exec ip netns exec "$ns" setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups \
    --inh-caps +net_admin,+net_raw --ambient-caps +net_admin,+net_raw "$@"
}
start_sidecars() { # start_sidecars REDIRECT|TPROXY POD...
  local pod ns ip p mode=$1; shift
  for pod in "$@"; do
    ns=$(pod_ns "$pod"); if [ "$pod" = client ]; then ip=$CLIENT_IP; else ip=$SERVER_IP; fi
    sidecar_conf "$pod" "$ip" "$mode" >"$WORK/sidecar-$pod.yaml"
    chmod 644 "$WORK/sidecar-$pod.yaml"
    # The JVM settings the runtime gives a sidecar (netns.ProxyProcess).
    SOURCEMESH_JAVA_OPTS="-XX:-UsePerfData -XX:+UseSerialGC -Xmx128m -XX:+UseCompactObjectHeaders -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:TrimNativeHeapInterval=5000 -Dio.netty.jfr.enabled=false ${SOURCEMESH_JAVA_OPTS:-}" \
      as_proxy "$ns" "$SM_BIN" proxy -c "$WORK/sidecar-$pod.yaml" --concurrency 1 >"$WORK/sidecar-$pod-$mode.log" 2>&1 &
    p=$!; PIDS+=("$p"); PROXY_PIDS+=("$p")
  done
  for pod in "$@"; do
    ns=$(pod_ns "$pod")
    local deadline=$((SECONDS + 90))
    until ip netns exec "$ns" curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:15000/ready 2>/dev/null | grep -q 200; do
      [ $SECONDS -lt $deadline ] || die "the $pod sidecar is not ready after 90 s (see $WORK/sidecar-$pod-$mode.log)"
      sleep 0.2
    done
  done
}
start_haproxy() { # start_haproxy POD...: the outbound hop in the client's namespace, the inbound in the server's
  cat >"$WORK/haproxy-out.cfg" <<EOF
global
    nbthread 1
    maxconn 4000
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 120s
frontend outbound
    bind 0.0.0.0:15001
    default_backend server
backend server
    server app $SERVER_IP:$APP_PORT
EOF
  sed -e 's/outbound/inbound/; s/15001/15006/; s/^backend server/backend app/; s/default_backend server/default_backend app/' \
    -e "s/server app $SERVER_IP:$APP_PORT/server app $SERVER_IP:$APP_PORT source 127.0.0.6/" \
    "$WORK/haproxy-out.cfg" >"$WORK/haproxy-in.cfg"
  chmod 644 "$WORK"/haproxy-*.cfg
  local pod cfg p
  for pod in "$@"; do
    if [ "$pod" = client ]; then cfg=out; else cfg=in; fi
    as_proxy "$(pod_ns "$pod")" haproxy -db -f "$WORK/haproxy-$cfg.cfg" >"$WORK/haproxy-$cfg.log" 2>&1 &
    p=$!; PIDS+=("$p"); PROXY_PIDS+=("$p")
  done
}
mode_up() {
  PROXY_PIDS=()
  case "$1" in
    none) ;;
    redirect) rules_on redirect client server; start_sidecars REDIRECT client server ;;
    tproxy) rules_on tproxy client server; start_sidecars TPROXY client server ;;
    haproxy) rules_on redirect client server; start_haproxy client server ;;
    redirect-*) rules_on redirect "${1#*-}"; start_sidecars REDIRECT "${1#*-}" ;;
    haproxy-*) rules_on redirect "${1#*-}"; start_haproxy "${1#*-}" ;;
  esac
}
mode_down() {
  local p
  for p in "${PROXY_PIDS[@]}"; do stop_pid "$p"; done
  PROXY_PIDS=()
  rules_off
}
check_path() { # check_path MODE: one request; it went through the proxies and the app saw the expected peer
  local want through headers seen
  case "$1" in none|tproxy|*-client) want=$CLIENT_IP ;; *) want=127.0.0.6 ;; esac
  headers=$(wait_200 60) || die "$1: no 200 from the client namespace"
  seen=$(printf '%s\n' "$headers" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-remote-addr"{print $2}')
  [ "$seen" = "$want" ] || die "$1: the app saw $seen, expected $want"
  through=$(printf '%s\n' "$headers" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-envoy-upstream-service-time"{print "envoy"}')
  case "$1" in
    redirect*|tproxy) [ "$through" = envoy ] || die "$1: the response did not cross the sidecars (no x-envoy-upstream-service-time)" ;;
    none|haproxy*) [ -z "$through" ] || die "$1: unexpected x-envoy-upstream-service-time" ;;
  esac
  log "$1: path checked (app saw $seen)"
}

# ---------------------------------------------------------------------------------------------
# measurement
RAW="$WORK/raw.tsv"
printf 'round\tmode\tkind\trps\tp50_us\tp90_us\tp99_us\terrors\tproxy_cpu_s\tproxy_rss_kb\twall_s\tload1\tsent\tsvc_p50_us\tsvc_p90_us\tsvc_p99_us\tlate_p99_us\n' >"$RAW"
proxy_snap() { # cpu seconds and rss kb of each proxy, "cpu,rss cpu,rss"
  local p out=""
  for p in "${PROXY_PIDS[@]}"; do out+="$(python3 "$BENCH_PY" stat "$p" | awk '{print $2","$1}') "; done
  echo "$out"
}
cpu_delta() { # cpu_delta "before" "after" -> "c1;c2" seconds, and rss from after "r1;r2"
  python3 - "$1" "$2" <<'EOF'
import sys
b = [x.split(",") for x in sys.argv[1].split()]
a = [x.split(",") for x in sys.argv[2].split()]
print(";".join(f"{float(y[0]) - float(x[0]):.3f}" for x, y in zip(b, a)) or "-", ";".join(y[1] for y in a) or "-")
EOF
}
row() { printf '%s\n' "$*" | tr ' ' '\t' >>"$RAW"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

run_fixed() { # run_fixed ROUND MODE
  local before after t0 t1 out d
  before=$(proxy_snap); t0=$(date +%s.%N)
  out=$(in_c "$WORK/rate" "$SERVER_IP" "$APP_PORT" --rate "$RATE" --conns "$CONNS" --duration "$DURATION" --warmup 1 \
    --dump "$WORK/requests/$2-round$1.tsv") \
    || log "$2 fixed: rate reported errors: $out"
  t1=$(date +%s.%N); after=$(proxy_snap)
  echo "$2 fixed round $1: $out" >>"$WORK/runs.log"
  read -r cpu rss < <(cpu_delta "$before" "$after")
  # the row's two parts from rate's JSON: before and after the run's own columns
  IFS='|' read -r d s < <(python3 -c "import json,sys; r=json.loads(sys.argv[1]); k=lambda *n: ' '.join(str(r[x]) for x in n)
print(k('rate', 'lat_p50_us', 'lat_p90_us', 'lat_p99_us', 'errors'), k('sent', 'svc_p50_us', 'svc_p90_us', 'svc_p99_us', 'late_p99_us'), sep='|')" "$out")
  # shellcheck disable=SC2086
  row "$1" "$2" fixed $d "$cpu" "$rss" "$(python3 -c "print(f'{$t1-$t0:.2f}')")" "$(load1)" $s
}
run_max() { # run_max ROUND MODE
  local before after t0 t1 out bench
  before=$(proxy_snap); t0=$(date +%s.%N)
  out=$(in_c wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$HERE/lib/mesh.lua" "http://$SERVER_IP:$APP_PORT/")
  t1=$(date +%s.%N); after=$(proxy_snap)
  printf '%s max round %s:\n%s\n' "$2" "$1" "$out" >>"$WORK/runs.log"
  bench=$(printf '%s\n' "$out" | awk '/^BENCH /{print $2, $3, $4, $5, $6}')
  [ -n "$bench" ] || die "$2 max: no wrk result (see $WORK/runs.log)"
  read -r cpu rss < <(cpu_delta "$before" "$after")
  # shellcheck disable=SC2086
  row "$1" "$2" max $bench "$cpu" "$rss" "$(python3 -c "print(f'{$t1-$t0:.2f}')")" "$(load1)" - - - - -
}

log "rounds: $ROUNDS; modes: $MODES; $DURATION s per point; $RATE req/s fixed and max; $CONNS connections; load $(load1)"
for r in $(seq 1 "$ROUNDS"); do
  for m in $MODES; do
    mode_up "$m"
    check_path "$m"
    in_c wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://$SERVER_IP:$APP_PORT/" >/dev/null
    # max before fixed: the sidecars' JIT is warm (as a long-running sidecar's is) when the fixed rate is measured
    want max && run_max "$r" "$m"
    want fixed && run_fixed "$r" "$m"
    mode_down
    log "round $r $m done (load $(load1))"
  done
done

# ---------------------------------------------------------------------------------------------
# report
mkdir -p "$ROOT/bench-results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
cp "$RAW" "$ROOT/bench-results/$STAMP-mesh.raw.tsv"
cp "$WORK/runs.log" "$ROOT/bench-results/$STAMP-mesh.log"
cp -r "$WORK/requests" "$ROOT/bench-results/$STAMP-mesh.requests"
python3 "$HERE/lib/meshreport.py" "$RAW" --rate "$RATE" --conns "$CONNS" --duration "$DURATION" --rounds "$ROUNDS" \
  --access-log "$ACCESS_LOG" | tee "$ROOT/bench-results/$STAMP-mesh.md"
log "written: bench-results/$STAMP-mesh.md (+ .raw.tsv, .log, .requests/)"
