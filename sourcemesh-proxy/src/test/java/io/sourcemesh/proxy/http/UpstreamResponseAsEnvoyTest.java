package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.RawOrigin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An upstream's response head as Envoy's HTTP/1 client codec (balsa, with the validation policy Envoy's BalsaParser
 * sets) takes it, over real sockets: a raw upstream scripted response by response, a raw client that sends a second
 * request on the same connection. What Envoy refuses is a 502 UPE {@code upstream_reset_before_response_started{protocol_error}}
 * (router.cc onUpstreamReset), counted as upstream_cx_protocol_error and upstream_rq_502; the connection that carried
 * it is closed, and neither the next request on the client's connection nor the next upstream connection sees
 * anything of it. What Envoy takes is served as it serves it.
 */
class UpstreamResponseAsEnvoyTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    private static final String GET_A = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String GET_B = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";

    @TempDir
    Path dir;
    private RawOrigin origin;
    private Proxy proxy;
    private Path log;

    private int start(String... replies) throws Exception {
        origin = RawOrigin.replyingInTurn(replies);
        log = dir.resolve("access.log");
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.address().getPort()).statPrefix("e")
                .accessLog(log, "%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS%").yaml()), 1);
        return proxy.listenerAddress("http").getPort();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    /** Two requests on one client connection: what the client read for each. */
    private static String[] twoRequests(int port) throws Exception {
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(GET_A);
            String first = s.readUntil(t -> t.contains("\r\n\r\n") && (t.endsWith("ok") || t.endsWith("error")
                    || t.endsWith("\r\n\r\n") || t.endsWith("hi")), 300).text();
            s.send(GET_B);
            String second = s.readUntil(t -> t.endsWith("ok"), 300).text();
            return new String[] {first, second};
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // ConnectionImpl::onHeadersCompleteImpl: Transfer-Encoding with Content-Length (allow_chunked_length off)
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: gzip\r\n\r\nhi",
            // ... and a transfer coding other than exactly chunked: never read until the close, never passed on
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nhi",
            // balsa: white space or a non-token byte before the colon (INVALID_HEADER_NAME_CHARACTER), no colon
            "HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 2\r\n\r\nhi",
            "HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 2\r\n\r\nhi",
            "HTTP/1.1 200 OK\r\n X-A: b\r\nContent-Length: 2\r\n\r\nhi",
            // BalsaParser: a response starts with 'H'; the version is "HTTP/" digit '.' digit, as written
            "http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            "\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            "HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nhi",
            // ClientConnectionImpl::onHeadersCompleteBase: no Transfer-Encoding, no Content-Length but "0", on a 1xx or 204
            "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
            "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            "HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nhi",
            // disallow_multiple_content_length; a control byte in the head (kInvalidHeaderCharList)
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
            "HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\nContent-Length: 2\r\n\r\nhi",
    })
    void whatEnvoysCodecRefusesIsA502AndTouchesNothingAfterIt(String reply) throws Exception {
        int port = start(reply, OK);
        String[] got = twoRequests(port);
        assertTrue(got[0].startsWith("HTTP/1.1 502 Bad Gateway\r\n"), got[0]);
        assertTrue(got[0].endsWith("upstream connect error or disconnect/reset before headers. reset reason: protocol error"), got[0]);
        assertTrue(got[1].startsWith("HTTP/1.1 200 OK\r\n") && got[1].endsWith("\r\n\r\nok"), "the next request is served: " + got[1]);
        assertFalse(got[0].contains("hi") || got[0].contains("evil") || got[1].contains("evil"), got[0] + got[1]);
        assertEquals(List.of("502 upstream_reset_before_response_started{protocol_error} UPE", "200 via_upstream -"),
                LogFiles.awaitLines(log, 2));
        assertEquals(2, origin.connections(), "the connection that carried it was not pooled");
        assertEquals(1, counter("cluster.origin.upstream_cx_protocol_error"));
        assertEquals(1, counter("cluster.origin.upstream_rq_502"));
        assertEquals(1, counter("cluster.origin.upstream_rq_5xx"));
        assertEquals(1, counter("cluster.origin.external.upstream_rq_502"));
        assertEquals(1, counter("cluster.origin.upstream_rq_200"));
        assertEquals(2, counter("cluster.origin.upstream_rq_completed"));
    }

    /**
     * What balsa takes that a strict parser would not: bare LF line ends, a lone CR in a value and obs-fold (Envoy
     * removes CR and LF from a value: the continuation's white space stays), a status with no reason.
     */
    @Test
    void bareLineFeedsLoneCarriageReturnsAndFoldedLinesAreTakenAsEnvoyTakesThem() throws Exception {
        int port = start("HTTP/1.1 200 OK\nX-Lf: a\nContent-Length: 2\n\nhi",
                "HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nX-Fold: a\r\n  b\r\n\tc\r\nContent-Length: 2\r\n\r\nhi",
                "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok");
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(GET_A);
            String a = s.readUntil(t -> t.endsWith("hi"), 100).text();
            assertTrue(a.startsWith("HTTP/1.1 200 OK\r\n") && a.contains("\r\nx-lf: a\r\n"), a);
            s.send(GET_B);
            String b = s.readUntil(t -> t.endsWith("hi"), 100).text();
            assertTrue(b.contains("\r\nx-cr: ab\r\n"), b);
            assertTrue(b.contains("\r\nx-fold: a  b\tc\r\n"), b);
            s.send(GET_A);
            String c = s.readUntil(t -> t.endsWith("ok"), 100).text();
            assertTrue(c.startsWith("HTTP/1.1 200 ") && c.endsWith("\r\n\r\nok"), c);
        }
        assertEquals(1, origin.connections(), "all three on one pooled connection");
        assertEquals(0, counter("cluster.origin.upstream_cx_protocol_error"));
        assertEquals(3, counter("cluster.origin.upstream_rq_200"));
    }

    /**
     * A 304 has no body, so balsa never parses its Content-Length (AssignParseStateAfterHeadersHaveBeenParsed in
     * quiche/balsa/balsa_frame.cc skips it when ResponseCanHaveBody is false): one that is not a number is forwarded
     * as it came, the connection stays pooled. Envoy never tells balsa a request was a HEAD (set_request_was_head),
     * so the same Content-Length on a HEAD's answer is UNPARSABLE_CONTENT_LENGTH: a 502.
     */
    @Test
    void aNotModifiedsUnparsableContentLengthIsForwardedAHeadsIsRefused() throws Exception {
        int port = start("HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\nContent-Length: abc\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", OK);
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(GET_A);
            String notModified = s.readUntil(t -> t.endsWith("\r\n\r\n"), 200).text();
            assertTrue(notModified.startsWith("HTTP/1.1 304 Not Modified\r\n"), notModified);
            assertTrue(notModified.contains("\r\ncontent-length: abc\r\n"), notModified);
            assertTrue(notModified.contains("\r\netag: \"a\"\r\n"), notModified);
            s.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n");
            String head = s.readUntil(t -> t.contains("\r\n\r\n"), 200).text();
            assertTrue(head.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), head);
            s.send(GET_B);
            String ok = s.readUntil(t -> t.endsWith("ok"), 100).text();
            assertTrue(ok.startsWith("HTTP/1.1 200 OK\r\n"), ok);
        }
        assertEquals(List.of("304 via_upstream -", "502 upstream_reset_before_response_started{protocol_error} UPE",
                "200 via_upstream -"), LogFiles.awaitLines(log, 3));
        assertEquals(1, counter("cluster.origin.upstream_cx_protocol_error"), "the HEAD's, not the 304's");
        assertEquals(2, origin.connections(), "the 304's connection was pooled and served the HEAD");
    }

    /** A version other than HTTP/1.1 is HTTP/1.0 to Envoy's codec: without keep-alive the connection is not reused. */
    @Test
    void anotherHttpVersionIsHttp10ToThePool() throws Exception {
        int port = start("HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nhi", OK);
        String[] got = twoRequests(port);
        assertTrue(got[0].startsWith("HTTP/1.1 200 OK\r\n") && got[0].endsWith("hi"), got[0]);
        assertTrue(got[1].endsWith("ok"), got[1]);
        assertEquals(2, origin.connections());
        assertEquals(0, counter("cluster.origin.upstream_cx_protocol_error"));
    }

    /** Balsa takes any status digits (disallow_invalid_response_codes is off): charged as upstream_rq_unknown, no class. */
    @Test
    void aStatusOutsideTheRangeIsPassedOnAndChargedUnknown() throws Exception {
        int port = start("HTTP/1.1 2000 Odd\r\nContent-Length: 2\r\n\r\nhi", OK);
        String[] got = twoRequests(port);
        assertTrue(got[0].startsWith("HTTP/1.1 2000 "), got[0]);
        assertEquals(1, counter("cluster.origin.upstream_rq_unknown"));
        assertEquals(2, counter("cluster.origin.upstream_rq_completed"));
        assertEquals(1, counter("cluster.origin.upstream_rq_2xx"), "only the 200 has a class");
    }

    /**
     * A 101 to a request that asked for no upgrade: Envoy's codec takes it as a final response with no body (no 1xx has
     * one), its router passes it on, the connection manager drops Upgrade and Connection (not an upgrade's response);
     * bytes after it are the codec's "extraneous data after response complete": they never reach the client, and the
     * connection is closed as a protocol error.
     */
    @Test
    void anUnasked101IsAFinalResponseWithNoBodyAndSwitchesNothing() throws Exception {
        int port = start("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nRAW FRAMES", OK);
        String[] got = twoRequests(port);
        assertTrue(got[0].startsWith("HTTP/1.1 101 Switching Protocols\r\n"), got[0]);
        assertTrue(got[0].endsWith("\r\n\r\n"), "no body: " + got[0]);
        assertFalse(got[0].toLowerCase().contains("upgrade"), got[0]);
        assertFalse(got[0].contains("RAW") || got[1].contains("RAW"), got[0] + got[1]);
        assertTrue(got[1].startsWith("HTTP/1.1 200 OK\r\n") && got[1].endsWith("ok"), got[1]);
        assertEquals(List.of("101 via_upstream -", "200 via_upstream -"), LogFiles.awaitLines(log, 2));
        assertEquals(1, counter("cluster.origin.upstream_rq_101"));
        assertEquals(1, counter("cluster.origin.upstream_rq_1xx"));
        assertEquals(2, origin.connections(), "the connection that spoke past the 101 was closed");
        assertEquals(1, counter("cluster.origin.upstream_cx_protocol_error"));
    }

    /** Without anything after it, the connection an unasked 101 came on stays HTTP and is pooled (as Envoy's pool does). */
    @Test
    void anUnasked101AloneLeavesTheConnectionHttp() throws Exception {
        int port = start("HTTP/1.1 101 Switching Protocols\r\n\r\n", OK);
        String[] got = twoRequests(port);
        assertTrue(got[0].startsWith("HTTP/1.1 101 Switching Protocols\r\n") && got[0].endsWith("\r\n\r\n"), got[0]);
        assertTrue(got[1].startsWith("HTTP/1.1 200 OK\r\n") && got[1].endsWith("ok"), got[1]);
        assertEquals(1, origin.connections());
        assertEquals(2, origin.requests().size(), "the second request went up once, on the same connection");
    }

    /**
     * The unasked 101 answered its request: the client connection's next response is framed by its own request (a
     * HEAD's has no body), not by the request before it.
     */
    @Test
    void theResponseAfterAnUnasked101IsFramedByItsOwnRequest() throws Exception {
        int port = start("HTTP/1.1 101 Switching Protocols\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", OK);
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(GET_A);
            String first = s.readUntil(t -> t.endsWith("\r\n\r\n"), 200).text();
            assertTrue(first.startsWith("HTTP/1.1 101 "), first);
            s.send("HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n");
            String head = s.readUntil(t -> t.endsWith("\r\n\r\n"), 300).text();
            assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n") && head.endsWith("\r\n\r\n"), head);
            assertEquals(head.length(), head.indexOf("\r\n\r\n") + 4, "nothing after the HEAD response's head: " + head);
            s.send(GET_B);
            String last = s.readUntil(t -> t.endsWith("ok"), 200).text();
            assertTrue(last.startsWith("HTTP/1.1 200 OK\r\n") && last.endsWith("\r\n\r\nok"), last);
        }
    }

    /**
     * Envoy's router charges the interim responses it takes (100, 102, 103, 104: onUpstream1xxHeaders) as upstream codes,
     * though the connection manager swallows them (no proxy_100_continue); any other 1xx is dropped uncharged.
     */
    @Test
    void interimResponsesAreChargedAsTheRouterChargesThem() throws Exception {
        int port = start("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 150 Whatever\r\n\r\n" + OK, OK);
        String[] got = twoRequests(port);
        assertTrue(got[0].startsWith("HTTP/1.1 200 OK\r\n") && got[0].endsWith("ok"), got[0]);
        assertFalse(got[0].contains("HTTP/1.1 1"), got[0]);
        Map<String, Long> c = proxy.stats().counters();
        assertEquals(1, c.get("cluster.origin.upstream_rq_100"));
        assertEquals(1, c.get("cluster.origin.upstream_rq_103"));
        assertNull(c.get("cluster.origin.upstream_rq_150"));
        assertEquals(2, c.get("cluster.origin.upstream_rq_1xx"));
        assertEquals(2, c.get("cluster.origin.upstream_rq_200"));
        assertEquals(4, c.get("cluster.origin.upstream_rq_completed"));
        assertEquals(4, c.get("cluster.origin.external.upstream_rq_completed"));
    }

    /**
     * A head the upstream's close cuts short is a protocol error: Envoy's codec client gives the close to the HTTP/1
     * codec as the end of input (CodecClient::onEvent), and balsa mid-message says HPE_INVALID_EOF_STATE.
     */
    @Test
    void aHeadCutShortByTheCloseIsAProtocolError() throws Exception {
        try (java.net.ServerSocket closing = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (java.net.Socket up = closing.accept()) {
                    up.getInputStream().read(new byte[4096]);
                    up.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Len".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                } catch (java.io.IOException e) {
                    // the test fails on what the client reads
                }
            });
            log = dir.resolve("access.log");
            proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(closing.getLocalPort()).statPrefix("e")
                    .accessLog(log, "%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS%").yaml()), 1);
            try (RawSocket s = RawSocket.connect(proxy.listenerAddress("http").getPort())) {
                s.send(GET_A);
                RawSocket.Reply r = s.readUntil(t -> t.endsWith("protocol error"), 100);
                assertTrue(r.text().startsWith("HTTP/1.1 502 Bad Gateway\r\n"), r.text());
            }
            assertEquals(List.of("502 upstream_reset_before_response_started{protocol_error} UPE"), LogFiles.awaitLines(log, 1));
            assertEquals(1, counter("cluster.origin.upstream_cx_protocol_error"));
        }
    }

    /** Bytes an idle pooled connection sends are a response no request asked for: closed and counted, as Envoy's codec client does. */
    @Test
    void anIdleConnectionThatSpeaksIsAProtocolError() throws Exception {
        int port = start(OK + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil", OK);
        String[] got = twoRequests(port);
        assertTrue(got[0].endsWith("ok") && got[1].endsWith("ok"), got[0] + got[1]);
        assertFalse(got[1].contains("evil"), got[1]);
        assertEquals(2, origin.connections());
        assertEquals(1, counter("cluster.origin.upstream_cx_protocol_error"));
    }
}
