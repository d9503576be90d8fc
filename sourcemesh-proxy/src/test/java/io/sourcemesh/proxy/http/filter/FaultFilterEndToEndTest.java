package io.sourcemesh.proxy.http.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * envoy.filters.http.fault end to end (Envoy's fault_filter_test.cc is the spec): a proxy from a YAML
 * bootstrap with the filter before the router, faults as the routes' typed_per_filter_config (Istio's
 * shape) or the filter's own, real curl, the access log's flags and details, /stats.
 */
class FaultFilterEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Origin origin;
    private Proxy proxy;
    private Path log;

    @TempDir
    Path dir;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
        log = dir.resolve("access.log");
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private static String fault(String yaml) {
        return "typed_per_filter_config:\n  envoy.filters.http.fault:\n    \"@type\": "
                + "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault\n" + yaml.indent(4);
    }

    /** One worker (one event loop), so a blocking delay would hold every other request too. */
    private void start(String routes, String filterConfig) {
        String yaml = """
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: ingress_http
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: @LOG@
                              log_format:
                                json_format:
                                  path: "%REQ(:PATH)%"
                                  code: "%RESPONSE_CODE%"
                                  flags: "%RESPONSE_FLAGS%"
                                  details: "%RESPONSE_CODE_DETAILS%"
                                  cluster: "%UPSTREAM_CLUSTER%"
                          http_filters:
                          - name: envoy.filters.http.fault
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                @FILTER@
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                          route_config:
                            name: local
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                @ROUTES@
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: @PORT@}}
                """.replace("@LOG@", log.toString()).replace("@PORT@", Integer.toString(origin.port()))
                .replace("@FILTER@\n", filterConfig.indent(14))
                .replace("@ROUTES@\n", routes.indent(14));
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private long stat(String name) {
        String stats = Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + "/stats").body();
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats: " + stats);
    }

    private List<JsonNode> logLines(int n) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : LogFiles.awaitLines(log, n)) {
            out.add(JSON.readTree(l));
        }
        return out;
    }

    private static final String ROUTES = """
            - match: {prefix: /abort}
              route: {cluster: origin}
            @ABORT100@
            - match: {prefix: /never}
              route: {cluster: origin}
            @ABORT0@
            - match: {prefix: /delay}
              route: {cluster: origin}
            @DELAY@
            - match: {prefix: /both}
              route: {cluster: origin}
            @BOTH@
            - match: {prefix: /grpc}
              route: {cluster: origin}
            @GRPC@
            - match: {prefix: /}
              route: {cluster: origin}
            """.replace("@ABORT100@\n", fault("abort: {http_status: 503, percentage: {numerator: 100}}").indent(2))
            .replace("@ABORT0@\n", fault("""
                    abort: {http_status: 503, percentage: {numerator: 0}}
                    delay: {fixed_delay: 5s, percentage: {numerator: 0, denominator: MILLION}}""").indent(2))
            .replace("@DELAY@\n", fault("delay: {fixed_delay: 3s, percentage: {numerator: 1000000, denominator: MILLION}}").indent(2))
            .replace("@BOTH@\n", fault("""
                    delay: {fixed_delay: 0.2s, percentage: {numerator: 100}}
                    abort: {http_status: 418, percentage: {numerator: 10000, denominator: TEN_THOUSAND}}""").indent(2))
            .replace("@GRPC@\n", fault("abort: {grpc_status: 14, percentage: {numerator: 100}}").indent(2));

    @Test
    void abortAnswersLocallyWithFlagFiAndNeverReachesTheOrigin() throws Exception {
        start(ROUTES, "");
        Curl.Result r = Curl.run(url("/abort/x"));
        assertEquals(503, r.status());
        assertEquals("fault filter abort", r.body());
        assertTrue(origin.seen().isEmpty(), "an aborted request never reaches the origin");
        Curl.Result never = Curl.run(url("/never"));
        assertEquals(200, never.status(), "0% never aborts nor delays");
        JsonNode aborted = logLines(2).get(0);
        assertEquals(503, aborted.get("code").asInt());
        assertEquals("FI", aborted.get("flags").asText());
        assertEquals("fault_filter_abort", aborted.get("details").asText());
        assertEquals("origin", aborted.get("cluster").asText(), "the route's cluster, as Envoy's cached route sets it");
        assertEquals("-", logLines(2).get(1).get("flags").asText());
        assertEquals(1, stat("http.ingress_http.fault.aborts_injected"));
        assertEquals(0, stat("http.ingress_http.fault.delays_injected"));
        assertEquals(0, stat("http.ingress_http.fault.active_faults"));
    }

    @Test
    void delayHoldsTheRequestWithoutBlockingTheEventLoopThenForwardsIt() throws Exception {
        start(ROUTES, "");
        assertEquals(200, Curl.run(url("/warm")).status()); // the first forwarded request pays for class loading
        long t0 = System.nanoTime();
        CompletableFuture<Curl.Result> delayed = CompletableFuture.supplyAsync(() -> Curl.run(url("/delay/slow")));
        Thread.sleep(150); // the delayed request is waiting on the proxy's only event loop
        Curl.Result fast = Curl.exec(List.of("curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w",
                "%{time_connect} %{time_starttransfer} %{time_total} %{http_code}", url("/fast")));
        assertTrue(fast.out().endsWith(" 200"), fast.out());
        assertFalse(delayed.isDone(), () -> "the delayed request is still held while another is served: " + delayed.join());
        Curl.Result slow = delayed.get();
        long slowMillis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, slow.status(), slow.err());
        assertTrue(slowMillis >= 3000, "held for the fixed delay: " + slowMillis + " ms");
        assertEquals("/delay/slow", origin.last().uri());
        JsonNode line = logLines(3).stream().filter(l -> l.get("path").asText().equals("/delay/slow")).findFirst().orElseThrow();
        assertEquals("DI", line.get("flags").asText());
        assertEquals("via_upstream", line.get("details").asText());
        assertEquals(1, stat("http.ingress_http.fault.delays_injected"));
        assertEquals(0, stat("http.ingress_http.fault.active_faults"), "a finished delay is no longer an active fault");
    }

    @Test
    void aDelayedRequestBodyStillReachesTheOriginWhole() {
        start("""
                - match: {prefix: /upload}
                  route: {cluster: origin}
                """ + fault("delay: {fixed_delay: 0.3s, percentage: {numerator: 100}}").indent(2), "");
        Curl.Result r = Curl.run("--data-binary", "x".repeat(100_000), url("/upload"));
        assertEquals(200, r.status(), r.err());
        assertEquals("{\"received\":100000}", r.body());
    }

    @Test
    void abortAfterDelayLogsBothFlags() throws Exception {
        start(ROUTES, "");
        long t0 = System.nanoTime();
        Curl.Result r = Curl.run("-H", "x-envoy-downstream-service-cluster: sleep", url("/both"));
        assertEquals(418, r.status());
        assertTrue((System.nanoTime() - t0) / 1_000_000 >= 200);
        assertTrue(origin.seen().isEmpty());
        JsonNode line = logLines(1).get(0);
        assertEquals("DI,FI", line.get("flags").asText());
        assertEquals(1, stat("http.ingress_http.fault.delays_injected"));
        assertEquals(1, stat("http.ingress_http.fault.aborts_injected"));
        assertEquals(1, stat("http.ingress_http.fault.sleep.aborts_injected"), "per downstream cluster, as Envoy");
        assertEquals(1, stat("http.ingress_http.fault.sleep.delays_injected"));
    }

    @Test
    void grpcAbortIsATrailersOnlyGrpcReplyToAGrpcRequest() {
        start(ROUTES, "");
        Curl.Result grpc = Curl.run("-i", "-H", "content-type: application/grpc", "--data-binary", "", url("/grpc"));
        assertEquals(200, grpc.status());
        String head = grpc.out().toLowerCase(java.util.Locale.ROOT);
        assertTrue(head.contains("\ngrpc-status: 14\r\n"), grpc.out());
        assertTrue(head.contains("\ngrpc-message: fault filter abort\r\n"), grpc.out());
        assertTrue(head.contains("\ncontent-type: application/grpc\r\n"), grpc.out());
        Curl.Result plain = Curl.run(url("/grpc"));
        assertEquals(200, plain.status(), "Envoy's local reply for a non-gRPC request: 200 and the text");
        assertEquals("fault filter abort", plain.body());
        assertTrue(origin.seen().isEmpty());
    }

    @Test
    void halfOfTheRequestsAreAbortedAtFiftyPercent() {
        start("""
                - match: {prefix: /}
                  route: {cluster: origin}
                """ + fault("abort: {http_status: 500, percentage: {numerator: 500000, denominator: MILLION}}").indent(2), "");
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "--noproxy", "*", "-w", "%{http_code}\\n"));
        int n = 400;
        for (int i = 0; i < n; i++) {
            cmd.addAll(List.of("-o", "/dev/null", url("/r" + i)));
        }
        Curl.Result r = Curl.exec(cmd);
        long aborted = r.out().lines().filter("500"::equals).count();
        long passed = r.out().lines().filter("200"::equals).count();
        assertEquals(n, aborted + passed, r.out());
        // Binomial(400, 0.5): sd 10; [140, 260] is 6 sd either side.
        assertTrue(aborted >= 140 && aborted <= 260, "aborted " + aborted + " of " + n);
        assertEquals(aborted, stat("http.ingress_http.fault.aborts_injected"));
        assertEquals(passed, origin.seen().size());
    }

    @Test
    void theFiltersOwnFaultAppliesWhereTheRouteHasNone() {
        start("""
                - match: {prefix: /own}
                  route: {cluster: origin}
                """ + fault("abort: {http_status: 502, percentage: {numerator: 100}}").indent(2) + """
                - match: {prefix: /}
                  route: {cluster: origin}
                """, "abort: {http_status: 429, percentage: {numerator: 100}}");
        assertEquals(429, Curl.run(url("/any")).status());
        assertEquals(502, Curl.run(url("/own")).status(), "the route's config replaces the filter's");
        assertTrue(origin.seen().isEmpty());
    }

    @Test
    void aClientThatLeavesDuringTheDelayIsNeverForwarded() throws Exception {
        start("""
                - match: {prefix: /}
                  route: {cluster: origin}
                """ + fault("delay: {fixed_delay: 0.5s, percentage: {numerator: 100}}").indent(2), "");
        Curl.Result r = Curl.run("--max-time", "0.2", url("/gone"));
        assertEquals(28, r.exitCode(), "curl timed out");
        Thread.sleep(1000);
        assertTrue(origin.seen().isEmpty(), "the stream ended with the client: the delay never forwarded it");
        JsonNode line = logLines(1).get(0);
        assertTrue(line.get("flags").asText().contains("DI") && line.get("flags").asText().contains("DC"), line.toString());
        assertEquals(0, stat("http.ingress_http.fault.active_faults"));
    }
}
