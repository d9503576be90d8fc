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
 * A Sidecar's {@code outboundTrafficPolicy.egressProxy} end to end in the embedded runtime: under ALLOW_ANY a request
 * for a host the registry does not know leaves the client's sidecar through the PassthroughCluster (to the address it
 * was sent to) until the Sidecar names an egress proxy; then it goes to that service's cluster,
 * outbound|8000||egress-proxy.default.svc.cluster.local (Istio's GetDestinationCluster for the egress proxy), while a
 * known host keeps its own cluster. The embedded runtime captures only service VIPs, so curl connects to httpbin's VIP
 * with the unknown host in the Host header: passthrough and the egress proxy then reach different pods.
 */
class SidecarEgressProxyTest {
    private static final String UNKNOWN = "unknown.external.test";
    private static final String EGRESS_CLUSTER = "outbound|8000||egress-proxy.default.svc.cluster.local";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    String sleep;
    String vip;

    @Test
    void anUnknownHostGoesToTheEgressProxyInsteadOfPassthrough() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        cluster.apply(ManifestReader.read("egress-proxy.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: egress-proxy, namespace: default, labels: {app: egress-proxy}}
                spec:
                  ports: [{name: http, port: 8000}]
                  selector: {app: egress-proxy}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: egress-proxy, namespace: default}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: egress-proxy}}
                  template:
                    metadata: {labels: {app: egress-proxy}}
                    spec:
                      containers:
                      - {name: httpbin, image: docker.io/citizenstig/httpbin, ports: [{containerPort: 8000}]}
                """));
        cluster.apply(ManifestReader.read("sidecar.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  outboundTrafficPolicy: {mode: ALLOW_ANY}
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = running("sleep");
        vip = cluster.get(ResourceKind.SERVICE, "default", "httpbin").orElseThrow().node().path("spec").path("clusterIP").asText();
        String httpbinPod = podIp("httpbin");
        String egressPod = podIp("egress-proxy");

        assertEquals("200", curl(UNKNOWN, "/anything/before").stdout(), "ALLOW_ANY lets an unknown host through");
        JsonNode before = ProxyLogs.await(cluster, "default", sleep,
                j -> j.path("path").asText().equals("/anything/before"), j -> true);
        assertEquals("PassthroughCluster", before.path("upstream_cluster").asText(), before.toString());
        assertEquals(vip + ":8000", before.path("upstream_host").asText(), "passthrough keeps the address curl sent to");

        List<String> warnings = cluster.apply(ManifestReader.read("sidecar.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  outboundTrafficPolicy:
                    mode: ALLOW_ANY
                    egressProxy:
                      host: egress-proxy.default.svc.cluster.local
                      port: {number: 8000}
                """)).warnings();
        assertEquals(List.of(), warnings, "egressProxy is translated whole");
        // The push reaches the sidecar a moment after apply: asked again until a request takes the new route.
        JsonNode after = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        for (int i = 0; System.nanoTime() < deadline; i++) {
            String path = "/anything/after-" + i;
            assertEquals("200", curl(UNKNOWN, path).stdout(), "an unknown host is still let through");
            after = ProxyLogs.await(cluster, "default", sleep, j -> j.path("path").asText().equals(path), j -> true);
            if (after.path("upstream_cluster").asText().equals(EGRESS_CLUSTER)) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals(EGRESS_CLUSTER, after.path("upstream_cluster").asText(), "the unknown host reaches the egress proxy's "
                + "cluster: " + after);
        assertEquals(egressPod + ":8000", after.path("upstream_host").asText(), "the egress proxy's pod: " + after);
        String afterPath = after.path("path").asText();
        JsonNode served = ProxyLogs.await(cluster, "default", running("egress-proxy"),
                j -> j.path("path").asText().equals(afterPath), j -> true);
        assertEquals(UNKNOWN + ":8000", served.path("authority").asText(), "the egress proxy is asked for the host as sent: "
                + served);

        assertEquals("200", curl("httpbin", "/anything/known").stdout(), "a known host");
        JsonNode known = ProxyLogs.await(cluster, "default", sleep,
                j -> j.path("path").asText().equals("/anything/known"), j -> true);
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local", known.path("upstream_cluster").asText(),
                "keeps its own cluster: " + known);
        assertEquals(httpbinPod + ":8000", known.path("upstream_host").asText(), known.toString());
    }

    private String running(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();
    }

    private String podIp(String app) {
        return cluster.get(ResourceKind.POD, "default", running(app)).orElseThrow().status().path("podIP").asText();
    }

    /** curl in the sleep pod to {@code host}:8000 by way of httpbin's VIP; the status code. */
    private ExecResult curl(String host, String path) {
        return cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w",
                "%{http_code}", "--connect-to", host + ":8000:" + vip + ":8000", "http://" + host + ":8000" + path));
    }
}
