package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RefusingPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Circuit breakers and outlier detection from an Envoy bootstrap, with real curl and a real origin:
 * pending overflow is a 503 UO, consecutive 5xx eject a host (and /clusters says so), and with
 * split_external_local_origin_errors local-origin failures eject it apart from the 5xx.
 */
class ResilienceEndToEndTest {
    private static final String OVERFLOW = "upstream connect error or disconnect/reset before headers. reset reason: overflow";

    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    private final List<RefusingPort> held = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
        held.forEach(RefusingPort::close);
    }

    private void start(String clusterFields, int... ports) {
        StringBuilder endpoints = new StringBuilder();
        for (int port : ports) {
            endpoints.append("        - endpoint:\n            address: {socket_address: {address: 127.0.0.1, port_value: ")
                    .append(port).append("}}\n");
        }
        String yaml = """
                admin:
                  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
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
                                route: {cluster: origin, timeout: 0s}
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    lb_policy: ROUND_ROBIN
                """ + clusterFields.indent(4) + """
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                """ + endpoints;
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    /** A port that refuses connections until the test ends. */
    private int closedPort() {
        RefusingPort p = RefusingPort.open();
        held.add(p);
        return p.port();
    }

    /** Three requests at once, each answered after a while; curl prints each status on its own line. */
    private Curl.Result threeAtOnce(String query, boolean bodies) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--noproxy", "*", "--max-time", "20", "-Z", "--parallel-immediate",
                "--parallel-max", "3", "-w", "\\n%{http_code}\\n"));
        for (int i = 0; i < 3; i++) {
            if (!bodies) {
                cmd.addAll(List.of("-o", "/dev/null"));
            }
            cmd.add(url("/sleep/700?" + query + "=" + i));
        }
        return Curl.exec(cmd);
    }

    /** Istio's circuit-breaking task: maxConnections 1, http1MaxPendingRequests 1, three at once. */
    @Test
    void pendingOverflowIs503WithUo() {
        start("""
                circuit_breakers:
                  thresholds:
                  - max_connections: 1
                    max_pending_requests: 1
                    max_requests: 4294967295
                    max_retries: 4294967295
                    track_remaining: true
                """, origin.port());
        Curl.Result r = threeAtOnce("n", false);
        List<String> codes = r.out().lines().filter(l -> !l.isBlank()).sorted().toList();
        assertEquals(List.of("200", "200", "503"), codes, r.out() + r.err());
        assertEquals(1, counter("cluster.origin.upstream_rq_pending_overflow"));
        assertEquals(1, counter("cluster.origin.upstream_rq_pending_total"), "the second request waited for the connection");
        assertEquals(2, origin.seen().size());
        assertEquals(0L, proxy.stats().gauges().get("cluster.origin.circuit_breakers.default.remaining_cx"), "the pooled connection");
        assertEquals(1L, proxy.stats().gauges().get("cluster.origin.circuit_breakers.default.remaining_pending"));
        Curl.Result again = threeAtOnce("m", true);
        assertTrue(again.out().contains(OVERFLOW), again.out());
    }

    @Test
    void consecutive5xxEjectTheHostUntilTheEjectionTimeIsOver() throws Exception {
        int dead = closedPort();
        start("""
                common_lb_config: {healthy_panic_threshold: {value: 0}}
                outlier_detection:
                  consecutive_5xx: 3
                  enforcing_consecutive_5xx: 100
                  enforcing_success_rate: 0
                  interval: 1s
                  base_ejection_time: 60s
                  max_ejection_percent: 100
                """, dead, origin.port());
        List<Integer> codes = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            codes.add(Curl.run("-o", "/dev/null", url("/echo")).status());
        }
        assertEquals(3, codes.stream().filter(c -> c == 503).count(), "three connect failures, then ejected: " + codes);
        assertTrue(codes.subList(6, 12).stream().allMatch(c -> c == 200), codes.toString());
        assertEquals(1, counter("cluster.origin.outlier_detection.ejections_enforced_consecutive_5xx"));
        assertEquals(1L, proxy.stats().gauges().get("cluster.origin.outlier_detection.ejections_active"));
        String admin = "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort();
        String clusters = Curl.run(admin + "/clusters").body();
        assertTrue(clusters.contains("origin::127.0.0.1:" + dead + "::health_flags::/failed_outlier_check"), clusters);
        assertTrue(clusters.contains("origin::127.0.0.1:" + origin.port() + "::health_flags::healthy"), clusters);
    }

    @Test
    void withEveryHostEjectedAndNoPanicTheAnswerIsNoHealthyUpstream() throws Exception {
        int dead = closedPort();
        start("""
                common_lb_config: {healthy_panic_threshold: {value: 0}}
                outlier_detection: {consecutive_5xx: 2, max_ejection_percent: 100, base_ejection_time: 60s}
                """, dead);
        assertEquals(503, Curl.run("-o", "/dev/null", url("/")).status());
        assertEquals(503, Curl.run("-o", "/dev/null", url("/")).status());
        Curl.Result r = Curl.run(url("/"));
        assertEquals(503, r.status());
        assertEquals("no healthy upstream", r.body());
        assertEquals(2, counter("cluster.origin.upstream_cx_connect_fail"), "the ejected host is not tried");
    }

    @Test
    void maxEjectionPercentLimitsEjections() throws Exception {
        int dead = closedPort();
        start("outlier_detection: {consecutive_5xx: 1, max_ejection_percent: 10}\n", dead, origin.port());
        for (int i = 0; i < 4; i++) {
            Curl.run("-o", "/dev/null", url("/"));
        }
        assertEquals(0L, proxy.stats().gauges().get("cluster.origin.outlier_detection.ejections_active"),
                "ejecting one of two hosts would be 50% > 10%");
        assertTrue(counter("cluster.origin.outlier_detection.ejections_overflow") >= 1);
    }

    /**
     * split_external_local_origin_errors (outlier_detection_impl.cc putResultWithLocalExternalSplit): connect failures
     * to a refusing port count toward consecutive_local_origin_failure (4), not consecutive_5xx (2), so the host is
     * ejected at the fourth, not the second.
     */
    @Test
    void withTheSplitConnectFailuresEjectAtConsecutiveLocalOriginFailure() throws Exception {
        int dead = closedPort();
        start("""
                common_lb_config: {healthy_panic_threshold: {value: 0}}
                outlier_detection:
                  consecutive_5xx: 2
                  split_external_local_origin_errors: true
                  consecutive_local_origin_failure: 4
                  enforcing_consecutive_local_origin_failure: 100
                  enforcing_local_origin_success_rate: 0
                  enforcing_success_rate: 0
                  base_ejection_time: 60s
                  max_ejection_percent: 100
                """, dead, origin.port());
        List<Integer> codes = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            codes.add(Curl.run("-o", "/dev/null", url("/echo")).status());
        }
        assertEquals(4, codes.stream().filter(c -> c == 503).count(), "four connect failures, then ejected: " + codes);
        assertTrue(codes.subList(8, 14).stream().allMatch(c -> c == 200), codes.toString());
        assertEquals(1, counter("cluster.origin.outlier_detection.ejections_detected_consecutive_local_origin_failure"));
        assertEquals(1, counter("cluster.origin.outlier_detection.ejections_enforced_consecutive_local_origin_failure"));
        assertEquals(0, counter("cluster.origin.outlier_detection.ejections_detected_consecutive_5xx"));
        assertEquals(1L, proxy.stats().gauges().get("cluster.origin.outlier_detection.ejections_active"));
        String admin = "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort();
        String clusters = Curl.run(admin + "/clusters").body();
        assertTrue(clusters.contains("origin::127.0.0.1:" + dead + "::health_flags::/failed_outlier_check"), clusters);
    }

    /** With the split, the origin's own 5xx responses still count toward consecutive_5xx, and not toward the local-origin count. */
    @Test
    void withTheSplitResponsesCountTowardConsecutive5xxOnly() throws Exception {
        start("""
                common_lb_config: {healthy_panic_threshold: {value: 0}}
                outlier_detection:
                  consecutive_5xx: 3
                  split_external_local_origin_errors: true
                  consecutive_local_origin_failure: 2
                  enforcing_local_origin_success_rate: 0
                  base_ejection_time: 60s
                  max_ejection_percent: 100
                """, origin.port());
        for (int i = 0; i < 3; i++) {
            assertEquals(503, Curl.run("-o", "/dev/null", url("/code/503")).status());
        }
        Curl.Result r = Curl.run(url("/echo"));
        assertEquals(503, r.status());
        assertEquals("no healthy upstream", r.body());
        assertEquals(1, counter("cluster.origin.outlier_detection.ejections_enforced_consecutive_5xx"));
        assertEquals(0, counter("cluster.origin.outlier_detection.ejections_detected_consecutive_local_origin_failure"));
        assertEquals(3, origin.seen().size(), "the ejected host was not asked again");
    }

    /**
     * With the split, every request that gets a connection resets the local-origin count (the router's onPoolReady:
     * LOCAL_ORIGIN_CONNECT_SUCCESS), so an origin that accepts and then hangs up on every request is never ejected
     * by consecutive_local_origin_failure: its resets never come two in a row.
     */
    @Test
    void withTheSplitEachConnectSuccessResetsTheLocalOriginCount() throws Exception {
        try (ServerSocket hangsUp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!hangsUp.isClosed()) {
                    try (Socket s = hangsUp.accept()) {
                        s.getInputStream().read(); // the request has arrived: close without an answer
                    } catch (IOException e) {
                        // closed at the test's end
                    }
                }
            });
            start("""
                    common_lb_config: {healthy_panic_threshold: {value: 0}}
                    outlier_detection:
                      split_external_local_origin_errors: true
                      consecutive_local_origin_failure: 2
                      enforcing_local_origin_success_rate: 0
                      base_ejection_time: 60s
                      max_ejection_percent: 100
                    """, hangsUp.getLocalPort());
            for (int i = 0; i < 4; i++) {
                Curl.Result r = Curl.run(url("/echo"));
                assertEquals(503, r.status());
                assertEquals("upstream connect error or disconnect/reset before headers. reset reason: connection termination",
                        r.body(), "request " + i);
            }
            assertEquals(0, counter("cluster.origin.outlier_detection.ejections_detected_consecutive_local_origin_failure"));
            assertEquals(0L, proxy.stats().gauges().get("cluster.origin.outlier_detection.ejections_active"));
        }
    }
}
