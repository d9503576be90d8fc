package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.RawOrigin;
import io.sourcemesh.proxy.testing.RawSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What Envoy's HTTP/1 encoder writes, over real sockets (a raw client, a raw upstream): the status line carries
 * Envoy's own reason phrase for the code, never the upstream's ({@code ResponseEncoderImpl::encodeHeaders} in
 * {@code source/common/http/http1/codec_impl.cc}, {@code CodeUtility::toString} in {@code source/common/http/codes.cc}:
 * "Unknown" for a code it does not name), and header names leave in lower case both ways (Envoy's header map keeps
 * them so; header_key_format, which would change it, is refused) — whichever decoder path the head took.
 */
class Http1EncodingAsEnvoyTest {
    private RawOrigin origin;
    private Proxy proxy;

    private int start(String... replies) throws Exception {
        origin = RawOrigin.replyingInTurn(replies);
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.address().getPort()).yaml()), 1);
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

    private static String get(int port, String request) throws Exception {
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(request);
            return s.readUntil(t -> t.endsWith("hi"), 50).text();
        }
    }

    static Stream<Arguments> statuses() {
        // plain heads take the fast path; those with bare LF line ends ResponseHeads, then Netty's decoder
        return Stream.of(
                Arguments.of("HTTP/1.1 200 Fine\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 200 OK"),
                Arguments.of("HTTP/1.1 200 Fine\nContent-Length: 2\n\nhi", "HTTP/1.1 200 OK"),
                Arguments.of("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 200 OK"),
                Arguments.of("HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 413 Payload Too Large"),
                Arguments.of("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 418 Unknown"),
                Arguments.of("HTTP/1.1 299 Whatever\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 299 Unknown"),
                Arguments.of("HTTP/1.1 425 Too Early\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 425 Too Early"),
                Arguments.of("HTTP/1.1 503 Down For Maintenance\nContent-Length: 2\n\nhi", "HTTP/1.1 503 Service Unavailable"),
                Arguments.of("HTTP/1.1 599 Network Connect Timeout\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 599 Unknown"),
                Arguments.of("HTTP/1.0 200 Fine\r\nContent-Length: 2\r\n\r\nhi", "HTTP/1.1 200 OK"));
    }

    @ParameterizedTest
    @MethodSource("statuses")
    void theStatusLineCarriesEnvoysPhraseForTheCodeNotTheUpstreams(String reply, String statusLine) throws Exception {
        int port = start(reply);
        String got = get(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(got.startsWith(statusLine + "\r\n"), got);
        assertTrue(got.endsWith("\r\n\r\nhi"), got);
    }

    @Test
    void aLocalReplysStatusLineIsEnvoys() throws Exception {
        int port = start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        try (RawSocket s = RawSocket.connect(port)) {
            // a request the codec refuses: Envoy's local reply, 400 Bad Request
            String got = s.send("GET / HTTP/1.1\r\nHost: x\r\nX-Bad\u0001: v\r\n\r\n").readUntilClose(5_000).text();
            assertTrue(got.startsWith("HTTP/1.1 400 Bad Request\r\n"), got);
        }
    }

    @Test
    void responseHeaderNamesReachTheClientInLowerCase() throws Exception {
        int port = start("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Upper-Case: Value\r\nSERVER: Mixed\r\n"
                        + "Content-Length: 2\r\n\r\nhi",
                // not plain (bare LF): the other decoder path
                "HTTP/1.1 200 OK\nX-Upper-Case: Value\nContent-Length: 2\n\nhi");
        for (int i = 0; i < 2; i++) {
            String got = get(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            String head = got.substring(0, got.indexOf("\r\n\r\n") + 2);
            assertTrue(head.contains("\r\nx-upper-case: Value\r\n"), "the value keeps its case: " + head);
            assertTrue(head.contains("\r\ncontent-length: 2\r\n"), head);
            assertEquals(nameLowered(head), head, "every name in lower case");
        }
    }

    @Test
    void requestHeaderNamesReachTheUpstreamInLowerCase() throws Exception {
        int port = start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        get(port, "GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: Test\r\nX-Client-Header: Value\r\nACCEPT: */*\r\n\r\n");
        // not plain (obs-fold): Netty's decoder
        get(port, "GET /b HTTP/1.1\r\nHost: x\r\nX-Client-Header: Value\r\nX-Folded: a\r\n b\r\n\r\n");
        assertEquals(2, origin.requests().size(), origin.requests().toString());
        for (String request : origin.requests()) {
            assertTrue(request.contains("\r\nx-client-header: Value\r\n"), request);
            assertTrue(request.contains("\r\nhost: x\r\n"), request);
            assertEquals(nameLowered(request), request, "every name in lower case: " + request);
        }
        assertTrue(origin.requests().get(0).contains("\r\nuser-agent: Test\r\n"), origin.requests().get(0));
        assertTrue(origin.requests().get(0).contains("\r\naccept: */*\r\n"), origin.requests().get(0));
    }

    /** {@code head} with the name of every header line (all lines but the first) lower-cased, values as they are. */
    private static String nameLowered(String head) {
        String[] lines = head.split("\r\n", -1);
        StringBuilder b = new StringBuilder(lines[0]);
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            b.append("\r\n").append(colon < 0 ? line : line.substring(0, colon).toLowerCase(java.util.Locale.ROOT) + line.substring(colon));
        }
        return b.toString();
    }
}
