package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RefusingPort;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Envoy's priority levels and locality weighting through real curl on loopback: a cluster of two origins in priority 0
 * and one in priority 1 sends everything to priority 0 while it is healthy; with one of its two hosts ejected by outlier
 * detection priority 0's health is 140% × 1/2 = 70%, so 70% stays and 30% spills to priority 1; with both ejected all
 * goes to priority 1. Localities weighted 1:3 take a quarter and three quarters.
 */
class PriorityEndToEndTest {
    private static final int REQUESTS = 400;

    private final List<Origin> origins = new ArrayList<>();
    private final List<RefusingPort> held = new ArrayList<>();
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origins.forEach(Origin::close);
        held.forEach(RefusingPort::close);
    }

    private Origin origin() throws Exception {
        Origin o = Origin.start();
        origins.add(o);
        return o;
    }

    private int deadPort() {
        RefusingPort p = RefusingPort.open();
        held.add(p);
        return p.port();
    }

    /** A locality of one endpoint per port, with its own fields (a flow mapping's entries). */
    private static String locality(String fields, int... ports) {
        List<String> endpoints = new ArrayList<>();
        for (int port : ports) {
            endpoints.add("{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + port + "}}}}");
        }
        return "- {" + fields + ", lb_endpoints: [" + String.join(", ", endpoints) + "]}\n";
    }

    private void start(String clusterFields, String localities) {
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
                """ + localities.indent(6);
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    private static final String EJECT_AT_FIRST_FAILURE = """
            outlier_detection: {consecutive_5xx: 1, max_ejection_percent: 100, base_ejection_time: 60s, interval: 60s}
            """;

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    /** Requests one at a time until outlier detection has ejected {@code n} hosts. */
    private void ejectDeadHosts(int n) {
        for (int i = 0; i < 50 && ejected() < n; i++) {
            Curl.run("-o", "/dev/null", url("/warm"));
        }
        assertEquals(n, ejected(), "hosts ejected");
    }

    private long ejected() {
        return proxy.stats().gauges().getOrDefault("cluster.origin.outlier_detection.ejections_active", 0L);
    }

    /** REQUESTS requests on one curl connection, each a pick; every one answered 200. */
    private void send() {
        origins.forEach(Origin::forget);
        Curl.Result r = Curl.exec(List.of("curl", "-sS", "--max-time", "60", "--noproxy", "*", "-o", "/dev/null",
                "-w", "%{http_code}\\n", url("/[1-" + REQUESTS + "]")));
        assertEquals(0, r.exitCode(), r.err());
        List<String> codes = r.out().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(REQUESTS, codes.size(), r.out());
        assertTrue(codes.stream().allMatch("200"::equals), r.out());
        assertEquals(REQUESTS, origins.stream().mapToInt(o -> o.seen().size()).sum());
    }

    private String clusters() {
        return Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + "/clusters").body();
    }

    @Test
    void aHealthyPriorityZeroTakesEverything() throws Exception {
        Origin a = origin();
        Origin b = origin();
        Origin c = origin();
        start(EJECT_AT_FIRST_FAILURE, locality("locality: {region: r, zone: z0}", a.port(), b.port())
                + locality("priority: 1, locality: {region: r, zone: z1, sub_zone: s}", c.port()));
        send();
        assertEquals(0, c.seen().size(), "priority 1 is not used while priority 0 is healthy");
        assertEquals(REQUESTS / 2, a.seen().size());
        String text = clusters();
        assertTrue(text.contains("origin::127.0.0.1:" + c.port() + "::priority::1\n"), text);
        assertTrue(text.contains("origin::127.0.0.1:" + c.port() + "::zone::z1\n"), text);
        assertTrue(text.contains("origin::127.0.0.1:" + c.port() + "::sub_zone::s\n"), text);
        assertTrue(text.contains("origin::127.0.0.1:" + a.port() + "::priority::0\n"), text);
        assertTrue(text.contains("origin::127.0.0.1:" + a.port() + "::region::r\n"), text);
        String admin = "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort();
        String json = Curl.run(admin + "/clusters?format=json").body().replaceAll("\\s", "");
        assertTrue(json.contains("\"priority\":1,\"locality\":{\"region\":\"r\",\"zone\":\"z1\",\"sub_zone\":\"s\"}"), json);
        String dump = Curl.run(admin + "/config_dump").body();
        assertTrue(dump.contains("\"priority\": 1"), "config_dump keeps the locality's priority");
        assertTrue(dump.contains("\"sub_zone\": \"s\""), "config_dump keeps the locality");
    }

    /**
     * One of priority 0's two hosts ejected: its health is min(100, 140 × 1 / 2) = 70, priority 1's 100; the sum is
     * capped at 100, so priority 0 takes 70% and priority 1 the remaining 30% (recalculatePerPriorityState). Of 400
     * picks, priority 0's expected 280 has a standard deviation of about 9; 240 to 320 fails no fair run and catches
     * both a cluster that ignores priorities (200 each) and one that never spills (400).
     */
    @Test
    void withHalfOfPriorityZeroEjectedSeventyPercentStaysAndThirtySpillsToPriorityOne() throws Exception {
        int dead = deadPort();
        Origin a = origin();
        Origin c = origin();
        start(EJECT_AT_FIRST_FAILURE, locality("locality: {zone: z0}", a.port(), dead)
                + locality("priority: 1", c.port()));
        ejectDeadHosts(1);
        send();
        int p0 = a.seen().size();
        assertTrue(p0 >= 240 && p0 <= 320, "priority 0 took " + p0 + " of " + REQUESTS + ", expected about 280");
        assertTrue(clusters().contains("origin::127.0.0.1:" + dead + "::health_flags::/failed_outlier_check"));
    }

    @Test
    void withAllOfPriorityZeroEjectedPriorityOneTakesEverything() throws Exception {
        int dead1 = deadPort();
        int dead2 = deadPort();
        Origin c = origin();
        start(EJECT_AT_FIRST_FAILURE, locality("locality: {zone: z0}", dead1, dead2) + locality("priority: 1", c.port()));
        ejectDeadHosts(2);
        send();
        assertEquals(REQUESTS, c.seen().size());
    }

    /**
     * locality_weighted_lb_config with localities weighted 1 and 3: Envoy's EDF over weight × health gives a quarter
     * and three quarters (the schedule is deterministic, so within a pick or two); plain round robin would halve them.
     */
    @Test
    void localitiesWeightedOneToThreeTakeAQuarterAndThreeQuarters() throws Exception {
        Origin a = origin();
        Origin b = origin();
        start("common_lb_config: {locality_weighted_lb_config: {}}\n",
                locality("locality: {zone: z1}, load_balancing_weight: 1", a.port())
                        + locality("locality: {zone: z3}, load_balancing_weight: 3", b.port()));
        send();
        int light = a.seen().size();
        assertTrue(light >= 80 && light <= 120, "the weight-1 locality took " + light + " of " + REQUESTS + ", expected 100");
    }

    /**
     * Locality weighting over health: with zone z3's one host of two ejected its effective weight is 3 × min(1, 1.4 ×
     * 1/2) = 2.1, so z1 takes 1 / 3.1 of the picks (about 129 of 400).
     */
    @Test
    void anEjectedHostLowersItsLocalitysWeight() throws Exception {
        Origin a = origin();
        Origin b = origin();
        int dead = deadPort();
        start("common_lb_config: {locality_weighted_lb_config: {}}\n" + EJECT_AT_FIRST_FAILURE,
                locality("locality: {zone: z1}, load_balancing_weight: 1", a.port())
                        + locality("locality: {zone: z3}, load_balancing_weight: 3", b.port(), dead));
        ejectDeadHosts(1);
        send();
        int light = a.seen().size();
        assertTrue(light >= 115 && light <= 145, "the weight-1 locality took " + light + " of " + REQUESTS + ", expected 129");
    }
}
