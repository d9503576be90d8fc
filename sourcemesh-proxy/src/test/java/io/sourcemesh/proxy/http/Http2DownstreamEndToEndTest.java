package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.H2Frames;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 from clients (codec_type AUTO): real curl with prior knowledge (h2c), several streams on one connection, each
 * stream through the connection manager's whole path to an HTTP/1.1 upstream and logged with %PROTOCOL% HTTP/2.
 */
class Http2DownstreamEndToEndTest {
    private static final String LOG = "%PROTOCOL% %REQ(:METHOD)% %REQ(:AUTHORITY)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%"
            + " %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED%";

    @TempDir
    Path dir;
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private void start(HttpBootstrap b) {
        proxy = Proxy.start(BootstrapLoader.loadText(b.accessLog(dir.resolve("access.log"), LOG).yaml()), 1);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private String tlsUrl(String path) {
        return "https://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    /** TLS terminated with these ALPN protocols offered (alpn_protocols, as Istio's gateways list them). */
    private HttpBootstrap tls(HttpBootstrap b, String alpn) throws Exception {
        TestCertificates.Pem server = TestCertificates.selfSigned("proxy", "localhost");
        Path crt = Files.writeString(dir.resolve("server.crt"), server.certificate());
        Path key = Files.writeString(dir.resolve("server.key"), server.privateKey());
        return b.transportSocket("""
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  common_tls_context:
                    alpn_protocols: %s
                    tls_certificates: [{certificate_chain: {filename: "%s"}, private_key: {filename: "%s"}}]
                """.formatted(alpn, crt, key));
    }

    /**
     * curl over TLS with ALPN (several URLs share one connection). curl 7.88's prior-knowledge h2c cannot reuse its
     * connection for a second request (curl/curl#10634), so streams on one connection are tested over TLS.
     */
    private Curl.Result curlTls(String format, String... urlsAndArgs) {
        List<String> args = new ArrayList<>(List.of("curl", "-sS", "-k", "--max-time", "20", "--noproxy", "*", "--http2",
                "-w", format));
        args.addAll(List.of(urlsAndArgs));
        return Curl.exec(args);
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    @Test
    void priorKnowledgeIsServedAsHttp2ThroughTheWholePath() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()));
        Curl.Result r = Curl.run("-v", "--http2-prior-knowledge", "-H", "x-forwarded-for: 203.0.113.9", "-H", "cookie: a=1",
                "-H", "cookie: b=2", url("/echo/./x?q=1"));
        assertEquals(200, r.status(), r.err());
        assertTrue(r.err().contains("< HTTP/2 200"), r.err());
        Origin.Seen seen = origin.last();
        assertEquals("/echo/x?q=1", seen.uri(), "the path normalised as an HTTP/1 request's");
        assertEquals("127.0.0.1:" + proxy.listenerAddress("http").getPort(), seen.header("host"), ":authority is the Host");
        assertEquals("a=1; b=2", seen.header("cookie"), "cookie crumbs joined for the HTTP/1.1 hop");
        assertEquals("http", seen.header("x-forwarded-proto"));
        assertTrue(seen.header("x-request-id") != null);
        assertEquals(null, seen.header("transfer-encoding"), "a request that ended with its HEADERS has no body");
        assertEquals(null, seen.header("x-http2-stream-id"));
        String line = LogFiles.awaitLine(dir.resolve("access.log"));
        assertEquals("HTTP/2 GET 127.0.0.1:" + proxy.listenerAddress("http").getPort() + " /echo/x?q=1 200 - via_upstream 0", line);
        assertEquals(1, counter("http.http.downstream_cx_http2_total"));
        assertEquals(1, counter("http.http.downstream_rq_http2_total"));
        assertEquals(1, counter("http.http.downstream_rq_2xx"));
    }

    @Test
    void http1StaysHttp1UnderAuto() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()));
        Curl.Result r = Curl.run("-v", "--http1.1", url("/echo"));
        assertEquals(200, r.status(), r.err());
        assertTrue(r.err().contains("< HTTP/1.1 200"), r.err());
        assertTrue(LogFiles.awaitLine(dir.resolve("access.log")).startsWith("HTTP/1.1 GET "));
        assertEquals(0, counter("http.http.downstream_cx_http2_total"));
    }

    @Test
    void aPostBodyGoesUpToAnHttp1Upstream() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()));
        byte[] body = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(7).nextBytes(body);
        Path file = Files.write(dir.resolve("body.bin"), body);
        Curl.Result r = Curl.run("--http2-prior-knowledge", "--data-binary", "@" + file, url("/upload"));
        assertEquals(200, r.status(), r.err());
        assertEquals("{\"received\":" + body.length + "}", r.body());
        assertEquals("HTTP/2 POST 127.0.0.1:" + proxy.listenerAddress("http").getPort() + " /upload 200 - via_upstream " + body.length,
                LogFiles.awaitLine(dir.resolve("access.log")));
        // and a body of unknown length (chunked on the HTTP/1.1 hop)
        Curl.Result chunked = Curl.run("--http2-prior-knowledge", "-H", "content-length:", "-T", file.toString(), url("/upload"));
        assertEquals(200, chunked.status(), chunked.err());
        assertEquals("{\"received\":" + body.length + "}", chunked.body());
    }

    @Test
    void parallelStreamsShareOneConnection() throws Exception {
        start(tls(HttpBootstrap.toOrigin(origin.port()), "[h2, http/1.1]"));
        List<String> args = new ArrayList<>(List.of("--parallel", "--parallel-max", "8"));
        for (int i = 0; i < 8; i++) {
            args.addAll(List.of("-o", "/dev/null", tlsUrl("/sleep/200?n=" + i)));
        }
        Curl.Result r = curlTls("%{http_version} %{http_code}\\n", args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(8, r.out().lines().filter(l -> l.equals("2 200")).count(), r.out());
        assertEquals(8, LogFiles.awaitLines(dir.resolve("access.log"), 8).stream().filter(l -> l.startsWith("HTTP/2 GET")).count());
        assertEquals(1, counter("http.http.downstream_cx_total"), "one connection");
        assertEquals(8, counter("http.http.downstream_rq_http2_total"));
    }

    @Test
    void aRouteTimeoutOnOneStreamLeavesTheOthers() throws Exception {
        start(tls(HttpBootstrap.toOrigin(origin.port()), "[h2]").routes("""
                - match: {prefix: /sleep/}
                  route: {cluster: origin, timeout: 0.3s}
                - match: {prefix: /}
                  route: {cluster: origin}
                """));
        Curl.Result r = curlTls("%{url_effective} %{http_code}\\n", "--parallel", "--parallel-max", "4",
                "-o", "/dev/null", tlsUrl("/sleep/3000"), "-o", "/dev/null", tlsUrl("/sleep/10"), "-o", "/dev/null", tlsUrl("/echo"));
        assertTrue(r.out().contains(tlsUrl("/sleep/3000") + " 504"), r.out());
        assertTrue(r.out().contains(tlsUrl("/sleep/10") + " 200"), r.out());
        assertTrue(r.out().contains(tlsUrl("/echo") + " 200"), r.out());
        List<String> lines = LogFiles.awaitLines(dir.resolve("access.log"), 3);
        assertTrue(lines.stream().anyMatch(l -> l.contains("/sleep/3000 504 UT upstream_response_timeout")), lines.toString());
        assertEquals(1, counter("http.http.downstream_cx_total"));
    }

    @Test
    void rbacDeniesOneStreamAndServesTheNext() throws Exception {
        start(tls(HttpBootstrap.toOrigin(origin.port()), "[h2, http/1.1]").httpFilter("""
                name: envoy.filters.http.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                  rules:
                    action: DENY
                    policies:
                      no-admin:
                        permissions: [{url_path: {path: {prefix: /admin}}}]
                        principals: [{any: true}]
                """));
        Curl.Result r = curlTls("%{url_effective} %{http_version} %{http_code}\\n",
                "-o", "/dev/null", tlsUrl("/admin/x"), "-o", "/dev/null", tlsUrl("/public"));
        assertTrue(r.out().contains(tlsUrl("/admin/x") + " 2 403"), r.out());
        assertTrue(r.out().contains(tlsUrl("/public") + " 2 200"), r.out());
        assertEquals(1, counter("http.http.downstream_cx_total"), "both streams on one connection");
        List<String> lines = LogFiles.awaitLines(dir.resolve("access.log"), 2);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("HTTP/2 GET") && l.contains("/admin/x 403 - rbac_access_denied_matched_policy[no-admin]")),
                lines.toString());
        assertFalse(origin.seen().stream().anyMatch(s -> s.uri().startsWith("/admin")), "the denied stream never went up");
    }

    @Test
    void alpnH2OverTlsIsHttp2AndHttp11StaysHttp1() throws Exception {
        start(tls(HttpBootstrap.toOrigin(origin.port()), "[h2, http/1.1]"));
        Curl.Result h2 = curlTls("%{http_version} %{http_code}", tlsUrl("/echo"));
        assertEquals("2 200", h2.out().substring(h2.out().length() - 5), h2.err());
        Curl.Result h1 = curlTls("%{http_version} %{http_code}", "--http1.1", tlsUrl("/echo"));
        assertEquals("1.1 200", h1.out().substring(h1.out().length() - 7), h1.err());
        List<String> lines = LogFiles.awaitLines(dir.resolve("access.log"), 2);
        assertTrue(lines.get(0).startsWith("HTTP/2 GET"), lines.toString());
        assertTrue(lines.get(1).startsWith("HTTP/1.1 GET"), lines.toString());
        assertEquals("https", origin.seen().getFirst().header("x-forwarded-proto"));
    }

    /** codec_type HTTP1 never offers h2 in ALPN, whatever alpn_protocols lists: the client's h2 is never selected. */
    @Test
    void anHttp1ManagerDoesNotOfferH2() throws Exception {
        start(tls(HttpBootstrap.toOrigin(origin.port()).hcmFields("codec_type: HTTP1"), "[h2, http/1.1]"));
        Curl.Result r = curlTls("%{http_version} %{http_code}", tlsUrl("/echo"));
        assertEquals("1.1 200", r.out().substring(r.out().length() - 7), r.err());
        assertEquals(0, counter("http.http.downstream_cx_http2_total"));
    }

    /** codec_type HTTP2 speaks HTTP/2 only: prior knowledge is served, an HTTP/1.1 request ends the connection. */
    @Test
    void anHttp2ManagerServesOnlyHttp2() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("codec_type: HTTP2"));
        Curl.Result h2 = Curl.run("--http2-prior-knowledge", url("/echo"));
        assertEquals(200, h2.status(), h2.err());
        Curl.Result h1 = Curl.run("--http1.1", url("/echo"));
        assertTrue(h1.exitCode() != 0 || h1.status() != 200, h1.out());
        assertEquals(1, origin.seen().size(), "the HTTP/1.1 request never went up");
        assertEquals(1, counter("http.http.downstream_cx_protocol_error"));
    }

    @Test
    void malformedStreamsAreResetAndTheConnectionGoesOn() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface()
                    .headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/a", ":authority", "app", "X-Upper", "1")
                    .headers(3, true, ":method", "GET", ":scheme", "http", ":path", "no-slash", ":authority", "app")
                    .headers(5, true, ":method", "GET", ":scheme", "http", ":path", "/c", ":authority", "app", "connection", "close")
                    .get(7, "/echo").bytes());
            List<H2Frames.Frame> frames = new ArrayList<>();
            io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.buffer();
            byte[] buf = new byte[16384];
            while (frames.stream().noneMatch(f -> f.type() == 0 && f.stream() == 7 && f.endStream())) {
                int n = s.getInputStream().read(buf);
                assertTrue(n > 0, "the connection stayed open: " + frames);
                in.writeBytes(buf, 0, n);
                frames.addAll(reader.read(in));
            }
            for (int stream : new int[] {1, 3, 5}) {
                assertTrue(frames.stream().anyMatch(f -> f.type() == 3 && f.stream() == stream && f.errorCode() == 1),
                        "stream " + stream + " reset with PROTOCOL_ERROR: " + frames);
            }
            assertTrue(frames.stream().anyMatch(f -> f.type() == 1 && f.stream() == 7 && f.headers().status().toString().equals("200")));
            assertFalse(frames.stream().anyMatch(f -> f.type() == 7), "no GOAWAY: " + frames);
        }
        assertEquals(List.of("/echo"), origin.seen().stream().map(Origin.Seen::uri).toList());
        assertEquals(3, counter("http2.rx_messaging_error"));
    }

    @Test
    void aCorruptPrefaceEndsOnlyItsConnection() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            byte[] all = s.getInputStream().readAllBytes(); // until the proxy closes
            List<H2Frames.Frame> frames = H2Frames.read(io.netty.buffer.Unpooled.wrappedBuffer(all));
            assertTrue(frames.stream().anyMatch(f -> f.type() == 7 && f.errorCode() == 1), "GOAWAY PROTOCOL_ERROR: " + frames);
        }
        Curl.Result next = Curl.run("--http2-prior-knowledge", url("/echo"));
        assertEquals(200, next.status(), next.err());
    }

    /** Request trailers go up on the HTTP/1.1 hop (chunked); an HTTP/1.1 upstream's chunked trailers come down as trailers. */
    @Test
    void trailersCrossBothWays() throws Exception {
        try (io.sourcemesh.proxy.testing.RawOrigin raw = io.sourcemesh.proxy.testing.RawOrigin.replying(
                "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
                        + "2\r\nok\r\n0\r\ngrpc-status: 0\r\ngrpc-message: fine\r\n\r\n")) {
            start(HttpBootstrap.toOrigin(raw.address().getPort()));
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                    H2Frames.Reader reader = new H2Frames.Reader()) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(new H2Frames().preface()
                        .headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/svc/Call", ":authority", "app",
                                "content-type", "application/grpc", "te", "trailers")
                        .data(1, false, "hello")
                        .headers(1, true, "x-request-trailer", "1").bytes());
                List<H2Frames.Frame> frames = new ArrayList<>();
                io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.buffer();
                byte[] buf = new byte[16384];
                while (frames.stream().noneMatch(f -> f.stream() == 1 && f.endStream())) {
                    int n = s.getInputStream().read(buf);
                    assertTrue(n > 0, frames.toString());
                    in.writeBytes(buf, 0, n);
                    frames.addAll(reader.read(in));
                }
                List<H2Frames.Frame> stream = frames.stream().filter(f -> f.stream() == 1).toList();
                assertEquals("200", stream.get(0).headers().status().toString(), stream.toString());
                assertEquals("ok", stream.get(1).data(), stream.toString());
                H2Frames.Frame trailers = stream.getLast();
                assertEquals(1, trailers.type(), "trailers are a HEADERS frame that ends the stream: " + stream);
                assertEquals("0", trailers.headers().get("grpc-status").toString());
                assertEquals("fine", trailers.headers().get("grpc-message").toString());
            }
            // The origin answers at the head, so the client may have its response before the origin read the rest.
            long deadline = System.nanoTime() + 5_000_000_000L;
            String up = String.join("", raw.requests());
            while (!up.endsWith("\r\n0\r\nx-request-trailer: 1\r\n\r\n") && System.nanoTime() < deadline) {
                Thread.sleep(10);
                up = String.join("", raw.requests());
            }
            assertTrue(up.startsWith("POST /svc/Call HTTP/1.1\r\n"), up);
            assertTrue(up.toLowerCase().contains("transfer-encoding: chunked\r\n"), up);
            assertTrue(up.contains("5\r\nhello\r\n0\r\nx-request-trailer: 1\r\n\r\n"), up);
        }
    }

    /**
     * An HTTP/1.1 upstream's hop-by-hop headers do not come down on HTTP/2 (RFC 9113 §8.2.2): a chunked response's
     * HEADERS have no transfer-encoding nor connection, its body the chunks' bytes.
     */
    @Test
    void aChunkedResponseComesDownWithoutItsConnectionHeaders() throws Exception {
        try (io.sourcemesh.proxy.testing.RawOrigin raw = io.sourcemesh.proxy.testing.RawOrigin.replying(
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\nx-kept: 1\r\n\r\n"
                        + "2\r\nok\r\n0\r\n\r\n")) {
            start(HttpBootstrap.toOrigin(raw.address().getPort()));
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                    H2Frames.Reader reader = new H2Frames.Reader()) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(new H2Frames().preface().get(1, "/chunked").bytes());
                List<H2Frames.Frame> stream = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 1 && x.endStream()))
                        .stream().filter(f -> f.stream() == 1).toList();
                H2Frames.Frame head = stream.getFirst();
                assertEquals(1, head.type(), stream.toString());
                assertEquals("200", head.headers().status().toString(), stream.toString());
                assertEquals("1", String.valueOf(head.headers().get("x-kept")), stream.toString());
                assertFalse(head.headers().contains("transfer-encoding"), stream.toString());
                assertFalse(head.headers().contains("connection"), stream.toString());
                assertEquals("ok", stream.stream().filter(f -> f.type() == 0).map(H2Frames.Frame::data)
                        .reduce("", String::concat), stream.toString());
            }
        }
    }

    /**
     * A response without a body ends its stream on its HEADERS frame, never with an empty DATA after it (Envoy's codec
     * sends headers with end_stream): an HTTP/1 upstream's 204, 304 and content-length 0, an answer to HEAD (a direct
     * response's, whose body is left out, and an upstream's).
     */
    @Test
    void aResponseWithoutABodyEndsTheStreamOnItsHeaders() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).routes("""
                - match: {prefix: /direct}
                  direct_response: {status: 200, body: {inline_string: hello}}
                - match: {prefix: /}
                  route: {cluster: origin}
                """));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/empty/204").get(3, "/empty/304").get(5, "/empty/200")
                    .headers(7, true, ":method", "HEAD", ":scheme", "http", ":path", "/direct", ":authority", "app")
                    .headers(9, true, ":method", "HEAD", ":scheme", "http", ":path", "/empty/200", ":authority", "app")
                    .get(11, "/direct").bytes());
            List<Integer> streams = List.of(1, 3, 5, 7, 9, 11);
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> streams.stream().allMatch(
                    id -> f.stream().anyMatch(x -> x.stream() == id && x.endStream())));
            for (int id : List.of(1, 3, 5, 7, 9)) {
                List<H2Frames.Frame> stream = frames.stream().filter(f -> f.stream() == id && f.type() != 8).toList();
                assertEquals(1, stream.size(), "stream " + id + " is one HEADERS frame: " + frames);
                assertTrue(stream.getFirst().type() == 1 && stream.getFirst().endStream(), "stream " + id + ": " + frames);
            }
            assertEquals("204", frames.stream().filter(f -> f.stream() == 1).findFirst().orElseThrow().headers().status().toString());
            assertEquals("304", frames.stream().filter(f -> f.stream() == 3).findFirst().orElseThrow().headers().status().toString());
            H2Frames.Frame head = frames.stream().filter(f -> f.stream() == 7).findFirst().orElseThrow();
            assertEquals("5", String.valueOf(head.headers().get("content-length")), "HEAD keeps the length of what GET would get");
            // The same direct response to a GET has its body.
            assertEquals("hello", frames.stream().filter(f -> f.stream() == 11 && f.type() == 0).map(H2Frames.Frame::data)
                    .reduce("", String::concat));
        }
    }

    /** Reads frames from {@code s} until {@code done} holds or the proxy closes; the frames read. */
    private static List<H2Frames.Frame> readUntil(java.net.Socket s, H2Frames.Reader reader,
            java.util.function.Predicate<List<H2Frames.Frame>> done) throws Exception {
        List<H2Frames.Frame> frames = new ArrayList<>();
        io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.buffer();
        byte[] buf = new byte[16384];
        while (!done.test(frames)) {
            int n = s.getInputStream().read(buf);
            if (n < 0) {
                break;
            }
            in.writeBytes(buf, 0, n);
            frames.addAll(reader.read(in));
        }
        return frames;
    }

    /** max_concurrent_streams is the SETTINGS the client gets, and a stream over it is refused (REFUSED_STREAM). */
    @Test
    void maxConcurrentStreamsRefusesTheStreamOverIt() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("http2_protocol_options: {max_concurrent_streams: 1}"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/sleep/500").get(3, "/echo").bytes());
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 1 && x.endStream()));
            assertTrue(frames.getFirst().data().contains("MAX_CONCURRENT_STREAMS=1"), frames.toString());
            assertTrue(frames.stream().anyMatch(f -> f.type() == 3 && f.stream() == 3 && f.errorCode() == 7), frames.toString());
            assertTrue(frames.stream().anyMatch(f -> f.type() == 1 && f.stream() == 1 && f.headers().status().toString().equals("200")));
        }
        assertEquals(List.of("/sleep/500"), origin.seen().stream().map(Origin.Seen::uri).toList());
    }

    /**
     * No stream open for idle_timeout: Envoy's drain sequence — the shutdown notice (last-stream-id 2^31-1), after
     * drain_timeout the GOAWAY naming stream 1, then the close (downstream_cx_idle_timeout), the http2 gauge back to 0.
     */
    @Test
    void anIdleConnectionIsClosedWithGoaway() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("common_http_protocol_options: {idle_timeout: 0.4s}\ndrain_timeout: 0.3s"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/echo").bytes());
            long start = System.nanoTime();
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> false); // until the proxy closes
            assertTrue(System.nanoTime() - start >= 600_000_000L, "not before the idle and drain timeouts");
            assertTrue(frames.stream().anyMatch(f -> f.type() == 1 && f.stream() == 1), frames.toString());
            List<H2Frames.Frame> goaways = frames.stream().filter(f -> f.type() == 7).toList();
            assertEquals(2, goaways.size(), frames.toString());
            assertEquals(Integer.MAX_VALUE, goaways.get(0).stream(), "the shutdown notice first: " + frames);
            assertEquals(1, goaways.get(1).stream(), frames.toString());
            assertTrue(goaways.stream().allMatch(f -> f.errorCode() == 0), frames.toString());
        }
        assertEquals(1, counter("http.http.downstream_cx_idle_timeout"));
        assertEquals(1, counter("http2.goaway_sent"), "the last GOAWAY, not the notice");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((proxy.stats().gauges().get("http.http.downstream_cx_http2_active") != 0
                || proxy.stats().gauges().get("http.http.downstream_cx_active") != 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0L, proxy.stats().gauges().get("http.http.downstream_cx_http2_active"));
        assertEquals(0L, proxy.stats().gauges().get("http.http.downstream_cx_active"));
    }

    /**
     * The http2.* codec stats count what was sent: a RST_STREAM for each malformed stream (Netty's header validation's and
     * the stream codec's own), a GOAWAY NO_ERROR at the idle close, which is no protocol error of the client's.
     */
    @Test
    void theCodecStatsCountTheResetsAndTheGoawaySent() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("common_http_protocol_options: {idle_timeout: 0.4s}\ndrain_timeout: 0.1s"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface()
                    .headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/a", ":authority", "app", "X-Upper", "1")
                    .headers(3, true, ":method", "GET", ":scheme", "http", ":path", "no-slash", ":authority", "app").bytes());
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> false); // until the proxy closes
            assertEquals(2, frames.stream().filter(f -> f.type() == 3).count(), frames.toString());
            assertTrue(frames.stream().anyMatch(f -> f.type() == 7 && f.errorCode() == 0), frames.toString());
        }
        assertEquals(2, counter("http2.tx_reset"));
        assertEquals(2, counter("http2.rx_messaging_error"));
        assertEquals(1, counter("http2.goaway_sent"));
        assertEquals(0, counter("http2.rx_reset"));
        assertEquals(0, counter("http.http.downstream_cx_protocol_error"));
        assertEquals(1, counter("http.http.downstream_cx_idle_timeout"));
    }

    /**
     * A drain (the listener's config changed) is Envoy's sequence: the shutdown notice (GOAWAY, last-stream-id 2^31-1)
     * under which a new stream is still served, after drain_timeout the GOAWAY naming the last stream taken, and the
     * close once the stream in flight was answered; http2.goaway_sent counts the last GOAWAY only.
     */
    @Test
    void aDrainSaysGoawayTwiceAndLetsTheStreamsInFlightFinish() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("drain_timeout: 0.6s"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/sleep/1500").bytes());
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (origin.seen().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            long drained = System.nanoTime();
            proxy.apply(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).statPrefix("changed").yaml()));
            List<H2Frames.Frame> notice = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.type() == 7));
            H2Frames.Frame first = notice.stream().filter(f -> f.type() == 7).findFirst().orElseThrow();
            assertEquals(Integer.MAX_VALUE, first.stream(), notice.toString());
            assertEquals(0, first.errorCode());
            s.getOutputStream().write(new H2Frames().get(3, "/echo").bytes());
            List<H2Frames.Frame> last = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.type() == 7));
            assertTrue(System.nanoTime() - drained >= 500_000_000L, "the last GOAWAY waits drain_timeout");
            assertTrue(last.stream().anyMatch(f -> f.type() == 1 && f.stream() == 3 && f.headers().status().toString().equals("200")),
                    "a stream under the notice is served: " + last);
            H2Frames.Frame second = last.stream().filter(f -> f.type() == 7).findFirst().orElseThrow();
            assertEquals(3, second.stream(), "the last GOAWAY names the last stream taken: " + last);
            assertEquals(0, second.errorCode());
            assertTrue(last.stream().noneMatch(f -> f.stream() == 1 && f.endStream()), "stream 1 still in flight: " + last);
            List<H2Frames.Frame> rest = readUntil(s, reader, f -> false); // until the proxy closes
            assertTrue(rest.stream().anyMatch(f -> f.type() == 0 && f.stream() == 1 && f.endStream()), "then answered: " + rest);
        }
        assertEquals(1, LogFiles.awaitLines(dir.resolve("access.log"), 2).stream().filter(l -> l.contains("/sleep/1500 200")).count());
        assertEquals(1, counter("http2.goaway_sent"));
    }

    /**
     * While the admin's /healthcheck/fail holds, a stream's request makes its HTTP/2 connection start the GOAWAY sequence
     * (Envoy's drainClose at the response), and the stream is still served.
     */
    @Test
    void whileHealthChecksFailAStreamStartsItsConnectionsGoaways() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText("admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
                + HttpBootstrap.toOrigin(origin.port()).hcmFields("drain_timeout: 0.2s").yaml()), 1);
        assertEquals(200, Curl.run("-o", "/dev/null", "-X", "POST",
                "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + "/healthcheck/fail").status());
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/echo").bytes());
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> false); // until the proxy closes
            assertTrue(frames.stream().anyMatch(f -> f.type() == 1 && f.stream() == 1 && f.headers().status().toString().equals("200")),
                    frames.toString());
            List<Integer> goaways = frames.stream().filter(f -> f.type() == 7).map(H2Frames.Frame::stream).toList();
            assertEquals(List.of(Integer.MAX_VALUE, 1), goaways, frames.toString());
        }
    }

    /** A removed listener's HTTP/2 connections drain the same way (its connections are not left to run on). */
    @Test
    void aRemovedListenersConnectionDrains() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("drain_timeout: 0.2s"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/echo").bytes());
            readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 1 && x.endStream()));
            proxy.apply(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).listener("other").yaml()));
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> false); // until the proxy closes
            List<Integer> goaways = frames.stream().filter(f -> f.type() == 7).map(H2Frames.Frame::stream).toList();
            assertEquals(List.of(Integer.MAX_VALUE, 1), goaways, frames.toString());
        }
    }

    /**
     * connection_keepalive: PINGs every interval (here no jitter); a client that answers keeps its connection, one that
     * goes silent is closed after the timeout (http2.keepalive_timeout), with no GOAWAY waiting on it.
     */
    @Test
    void keepalivePingsAndClosesASilentClient() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("""
                http2_protocol_options: {hpack_table_size: 8192,
                  connection_keepalive: {interval: 0.2s, timeout: 0.3s, interval_jitter: {value: 0}}}
                """));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().bytes());
            long start = System.nanoTime();
            for (int i = 0; i < 4; i++) { // answered, four times over: 0.8 s, beyond the interval and timeout together
                List<H2Frames.Frame> frames = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.type() == 6 && x.errorCode() == 0));
                if (i == 0) {
                    assertTrue(frames.getFirst().data().contains("HEADER_TABLE_SIZE=8192"), "hpack_table_size: " + frames);
                }
                H2Frames.Frame ping = frames.stream().filter(x -> x.type() == 6 && x.errorCode() == 0).findFirst().orElseThrow();
                s.getOutputStream().write(new H2Frames().ping(true, Long.parseLong(ping.data())).bytes());
            }
            long lastAck = System.nanoTime();
            assertTrue(lastAck - start >= 700_000_000L, "one PING per interval");
            s.getOutputStream().write(new H2Frames().get(1, "/echo").bytes());
            List<H2Frames.Frame> answered = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 1 && x.endStream()));
            assertTrue(answered.stream().anyMatch(f -> f.type() == 1 && f.stream() == 1), "the connection still serves: " + answered);
            List<H2Frames.Frame> rest = new ArrayList<>(answered);
            rest.addAll(readUntil(s, reader, f -> false)); // silent until the proxy closes
            long took = System.nanoTime() - lastAck;
            // The next PING an interval after the last ACK, the close a timeout after it.
            assertTrue(took >= 450_000_000L && took < 4_000_000_000L, "closed a timeout after the unanswered PING: " + took);
            assertTrue(rest.stream().anyMatch(f -> f.type() == 6 && f.errorCode() == 0), rest.toString());
            assertTrue(rest.stream().noneMatch(f -> f.type() == 7), "closed without GOAWAY, as Envoy's NoFlush close: " + rest);
        }
        assertEquals(1, counter("http2.keepalive_timeout"));
    }

    /**
     * request_headers_timeout on HTTP/2, as Envoy's onRequestHeaderTimeout (its stream exists from the first HEADERS
     * frame): a header block left open (a HEADERS frame without END_HEADERS, no CONTINUATION) that long is answered 408
     * "request header timeout" on its stream, logged with details request_header_timeout, and the stream reset (the
     * request never ended); the connection goes on serving. A block ended in time is served.
     */
    @Test
    void aHeaderBlockLeftOpenPastRequestHeadersTimeoutIs408AndReset() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("request_headers_timeout: 0.3s"));
        int port = proxy.listenerAddress("http").getPort();
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port); H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            // HEADERS (END_STREAM, not END_HEADERS) with ":method: GET" (static index 2), then a CONTINUATION that ends
            // the block only after 0.1 s: in time.
            s.getOutputStream().write(new H2Frames().preface().raw(new byte[] {0, 0, 1, 0x1, 0x1, 0, 0, 0, 1, (byte) 0x82}).bytes());
            Thread.sleep(100);
            s.getOutputStream().write(new H2Frames().raw(continuation(1, true)).bytes());
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 1 && x.endStream()));
            assertTrue(frames.stream().anyMatch(f -> f.type() == 1 && f.stream() == 1 && f.headers().status().toString().equals("200")),
                    frames.toString());
            // Now one that stalls.
            s.getOutputStream().write(new H2Frames().raw(new byte[] {0, 0, 1, 0x1, 0x1, 0, 0, 0, 3, (byte) 0x82}).bytes());
            long stalled = System.nanoTime();
            List<H2Frames.Frame> answer = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 3 && x.type() == 3));
            assertTrue(System.nanoTime() - stalled >= 250_000_000L, "not before the timeout");
            assertTrue(answer.stream().anyMatch(f -> f.type() == 1 && f.stream() == 3 && f.headers().status().toString().equals("408")),
                    answer.toString());
            assertTrue(answer.stream().anyMatch(f -> f.type() == 0 && f.stream() == 3 && "request header timeout".equals(f.data())),
                    answer.toString());
            // Envoy's doEndStream resets a stream answered before its request ended: LocalReset, NO_ERROR on the wire.
            assertTrue(answer.stream().anyMatch(f -> f.type() == 3 && f.stream() == 3 && f.errorCode() == 0), answer.toString());
            assertTrue(answer.stream().noneMatch(f -> f.type() == 7), "the connection goes on: " + answer);
            // The late end of that block is dropped (decoded, for HPACK), and the connection serves the next stream.
            s.getOutputStream().write(new H2Frames().raw(continuation(3, true)).get(5, "/next").bytes());
            List<H2Frames.Frame> next = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 5 && x.endStream()));
            assertTrue(next.stream().anyMatch(f -> f.type() == 1 && f.stream() == 5 && f.headers().status().toString().equals("200")),
                    next.toString());
        }
        assertEquals(1, counter("http.http.downstream_rq_header_timeout"));
        String log = java.nio.file.Files.readString(dir.resolve("access.log"));
        assertTrue(log.contains("HTTP/2 - - - 408 - request_header_timeout"), log);
    }

    /**
     * allow_connect: an RFC 8441 extended CONNECT (:protocol websocket) goes upstream as an HTTP/1.1 Upgrade (GET,
     * upgrade: websocket, connection: upgrade: Envoy's transformUpgradeRequestFromH2toH1), the 101 comes back as 200 and
     * the stream's DATA are the WebSocket's bytes both ways. Without allow_connect, :protocol resets the stream.
     */
    @Test
    void aWebSocketOverHttp2IsAnHttp1UpgradeUpstream() throws Exception {
        try (java.net.ServerSocket ws = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            java.util.concurrent.CompletableFuture<String> head = new java.util.concurrent.CompletableFuture<>();
            Thread upstream = Thread.ofVirtual().start(() -> {
                try (java.net.Socket up = ws.accept()) {
                    java.io.InputStream in = up.getInputStream();
                    StringBuilder h = new StringBuilder();
                    for (int c; !h.toString().endsWith("\r\n\r\n") && (c = in.read()) >= 0; ) {
                        h.append((char) c);
                    }
                    head.complete(h.toString());
                    up.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    up.getOutputStream().flush();
                    byte[] hello = in.readNBytes(5);
                    up.getOutputStream().write(("echo:" + new String(hello, java.nio.charset.StandardCharsets.US_ASCII))
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    up.getOutputStream().flush();
                    in.read(); // until the proxy closes
                } catch (java.io.IOException e) {
                    head.completeExceptionally(e);
                }
            });
            start(HttpBootstrap.toOrigin(ws.getLocalPort()).hcmFields("""
                    upgrade_configs: [{upgrade_type: websocket}]
                    http2_protocol_options: {allow_connect: true}
                    """));
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                    H2Frames.Reader reader = new H2Frames.Reader()) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(new H2Frames().preface().headers(1, false, ":method", "CONNECT", ":protocol", "websocket",
                        ":scheme", "http", ":path", "/chat", ":authority", "app", "sec-websocket-version", "13").bytes());
                List<H2Frames.Frame> frames = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.type() == 1 && x.stream() == 1));
                assertTrue(frames.getFirst().data().contains("ENABLE_CONNECT_PROTOCOL=1"), frames.toString());
                H2Frames.Frame ok = frames.stream().filter(f -> f.type() == 1).findFirst().orElseThrow();
                assertEquals("200", ok.headers().status().toString(), frames.toString());
                assertFalse(ok.endStream());
                assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", String.valueOf(ok.headers().get("sec-websocket-accept")));
                assertNullOrAbsent(ok, "upgrade");
                assertNullOrAbsent(ok, "connection");
                s.getOutputStream().write(new H2Frames().data(1, false, "hello").bytes());
                List<H2Frames.Frame> echoed = readUntil(s, reader, f -> f.stream().filter(x -> x.type() == 0 && x.stream() == 1)
                        .map(H2Frames.Frame::data).reduce("", String::concat).equals("echo:hello"));
                assertTrue(echoed.stream().noneMatch(f -> f.type() == 3), echoed.toString());
            }
            String h = head.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(h.startsWith("GET /chat HTTP/1.1\r\n"), h);
            assertTrue(h.toLowerCase(java.util.Locale.ROOT).contains("upgrade: websocket\r\n"), h);
            assertTrue(h.toLowerCase(java.util.Locale.ROOT).contains("connection: upgrade\r\n"), h);
            assertTrue(h.toLowerCase(java.util.Locale.ROOT).contains("sec-websocket-version: 13\r\n"), h);
            upstream.join(5000);
        }
    }

    @Test
    void theProtocolPseudoHeaderWithoutAllowConnectResetsTheStream() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("upgrade_configs: [{upgrade_type: websocket}]"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().headers(1, false, ":method", "CONNECT", ":protocol", "websocket",
                    ":scheme", "http", ":path", "/chat", ":authority", "app").get(3, "/echo").bytes());
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 3 && x.endStream()));
            assertFalse(frames.getFirst().data().contains("ENABLE_CONNECT_PROTOCOL"), frames.toString());
            assertTrue(frames.stream().anyMatch(f -> f.type() == 3 && f.stream() == 1 && f.errorCode() == 1), frames.toString());
        }
        assertTrue(origin.seen().stream().noneMatch(x -> x.uri().equals("/chat")));
    }

    private static void assertNullOrAbsent(H2Frames.Frame f, String header) {
        assertEquals(null, f.headers().get(header), header + " in " + f.headers());
    }

    /** A CONTINUATION frame for {@code stream} with the rest of a GET's pseudo-headers (:scheme http, :path /echo, :authority app). */
    private static byte[] continuation(int stream, boolean endHeaders) {
        io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.buffer();
        // Literal header fields without indexing, names by static index: :scheme (6) "http", :path (4) "/echo", :authority (1) "app".
        literal(block, 6, "http");
        literal(block, 4, "/echo");
        literal(block, 1, "app");
        byte[] out = new byte[9 + block.readableBytes()];
        int n = block.readableBytes();
        out[0] = (byte) (n >>> 16);
        out[1] = (byte) (n >>> 8);
        out[2] = (byte) n;
        out[3] = 0x9;
        out[4] = (byte) (endHeaders ? 0x4 : 0);
        out[5] = (byte) (stream >>> 24);
        out[6] = (byte) (stream >>> 16);
        out[7] = (byte) (stream >>> 8);
        out[8] = (byte) stream;
        block.readBytes(out, 9, n);
        block.release();
        return out;
    }

    private static void literal(io.netty.buffer.ByteBuf block, int nameIndex, String value) {
        block.writeByte(nameIndex); // 0000xxxx: literal without indexing, indexed name (index < 15)
        block.writeByte(value.length());
        block.writeBytes(value.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /**
     * stream_idle_timeout is per stream: one idle stream gets its 408, its neighbour and the connection go on. (1 s: the
     * neighbour's fresh upstream connection must answer within it on a loaded machine.)
     */
    @Test
    void streamIdleTimeoutEndsOnlyItsStream() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()).hcmFields("stream_idle_timeout: 1s"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/sleep/3000").bytes());
            Thread.sleep(100);
            s.getOutputStream().write(new H2Frames().get(3, "/echo").bytes());
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 1 && x.endStream())
                    && f.stream().anyMatch(x -> x.stream() == 3 && x.endStream()));
            assertTrue(frames.stream().anyMatch(f -> f.type() == 1 && f.stream() == 1 && f.headers().status().toString().equals("408")),
                    frames.toString());
            assertTrue(frames.stream().anyMatch(f -> f.type() == 1 && f.stream() == 3 && f.headers().status().toString().equals("200")),
                    frames.toString());
            assertFalse(frames.stream().anyMatch(f -> f.type() == 7), "the connection goes on: " + frames);
        }
        assertEquals(1, counter("http.http.downstream_rq_idle_timeout"));
    }

    /** A client's RST_STREAM ends its stream at once: the upstream request is abandoned and the log says DC. */
    @Test
    void aClientResetEndsItsStream() throws Exception {
        start(HttpBootstrap.toOrigin(origin.port()));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
                H2Frames.Reader reader = new H2Frames.Reader()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new H2Frames().preface().get(1, "/sleep/3000").bytes());
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (origin.seen().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            long sent = System.nanoTime();
            s.getOutputStream().write(new H2Frames().rst(1, 8).get(3, "/echo").bytes());
            List<H2Frames.Frame> frames = readUntil(s, reader, f -> f.stream().anyMatch(x -> x.stream() == 3 && x.endStream()));
            assertTrue(frames.stream().noneMatch(f -> f.stream() == 1 && f.type() == 1), "nothing answered on stream 1: " + frames);
            List<String> lines = LogFiles.awaitLines(dir.resolve("access.log"), 2);
            assertTrue(lines.stream().anyMatch(l -> l.contains("/sleep/3000 0 DC")), lines.toString());
            assertTrue(System.nanoTime() - sent < 2_500_000_000L, "logged at the reset, not when the upstream answered");
        }
        assertEquals(1, counter("http2.rx_reset"));
    }
}
