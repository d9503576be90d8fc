package io.sourcemesh.cluster.mesh;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.kubeapi.MeshInformers;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An EnvoyFilter's status tells what the proxies did with it, on the embedded runtime: Reconciled is
 * True only when every selected proxy ACKed the push carrying it, a proxy that NACKed it is named
 * with its error, and the Gateway those proxies serve says the same; proxy-status shows the NACK.
 * The control plane reads through informers and writes these statuses through the Kubernetes API, as the daemon's.
 */
class EnvoyFilterStatusTest {
    static final String NS = "istio-system";

    /** A listener filter no Envoy has: every Envoy rejects the listener (and so the push). */
    static final String UNKNOWN_FILTER = """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: unknown-listener-filter
              namespace: istio-system
            spec:
              workloadSelector:
                labels:
                  istio: ingressgateway
              configPatches:
              - applyTo: LISTENER
                patch:
                  operation: MERGE
                  value:
                    listener_filters:
                    - name: envoy.filters.listener.no_such_filter
                      typed_config:
                        "@type": type.googleapis.com/google.protobuf.Struct
            """;

    /** Istio's "Configuring Gateway Network Topology" page, PROXY protocol section, verbatim. */
    static final String ISTIO_PROXY_PROTOCOL = """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: proxy-protocol
              namespace: istio-system
            spec:
              configPatches:
              - applyTo: LISTENER
                patch:
                  operation: MERGE
                  value:
                    listener_filters:
                    - name: envoy.listener.proxy_protocol
                    - name: envoy.listener.tls_inspector
              workloadSelector:
                labels:
                  istio: ingressgateway
            """;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @BeforeEach
    void up() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("httpbin.yaml", "http-demo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + f)));
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle");
    }

    @Test
    void aFilterTheGatewayRejectsIsReconciledFalseWithTheProxysErrorUntilRemoved() throws Exception {
        awaitTrue(() -> reconciled(gateway()).equals("True"), "the Gateway is served before the filter");
        assertEquals("1/1 proxies up to date", condition(gateway()).path("message").asText());

        ClusterApi.ApplyResponse r = cluster.apply(ManifestReader.read("test", UNKNOWN_FILTER));
        String gatewayProxy = gatewayProxy().name();
        assertTrue(gatewayProxy.startsWith("istio-ingressgateway-") && gatewayProxy.endsWith("." + NS), gatewayProxy);
        assertTrue(r.warnings().stream().anyMatch(w -> w.startsWith("EnvoyFilter istio-system/unknown-listener-filter was "
                + "rejected by proxy " + gatewayProxy + ": LDS ") && w.contains("no_such_filter")), r.warnings().toString());

        KubeObject ef = envoyFilter("unknown-listener-filter");
        JsonNode c = condition(ef);
        assertEquals("False", c.path("status").asText(), ef.status().toString());
        assertEquals("Rejected", c.path("reason").asText());
        assertEquals("0/1 proxies up to date; 1 rejected the push carrying it and keep their last good config",
                c.path("message").asText());
        JsonNode proxy = ef.status().path("proxies").path(0);
        assertEquals(gatewayProxy, proxy.path("name").asText());
        assertEquals("NACKED", proxy.path("state").asText());
        assertTrue(proxy.path("detail").asText().contains("no_such_filter"), proxy.toString());
        JsonNode message = ef.status().path("validationMessages").path(0);
        assertEquals("ProxyRejected", message.path("type").asText());
        assertEquals("ERROR", message.path("level").asText());
        assertTrue(ef.node().path("metadata").path("managedFields").findValuesAsText("manager").contains(MeshInformers.FIELD_MANAGER),
                "written through the API's status subresource: " + ef.node().path("metadata"));

        // The Gateway's servers went out in the same refused push: it says so too (item 4 of the issue).
        assertEquals("False", reconciled(gateway()));
        assertEquals("Rejected", condition(gateway()).path("reason").asText());

        // proxy-status: stuck on the old listeners because the push was NACKed; the error is shown.
        ClusterApi.ProxyStatus row = gatewayProxy();
        assertEquals("NACKED", row.lds());
        assertEquals("NOT SENT", row.ecds());
        assertTrue(row.errors().stream().anyMatch(e -> e.startsWith("LDS rejected ") && e.contains("no_such_filter")), row.errors()::toString);

        cluster.delete(ResourceKind.ENVOY_FILTER, NS, "unknown-listener-filter");
        awaitTrue(() -> reconciled(gateway()).equals("True"), "the Gateway reconciled once the filter is gone");
        awaitTrue(() -> gatewayProxy().lds().equals("SYNCED") && gatewayProxy().cds().equals("SYNCED"), "gateway SYNCED");
        assertTrue(gatewayProxy().errors().isEmpty());
    }

    /**
     * Istio's PROXY-protocol filter, as its docs give it (no typed_config). Whether a proxy takes the
     * deprecated names is the proxy's business; the status must say exactly what the gateway answered.
     */
    @Test
    void istiosProxyProtocolFilterShowsWhatTheGatewayAnswered() throws Exception {
        ClusterApi.ApplyResponse r = cluster.apply(ManifestReader.read("test", ISTIO_PROXY_PROTOCOL));
        KubeObject ef = envoyFilter("proxy-protocol");
        ClusterApi.ProxyStatus row = gatewayProxy();
        JsonNode c = condition(ef);
        if (c.path("reason").asText().equals("PatchFailed")) { // refused by the control plane: nothing was pushed
            assertEquals("False", c.path("status").asText());
            assertFalse(r.warnings().isEmpty());
        } else if (row.lds().equals("NACKED")) {
            assertEquals("False", c.path("status").asText(), ef.status().toString());
            assertEquals("Rejected", c.path("reason").asText());
            String detail = ef.status().path("proxies").path(0).path("detail").asText();
            assertTrue(row.errors().stream().anyMatch(e -> e.endsWith(detail.substring(detail.indexOf(": ") + 2))),
                    detail + " vs " + row.errors());
            assertTrue(r.warnings().stream().anyMatch(w -> w.contains("was rejected by proxy " + row.name())), r.warnings()::toString);
        } else {
            assertEquals("SYNCED", row.lds());
            assertEquals("True", c.path("status").asText(), ef.status().toString());
            assertEquals("ACKED", ef.status().path("proxies").path(0).path("state").asText());
        }
    }

    private ClusterApi.ProxyStatus gatewayProxy() {
        return cluster.proxyStatus().stream().filter(p -> p.name().startsWith("istio-ingressgateway-")).findFirst().orElseThrow();
    }

    private KubeObject envoyFilter(String name) {
        return cluster.get(ResourceKind.ENVOY_FILTER, NS, name).orElseThrow();
    }

    private KubeObject gateway() {
        return cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-httpprotocol").orElseThrow();
    }

    private static JsonNode condition(KubeObject o) {
        return o.status().path("conditions").path(0);
    }

    private static String reconciled(KubeObject o) {
        return condition(o).path("status").asText();
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
