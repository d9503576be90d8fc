package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.ingress.GatewayInstall;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The control plane of a test cluster (as the daemon's) reads the mesh through fabric8 informers on
 * the cluster's Kubernetes API and writes the mesh's statuses through its status subresource: a
 * change reaches the proxies only through that API, and the status carries the API's field manager.
 */
class MeshInformersTest {
    static final String POLICY = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: nobody-selected
              namespace: default
            spec:
              selector:
                matchLabels:
                  app: no-such-app
              action: DENY
              rules:
              - to:
                - operation:
                    paths: ["/admin"]
            """;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    private static String service(String name) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                  namespace: default
                spec:
                  selector: {app: %s}
                  ports:
                  - {name: http, port: 80, targetPort: 8080}
                """.formatted(name, name);
    }

    @Test
    void aChangeReachesTheProxiesOnlyThroughTheKubernetesApi() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        assertEquals("informers on https://127.0.0.1:" + clusters.kubeApi().port() + "/", cluster.info().meshSource());
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "the ingress gateway runs");
        String gateway = cluster.list(ResourceKind.POD, GatewayInstall.NAMESPACE, "app=" + GatewayInstall.NAME).getFirst().name();

        // Written to the store, the API server's side: the API's watch carries it to the informers.
        cluster.store().apply(ManifestReader.read("a.yaml", service("informed-a")));
        awaitTrue(() -> cluster.proxyConfig(GatewayInstall.NAMESPACE, gateway).contains("informed-a.default.svc"), "Service informed-a reached the gateway");

        // With the API server gone the informers see nothing more: a control plane reading the store would push b.
        clusters.kubeApi().close();
        cluster.store().apply(ManifestReader.read("b.yaml", service("informed-b")));
        Thread.sleep(3000);
        assertFalse(cluster.proxyConfig(GatewayInstall.NAMESPACE, gateway).contains("informed-b.default.svc"),
                "the control plane reads only through the Kubernetes API");
    }

    @Test
    void theMeshsStatusIsWrittenThroughTheStatusSubresource() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read("policy.yaml", POLICY));
        KubeObject policy = cluster.get(ResourceKind.AUTHORIZATION_POLICY, "default", "nobody-selected").orElseThrow();
        assertEquals("NoProxy", policy.status().path("conditions").path(0).path("reason").asText(), policy.toString());
        JsonNode statusWriter = null;
        for (JsonNode e : policy.node().path("metadata").path("managedFields")) {
            if (e.path("manager").asText().equals(MeshInformers.FIELD_MANAGER)) {
                statusWriter = e;
            }
        }
        assertTrue(statusWriter != null, "the status writer is in managedFields: " + policy.node().path("metadata"));
        assertEquals("Update", statusWriter.path("operation").asText());
        assertEquals("status", statusWriter.path("subresource").asText());
        assertTrue(statusWriter.path("fieldsV1").path("f:status").has("f:conditions"), statusWriter.toString());
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
