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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Sidecar's inboundConnectionPool end to end in the embedded runtime: httpbin's Sidecar allows one connection and one
 * pending request to its app (Istio's buildInboundCluster: the pool is the circuit breakers of inbound|8000||). A burst
 * of slow requests from sleep is all 200 before the Sidecar; with it, those past the limit are 503, which httpbin's
 * sidecar logs with flag UO on its inbound cluster. sleep's own outbound cluster keeps Istio's unlimited defaults, so
 * the overflow is the receiving side's.
 */
class SidecarInboundConnectionPoolEndToEndTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    String sleep;

    @Test
    void theInboundPoolShedsABurstPastItsLimit() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = running("sleep").name();
        String httpbin = running("httpbin").name();

        List<String> before = List.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && (before.isEmpty() || !before.stream().allMatch("200"::equals))) {
            before = burst(); // the first push may still be on its way
        }
        assertEquals(List.of("200", "200", "200", "200", "200", "200"), before, "without the Sidecar: the proxy's defaults");

        cluster.apply(ManifestReader.read("sidecar.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: httpbin, namespace: default}
                spec:
                  workloadSelector: {labels: {app: httpbin}}
                  inboundConnectionPool:
                    tcp: {maxConnections: 1}
                    http: {http1MaxPendingRequests: 1}
                """));
        // The push is asynchronous: burst until the limits are in place.
        List<String> limited = List.of();
        deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && !limited.contains("503")) {
            limited = burst();
        }
        assertTrue(limited.contains("200"), limited.toString());
        assertTrue(limited.contains("503"), "the inbound pool overflows: " + limited);
        JsonNode overflow = ProxyLogs.await(cluster, "default", httpbin, j -> j.path("response_flags").asText().equals("UO"),
                j -> !j.isMissingNode());
        assertEquals("inbound|8000||", overflow.path("upstream_cluster").asText(), overflow.toString());
        assertEquals(503, overflow.path("response_code").asInt(), overflow.toString());
    }

    private KubeObject running(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    /** Six requests at once, each held a second by httpbin: their status codes. */
    private List<String> burst() {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-Z", "--parallel-immediate",
                "--parallel-max", "6", "-w", "%{http_code}\\n"));
        for (int i = 0; i < 6; i++) {
            cmd.addAll(List.of("-o", "/dev/null", "http://httpbin:8000/delay/1?n=" + i));
        }
        ExecResult r = cluster.exec("default", sleep, "sleep", cmd);
        List<String> codes = r.stdout().lines().filter(l -> !l.isBlank()).sorted().toList();
        assertEquals(6, codes.size(), r.stdout() + r.stderr());
        return codes;
    }
}
