package io.sourcemesh.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin's POST endpoints act on the proxy as Envoy's do (source/server/admin/listeners_handler.cc,
 * server_cmd_handler.cc): {@code /drain_listeners} drains the connections of the listeners it names — all, or
 * with {@code inboundonly} those whose traffic_direction is INBOUND — and stops them, at once or (graceful) after
 * the drain time; {@code /quitquitquit} shuts the proxy down. Istio's pilot-agent calls both when a pod ends.
 */
class ProxyAdminControlTest {
    private static final String GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private static String listener(String name, String direction, String address) {
        return """
                  - name: %s
                    address: {socket_address: {address: %s, port_value: 0}}
                    traffic_direction: %s
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: %1$s
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {prefix: /}
                                route: {cluster: origin, timeout: 0s}
                """.formatted(name, address, direction);
    }

    private ProxyConfig config(String inboundRoutePrefix) {
        return BootstrapLoader.loadText(configText(inboundRoutePrefix));
    }

    private String configText(String inboundRoutePrefix) {
        return ("""
                admin:
                  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                static_resources:
                  listeners:
                """ + listener("inbound", "INBOUND", "127.0.0.1").replace("prefix: /}", "prefix: " + inboundRoutePrefix + "}")
                + listener("outbound", "OUTBOUND", "127.0.0.2") + """
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                """.formatted(origin.port()));
    }

    private void start(Duration drainTime) {
        proxy = Proxy.start(config("/"), ProxyOptions.defaults(1).withDrainTime(drainTime));
    }

    private java.net.InetSocketAddress address(String listener) {
        return proxy.listenerAddress(listener);
    }

    /** POSTs to the admin with curl; the status. */
    private int post(String path) {
        return Curl.run("-o", "/dev/null", "-X", "POST", "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + path)
                .status();
    }

    /** An open keep-alive connection that has been answered once. */
    private static RawSocket answeredOnce(java.net.InetSocketAddress address) throws Exception {
        RawSocket s = RawSocket.connect(address);
        RawSocket.Reply r = s.send(GET).readUntil(t -> t.contains("\r\n\r\n"), 100);
        assertTrue(r.statusLine().startsWith("HTTP/1.1 200"), r.text());
        assertFalse(r.closed(), r.text());
        assertFalse(r.text().toLowerCase().contains("connection: close"), r.text());
        return s;
    }

    private static boolean accepts(java.net.InetSocketAddress address) {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void awaitRefused(java.net.InetSocketAddress address, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (accepts(address)) {
            assertTrue(System.nanoTime() < deadline, address + " still accepts after " + millis + " ms");
            Thread.sleep(20);
        }
    }

    @Test
    void aGracefulInboundDrainClosesTheInboundConnectionsKeepsAcceptingForTheDrainTimeThenStops() throws Exception {
        start(Duration.ofSeconds(5));
        var inbound = address("inbound");
        var outbound = address("outbound");
        try (RawSocket idleIn = answeredOnce(inbound); RawSocket busyIn = answeredOnce(inbound);
             RawSocket idleOut = answeredOnce(outbound)) {
            busyIn.send("GET /sleep/800 HTTP/1.1\r\nHost: a\r\n\r\n");
            Thread.sleep(200); // the request is in flight when the drain starts
            long started = System.nanoTime();
            RawSocket.Reply ok = RawSocket.exchange(proxy.adminAddress().orElseThrow().getPort(),
                    "POST /drain_listeners?inboundonly&graceful HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertTrue(ok.statusLine().startsWith("HTTP/1.1 200") && ok.text().endsWith("OK\n"), ok.text());

            assertTrue(idleIn.readUntilClose(2_000).closed(), "an idle inbound connection closes at the drain");
            RawSocket.Reply busy = busyIn.readUntil(t -> t.contains("\r\n\r\n"), 0);
            assertTrue(busy.statusLine().startsWith("HTTP/1.1 200"), busy.text());
            assertTrue(busy.text().toLowerCase().contains("connection: close"), busy.text());
            assertTrue(busyIn.readUntilClose(2_000).closed(), "a busy inbound connection closes after its response");

            // The drain time: the inbound listener still accepts, each new connection answered once and closed.
            RawSocket.Reply during = RawSocket.exchange(inbound, GET);
            assertTrue(during.statusLine().startsWith("HTTP/1.1 200"), during.text());
            assertTrue(during.text().toLowerCase().contains("connection: close"), during.text());
            assertTrue(during.closed(), during.text());
            // (each drained connection closes after Envoy's delayed close, up to a second after its response)
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "checked inside the drain time");

            // The outbound listener was not asked: its connection stays, keep-alive.
            RawSocket.Reply out = idleOut.send(GET).readUntil(t -> t.contains("\r\n\r\n"), 100);
            assertTrue(out.statusLine().startsWith("HTTP/1.1 200"), out.text());
            assertFalse(out.text().toLowerCase().contains("connection: close"), out.text());

            awaitRefused(inbound, 10_000);
            assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(4_900), "stopped after the drain time, not before");
            assertTrue(accepts(outbound));
            RawSocket.Reply again = idleOut.send(GET).readUntil(t -> t.contains("\r\n\r\n"), 100);
            assertTrue(again.statusLine().startsWith("HTTP/1.1 200"), again.text());
        }
    }

    @Test
    void aDrainWithoutGraceStopsEveryListenerAtOnceAndAStoppedListenerTakesNoUpdate() throws Exception {
        start(Duration.ofSeconds(600));
        var inbound = address("inbound");
        var outbound = address("outbound");
        try (RawSocket idleOut = answeredOnce(outbound)) {
            assertEquals(200, post("/drain_listeners"));
            awaitRefused(inbound, 5_000);
            awaitRefused(outbound, 5_000);
            assertTrue(idleOut.readUntilClose(2_000).closed(), "its connections drain too (Envoy's non-graceful drain notifies them)");
        }
        // A later config (a changed route) neither rebinds nor updates them: Envoy's listenersStopped.
        proxy.apply(config("/changed"));
        Thread.sleep(200);
        assertFalse(accepts(inbound));
        assertFalse(accepts(outbound));
        assertFalse(proxy.closed().toCompletableFuture().isDone(), "draining listeners is not a shutdown");
    }

    @Test
    void skipExitDrainsTheConnectionsAndLeavesTheListenersAccepting() throws Exception {
        start(Duration.ofMillis(300));
        var outbound = address("outbound");
        try (RawSocket idle = answeredOnce(outbound)) {
            assertEquals(200, post("/drain_listeners?graceful&skip_exit"));
            assertTrue(idle.readUntilClose(2_000).closed());
        }
        Thread.sleep(800); // past the drain time
        RawSocket.Reply after = RawSocket.exchange(outbound, GET);
        assertTrue(after.statusLine().startsWith("HTTP/1.1 200"), after.text());
        assertTrue(after.text().toLowerCase().contains("connection: close"), "still draining: " + after.text());
    }

    /**
     * While {@code /healthcheck/fail} holds, Envoy's drainClose is true: each response closes its connection, on the
     * connections open before and those accepted since; {@code /healthcheck/ok} ends it. The listeners keep accepting.
     */
    @Test
    void whileHealthChecksFailEachResponseClosesItsConnection() throws Exception {
        start(Duration.ofSeconds(600));
        var inbound = address("inbound");
        try (RawSocket before = answeredOnce(inbound)) {
            assertEquals(200, post("/healthcheck/fail"));
            assertTrue(before.readUntilClose(300).text().isEmpty(), "an idle connection is left alone until its next response");
            RawSocket.Reply r = before.send(GET).readUntil(t -> t.contains("\r\n\r\n"), 0);
            assertTrue(r.statusLine().startsWith("HTTP/1.1 200"), r.text());
            assertTrue(r.text().toLowerCase().contains("connection: close"), r.text());
            assertTrue(before.readUntilClose(3_000).closed());
        }
        RawSocket.Reply fresh = RawSocket.exchange(inbound, GET);
        assertTrue(fresh.text().toLowerCase().contains("connection: close") && fresh.closed(), fresh.text());
        assertEquals(200, post("/healthcheck/ok"));
        try (RawSocket after = answeredOnce(inbound)) { // keep-alive again
            RawSocket.Reply again = after.send(GET).readUntil(t -> t.contains("\r\n\r\n"), 100);
            assertFalse(again.text().toLowerCase().contains("connection: close"), again.text());
        }
    }

    /**
     * drain_type MODIFY_ONLY (Envoy's drain_manager_impl.cc drainClose: only a DEFAULT listener's connections close
     * while health checks fail): the failing health check leaves its keep-alive connections alone while the DEFAULT
     * listener's responses close theirs; a change of the listener still drains it (its idle connection closes).
     */
    @Test
    void aModifyOnlyListenerIsNotDrainedByFailingHealthChecksOnlyByItsChange() throws Exception {
        ProxyConfig modifyOnly = BootstrapLoader.loadText(configText("/").replace("traffic_direction: OUTBOUND",
                "traffic_direction: OUTBOUND\n    drain_type: MODIFY_ONLY"));
        assertTrue(modifyOnly.listeners().stream().anyMatch(l -> l.modifyOnlyDrain() && l.name().equals("outbound")));
        proxy = Proxy.start(modifyOnly, ProxyOptions.defaults(1).withDrainTime(Duration.ofSeconds(600)));
        try (RawSocket kept = answeredOnce(address("outbound")); RawSocket closing = answeredOnce(address("inbound"))) {
            assertEquals(200, post("/healthcheck/fail"));
            for (int i = 0; i < 3; i++) {
                RawSocket.Reply r = kept.send(GET).readUntil(t -> t.contains("\r\n\r\n"), 100);
                assertTrue(r.statusLine().startsWith("HTTP/1.1 200"), r.text());
                assertFalse(r.text().toLowerCase().contains("connection: close") || r.closed(), r.text());
            }
            RawSocket.Reply drained = closing.send(GET).readUntil(t -> t.contains("\r\n\r\n"), 0);
            assertTrue(drained.text().toLowerCase().contains("connection: close"), drained.text());
            RawSocket.Reply fresh = RawSocket.exchange(address("outbound"), GET);
            assertFalse(fresh.text().toLowerCase().contains("connection: close"), fresh.text());
            // A change (a domain) is a modification: the old version's connections drain, the idle one closes now.
            proxy.apply(BootstrapLoader.loadText(configText("/").replace("traffic_direction: OUTBOUND",
                    "traffic_direction: OUTBOUND\n    drain_type: MODIFY_ONLY").replace("domains: [\"*\"]", "domains: [\"*\", \"x\"]")));
            assertTrue(kept.readUntilClose(3_000).closed(), "the modified listener's idle connection is drained");
        }
    }

    @Test
    void quitquitquitShutsTheProxyDown() throws Exception {
        start(Duration.ofSeconds(600));
        var inbound = address("inbound");
        try (RawSocket idle = answeredOnce(inbound)) {
            assertEquals(200, post("/quitquitquit"));
            proxy.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertFalse(accepts(inbound));
            assertTrue(idle.readUntilClose(2_000).closed());
        }
        assertThrows(IllegalStateException.class, () -> proxy.apply(config("/")));
    }
}
