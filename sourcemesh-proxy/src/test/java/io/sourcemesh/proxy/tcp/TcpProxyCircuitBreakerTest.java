package io.sourcemesh.proxy.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * tcp_proxy under the cluster's circuit breakers, as Envoy's TCP connection pool: with max_connections 1 a second
 * client waits as a pending request (the backend sees no connection for it) until the first one's upstream closes, then
 * connects; a third, past max_pending_requests 1, is closed at once (upstream_rq_pending_overflow, URX). Istio's
 * DestinationRule connectionPool.tcp.maxConnections lands here for TCP services.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpProxyCircuitBreakerTest {
    private ServerSocket backend;
    private Proxy proxy;
    private final AtomicInteger accepted = new AtomicInteger();

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void pastMaxConnectionsAClientWaitsAndPastMaxPendingItIsClosed() throws Exception {
        start(true);
        int port = proxy.listenerAddress("tcp").getPort();
        try (Socket first = new Socket(InetAddress.getLoopbackAddress(), port);
                Socket second = new Socket(InetAddress.getLoopbackAddress(), port)) {
            assertEquals("hi1", line(first, 5_000));
            assertEquals(null, line(second, 500), "the second waits for the only connection");
            assertEquals(1, accepted.get(), "the backend saw one connection");
            assertEquals(1L, gauge("cluster.backend.upstream_rq_pending_active"));
            assertTrue(counter("cluster.backend.upstream_cx_overflow") >= 1);

            try (Socket third = new Socket(InetAddress.getLoopbackAddress(), port)) {
                third.setSoTimeout(5_000);
                assertEquals(-1, third.getInputStream().read(), "past max_pending_requests: closed at once");
            }
            assertEquals(1, counter("cluster.backend.upstream_rq_pending_overflow"));
            assertEquals(1, accepted.get());

            first.close();
            assertEquals("hi2", line(second, 5_000), "the first's upstream closed: the second connects");
            assertEquals(0L, gauge("cluster.backend.upstream_rq_pending_active"));
        }
    }

    /** A client that leaves while pending gives its slot back and never reaches the backend. */
    @Test
    void aPendingClientThatLeavesReleasesItsSlot() throws Exception {
        start(false);
        int port = proxy.listenerAddress("tcp").getPort();
        try (Socket first = new Socket(InetAddress.getLoopbackAddress(), port)) {
            assertEquals("hi", line(first, 5_000));
            try (Socket leaving = new Socket(InetAddress.getLoopbackAddress(), port)) {
                awaitGauge("cluster.backend.upstream_rq_pending_active", 1);
            }
            awaitGauge("cluster.backend.upstream_rq_pending_active", 0);
            try (Socket next = new Socket(InetAddress.getLoopbackAddress(), port)) {
                awaitGauge("cluster.backend.upstream_rq_pending_active", 1);
                first.close();
                assertEquals("hi", line(next, 5_000));
            }
            assertEquals(2, accepted.get(), "the client that left never reached the backend");
        }
    }

    private void awaitGauge(String name, long value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (gauge(name) != value && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(value, gauge(name), name);
    }

    /** The backend's greeting, or null when none came within {@code millis}. */
    private static String line(Socket socket, int millis) throws IOException {
        socket.setSoTimeout(millis);
        InputStream in = socket.getInputStream();
        StringBuilder sb = new StringBuilder();
        try {
            int b;
            while ((b = in.read()) != -1 && b != '\n') {
                sb.append((char) b);
            }
            return b == -1 && sb.isEmpty() ? "EOF" : sb.toString();
        } catch (SocketTimeoutException e) {
            return sb.isEmpty() ? null : sb.toString();
        }
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    private long gauge(String name) {
        return proxy.stats().gauges().getOrDefault(name, 0L);
    }

    /**
     * A backend that greets each connection ({@code hi<n>} numbered in accept order when {@code numbered}, else
     * {@code hi}) and holds it until the proxy closes it, and the proxy in front of it.
     */
    private void start(boolean numbered) throws IOException {
        backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ServerSocket s = backend;
        Thread.ofVirtual().start(() -> {
            while (true) {
                try {
                    Socket c = s.accept();
                    int n = accepted.incrementAndGet();
                    Thread.ofVirtual().start(() -> {
                        try (c) {
                            c.getOutputStream().write(("hi" + (numbered ? n : "") + "\n").getBytes(StandardCharsets.US_ASCII));
                            c.getInputStream().transferTo(java.io.OutputStream.nullOutputStream()); // until the proxy closes
                        } catch (IOException e) {
                            // closed by the proxy
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        proxy = Proxy.start(BootstrapLoader.loadText("""
                static_resources:
                  listeners:
                  - name: tcp
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: tcp
                          cluster: backend
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    circuit_breakers:
                      thresholds:
                      - max_connections: 1
                        max_pending_requests: 1
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(backend.getLocalPort())), 1);
    }
}
