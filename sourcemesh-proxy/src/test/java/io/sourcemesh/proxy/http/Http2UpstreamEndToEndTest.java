package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.H2Origin;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RefusingPort;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 to upstreams end to end: real curl (HTTP/1.1) through the proxy to a real HTTP/2 origin (Netty's h2 server,
 * {@link H2Origin}) on loopback, the cluster's explicit http2_protocol_options — streams sharing a connection up to
 * max_concurrent_streams (the cluster's and the peer's SETTINGS), GOAWAY draining, RST_STREAM as Envoy's upstream reset
 * (503 UR, retried under the route's policy), trailers as Envoy's HTTP/1 encoder writes them, h2 over TLS with ALPN, a
 * gRPC-shaped exchange (HTTP/1.1 and HTTP/2 clients), and use_downstream_protocol_config both ways.
 */
class Http2UpstreamEndToEndTest {
    private static final String LOG_FORMAT = "%RESPONSE_CODE% %RESPONSE_FLAGS% %PROTOCOL% %UPSTREAM_PROTOCOL% %RESPONSE_CODE_DETAILS%";

    @TempDir
    Path dir;
    private H2Origin origin;
    private Proxy proxy;
    private Path log;
    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stop() throws Exception {
        pool.shutdownNow();
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private static String h2(String http2Options, String commonOptions) {
        return """
                typed_extension_protocol_options:
                  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                """ + (commonOptions.isEmpty() ? "" : "    common_http_protocol_options: " + commonOptions + "\n") + """
                    explicit_http_config:
                      http2_protocol_options: %s
                """.formatted(http2Options);
    }

    private String start(String clusterFields) {
        return start(HttpBootstrap.toOrigin(origin.port()).clusterFields(clusterFields));
    }

    private String start(HttpBootstrap bootstrap) {
        log = dir.resolve("access.log");
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap.accessLog(log, LOG_FORMAT).yaml()), 1);
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort();
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault("cluster.origin." + name, 0L);
    }

    private List<Curl.Result> parallel(int n, String... args) throws Exception {
        List<Future<Curl.Result>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(pool.submit((Callable<Curl.Result>) () -> Curl.run(args)));
        }
        List<Curl.Result> out = new ArrayList<>();
        for (Future<Curl.Result> f : futures) {
            out.add(f.get());
        }
        return out;
    }

    @Test
    void headersAndBodiesGoAsHttp2Streams() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        Curl.Result get = Curl.run("-D", "-", base + "/echo", "-H", "Connection: keep-alive", "-H", "Keep-Alive: timeout=5",
                "-H", "TE: trailers, deflate", "-H", "X-Custom: yes");
        assertEquals(200, get.status(), get.err());
        String authority = "127.0.0.1:" + proxy.listenerAddress("http").getPort();
        assertTrue(get.out().contains("x-authority: " + authority), get.out());
        assertTrue(get.out().contains("x-scheme: http\r\n"), get.out());
        assertFalse(get.out().toLowerCase().contains("x-http2-stream-id"), get.out());
        H2Origin.Seen seen = origin.seen().get(0);
        assertEquals("GET", seen.headers().method().toString());
        assertTrue(seen.headOnly(), "a body-less request is one HEADERS frame with END_STREAM");
        assertEquals("/echo", seen.headers().path().toString());
        assertEquals(authority, seen.headers().authority().toString());
        // Connection-specific headers never go on h2 (RFC 9113 8.2.2); TE only as "trailers"; Host became :authority.
        for (String name : List.of("connection", "keep-alive", "host", "transfer-encoding", "upgrade", "proxy-connection")) {
            assertNull(seen.headers().get(name), name + " went upstream: " + seen.headers());
        }
        assertEquals("trailers", String.valueOf(seen.headers().get("te")));
        assertEquals("yes", String.valueOf(seen.headers().get("x-custom")));

        byte[] megabyte = new byte[1024 * 1024];
        new Random(7).nextBytes(megabyte);
        Path upload = Files.write(dir.resolve("upload.bin"), megabyte);
        Path download = dir.resolve("download.bin");
        Curl.Result post = Curl.run("-X", "POST", "--data-binary", "@" + upload, "-o", download.toString(), base + "/echo");
        assertEquals(200, post.status(), post.err());
        assertArrayEquals(megabyte, Files.readAllBytes(download));
        assertEquals(1024 * 1024, origin.seen().get(1).bodyBytes());
        assertFalse(origin.seen().get(1).headOnly());
        assertEquals(1, origin.connections(), "both requests went as streams of one connection");
        assertEquals(1, counter("upstream_cx_http2_total"));
        assertEquals(0, counter("upstream_cx_http1_total"));
        List<String> lines = LogFiles.awaitLines(log, 2);
        assertEquals("200 - HTTP/1.1 HTTP/2 via_upstream", lines.get(0));
        assertEquals("200 - HTTP/1.1 HTTP/2 via_upstream", lines.get(1));
    }

    /**
     * Every request without a body goes up as one HEADERS frame with END_STREAM (Envoy's codec), on a new connection and
     * on a pooled one: HEAD, DELETE, a POST of content-length 0, and a body-less request's retry.
     */
    @Test
    void bodylessRequestsEndTheStreamOnTheirHeaders() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(HttpBootstrap.toOrigin(origin.port()).clusterFields(h2("{}", "")).routes("""
                - match: {prefix: /}
                  route: {cluster: origin, retry_policy: {retry_on: refused-stream, num_retries: 1}}
                """));
        assertEquals(200, Curl.run("-I", base + "/echo").status());
        assertEquals(200, Curl.run("-X", "DELETE", base + "/echo").status());
        assertEquals(200, Curl.run("-X", "POST", "-H", "Content-Length: 0", base + "/echo").status());
        assertEquals(200, Curl.run(base + "/refuse-once").status());
        List<H2Origin.Seen> seen = origin.seen();
        assertEquals(List.of("HEAD", "DELETE", "POST", "GET", "GET"), seen.stream().map(x -> x.headers().method().toString()).toList());
        for (H2Origin.Seen x : seen) {
            assertTrue(x.headOnly(), x.headers().method() + " " + x.headers().path() + " went with a DATA frame");
        }
        assertEquals(1, origin.connections());
    }

    /**
     * connection_keepalive toward an upstream (what Istio writes for a DestinationRule's http2KeepAlive): a peer that
     * answers no PING has its connection closed at the timeout (cluster http2.keepalive_timeout), and the request on it
     * ends then, not at the route's timeout.
     */
    @Test
    void anUpstreamThatAnswersNoPingIsClosedAtTheKeepaliveTimeout() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Future<byte[]> received = pool.submit(() -> {
                try (Socket s = silent.accept()) {
                    s.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // its SETTINGS, then silence
                    s.getOutputStream().flush();
                    return s.getInputStream().readAllBytes(); // until the proxy closes
                }
            });
            String base = start(HttpBootstrap.toOrigin(silent.getLocalPort()).clusterFields(
                    h2("{connection_keepalive: {interval: 0.2s, timeout: 0.3s}}", "")));
            long start = System.nanoTime();
            Curl.Result r = Curl.run(base + "/never");
            long took = System.nanoTime() - start;
            assertEquals(503, r.status(), r.err());
            assertTrue(took >= 400_000_000L && took < 5_000_000_000L, "ended at the keepalive timeout: " + took);
            byte[] bytes = received.get();
            List<io.sourcemesh.proxy.testing.H2Frames.Frame> frames = io.sourcemesh.proxy.testing.H2Frames.read(
                    io.netty.buffer.Unpooled.wrappedBuffer(bytes, 24, bytes.length - 24));
            assertTrue(frames.stream().anyMatch(f -> f.type() == 6 && f.errorCode() == 0), "a PING went: " + frames);
            assertEquals(1, counter("http2.keepalive_timeout"));
        }
    }

    /**
     * A refused connect to an HTTP/2 cluster is the request's connection failure (503 UF), counted once for the connection
     * and its close undone from the active connections and the circuit breaker's; the failed connection is never offered
     * again, so the next request makes its own.
     */
    @Test
    void aConnectFailureToAnHttp2ClusterIsCountedAndNotReused() throws Exception {
        try (RefusingPort dead = RefusingPort.open()) {
            // One connection at most: a failed one not given back would leave the second request waiting for it.
            String base = start(HttpBootstrap.toOrigin(dead.port()).clusterFields(h2("{}", "")
                    + "circuit_breakers: {thresholds: [{max_connections: 1, track_remaining: true}]}\n"));
            for (int i = 1; i <= 2; i++) {
                Curl.Result r = Curl.run(base + "/down");
                assertEquals(503, r.status(), r.err());
                assertTrue(r.body().startsWith("upstream connect error or disconnect/reset before headers. reset reason: "
                        + "connection failure"), r.body());
                assertEquals(i, counter("upstream_cx_connect_fail"));
                assertEquals(i, counter("upstream_cx_http2_total"), "a connection of its own each time");
            }
            assertEquals(0, counter("upstream_cx_http1_total"));
            assertEquals(0L, proxy.stats().gauges().get("cluster.origin.upstream_cx_active"));
            assertEquals(1L, proxy.stats().gauges().get("cluster.origin.circuit_breakers.default.remaining_cx"),
                    "the failed connections were given back to the breaker");
            assertEquals("503 UF HTTP/1.1 - upstream_reset_before_response_started{connection_failure}", LogFiles.awaitLine(log));
        }
    }

    @Test
    void concurrentRequestsShareOneConnection() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        List<Curl.Result> results = parallel(5, base + "/slow/600");
        for (Curl.Result r : results) {
            assertEquals(200, r.status(), r.err());
            assertEquals("slow", r.body());
        }
        assertEquals(1, origin.connections());
        assertEquals(5, origin.seen().stream().filter(s -> s.connection() == 1).count());
        assertEquals(5, counter("upstream_rq_total"));
    }

    @Test
    void theClustersMaxConcurrentStreamsOpensAnotherConnection() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{max_concurrent_streams: 2}", ""));
        for (Curl.Result r : parallel(4, base + "/slow/800")) {
            assertEquals(200, r.status(), r.err());
        }
        assertEquals(2, origin.connections(), "two streams per connection");
    }

    @Test
    void thePeersMaxConcurrentStreamsOpensAnotherConnection() throws Exception {
        origin = H2Origin.start(1);
        String base = start(h2("{}", ""));
        for (Curl.Result r : parallel(3, base + "/slow/800")) {
            assertEquals(200, r.status(), r.err());
        }
        assertEquals(3, origin.connections(), "the origin's SETTINGS allow one stream at a time");
    }

    @Test
    void aFullConnectionUnderMaxConnectionsMakesTheRequestWait() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{max_concurrent_streams: 1}", "") + """
                circuit_breakers:
                  thresholds: [{max_connections: 1}]
                """);
        List<Curl.Result> results = parallel(2, base + "/slow/400");
        for (Curl.Result r : results) {
            assertEquals(200, r.status(), r.err());
        }
        assertEquals(1, origin.connections(), "the second request waited for the first one's stream to end");
    }

    @Test
    void maxRequestsPerConnectionCountsStreams() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", "{max_requests_per_connection: 2}"));
        for (int i = 0; i < 3; i++) {
            assertEquals(200, Curl.run(base + "/echo").status());
        }
        assertEquals(2, origin.connections());
        assertEquals(1, counter("upstream_cx_max_requests"));
    }

    /**
     * max_requests (Istio's http2MaxRequests) bounds the requests in flight on an HTTP/2 cluster as on any (Envoy checks
     * it at its pools' newStream, HTTP/2's included): of two at once with room for one, one overflows (503 UO).
     */
    @Test
    void maxRequestsBoundsTheStreamsInFlight() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", "") + """
                circuit_breakers:
                  thresholds: [{max_requests: 1}]
                """);
        List<Integer> codes = parallel(2, base + "/slow/800").stream().map(Curl.Result::status).sorted().toList();
        assertEquals(List.of(200, 503), codes);
        assertEquals(1, counter("upstream_rq_pending_overflow"));
        assertEquals(1, origin.seen().size());
    }

    @Test
    void anIdleConnectionClosesAtTheIdleTimeout() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", "{idle_timeout: 0.3s}"));
        assertEquals(200, Curl.run(base + "/echo").status());
        assertEquals(200, Curl.run(base + "/echo").status());
        long deadline = System.currentTimeMillis() + 5000;
        while (origin.openConnections() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, origin.openConnections());
        assertEquals(1, counter("upstream_cx_idle_timeout"));
        assertEquals(1, origin.connections());
    }

    @Test
    void aReplacedClusterClosesItsIdleHttp2Connections() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        assertEquals(200, Curl.run(base + "/echo").status());
        assertEquals(1, origin.openConnections());
        proxy.apply(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).clusterFields(h2("{max_concurrent_streams: 5}", ""))
                .accessLog(log, LOG_FORMAT).yaml()));
        long deadline = System.currentTimeMillis() + 5000;
        while (origin.openConnections() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, origin.openConnections(), "the retired cluster's idle connection was closed");
        Curl.Result again = Curl.run("-D", "-", base + "/echo");
        assertEquals(200, again.status());
        assertTrue(again.out().contains("x-connection: 2"), again.out());
    }

    @Test
    void goAwayDrainsTheConnection() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        Future<Curl.Result> first = pool.submit(() -> Curl.run(base + "/slow/1000"));
        Thread.sleep(300);
        Curl.Result last = Curl.run(base + "/goaway/100"); // GOAWAY naming this stream the last
        assertEquals(200, last.status(), last.err());
        assertEquals("last", last.body());
        Curl.Result after = Curl.run("-D", "-", base + "/echo");
        assertEquals(200, after.status());
        assertTrue(after.out().contains("x-connection: 2"), "no new stream on the drained connection: " + after.out());
        Curl.Result inFlight = first.get();
        assertEquals(200, inFlight.status(), "the stream in flight finished");
        assertEquals("slow", inFlight.body());
        assertEquals(2, origin.connections());
    }

    @Test
    void aStreamPastGoAwaysLastStreamIsRetried() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(HttpBootstrap.toOrigin(origin.port()).clusterFields(h2("{}", "")).routes("""
                - match: {prefix: /}
                  route: {cluster: origin, retry_policy: {retry_on: refused-stream, num_retries: 1}}
                """));
        assertEquals(200, Curl.run(base + "/echo").status());
        Curl.Result r = Curl.run("-D", "-", base + "/goaway-before");
        assertEquals(200, r.status(), r.out());
        assertTrue(r.out().endsWith("after goaway200"), r.out());
        assertTrue(r.out().contains("x-connection: 2"), r.out());
        assertEquals(1, counter("upstream_rq_retry"));
    }

    @Test
    void aStreamPastGoAwaysLastStreamWithoutRetryIsARefusedStreamReset() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        assertEquals(200, Curl.run(base + "/echo").status());
        Curl.Result r = Curl.run(base + "/goaway-before");
        assertEquals(503, r.status());
        assertEquals("upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset",
                r.body());
        assertEquals("503 UR HTTP/1.1 HTTP/2 upstream_reset_before_response_started{remote_refused_stream_reset}",
                LogFiles.awaitLines(log, 2).get(1));
    }

    @Test
    void rstStreamIsAnUpstreamReset() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        Curl.Result r = Curl.run(base + "/reset");
        assertEquals(503, r.status());
        assertEquals("upstream connect error or disconnect/reset before headers. reset reason: remote reset", r.body());
        assertEquals("503 UR HTTP/1.1 HTTP/2 upstream_reset_before_response_started{remote_reset}", LogFiles.awaitLine(log));
        assertEquals(200, Curl.run(base + "/echo").status(), "a stream's reset leaves its connection in use");
        assertEquals(1, origin.connections());
    }

    @Test
    void aResetAfterTheResponseStartedCutsTheClientsResponse() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        Curl.Result r = Curl.run(base + "/reset-mid");
        assertEquals(18, r.exitCode(), "curl: partial file, the body cut short: " + r.err());
        assertEquals("200 UR HTTP/1.1 HTTP/2 upstream_reset_after_response_started{remote_reset}", LogFiles.awaitLine(log));
    }

    @Test
    void maxConnectionDurationDrainsAnHttp2Connection() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", "{max_connection_duration: 0.3s}"));
        assertEquals(200, Curl.run(base + "/echo").status());
        long deadline = System.currentTimeMillis() + 5000;
        while (origin.openConnections() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, origin.openConnections(), "idle at its maximum duration: closed");
        assertEquals(1, counter("upstream_cx_max_duration_reached"));
        Curl.Result again = Curl.run("-D", "-", base + "/echo");
        assertTrue(again.out().contains("x-connection: 2"), again.out());
    }

    @Test
    void resetsAreRetriedUnderTheRoutesPolicy() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(HttpBootstrap.toOrigin(origin.port()).clusterFields(h2("{}", "")).routes("""
                - match: {prefix: /refuse-once}
                  route: {cluster: origin, retry_policy: {retry_on: refused-stream, num_retries: 1}}
                - match: {prefix: /}
                  route: {cluster: origin, retry_policy: {retry_on: reset, num_retries: 2}}
                """));
        Curl.Result refused = Curl.run(base + "/refuse-once");
        assertEquals(200, refused.status());
        assertEquals("again", refused.body());
        Curl.Result reset = Curl.run(base + "/reset");
        assertEquals(503, reset.status());
        assertEquals(3, origin.hits("/reset"), "the first try and two retries");
        assertEquals(2, origin.hits("/refuse-once"));
        assertEquals(3, counter("upstream_rq_retry"));
    }

    @Test
    void trailersReachAnHttp1ClientOnlyWithEnableTrailers() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        start(h2("{}", ""));
        String without = rawGet("/trailers");
        assertTrue(without.startsWith("HTTP/1.1 200 OK\r\n"), without);
        assertTrue(without.contains("transfer-encoding: chunked"), without);
        assertTrue(without.endsWith("\r\n4\r\nbody\r\n0\r\n\r\n"), "Envoy's HTTP/1 encoder drops them: " + without);
        proxy.close();
        start(HttpBootstrap.toOrigin(origin.port()).clusterFields(h2("{}", ""))
                .hcmFields("http_protocol_options: {enable_trailers: true}"));
        String with = rawGet("/trailers");
        assertTrue(with.endsWith("\r\n4\r\nbody\r\n0\r\nx-checksum: abc\r\n\r\n"), with);
    }

    @Test
    void aGrpcShapedExchangeEndToEnd() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        start(HttpBootstrap.toOrigin(origin.port()).clusterFields(h2("{}", ""))
                .hcmFields("http_protocol_options: {enable_trailers: true}"));
        byte[] message = {0, 0, 0, 0, 3, 'a', 'b', 'c'}; // gRPC's length-prefixed message
        String head = "POST /grpc HTTP/1.1\r\nHost: grpc.local\r\ncontent-type: application/grpc\r\nte: trailers\r\n"
                + "content-length: " + message.length + "\r\nconnection: close\r\n\r\n";
        String response = raw(head.getBytes(StandardCharsets.US_ASCII), message);
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertTrue(response.contains("content-type: application/grpc\r\n"), response);
        assertTrue(response.contains("\r\n8\r\n\0\0\0\0\3abc\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n"), response);
        H2Origin.Seen seen = origin.seen().get(0);
        assertEquals("application/grpc", seen.headers().get("content-type").toString());
        assertEquals("trailers", seen.headers().get("te").toString());
        assertEquals("grpc.local", seen.headers().authority().toString());
        assertEquals(8, seen.bodyBytes());
    }

    @Test
    void aShadowToAnHttp2ClusterGoesAsAStream() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(HttpBootstrap.toOrigin(origin.port()).clusterFields(h2("{}", "")).routes("""
                - match: {prefix: /}
                  route: {cluster: origin, request_mirror_policies: [{cluster: origin}]}
                """));
        Curl.Result r = Curl.run("-H", "Host: app.local", base + "/echo");
        assertEquals(200, r.status(), r.err());
        long deadline = System.currentTimeMillis() + 5000;
        while (origin.seen().size() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(List.of("app.local", "app.local-shadow"),
                origin.seen().stream().map(s -> s.headers().authority().toString()).sorted().toList());
        assertEquals(2, counter("upstream_cx_http2_total"), "the shadow's connection of its own");
    }

    @Test
    void tlsOffersAlpnH2() throws Exception {
        origin = H2Origin.startTls(TestCertificates.selfSigned("origin", "origin.local"));
        String base = start(h2("{}", "") + """
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                    sni: origin.local
                """);
        Curl.Result r = Curl.run("-D", "-", base + "/echo");
        assertEquals(200, r.status(), r.err());
        assertTrue(r.out().contains("x-scheme: https\r\n"), r.out());
        assertEquals(List.of("h2"), origin.alpn(), "the proxy offered h2 (Envoy's ALPN fallback for an HTTP/2 cluster)");
        assertEquals(1, counter("upstream_cx_http2_total"));
    }

    /**
     * auto_sni and auto_san_validation on an HTTP/2 cluster (Envoy's auto_sni_integration_test runs both codecs): each
     * name gets its own multiplexed connection, a request for a name already connected shares it, and a host the
     * certificate does not name is refused before any stream opens.
     */
    @Test
    void autoSniOverHttp2ConnectsOncePerNameAndValidatesIt() throws Exception {
        TestCertificates.Authority ca = TestCertificates.Authority.root("h2-ca");
        origin = H2Origin.startTls(ca.issue("origin", "a.example", "b.example"));
        String caFile = Files.writeString(dir.resolve("ca.crt"), ca.certificate()).toString();
        String base = start("""
                typed_extension_protocol_options:
                  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                    upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true}
                    explicit_http_config:
                      http2_protocol_options: {}
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                    common_tls_context:
                      validation_context: {trusted_ca: {filename: "%s"}}
                """.formatted(caFile));
        for (String host : List.of("a.example", "b.example", "a.example:8443", "b.example")) {
            Curl.Result r = Curl.run("-H", "Host: " + host, base + "/echo");
            assertEquals(200, r.status(), host + ": " + r.err());
        }
        assertEquals(List.of("a.example", "b.example"), origin.serverNames(), "one handshake per name, the port left out");
        assertEquals(List.of("h2", "h2"), origin.alpn());
        assertEquals(2, counter("upstream_cx_http2_total"));
        assertEquals(List.of("a.example", "b.example", "a.example:8443", "b.example"),
                origin.seen().stream().map(s -> s.headers().authority().toString()).toList());
        assertEquals(List.of(1, 2, 1, 2), origin.seen().stream().map(H2Origin.Seen::connection).toList(),
                "each name's requests share its connection");
        Curl.Result refused = Curl.run("-H", "Host: c.example", base + "/echo");
        assertEquals(503, refused.status());
        assertTrue(refused.out().contains("SAN matcher, certificate SANs are [a.example, b.example], the request's host is c.example"),
                refused.out());
        assertEquals(1, counter("ssl.fail_verify_san"));
        assertEquals(4, origin.seen().size(), "no stream on the refused connection");
    }

    @Test
    void useDownstreamProtocolSendsAnHttp1RequestAsHttp1() throws Exception {
        try (Origin http1 = Origin.start()) {
            log = dir.resolve("access.log");
            proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(http1.port()).accessLog(log, LOG_FORMAT)
                    .clusterFields("""
                            typed_extension_protocol_options:
                              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                                use_downstream_protocol_config:
                                  http2_protocol_options: {max_concurrent_streams: 10}
                            """).yaml()), 1);
            Curl.Result r = Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/");
            assertEquals(200, r.status(), r.err());
            assertEquals("200 - HTTP/1.1 HTTP/1.1 via_upstream", LogFiles.awaitLine(log));
            assertEquals(1, counter("upstream_cx_http1_total"));
            assertEquals(0, counter("upstream_cx_http2_total"));
        }
    }

    @Test
    void useDownstreamProtocolSendsAnHttp2RequestAsHttp2() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start("""
                typed_extension_protocol_options:
                  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                    use_downstream_protocol_config:
                      http_protocol_options: {}
                      http2_protocol_options: {}
                """);
        Curl.Result r = Curl.run("--http2-prior-knowledge", "-D", "-", base + "/echo");
        assertEquals(200, r.status(), r.err());
        assertTrue(r.out().startsWith("HTTP/2 200"), r.out());
        assertEquals("200 - HTTP/2 HTTP/2 via_upstream", LogFiles.awaitLine(log));
        assertEquals(1, counter("upstream_cx_http2_total"));
        assertEquals(0, counter("upstream_cx_http1_total"));
    }

    @Test
    void aGrpcShapedExchangeOverHttp2BothWaysKeepsItsTrailers() throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        String base = start(h2("{}", ""));
        Path message = Files.write(dir.resolve("message.bin"), new byte[] {0, 0, 0, 0, 3, 'a', 'b', 'c'});
        // No enable_trailers: it is the HTTP/1 encoder's switch; an h2 client gets its trailers as a HEADERS frame.
        Curl.Result r = Curl.run("--http2-prior-knowledge", "-D", "-", "-H", "content-type: application/grpc",
                "-H", "te: trailers", "--data-binary", "@" + message, base + "/grpc");
        assertEquals(200, r.status(), r.err());
        assertTrue(r.out().contains("grpc-status: 0"), "the upstream's trailers reach the h2 client: " + r.out());
        assertTrue(r.out().contains("grpc-message: ok"), r.out());
        assertEquals(8, origin.seen().get(0).bodyBytes());
        assertEquals("200 - HTTP/2 HTTP/2 via_upstream", LogFiles.awaitLine(log));
    }

    private String rawGet(String path) throws Exception {
        return raw(("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    private String raw(byte[]... parts) throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.listenerAddress("http").getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            for (byte[] p : parts) {
                out.write(p);
            }
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
