package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.RawOrigin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An upstream that says more than it was asked: nothing past the one response reaches the client,
 * and the connection that carried it is closed, never pooled (Envoy: upstream_cx_protocol_error).
 */
class UpstreamResponseSanityTest {
    private RawOrigin origin;
    private Proxy proxy;

    private int start(String reply) throws Exception {
        origin = RawOrigin.replying(reply);
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        return proxy.listenerAddress("http").getPort();
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        origin.close();
    }

    /** Two requests on one client connection; returns what the client read for each, "||" between. */
    private static String twoRequests(int port, String first, String firstEnd, String second) throws Exception {
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(first);
            String a = s.readUntil(t -> t.endsWith(firstEnd), 500).text();
            s.send(second);
            return a + "||" + s.readUntil(t -> t.endsWith("ok") || t.endsWith("body"), 500).text();
        }
    }

    @Test
    void anUnsolicitedSecondResponseNeverReachesTheClient() throws Exception {
        int port = start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
        String got = twoRequests(port, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "ok", "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertFalse(got.contains("evil"), got);
        assertEquals(2, got.split("HTTP/1.1 200 OK", -1).length - 1, got);
        assertEquals(2, origin.connections(), "the first upstream connection was not reused");
        assertTrue(proxy.stats().counters().get("cluster.origin.upstream_cx_protocol_error") >= 1);
    }

    @Test
    void bytesPastContentLengthCloseTheUpstreamConnection() throws Exception {
        int port = start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
        String got = twoRequests(port, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "ok", "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertFalse(got.contains("EXTRA"), got);
        assertEquals(2, got.split("HTTP/1.1 200 OK", -1).length - 1, got);
        assertEquals(2, origin.connections());
    }

    @Test
    void aBodyOnAHeadResponseIsDropped() throws Exception {
        int port = start("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody");
        String got = twoRequests(port, "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n", "\r\n\r\n", "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        String head = got.substring(0, got.indexOf("||"));
        assertTrue(head.startsWith("HTTP/1.1 200 OK"), head);
        assertTrue(head.endsWith("\r\n\r\n"), "headers only: " + head);
        String get = got.substring(got.indexOf("||") + 2);
        assertTrue(get.startsWith("HTTP/1.1 200 OK") && get.endsWith("\r\n\r\nbody"), get);
        assertEquals(2, origin.connections());
    }
}
