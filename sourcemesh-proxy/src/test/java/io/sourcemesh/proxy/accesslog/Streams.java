package io.sourcemesh.proxy.accesslog;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.time.Instant;

/** StreamInfo fixtures for the access log tests. */
final class Streams {
    static final long START_MILLIS = Instant.parse("2024-01-01T12:34:56.789Z").toEpochMilli();
    static final long START_NANOS = 1_000_000_000L;

    private Streams() {}

    static InetSocketAddress addr(String ip, int port) {
        return new InetSocketAddress(ip, port); // literal IPs: no lookup
    }

    /** A stream with nothing set but its start time. */
    static StreamInfo empty() {
        return StreamInfo.startedAt(START_MILLIS, START_NANOS);
    }

    /**
     * The seed document's httpbin inbound hop: sleep (172.17.0.8) calls httpbin (172.17.0.9:80)
     * through httpbin's sidecar, which connects to the app from 127.0.0.6.
     */
    static StreamInfo httpbinInbound() {
        HttpHeaders req = new DefaultHttpHeaders()
                .add("Host", "httpbin:8000")
                .add("User-Agent", "curl/8.5.0")
                .add("Accept", "*/*")
                .add("X-Request-Id", "9c1b6a51-3f2e-4d7a-8a5e-0c2b7d1f4e21");
        HttpHeaders resp = new DefaultHttpHeaders()
                .add("Content-Type", "application/json")
                .add("X-Envoy-Upstream-Service-Time", "1");
        StreamInfo s = StreamInfo.startedAt(START_MILLIS, START_NANOS)
                .downstreamRemoteAddress(addr("172.17.0.8", 56160))
                .downstreamDirectRemoteAddress(addr("172.17.0.8", 56160))
                .downstreamLocalAddress(addr("172.17.0.9", 80))
                .requestedServerName("outbound_.8000_._.httpbin.default.svc.cluster.local")
                .protocol("HTTP/1.1")
                .requestMethod("GET")
                .requestPath("/ip")
                .requestScheme("http")
                .requestHeaders(req)
                .responseHeaders(resp)
                .responseCode(200)
                .responseCodeDetails("via_upstream")
                .routeName("default")
                .upstreamClusterName("inbound|8000||")
                .upstreamHost(addr("172.17.0.9", 80))
                .upstreamLocalAddress(addr("127.0.0.6", 42169));
        s.addBytesReceived(0);
        s.addBytesSent(33);
        s.endAt(START_NANOS + 2_400_000L); // 2.4 ms: DURATION prints 2
        return s;
    }
}
