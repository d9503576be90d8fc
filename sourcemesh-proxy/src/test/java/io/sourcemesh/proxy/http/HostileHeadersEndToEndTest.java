package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that names the proxy's own headers in {@code Connection:} removes only its own copies:
 * Envoy sanitizes the client's hop-by-hop headers before it sets x-forwarded-for and friends.
 */
class HostileHeadersEndToEndTest {
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), true, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    @Test
    void connectionNominatingTheProxysHeadersStillLeavesThemSet() {
        Curl.Result r = Curl.run("--interface", "127.0.0.42",
                "-H", "Connection: x-forwarded-for, X-Envoy-External-Address,x-forwarded-proto , x-request-id",
                "-H", "X-Forwarded-For: 6.6.6.6", "-H", "X-Forwarded-Proto: https", "-H", "x-request-id: forged",
                "-H", "x-envoy-external-address: 6.6.6.6", url("/echo"));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(200, r.status());
        Origin.Seen seen = origin.last();
        assertEquals("127.0.0.42", seen.header("x-forwarded-for"), "the client's XFF is dropped, the proxy's appended");
        assertEquals("127.0.0.42", seen.header("x-envoy-external-address"));
        assertEquals("http", seen.header("x-forwarded-proto"));
        String id = seen.header("x-request-id");
        assertNotNull(id);
        assertNotEquals("forged", id);
        assertEquals(id, java.util.UUID.fromString(id).toString(), "the generated id went up as a canonical UUID");
        assertEquals(4, java.util.UUID.fromString(id).version());
        String connection = seen.header("connection");
        assertTrue(connection == null || !connection.contains("x-forwarded"), connection);
    }

    @Test
    void otherNominatedHeadersAreStillRemoved() {
        Curl.Result r = Curl.run("-H", "Connection: x-secret", "-H", "x-secret: 1", "-H", "x-kept: 2", url("/echo"));
        assertEquals(200, r.status(), r.err());
        assertNull(origin.last().header("x-secret"));
        assertEquals("2", origin.last().header("x-kept"));
    }

    @Test
    void nominatingTheFramingHeadersCannotChangeTheBodyTheOriginReads() {
        // Removing Content-Length by nomination would let the body run into the next request upstream.
        Curl.Result r = Curl.run("-H", "Connection: content-length, transfer-encoding, host", "--data-binary", "0123456789",
                url("/upload"));
        assertEquals(200, r.status(), r.err());
        assertEquals("{\"received\":10}", r.body());
        Curl.Result chunked = Curl.run("-H", "Connection: transfer-encoding", "-H", "Transfer-Encoding: chunked",
                "--data-binary", "0123456789", url("/upload"));
        assertEquals("{\"received\":10}", chunked.body());
    }
}
