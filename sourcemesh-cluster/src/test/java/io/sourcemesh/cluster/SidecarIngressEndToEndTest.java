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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Sidecar ingress listener end to end in the embedded runtime: Service httpbin-alt sends port 9080 to httpbin's pods,
 * whose app listens on 8000 only; httpbin's Sidecar maps its ingress port 9080 to defaultEndpoint 0.0.0.0:8000, so the
 * sidecar's inbound|9080|| cluster reaches the app (Istio's buildInboundClusters: 0.0.0.0 is the pod's IP). The
 * embedded pods share the machine's loopback, where each pod's address is its own 127.17.x.y and 127.0.0.1 is no pod's
 * own, so the 127.0.0.1 form is not what a pod's app listens on here; the pod-IP form is the one to test.
 */
class SidecarIngressEndToEndTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void anIngressListenerReachesTheAppOnItsDefaultEndpoint() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        cluster.apply(ManifestReader.read("alt.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: httpbin-alt, namespace: default}
                spec:
                  ports: [{name: http, port: 9080}]
                  selector: {app: httpbin}
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: httpbin, namespace: default}
                spec:
                  workloadSelector: {labels: {app: httpbin}}
                  ingress:
                  - port: {number: 9080, protocol: HTTP, name: http-alt}
                    defaultEndpoint: 0.0.0.0:8000
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String sleep = running("sleep").name();
        KubeObject httpbin = running("httpbin");
        String httpbinIp = httpbin.status().path("podIP").asText();

        ExecResult r = curlUntilOk(sleep, "http://httpbin-alt:9080/get?via=ingress");
        assertTrue(r.stdout().startsWith("200"), "the app is reached on 8000 through port 9080: " + r.stdout() + r.stderr());
        JsonNode line = ProxyLogs.await(cluster, "default", httpbin.name(),
                j -> j.path("path").asText().equals("/get?via=ingress"), j -> j.hasNonNull("upstream_host"));
        assertEquals("inbound|9080||", line.path("upstream_cluster").asText(), line.toString());
        assertEquals(httpbinIp + ":8000", line.path("upstream_host").asText(), line.toString());
        assertTrue(line.path("upstream_local_address").asText().startsWith("127.0.0.6:"), line.toString());
    }

    private KubeObject running(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    /** The Sidecar reaches httpbin's proxy over ADS a moment after the pods settle: a few tries. */
    private ExecResult curlUntilOk(String pod, String url) throws InterruptedException {
        ExecResult r = null;
        for (int i = 0; i < 20; i++) {
            r = cluster.exec("default", pod, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                    "-w", "%{http_code}", url));
            if (r.stdout().startsWith("200")) {
                return r;
            }
            Thread.sleep(250);
        }
        return r;
    }
}
