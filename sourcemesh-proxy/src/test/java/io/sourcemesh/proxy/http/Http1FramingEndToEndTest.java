package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Malformed HTTP/1.1 from the client, as raw bytes on a real socket, answered as Envoy answers
 * (its test/integration/protocol_integration_test.cc and http1 codec_impl_test.cc cases): a local
 * error reply and a closed connection, never a truncated request forwarded.
 */
class Http1FramingEndToEndTest {
    private Origin origin;
    private Proxy proxy;
    private int port;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        port = proxy.listenerAddress("http").getPort();
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private static final String CHUNKED_HEAD = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

    /** Envoy Http1ServerConnectionImplTest InvalidChunkHeader / ChunkedBody*: 400 and close. */
    @ParameterizedTest
    @ValueSource(strings = {
            "5\r\nhello\r\nzz\r\nab\r\n0\r\n\r\n",
            "-5\r\nhello\r\n0\r\n\r\n",
            "0x5\r\nhello\r\n0\r\n\r\n",
            "ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
            "5 junk\r\nhello\r\n0\r\n\r\n",
            "5\nhello\n0\n\n",
            "5\r\nhelloEXTRA\r\n0\r\n\r\n",
            "5\r\nhello\r\n0\r\nHost: evil\r\n\r\n",
    })
    void malformedChunkedBodyIs400AndClose(String body) throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port, CHUNKED_HEAD + body + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertTrue(r.closed(), "connection closed: " + r.text());
        assertEquals(1, r.responses(), r.text());
        assertTrue(origin.seen().stream().noneMatch(s -> s.uri().equals("/next")), "nothing after it was parsed");
        assertTrue(origin.seen().stream().noneMatch(s -> s.uri().equals("/upload")) || r.text().contains("400"));
    }

    /**
     * "Expect: 100-continue": the proxy answers 100 Continue itself before any body byte is sent,
     * and the origin sees the request without the Expect header (Envoy's default).
     */
    @Test
    void expectContinueIsAnsweredByTheProxyAndNotForwarded() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            var out = s.getOutputStream();
            var in = s.getInputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("HTTP/1.1 100 Continue", head(in).lines().findFirst().orElseThrow(), "before the body is sent");
            out.write("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("HTTP/1.1 200 OK", head(in).lines().findFirst().orElseThrow());
        }
        Origin.Seen seen = origin.seen().stream().filter(x -> x.uri().equals("/upload")).findFirst().orElseThrow();
        assertNull(seen.header("expect"), "Expect is not forwarded: " + seen.headers());
        assertEquals("5", seen.header("content-length"));
    }

    /** Reads a response head, through its blank line. */
    private static String head(java.io.InputStream in) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        while (b.length() < 4 || !b.substring(b.length() - 4).equals("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.append((char) c);
        }
        return b.toString();
    }

    @Test
    void wellFormedChunkedBodyStillWorks() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port,
                "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n0\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.text());
        assertTrue(r.text().endsWith("{\"received\":5}"), r.text());
    }

    /**
     * A response that ends its connection is closed only once its last write completed: a client that reads
     * slowly, with a small receive buffer, still gets all of an 8 MiB chunked body and its last chunk.
     */
    @Test
    void aLargeResponseThatClosesArrivesWholeToASlowReader() throws Exception {
        int size = 8 << 20;
        try (java.net.Socket s = new java.net.Socket()) {
            s.setReceiveBufferSize(16 * 1024);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /bytes/" + size + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            Thread.sleep(500); // the upstream has sent it all; the proxy's writes wait on this client
            java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            String line;
            while (!(line = readLine(in)).isEmpty()) {
                if (line.startsWith("HTTP/")) {
                    assertEquals("HTTP/1.1 200 OK", line);
                }
            }
            long body = 0;
            for (long chunk; (chunk = Long.parseLong(readLine(in), 16)) > 0; ) {
                in.skipNBytes(chunk);
                body += chunk;
                assertEquals("", readLine(in));
            }
            assertEquals("", readLine(in), "the last chunk's empty trailer line");
            assertEquals(size, body);
            assertEquals(-1, in.read(), "then the close");
        }
    }

    private static String readLine(java.io.DataInputStream in) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new java.io.EOFException("closed after " + sb);
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    /**
     * Envoy's default (http_protocol_options.accept_http_10 false): an HTTP/1.0 request is answered
     * "HTTP/1.1 426 Upgrade Required" (details low_version) and the connection closed; with
     * accept_http_10 true it is served, answered as HTTP/1.0 — when it has a Host.
     */
    @Test
    void http10IsUpgradeRequiredUnlessAccepted() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port, "GET /get HTTP/1.0\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 426 Upgrade Required", r.statusLine(), r.text());
        assertTrue(r.text().endsWith("\r\n\r\nUpgrade Required"), r.text());
        assertTrue(r.closed());
        assertTrue(origin.seen().isEmpty());

        proxy.close();
        var hcm = hcm(routeAll("origin"), false, List.of());
        var l = hcm.limits();
        hcm = hcm.withTimeouts(hcm.streamIdleTimeout(), hcm.requestTimeout(), new io.sourcemesh.proxy.config.HttpProtocolLimits(
                l.idleTimeout(), l.requestHeadersTimeout(), l.maxHeadersCount(), l.maxRequestHeadersKb(), true));
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm))),
                List.of(staticCluster("origin", origin.address()))), 1);
        RawSocket.Reply accepted = RawSocket.exchange(proxy.listenerAddress("http").getPort(), "GET /get HTTP/1.0\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.0 200 OK", accepted.statusLine(), accepted.text());
        assertEquals(1, origin.seen().size());

        // Accepted HTTP/1.0 still needs a Host: without default_host_for_http_10 Envoy's connection manager answers 400
        // missing_host_header (conn_manager_impl.cc decodeHeaders); it never reaches the route table's "*".
        RawSocket.Reply hostless = RawSocket.exchange(proxy.listenerAddress("http").getPort(), "GET /get HTTP/1.0\r\n\r\n");
        assertTrue(hostless.statusLine().endsWith(" 400 Bad Request"), hostless.text());
        assertEquals(1, origin.seen().size(), "the origin never saw the request without a Host");
    }

    /**
     * Envoy's codec ignores an h2c upgrade (Http1ServerConnectionImplTest UpgradeRequestWithH2c... and
     * envoyproxy/envoy#7161): real curl --http2 over plain http gets an HTTP/1.1 200 from the origin,
     * which never sees Upgrade or HTTP2-Settings, and the connection stays usable.
     */
    @Test
    void anH2cUpgradeIsServedAsPlainHttp11() throws Exception {
        io.sourcemesh.proxy.testing.Curl.Result r = io.sourcemesh.proxy.testing.Curl.run("--http2", "-v",
                "http://127.0.0.1:" + port + "/get", "http://127.0.0.1:" + port + "/again");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().toLowerCase(java.util.Locale.ROOT).contains("upgrade: h2c"), "curl asked for h2c: " + r.err());
        assertTrue(r.err().contains("< HTTP/1.1 200"), r.err());
        assertEquals(2, origin.seen().size());
        for (Origin.Seen seen : origin.seen()) {
            assertEquals(null, seen.header("upgrade"));
            assertEquals(null, seen.header("http2-settings"));
        }
        assertTrue(r.err().contains("Re-using existing connection") || r.err().contains("Reusing existing connection"),
                "the connection was kept for the second request: " + r.err());
    }

    /**
     * Envoy's codec (allow_chunked_length false, its default): Transfer-Encoding chunked together with
     * Content-Length is a 400 and close, in either order, never forwarded with one framing chosen.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    })
    void chunkedWithContentLengthIs400AndClose(String request) throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port, request + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertTrue(r.closed(), r.text());
        assertEquals(1, r.responses(), r.text());
        assertTrue(origin.seen().isEmpty(), "neither the request nor what follows reached the origin");
    }

    /** Envoy Http1ServerConnectionImplTest: only "chunked" is a transfer coding it implements (501). */
    @Test
    void transferCodingsOtherThanChunkedAre501() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port,
                "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertEquals("HTTP/1.1 501 Not Implemented", r.statusLine(), r.text());
        assertTrue(r.closed());
        assertTrue(origin.seen().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "get / HTTP/1.1\r\nHost: x\r\n\r\n",                 // methods are case-sensitive
            "FOO / HTTP/1.1\r\nHost: x\r\n\r\n",                 // unknown method
            "GET / http/1.1\r\nHost: x\r\n\r\n",                 // balsa's isVersionValid: "HTTP/" as written
            "GET / HTTP/1.10\r\nHost: x\r\n\r\n",                // ... then one digit, '.', one digit
            "GET / HTTP/1.1\r\n\r\n",                            // HTTP/1.1 without Host
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",      // two Hosts
            "GET /a\u0001b HTTP/1.1\r\nHost: x\r\n\r\n",         // control byte in the path
            "GET /a\u007fb HTTP/1.1\r\nHost: x\r\n\r\n",
    })
    void malformedRequestHeadsAre400AndClose(String request) throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port, request);
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertTrue(r.closed(), r.text());
        assertTrue(origin.seen().isEmpty());
    }

    /**
     * A well-formed version other than HTTP/1.1 is HTTP/1.0 to Envoy's codec (isHttp11), so without accept_http_10 it
     * is the 426 checkProtocolVersion gives a 1.0 request (details low_version), not a 400.
     */
    @ParameterizedTest
    @ValueSource(strings = {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9"})
    void otherVersionsAreHttp10To426(String version) throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port, "GET / " + version + "\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 426 Upgrade Required", r.statusLine(), r.text());
        assertTrue(r.closed(), r.text());
        assertTrue(origin.seen().isEmpty());
    }

    /** Envoy's max_headers_count default of 100 and max_request_headers_kb default of 60: 431. */
    @Test
    void tooManyOrTooLargeHeadersAre431() throws Exception {
        StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 100; i++) {
            many.append("x-h").append(i).append(": v\r\n");
        }
        RawSocket.Reply r = RawSocket.exchange(port, many + "\r\n");
        assertEquals("HTTP/1.1 431 Request Header Fields Too Large", r.statusLine(), r.text());
        assertTrue(r.closed());
        StringBuilder ninetyNine = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (int i = 0; i < 98; i++) {
            ninetyNine.append("x-h").append(i).append(": v\r\n");
        }
        assertEquals("HTTP/1.1 200 OK", RawSocket.exchange(port, ninetyNine + "\r\n").statusLine(), "100 headers are allowed");
        RawSocket.Reply big = RawSocket.exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nx-big: " + "a".repeat(61 * 1024) + "\r\n\r\n");
        assertEquals("HTTP/1.1 431 Request Header Fields Too Large", big.statusLine(), big.text());
        assertTrue(big.closed());
        RawSocket.Reply longUrl = RawSocket.exchange(port, "GET /" + "a".repeat(61 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 431 Request Header Fields Too Large", longUrl.statusLine());
    }

    /** After a refused CONNECT or Upgrade the rest of the connection is tunnel data, never a request. */
    @Test
    void bytesAfterARefusedConnectOrUpgradeAreNeverParsed() throws Exception {
        RawSocket.Reply connect = RawSocket.exchange(port,
                "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 403 Forbidden", connect.statusLine(), connect.text()); // upgrade_failed: no config allows CONNECT
        assertTrue(connect.closed());
        assertEquals(1, connect.responses(), connect.text());
        RawSocket.Reply upgrade = RawSocket.exchange(port,
                "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c-evil\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 403 Forbidden", upgrade.statusLine(), upgrade.text());
        assertTrue(upgrade.closed());
        assertEquals(1, upgrade.responses(), upgrade.text());
        assertTrue(origin.seen().stream().noneMatch(s -> s.uri().equals("/smuggled")));
        // Counted as the proxy's streams start (before the connection closes): had the tail been parsed, it would count.
        assertEquals(2L, proxy.stats().counters().get("http.ingress_http.downstream_rq_total"));
    }

    /**
     * A PROXY protocol header sent to a listener that does not expect one, with the request and more behind it (a load
     * balancer's stream): the client reads the whole 400 and then a FIN. Closed with those bytes unread, the socket
     * would send a reset, which can discard the 400 in the client's socket before it is read (Envoy's delayed close:
     * the proxy reads and drops them first).
     */
    @Test
    void theBytesAfterAMalformedRequestDoNotTurnItsAnswerIntoAReset() throws Exception {
        byte[] tail = new byte[256 * 1024];
        java.util.Arrays.fill(tail, (byte) 'x');
        for (int i = 0; i < 3; i++) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                s.setSoTimeout(5_000);
                var out = s.getOutputStream();
                out.write(("PROXY TCP4 198.18.0.5 198.18.0.100 40000 80\r\nGET /ip HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                out.write(tail);
                out.flush();
                String reply = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
                assertTrue(reply.startsWith("HTTP/1.1 400 Bad Request\r\n"), reply);
                assertTrue(reply.endsWith("Bad Request"), reply);
            }
        }
        assertTrue(origin.seen().isEmpty());
    }

    /** A request that says Connection: close is the connection's last: a request pipelined behind it is never served. */
    @Test
    void noRequestIsServedAfterOneThatSaysConnectionClose() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port,
                "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.text());
        assertTrue(r.closed());
        assertEquals(1, r.responses(), r.text());
        assertEquals(1L, proxy.stats().counters().get("http.ingress_http.downstream_rq_total"));
    }
}
