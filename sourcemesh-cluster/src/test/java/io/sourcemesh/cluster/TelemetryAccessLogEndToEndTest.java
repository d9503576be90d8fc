package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Istio's Telemetry access logging on the embedded runtime, with real curl from the sleep pod to httpbin: a Telemetry
 * selecting httpbin with disabled: true leaves its sidecar's log without the request while sleep's sidecar logs it; a
 * filter response.code >= 400 logs the 404 and not the 200.
 */
class TelemetryAccessLogEndToEndTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    private Cluster cluster;
    private final ClusterRuntime runtime = ClusterRuntime.EMBEDDED;

    private void apply(String yaml) throws InterruptedException {
        cluster.apply(ManifestReader.read("telemetry.yaml", yaml));
        assertTrue(cluster.awaitSettled(runtime.settle()), "settles");
    }

    private KubeObject pod(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    /** curl from sleep to httpbin with {@code agent} as User-Agent, the mark its log lines are found by; the status. */
    private String curl(String path, String agent) {
        ExecResult r = cluster.exec("default", pod("sleep").name(), "sleep", List.of("curl", "-sS", "-o", "/dev/null", "-w",
                "%{http_code}", "-A", agent, "--max-time", "10", "http://httpbin:8000" + path));
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout();
    }

    private static Predicate<JsonNode> agent(String agent) {
        return l -> l.path("user_agent").asText().equals(agent);
    }

    private JsonNode awaitLine(String app, String agent) throws Exception {
        return ProxyLogs.await(cluster, "default", pod(app).name(), agent(agent), l -> !l.isMissingNode());
    }

    private boolean hasLine(String app, String agent) throws Exception {
        return !ProxyLogs.newest(cluster, "default", pod(app).name(), agent(agent)).isMissingNode();
    }

    /** Until httpbin's sidecar serves listeners whose dump contains (or not) {@code text}: the push reached it. */
    private void awaitConfig(String text, boolean present) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (cluster.proxyConfig("default", pod("httpbin").name()).contains(text) != present) {
            assertTrue(System.currentTimeMillis() < deadline, "httpbin's sidecar never got a config " + (present ? "with " : "without ")
                    + text);
            Thread.sleep(50);
        }
    }

    @Test
    void aTelemetryTurnsOneWorkloadsLogOffThenFiltersIt() throws Exception {
        cluster = clusters.start(runtime, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");

        assertEquals("200", curl("/status/200", "before"));
        assertEquals(200, awaitLine("httpbin", "before").path("response_code").asInt());
        awaitLine("sleep", "before");

        apply("""
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: httpbin-logs, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  accessLogging: [{providers: [{name: envoy}], disabled: true}]
                """);
        awaitConfig("access_log", false);
        assertEquals("200", curl("/status/200", "while-off"));
        awaitLine("sleep", "while-off"); // the client's sidecar still logs it ...
        Thread.sleep(300); // ... and httpbin's would have written its line by now (it writes first: the server answers first)
        assertTrue(!hasLine("httpbin", "while-off"), "httpbin's sidecar logged a request while its log is off");

        apply("""
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: httpbin-logs, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  accessLogging: [{providers: [{name: envoy}], filter: {expression: "response.code >= 400"}}]
                """);
        awaitConfig("extension_filters.cel", true);
        assertEquals("200", curl("/status/200", "ok"));
        assertEquals("404", curl("/status/404", "not-found"));
        assertEquals(404, awaitLine("httpbin", "not-found").path("response_code").asInt());
        assertTrue(!hasLine("httpbin", "ok"), "the 200 passed the filter response.code >= 400");
        awaitLine("sleep", "ok"); // sleep's log has no filter
    }
}
