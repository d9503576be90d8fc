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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Sidecar's egress listener with a port end to end in the embedded runtime, with curl from the sleep pod: two services
 * a and b on the same httpbin pods, each on ports 9080 and 8000; the Sidecar lets a out on 9080 only (its listener's
 * port) and b on the ports the catch-all takes. Under REGISTRY_ONLY the other port of each is Istio's block_all, a 502
 * from the sidecar (pilot/pkg/model/sidecar.go serviceMatchingListenerPort; listener.go buildSidecarOutboundListeners
 * locking the port listener's entries before the catch-all; httproute.go GetEgressListenerForRDS).
 */
class SidecarEgressPortTest {
    private static final String SERVICES = """
            apiVersion: v1
            kind: Service
            metadata: {name: a, namespace: default}
            spec:
              ports: [{name: http, port: 9080, targetPort: 8000}, {name: http-web, port: 8000}]
              selector: {app: httpbin}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: b, namespace: default}
            spec:
              ports: [{name: http, port: 9080, targetPort: 8000}, {name: http-web, port: 8000}]
              selector: {app: httpbin}
            """;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    String sleep;

    @Test
    void aServiceIsReachableOnItsListenersPortOnlyAndTheCatchAllsOnTheOthers() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        List<String> warnings = cluster.apply(ManifestReader.read("sidecar.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress:
                  - port: {number: 9080, protocol: HTTP, name: http}
                    hosts: [./a.default.svc.cluster.local]
                  - hosts: [./b.default.svc.cluster.local]
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """)).warnings();
        assertEquals(List.of(), warnings, "the egress port is translated whole");
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        cluster.apply(ManifestReader.read("services.yaml", SERVICES));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();

        assertEquals("200", awaitStatus("http://a:9080/anything/a-9080", "200"), "a on its listener's port");
        JsonNode a = ProxyLogs.await(cluster, "default", sleep, j -> j.path("path").asText().equals("/anything/a-9080"),
                j -> true);
        assertEquals("outbound|9080||a.default.svc.cluster.local", a.path("upstream_cluster").asText(), a.toString());
        assertEquals("200", awaitStatus("http://b:8000/anything/b-8000", "200"), "b on a port the catch-all takes");

        assertEquals("502", curl("http://a:8000/anything/a-8000"), "a is not imported on 8000: block_all");
        assertEquals("502", curl("http://b:9080/anything/b-9080"), "the catch-all adds b to no port a's listener took");
    }

    /** curl in the sleep pod, asked again (the sidecar's config arrives a moment after its start) until {@code expected}. */
    private String awaitStatus(String url, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String status = curl(url);
        while (!status.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            status = curl(url);
        }
        return status;
    }

    /** curl in the sleep pod; the status code, with curl's error if any. */
    private String curl(String url) {
        ExecResult r = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                "-w", "%{http_code}", url));
        return r.stdout().trim() + (r.stderr().isBlank() ? "" : " " + r.stderr().trim());
    }
}
