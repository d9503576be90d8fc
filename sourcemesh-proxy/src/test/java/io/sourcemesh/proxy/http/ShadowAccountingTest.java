package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A shadow is a request of its mirror cluster as Envoy's async client makes it (a router of its own in the same cluster
 * manager): under the mirror cluster's circuit breakers — over them it is dropped, counted in
 * upstream_rq_pending_overflow, the original untouched — charged to its upstream_rq_&lt;code&gt; stats, and reported to
 * its outlier detection, so a mirror that keeps failing is ejected.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShadowAccountingTest {
    private Origin primary;
    private HttpServer mirror;
    private Proxy proxy;
    private final AtomicInteger mirrorSeen = new AtomicInteger();
    private final AtomicInteger mirrorInFlight = new AtomicInteger();
    private final AtomicInteger mirrorMostInFlight = new AtomicInteger();
    private final CountDownLatch releaseMirror = new CountDownLatch(1);

    @AfterEach
    void stop() {
        releaseMirror.countDown();
        if (proxy != null) {
            proxy.close();
        }
        if (mirror != null) {
            mirror.stop(0);
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void shadowsOverTheMirrorClustersCircuitBreakersAreDroppedAndTheOriginalsServed() throws Exception {
        startMirror(200, true);
        start("""
                circuit_breakers:
                  thresholds:
                  - {max_connections: 1, max_pending_requests: 1, max_requests: 1}
                """);
        int n = 5;
        ExecutorService clients = Executors.newFixedThreadPool(n);
        try {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                statuses.add(clients.submit(() -> Curl.run(url()).status()));
            }
            for (Future<Integer> s : statuses) {
                assertEquals(200, s.get(30, TimeUnit.SECONDS), "the originals never wait for or fail with their shadows");
            }
        } finally {
            clients.shutdownNow();
        }
        assertEquals(n, primary.seen().size());
        waitFor("the overflows", () -> counter("cluster.mirror.upstream_rq_pending_overflow") >= n - 1);
        assertEquals(n - 1, counter("cluster.mirror.upstream_rq_pending_overflow"), "all but the one shadow max_requests admits");
        assertEquals(1, mirrorSeen.get(), "the slow mirror holds the one request slot: the others are never sent");
        assertEquals(1, mirrorMostInFlight.get());
        assertEquals(1L, proxy.stats().gauges().get("cluster.mirror.circuit_breakers.default.rq_open"));
        assertEquals(0, counter("cluster.origin.upstream_rq_pending_overflow"));

        releaseMirror.countDown();
        waitFor("the admitted shadow's 200", () -> counter("cluster.mirror.upstream_rq_200") == 1);
        waitFor("no shadow active", () -> proxy.stats().gauges().get("cluster.mirror.upstream_rq_active") == 0);
        assertEquals(0L, proxy.stats().gauges().get("cluster.mirror.circuit_breakers.default.rq_open"), "its slot given back");
        assertEquals(1, mirrorSeen.get(), "a dropped shadow is not sent later");
        assertEquals(1, counter("cluster.mirror.upstream_rq_total"));
        assertEquals(n - 1, counter("cluster.mirror.upstream_rq_503"), "the overflows charged as the router's 503s");

        // With the slot free, the next original's shadow goes.
        assertEquals(200, Curl.run(url()).status());
        waitFor("the next shadow's 200", () -> counter("cluster.mirror.upstream_rq_200") == 2);
        assertEquals(2, mirrorSeen.get());
    }

    @Test
    void pastMaxConnectionsAShadowWaitsAsPendingAndPastMaxPendingItIsDropped() throws Exception {
        startMirror(200, true);
        start("""
                circuit_breakers:
                  thresholds:
                  - {max_connections: 1, max_pending_requests: 1, max_requests: 100}
                """);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, Curl.run(url()).status(), "the originals never wait for their shadows");
        }
        waitFor("the third shadow's overflow", () -> counter("cluster.mirror.upstream_rq_pending_overflow") == 1);
        assertEquals(1L, proxy.stats().gauges().get("cluster.mirror.upstream_rq_pending_active"), "the second waits");
        assertEquals(1, mirrorSeen.get());

        releaseMirror.countDown();
        waitFor("both admitted shadows answered", () -> counter("cluster.mirror.upstream_rq_200") == 2);
        assertEquals(2, mirrorSeen.get(), "the pending one went once the first's connection closed");
        assertEquals(1, mirrorMostInFlight.get(), "never two connections at once");
        waitFor("nothing left active", () -> proxy.stats().gauges().get("cluster.mirror.upstream_cx_active") == 0
                && proxy.stats().gauges().get("cluster.mirror.upstream_rq_pending_active") == 0);
    }

    /** A shadow waiting for a connection holds no more of the body than Envoy's buffer limit: past it, it is dropped. */
    @Test
    void aWaitingShadowWhoseBodyOutgrowsTheBufferLimitIsDropped(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        startMirror(200, true);
        start("""
                circuit_breakers:
                  thresholds:
                  - {max_connections: 1, max_pending_requests: 10, max_requests: 100}
                """);
        assertEquals(200, Curl.run(url()).status()); // its shadow holds the one connection
        java.nio.file.Path upload = dir.resolve("upload");
        java.nio.file.Files.write(upload, new byte[(int) Shadow.MAX_QUEUED_BYTES + 4096]);
        Curl.Result r = Curl.run("--data-binary", "@" + upload, url() + "upload");
        assertEquals(200, r.status(), r.err());
        assertEquals("{\"received\":" + (Shadow.MAX_QUEUED_BYTES + 4096) + "}", r.body(), "the original went whole");
        waitFor("the waiting shadow dropped", () -> counter("cluster.mirror.upstream_rq_503") == 1);
        assertEquals(0L, proxy.stats().gauges().get("cluster.mirror.upstream_rq_pending_active"), "its pending slot given back");

        releaseMirror.countDown();
        waitFor("the first shadow answered", () -> counter("cluster.mirror.upstream_rq_200") == 1);
        Thread.sleep(200);
        assertEquals(1, mirrorSeen.get(), "the dropped shadow never went");
    }

    /**
     * A client that leaves in the middle of its request body cancels the shadow, as Envoy's router does in onDestroy: its
     * connection to the mirror closes at once, not at the route timeout, and it holds nothing. Once the request is whole
     * the shadow goes on alone (the other tests: their originals end before their shadows are answered).
     */
    @Test
    void aClientThatLeavesMidBodyCancelsTheShadow() throws Exception {
        startMirror(200, false);
        start("");
        try (java.net.Socket client = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort())) {
            client.getOutputStream().write(("POST /upload HTTP/1.1\r\nHost: app\r\nContent-Length: 100\r\n\r\n0123456789")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            waitFor("the shadow reaching the mirror", () -> mirrorInFlight.get() == 1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3); // the route timeout is 15 s
        while ((mirrorInFlight.get() != 0 || proxy.stats().gauges().get("cluster.mirror.upstream_rq_active") != 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, mirrorInFlight.get(), "the mirror saw the shadow's connection close");
        assertEquals(0L, proxy.stats().gauges().get("cluster.mirror.upstream_rq_active"));
        assertEquals(0L, proxy.stats().gauges().get("cluster.mirror.circuit_breakers.default.rq_open"));
        assertEquals(0, counter("cluster.mirror.upstream_rq_200") + counter("cluster.mirror.upstream_rq_504"));
    }

    @Test
    void aMirrorAnsweringConsecutive5xxIsEjectedByOutlierDetection() throws Exception {
        startMirror(503, false);
        start("""
                common_lb_config: {healthy_panic_threshold: {value: 0}}
                outlier_detection: {consecutive_5xx: 3, max_ejection_percent: 100, interval: 10s, base_ejection_time: 30s}
                """);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, Curl.run(url()).status());
            int sent = i + 1;
            // each shadow answered before the next
            waitFor("shadow " + sent + "'s 503 charged", () -> counter("cluster.mirror.upstream_rq_503") == sent);
        }
        assertEquals(1, counter("cluster.mirror.outlier_detection.ejections_enforced_consecutive_5xx"));
        assertEquals(1L, proxy.stats().gauges().get("cluster.mirror.outlier_detection.ejections_active"));

        // Ejected: the mirror cluster has no healthy host, so the next shadows go nowhere; the originals are served.
        for (int i = 0; i < 2; i++) {
            assertEquals(200, Curl.run(url()).status());
        }
        waitFor("two shadows with no healthy host", () -> counter("cluster.mirror.upstream_cx_none_healthy") == 2);
        assertEquals(3, mirrorSeen.get());
        assertEquals(5, primary.seen().size());
    }

    private void startMirror(int status, boolean slow) throws IOException {
        primary = Origin.start();
        mirror = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        mirror.setExecutor(Executors.newFixedThreadPool(8));
        mirror.createContext("/", ex -> {
            mirrorSeen.incrementAndGet();
            mirrorMostInFlight.accumulateAndGet(mirrorInFlight.incrementAndGet(), Math::max);
            try {
                ex.getRequestBody().readAllBytes();
                if (slow) {
                    releaseMirror.await(20, TimeUnit.SECONDS);
                }
                ex.sendResponseHeaders(status, -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                mirrorInFlight.decrementAndGet();
                ex.close();
            }
        });
        mirror.start();
    }

    private void start(String mirrorClusterFields) {
        proxy = Proxy.start(BootstrapLoader.loadText("""
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: http
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {prefix: /}
                                route:
                                  cluster: origin
                                  request_mirror_policies:
                                  - cluster: mirror
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                  - name: mirror
                    connect_timeout: 1s
                """.formatted(primary.port()) + mirrorClusterFields.indent(4) + """
                    load_assignment:
                      cluster_name: mirror
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(mirror.getAddress().getPort())), 1);
    }

    private String url() {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/";
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    private static void waitFor(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), "timed out waiting for " + what);
    }
}
