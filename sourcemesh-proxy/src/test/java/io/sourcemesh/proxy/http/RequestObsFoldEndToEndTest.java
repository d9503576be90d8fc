package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.RawOrigin;
import io.sourcemesh.proxy.testing.RawSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A request header folded over lines (obs-fold): Envoy's server codec takes it (BalsaParser sets
 * disallow_header_continuation_lines false) and its value is what balsa keeps with CR and LF removed — the
 * continuation's white space stays ({@code "a\r\n  b"} goes up as {@code "a  b"}, not Netty's {@code "a b"}).
 */
class RequestObsFoldEndToEndTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    private RawOrigin origin;
    private Proxy proxy;
    private int port;

    @BeforeEach
    void start() throws Exception {
        origin = RawOrigin.replyingInTurn(OK);
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.address().getPort()).statPrefix("f").yaml()), 1);
        port = proxy.listenerAddress("http").getPort();
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        origin.close();
    }

    @Test
    void aFoldedValueKeepsTheContinuationsWhiteSpace() throws Exception {
        try (RawSocket s = RawSocket.connect(port)) {
            s.send("GET /a HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n  b\r\n\tc\r\nX-Empty:\r\n d\r\n\r\n");
            assertTrue(s.readUntil(t -> t.endsWith("ok"), 100).text().startsWith("HTTP/1.1 200 OK"));
            // a head that trickles in, a byte at a time, is unfolded the same
            for (byte b : "GET /b HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n  b\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
                s.send(new byte[] {b});
            }
            assertTrue(s.readUntil(t -> t.endsWith("ok"), 100).text().startsWith("HTTP/1.1 200 OK"));
        }
        String first = origin.requests().get(0);
        assertTrue(first.contains("\r\nx-fold: a  b\tc\r\n"), first);
        assertTrue(first.contains("\r\nx-empty: d\r\n"), first);
        assertTrue(origin.requests().get(1).contains("\r\nx-fold: a  b\r\n"), origin.requests().get(1));
    }

    /** A continuation of the request line is no header's: balsa refuses it, and so does Netty's decoder. */
    @Test
    void aContinuationOfTheRequestLineIsRefused() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port, "GET /a HTTP/1.1\r\n X-A: b\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertTrue(origin.requests().isEmpty());
    }
}
