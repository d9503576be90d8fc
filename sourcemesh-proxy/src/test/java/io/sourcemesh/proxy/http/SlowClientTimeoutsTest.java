package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.HttpProtocolLimits;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Slow clients cannot hold a connection: Envoy's request_headers_timeout (408 "request header timeout"), request_timeout
 * (408 "request timeout"), stream_idle_timeout (408 "stream timeout", SI) and
 * common_http_protocol_options.idle_timeout (close), each with its http.* stat.
 */
class SlowClientTimeoutsTest {
    private static final Optional<Duration> SHORT = Optional.of(Duration.ofMillis(400));
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

    private int start(Optional<Duration> streamIdle, Optional<Duration> request, HttpProtocolLimits limits) {
        HttpConnectionManagerConfig hcm = hcm(routeAll("origin"), false, List.of()).withTimeouts(streamIdle, request, limits);
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm))),
                List.of(staticCluster("origin", origin.address()))), 1);
        return proxy.listenerAddress("http").getPort();
    }

    private long stat(String name) {
        return proxy.stats().counters().getOrDefault("http.ingress_http." + name, 0L);
    }

    /**
     * Envoy's onRequestHeaderTimeout (conn_manager_impl.cc; idle_timeout_integration_test.cc): the half-read request is
     * answered 408 "request header timeout", logged with details request_header_timeout and no flag (its head never
     * came: %REQ(:METHOD)% is "-"), and the connection closes.
     */
    @Test
    void headersThatNeverEndAre408ByRequestHeadersTimeout(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("access.log");
        HttpConnectionManagerConfig hcm = hcm(routeAll("origin"), false, List.of(fileLog(log,
                java.util.Map.of("code", "%RESPONSE_CODE%", "details", "%RESPONSE_CODE_DETAILS%", "flags", "%RESPONSE_FLAGS%",
                        "method", "%REQ(:METHOD)%", "protocol", "%PROTOCOL%"))))
                .withTimeouts(Optional.empty(), Optional.empty(), new HttpProtocolLimits(Optional.empty(), SHORT, 100, 60));
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm))),
                List.of(staticCluster("origin", origin.address()))), 1);
        try (RawSocket s = RawSocket.connect(proxy.listenerAddress("http").getPort())) {
            long t0 = System.nanoTime();
            RawSocket.Reply r = s.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n").readUntilClose(10_000);
            assertTrue(System.nanoTime() - t0 >= 300_000_000L, "not before the timeout");
            assertEquals("HTTP/1.1 408 Request Timeout", r.statusLine(), r.text());
            assertTrue(r.text().toLowerCase().contains("connection: close"), r.text());
            assertTrue(r.text().endsWith("\r\n\r\nrequest header timeout"), r.text());
            assertTrue(r.closed());
        }
        assertEquals(1, stat("downstream_rq_header_timeout"));
        assertEquals(1, stat("downstream_rq_4xx"));
        String line = io.sourcemesh.proxy.testing.LogFiles.awaitLine(log);
        assertTrue(line.contains("\"code\":408") && line.contains("\"details\":\"request_header_timeout\"")
                && line.contains("\"flags\":\"-\"") && line.contains("\"method\":null") && line.contains("\"protocol\":\"HTTP/1.1\""), line);
    }

    /** A head that ends in time is served, and the clock does not run between requests on a keep-alive connection. */
    @Test
    void headersEndedInTimeAreServed() throws Exception {
        int port = start(Optional.empty(), Optional.empty(), new HttpProtocolLimits(Optional.empty(), SHORT, 100, 60));
        try (RawSocket s = RawSocket.connect(port)) {
            for (int i = 0; i < 2; i++) {
                RawSocket.Reply r = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").readUntil(t -> t.contains("\r\n\r\n"), 100);
                assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.text());
                Thread.sleep(500); // longer than the timeout, idle between requests
            }
        }
        assertEquals(0, stat("downstream_rq_header_timeout"));
    }

    @Test
    void aBodyThatNeverEndsIs408ByRequestTimeout() throws Exception {
        int port = start(Optional.empty(), SHORT, HttpProtocolLimits.defaults());
        RawSocket.Reply r = RawSocket.exchange(port, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        assertEquals("HTTP/1.1 408 Request Timeout", r.statusLine(), r.text());
        assertTrue(r.text().endsWith("request timeout"), r.text());
        assertTrue(r.closed());
    }

    @Test
    void aStalledStreamIs408ByStreamIdleTimeout() throws Exception {
        int port = start(SHORT, Optional.empty(), HttpProtocolLimits.defaults());
        RawSocket.Reply r = RawSocket.exchange(port, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        assertEquals("HTTP/1.1 408 Request Timeout", r.statusLine(), r.text());
        assertTrue(r.text().endsWith("stream timeout"), r.text());
        assertTrue(r.closed());
        assertEquals(1, stat("downstream_rq_idle_timeout"));
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedByIdleTimeout() throws Exception {
        int port = start(Optional.empty(), Optional.empty(), new HttpProtocolLimits(SHORT, Optional.empty(), 100, 60));
        try (RawSocket s = RawSocket.connect(port)) {
            RawSocket.Reply r = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").readUntilClose(10_000);
            assertTrue(r.statusLine().equals("HTTP/1.1 200 OK"), r.text());
            assertTrue(r.closed(), "closed once idle");
        }
        assertEquals(1, stat("downstream_cx_idle_timeout"));
    }

    /**
     * %DOWNSTREAM_LOCAL_CLOSE_REASON% is the logged stream's: Envoy's connection manager writes a request's line when
     * the request ends (source/common/http/conn_manager_impl.cc), before an idle_timeout can close the connection, so
     * the line of a request answered in full has none ("-", null in JSON) although the proxy closes its connection afterwards.
     */
    @Test
    void aRequestAnsweredBeforeTheIdleCloseLogsNoLocalCloseReason(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path log = dir.resolve("access.log");
        HttpConnectionManagerConfig hcm = hcm(routeAll("origin"), false, List.of(fileLog(log,
                java.util.Map.of("code", "%RESPONSE_CODE%", "reason", "%DOWNSTREAM_LOCAL_CLOSE_REASON%"))))
                .withTimeouts(Optional.empty(), Optional.empty(), new HttpProtocolLimits(SHORT, Optional.empty(), 100, 60));
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm))),
                List.of(staticCluster("origin", origin.address()))), 1);
        try (RawSocket s = RawSocket.connect(proxy.listenerAddress("http").getPort())) {
            RawSocket.Reply r = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").readUntilClose(10_000);
            assertTrue(r.closed(), "closed once idle");
        }
        assertEquals(1, stat("downstream_cx_idle_timeout"));
        String line = io.sourcemesh.proxy.testing.LogFiles.awaitLine(log);
        assertTrue(line.contains("\"code\":200") && line.contains("\"reason\":null"), line);
    }

    @Test
    void envoysDefaultsAreOnWithoutConfig() {
        HttpConnectionManagerConfig hcm = hcm(routeAll("origin"), false, List.of());
        assertEquals(Optional.of(Duration.ofHours(1)), hcm.limits().idleTimeout());
        assertEquals(100, hcm.limits().maxHeadersCount());
        assertEquals(60, hcm.limits().maxRequestHeadersKb());
        assertEquals(Optional.empty(), hcm.limits().requestHeadersTimeout());
    }
}
