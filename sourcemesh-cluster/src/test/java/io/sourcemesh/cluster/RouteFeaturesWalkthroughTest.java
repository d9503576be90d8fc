package io.sourcemesh.cluster;

import io.sourcemesh.cluster.exec.ExecResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Istio's traffic-management samples, once per runtime (the netns run as root), seen from sleep with curl: a
 * VirtualService's headers and timeout, and the circuit-breaking DestinationRule (connectionPool
 * overflow as 503 UO; outlier detection ejecting httpbin after one 5xx).
 */
class RouteFeaturesWalkthroughTest {
    private static final String SAMPLE = """
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata: {name: httpbin, namespace: default}
            spec:
              hosts: [httpbin]
              http:
              - match:
                - uri: {exact: /delay/3}
                timeout: 1s
                route:
                - destination: {host: httpbin}
              - headers:
                  request:
                    set: {x-route: features}
                  response:
                    add: {x-served-by: sourcemesh}
                route:
                - destination: {host: httpbin}
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: DestinationRule
            metadata: {name: httpbin, namespace: default}
            spec:
              host: httpbin
              trafficPolicy:
                connectionPool:
                  tcp: {maxConnections: 1}
                  http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
                outlierDetection:
                  consecutive5xxErrors: 1
                  interval: 1s
                  baseEjectionTime: 3m
                  maxEjectionPercent: 100
            """;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ClusterRuntime runtime;

    /** One node: sleep, httpbin and the gateway side by side. */
    private void up(ClusterRuntime on) {
        runtime = on;
        cluster = clusters.start(on, 1);
    }

    private KubeObject pod(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private ExecResult curl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        cmd.addAll(List.of(args));
        return cluster.exec("default", pod("sleep").name(), "sleep", cmd);
    }

    private JsonNode sleepLog(java.util.function.Predicate<JsonNode> expected) throws Exception {
        return io.sourcemesh.cluster.testing.ProxyLogs.await(cluster, "default", pod("sleep").name(),
                json -> json.path("upstream_cluster").asText().startsWith("outbound|8000||httpbin") && expected.test(json),
                json -> !json.isMissingNode());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void headersTimeoutCircuitBreakerAndEjection(ClusterRuntime on) throws Exception {
        up(on);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        cluster.apply(ManifestReader.read("route-features", SAMPLE));
        assertTrue(cluster.awaitSettled(runtime.settle()));

        // headers: set on the request (httpbin echoes it), added to the response. The push is
        // asynchronous, so wait for the new routes to arrive.
        ExecResult headers = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            headers = curl("-D", "-", "http://httpbin:8000/headers");
            if (headers.stdout().contains("features")) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals(0, headers.exitCode(), headers.stderr());
        assertTrue(headers.stdout().contains("\"X-Route\": \"features\""), headers.stdout());
        assertTrue(headers.stdout().toLowerCase(java.util.Locale.ROOT).contains("\nx-served-by: sourcemesh\r\n"), headers.stdout());

        // connectionPool: one connection, one pending request; the rest overflow as 503 UO.
        List<String> parallel = new ArrayList<>(List.of("-Z", "--parallel-immediate", "--parallel-max", "6",
                "-w", "%{http_code}\\n"));
        for (int i = 0; i < 6; i++) {
            parallel.addAll(List.of("-o", "/dev/null", "http://httpbin:8000/delay/1?n=" + i));
        }
        ExecResult burst = curl(parallel.toArray(String[]::new));
        List<String> codes = burst.stdout().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(6, codes.size(), burst.stdout() + burst.stderr());
        assertTrue(codes.contains("200"), codes.toString());
        assertTrue(codes.contains("503"), "some requests overflow: " + codes);
        JsonNode overflow = sleepLog(l -> l.path("response_flags").asText().equals("UO"));
        assertEquals(503, overflow.path("response_code").asInt());
        assertEquals("upstream_reset_before_response_started{overflow}", overflow.path("response_code_details").asText());

        // timeout: 1s on /delay/3 → 504 UT ...
        long start = System.nanoTime();
        ExecResult slow = curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/delay/3");
        assertEquals("504", slow.stdout(), slow.stderr());
        assertTrue(System.nanoTime() - start < Duration.ofMillis(2900).toNanos(), "the route timed out before httpbin answered");
        assertEquals("UT", sleepLog(l -> l.path("response_code").asInt() == 504).path("response_flags").asText());

        // ... which is httpbin's first 5xx: outlier detection ejects its only host (panic threshold 0).
        ExecResult ejected = curl("-w", "%{http_code}", "http://httpbin:8000/get");
        assertEquals("no healthy upstream503", ejected.stdout(), ejected.stderr());
    }

    /**
     * A VirtualService with fault injection and request/source matches, applied while sleep and
     * httpbin run, enforced by the sleep sidecar: an abort (418, FI) only for POST, a delay (DI)
     * only with ?slow=1, a GET-only route a POST never takes (404 NR), a route for another workload's
     * labels that sleep's sidecar never gets.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void faultAbortDelayAndMethodMatchFromSleep(ClusterRuntime on) throws Exception {
        up(on);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        cluster.apply(ManifestReader.read("fault-match", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: httpbin, namespace: default}
                spec:
                  hosts: [httpbin]
                  http:
                  - name: abort-posts
                    match:
                    - uri: {prefix: /status/200}
                      method: {exact: POST}
                    fault:
                      abort: {httpStatus: 418, percentage: {value: 100}}
                    route:
                    - destination: {host: httpbin}
                  - name: slow
                    match:
                    - uri: {prefix: /get}
                      queryParams: {slow: {exact: "1"}}
                    fault:
                      delay: {fixedDelay: 1s, percentage: {value: 100}}
                    route:
                    - destination: {host: httpbin}
                  - name: others-only
                    match:
                    - uri: {prefix: /headers}
                      sourceLabels: {app: not-sleep}
                    route:
                    - destination: {host: httpbin}
                  - name: get-only
                    match:
                    - method: {exact: GET}
                    route:
                    - destination: {host: httpbin}
                """));
        assertTrue(until(() -> "418".equals(curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                "http://httpbin:8000/status/200").stdout())), "the abort reaches the sleep sidecar");
        ExecResult aborted = curl("-w", "%{http_code}", "-X", "POST", "http://httpbin:8000/status/200");
        assertEquals("fault filter abort418", aborted.stdout(), aborted.stderr());
        JsonNode abortLine = sleepLog(l -> l.path("response_code").asInt() == 418);
        assertEquals("FI", abortLine.path("response_flags").asText());
        assertEquals("fault_filter_abort", abortLine.path("response_code_details").asText());

        assertEquals("200", curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/status/200").stdout(),
                "a GET is neither aborted nor refused");
        ExecResult post = curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://httpbin:8000/anything");
        assertEquals("404", post.stdout(), "the only route for /anything is GET-only: a POST matches no route");

        long start = System.nanoTime();
        ExecResult slow = curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/get?slow=1");
        assertEquals("200", slow.stdout(), slow.stderr());
        assertTrue(System.nanoTime() - start >= Duration.ofSeconds(1).toNanos(), "held for the fixed delay");
        assertEquals("DI", sleepLog(l -> l.path("path").asText().equals("/get?slow=1")).path("response_flags").asText());

        // sourceLabels {app: not-sleep}: that route is not in sleep's config; /headers falls to get-only.
        ExecResult headers = curl("http://httpbin:8000/headers");
        assertEquals(0, headers.exitCode(), headers.stderr());
        assertTrue(headers.stdout().contains("\"Host\""), headers.stdout());
    }

    /** A Sidecar resource reaches the running sidecars: REGISTRY_ONLY with httpbin outside its egress hosts blocks it. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void sidecarEgressHostsAndRegistryOnlyReachTheRunningSidecar(ClusterRuntime on) throws Exception {
        up(on);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        assertEquals("200", curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/get").stdout());

        cluster.apply(ManifestReader.read("sidecar", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress:
                  - hosts: ["istio-system/*"]
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """));
        assertTrue(until(() -> !"200".equals(curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/get").stdout())),
                "httpbin is outside the sleep sidecar's egress hosts: REGISTRY_ONLY must stop the request");

        cluster.delete(ResourceKind.SIDECAR, "default", "default");
        assertTrue(until(() -> "200".equals(curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/get").stdout())),
                "without the Sidecar, httpbin is reachable again");
    }

    /**
     * A DestinationRule's proxyProtocol reaches the sleep sidecar's connections: httpbin's sidecar,
     * which expects no PROXY header, can no longer serve them; without the rule it can again.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void destinationRuleProxyProtocolIsSentUpstream(ClusterRuntime on) throws Exception {
        up(on);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        assertEquals("200", curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/get").stdout());

        cluster.apply(ManifestReader.read("dr-proxy-protocol", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    proxyProtocol: {version: V1}
                """));
        assertTrue(until(() -> !"200".equals(curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/get").stdout())),
                "httpbin's sidecar has no proxy_protocol listener filter: a connection starting with a PROXY header fails");

        cluster.delete(ResourceKind.DESTINATION_RULE, "default", "httpbin");
        assertTrue(until(() -> "200".equals(curl("-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/get").stdout())),
                "without the rule, httpbin answers again");
    }

    private static boolean until(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }
}
