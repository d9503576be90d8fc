#!/usr/bin/env bash
# The benchmark's floor (issue 14): sourcemesh-bench-floor's FloorProxy, the plainest HTTP/1.1 reverse proxy
# Netty 4.2 makes, run with the JVM flags ./sourcemesh gives a proxy (its collector, heap, young generation,
# object headers; Netty's leak detector and JFR events off), so what SourceMesh costs above it is its own code.
# They are repeated here, not read from ./sourcemesh (its proxy branch builds them inline): change both.
# No AOT cache: its start-up is not what it is for. FLOOR_JAVA_OPTS: extra JVM flags (to compare settings).
#
#   sourcemesh-bench/lib/floor.sh --listen HOST:PORT --upstream HOST:PORT [--transport io_uring|epoll|nio] [--workers N]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck disable=SC1091
. "$ROOT/.ci/java-env"
shopt -s nullglob
jars=("$ROOT"/sourcemesh-bench-floor/target/sourcemesh-bench-floor-*[0-9T].jar)
shopt -u nullglob
if [ ${#jars[@]} -ne 1 ] || [ ! -d "$ROOT/sourcemesh-bench-floor/target/lib" ]; then
  echo "floor.sh: sourcemesh-bench-floor is not built (./mvnw -B package -DskipTests)" >&2
  exit 1
fi
exec "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xms40m -Xmn32m -Xmx512m -Xss512k -XX:-UsePerfData \
  -XX:+UseCompactObjectHeaders -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:-ShrinkHeapInSteps \
  -XX:TrimNativeHeapInterval=5000 -Dio.netty.jfr.enabled=false -Dio.netty.leakDetection.level=disabled \
  ${FLOOR_JAVA_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "${jars[0]}:$ROOT/sourcemesh-bench-floor/target/lib/*" io.sourcemesh.bench.floor.FloorProxy "$@"
