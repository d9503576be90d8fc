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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A DestinationRule's portLevelSettings end to end in the embedded runtime: httpbin's Service has two ports (8000 and
 * 9000, both to the pod's 8000) and the rule a connectionPool of one connection and one pending request on port 9000
 * only (Istio's GetPortLevelTrafficPolicy, pilot/pkg/networking/util/util.go: the entry is the policy of that port's
 * cluster). A burst from sleep to httpbin:9000 overflows as 503 UO; the same burst to httpbin:8000, whose cluster has
 * Istio's unlimited defaults, is all 200.
 */
class SidecarPortLevelSettingsTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    String sleep;

    @Test
    void aConnectionPoolOnOnePortLimitsOnlyThatPort() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read("httpbin.yaml", Files.readString(Path.of("src/test/resources/seed/httpbin.yaml"))
                .replace("""
                          - name: http
                            port: 8000
                        """, """
                          - name: http
                            port: 8000
                          - name: http-alt
                            port: 9000
                            targetPort: 8000
                        """)));
        cluster.apply(ManifestReader.read("dr.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    portLevelSettings:
                    - port: {number: 9000}
                      connectionPool:
                        tcp: {maxConnections: 1}
                        http: {http1MaxPendingRequests: 1}
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();

        // The push is asynchronous: burst on 9000 until its limits are in place.
        List<String> limited = List.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && !limited.contains("503")) {
            limited = burst(9000);
        }
        assertTrue(limited.contains("200"), limited.toString());
        assertTrue(limited.contains("503"), "port 9000's pool overflows: " + limited);
        JsonNode overflow = ProxyLogs.await(cluster, "default", sleep, j -> j.path("response_flags").asText().equals("UO"),
                j -> !j.isMissingNode());
        assertEquals("outbound|9000||httpbin.default.svc.cluster.local", overflow.path("upstream_cluster").asText());
        assertEquals(503, overflow.path("response_code").asInt());

        assertEquals(List.of("200", "200", "200", "200", "200", "200"), burst(8000), "port 8000 keeps Istio's defaults");
    }

    /** Six requests at once, each held a second by httpbin: their status codes. */
    private List<String> burst(int port) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-Z", "--parallel-immediate",
                "--parallel-max", "6", "-w", "%{http_code}\\n"));
        for (int i = 0; i < 6; i++) {
            cmd.addAll(List.of("-o", "/dev/null", "http://httpbin:" + port + "/delay/1?n=" + i));
        }
        ExecResult r = cluster.exec("default", sleep, "sleep", cmd);
        List<String> codes = r.stdout().lines().filter(l -> !l.isBlank()).sorted().toList();
        assertEquals(6, codes.size(), r.stdout() + r.stderr());
        return codes;
    }
}
