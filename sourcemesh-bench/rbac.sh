#!/usr/bin/env bash
# What an RBAC decision costs: one SourceMesh proxy (one worker) with three listeners — no RBAC,
# an RBAC ALLOW that matches (evaluated, then forwarded), an RBAC DENY that matches (403, no
# upstream) — each loaded with wrk in interleaved rounds. Prints req/s, p99 and the proxy's CPU per
# request for each, and the ratios to the no-RBAC baseline. All on loopback (127.77.0.0/24).
#
#   sourcemesh-bench/rbac.sh [--duration S] [--rounds N] [--conns C]
#
# Environment: SOURCEMESH_BIN (default: <repo root>/sourcemesh), KEEP_WORK=1 keeps the work dir.
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))
DURATION=10; ROUNDS=3; CONNS=16
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --conns) CONNS=${2:?}; shift ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rbac.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
for v in "$DURATION" "$ROUNDS" "$CONNS"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "rbac.sh: not a positive integer: $v" >&2; exit 2; }; done
log() { printf '[rbac-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in nginx wrk python3; do command -v "$tool" >/dev/null || { log "missing $tool (sourcemesh-bench/run.sh installs it)"; exit 1; }; done
SOURCEMESH_BIN=${SOURCEMESH_BIN:-$ROOT/sourcemesh}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sourcemesh-rbac-bench.XXXXXX")
PIDS=()
cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do
    for k in $(python3 "$HERE/lib/bench.py" descendants "$p" 2>/dev/null) "$p"; do kill -TERM "$k" 2>/dev/null || true; done
  done
  wait 2>/dev/null || true
  if [ "${KEEP_WORK:-0}" = 1 ] || [ $rc -ne 0 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
wait_port() { local end=$(( $(date +%s) + $3 )); while [ "$(date +%s)" -le "$end" ]; do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# the origin: run.sh's nginx, 1 worker, `return 200`
mkdir -p "$WORK/origin-tmp"
sed -e "s|@WORK@|$WORK|g" -e "s|@NOFILE@|$(ulimit -n)|g" "$HERE/conf/nginx-origin.conf" >"$WORK/nginx-origin.conf"
nginx -p "$WORK" -e "$WORK/origin.error.log" -c "$WORK/nginx-origin.conf" >"$WORK/origin.log" 2>&1 &
PIDS+=($!)
wait_port 127.77.0.1 8080 15 || { log "origin did not start"; exit 1; }
env SOURCEMESH_WORKERS=1 "$SOURCEMESH_BIN" proxy -c "$HERE/sourcemesh-rbac.yaml" --concurrency 1 >"$WORK/sourcemesh.log" 2>&1 &
SM=$!; PIDS+=($SM)
for port in 8081 8082 8083; do wait_port 127.77.0.4 $port 60 || { log "SourceMesh did not listen on $port"; tail "$WORK/sourcemesh.log" >&2; exit 1; }; done
for port in 8081 8082 8083; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.77.0.4:$port/")
  want=$([ $port = 8083 ] && echo 403 || echo 200)
  [ "$code" = "$want" ] || { log "listener $port answered $code, expected $want"; exit 1; }
done
log "machine: nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg); ${DURATION}s x $ROUNDS rounds, $CONNS keep-alive connections"

declare -A NAME=([8081]=forward [8082]=allowed [8083]=denied)
RAW="$WORK/raw.tsv"; : >"$RAW"
for round in $(seq 1 "$ROUNDS"); do
  for port in 8081 8082 8083; do
    wrk -t1 -c"$CONNS" -d2s "http://127.77.0.4:$port/" >/dev/null 2>&1 || true   # warm-up
    s0=$(python3 "$HERE/lib/bench.py" snap "$SM")
    out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$HERE/lib/report.lua" "http://127.77.0.4:$port/" 2>&1) || true
    s1=$(python3 "$HERE/lib/bench.py" snap "$SM")
    line=$(grep '^BENCH ' <<<"$out" || true)
    [ -n "$line" ] || { log "wrk gave no result on $port"; continue; }
    rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line"); p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
    req=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line"); err=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
    cpu=$(awk -v s0="$s0" -v s1="$s1" -v r="$req" 'BEGIN { split(s0, a, " "); split(s1, b, " "); printf "%.1f", (b[3] - a[3]) * 1e6 / r }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${NAME[$port]}" "$round" "$rps" "$p99" "$cpu" "$err" >>"$RAW"
    log "${NAME[$port]} r$round: $rps req/s, p99 ${p99}us, cpu ${cpu}us/req, socket errors $err"
  done
done
# medians per case, and the ratios to the forwarded baseline
python3 - "$RAW" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = {}
for case in ("forward", "allowed", "denied"):
    rs = [r for r in rows if r[0] == case]
    med[case] = tuple(statistics.median(float(r[i]) for r in rs) for i in (2, 3, 4))
print("| case | req/s | p99 µs | proxy CPU µs/req | req/s vs forward | CPU/req vs forward |")
print("|---|---|---|---|---|---|")
b = med["forward"]
for case, label in (("forward", "no RBAC, forwarded"), ("allowed", "RBAC ALLOW matched, forwarded"), ("denied", "RBAC DENY matched, 403")):
    m = med[case]
    print(f"| {label} | {m[0]:.0f} | {m[1]:.0f} | {m[2]:.1f} | {m[0] / b[0]:.2f} | {m[2] / b[2]:.2f} |")
PY
