package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.RawOrigin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An upstream that says more than it was asked: nothing past the one response reaches the client,
 * and the connection that carried it is closed, never pooled (Envoy: upstream_cx_protocol_error).
 * Interim responses (1xx but 101) are not that: the final response follows them, and it alone reaches
 * the client, as from Envoy without proxy_100_continue.
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

    @ParameterizedTest
    @ValueSource(strings = {
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\n",
            "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
            "HTTP/1.1 199 Whatever\r\nX-A: b\r\n\r\n"})
    void anInterimResponseIsDroppedAndTheFinalOneServed(String interim) throws Exception {
        // The interim head's end (the decoder's empty last content) was taken for the final response's: the stream
        // waited with nothing sent until the client gave up.
        int port = start(interim + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        String got = twoRequests(port, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "ok", "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(2, got.split("HTTP/1.1 200 OK", -1).length - 1, got);
        assertFalse(got.contains("HTTP/1.1 1"), "no interim status reaches the client: " + got);
        assertFalse(got.contains("Link") || got.contains("X-A"), got);
        assertEquals(1, origin.connections(), "the upstream connection was reused: an interim response is no protocol error");
    }
}
