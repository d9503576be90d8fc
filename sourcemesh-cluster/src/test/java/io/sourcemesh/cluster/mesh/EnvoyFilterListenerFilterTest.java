package io.sourcemesh.cluster.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * LISTENER_FILTER patches through a running gateway on the embedded runtime: one EnvoyFilter puts Envoy's
 * PROXY-protocol listener filter first, so only a client that sends the header is served; a later one removes
 * exactly that filter, named by match.listener.listenerFilter (Istio's patchListenerFilters: a REMOVE without
 * the name removes nothing), and a plain client is served again.
 */
class EnvoyFilterListenerFilterTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";

    static final String ADD = """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata: {name: pp-first, namespace: istio-system}
            spec:
              workloadSelector: {labels: {istio: ingressgateway}}
              configPatches:
              - applyTo: LISTENER_FILTER
                match: {context: GATEWAY}
                patch:
                  operation: INSERT_FIRST
                  value:
                    name: envoy.filters.listener.proxy_protocol
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol
            """;

    static final String REMOVE = """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata: {name: pp-removed, namespace: istio-system}
            spec:
              workloadSelector: {labels: {istio: ingressgateway}}
              priority: 10
              configPatches:
              - applyTo: LISTENER_FILTER
                match:
                  context: GATEWAY
                  listener: {listenerFilter: envoy.filters.listener.proxy_protocol}
                patch: {operation: REMOVE}
            """;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @Test
    void aListenerFilterIsInsertedThenRemovedByName() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("httpbin.yaml", "http-demo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + f)));
        }
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        ExternalClient.awaitTrue(() -> !ip(cluster).isEmpty(), "load balancer provisioned");
        String url = "http://" + ip(cluster) + "/ip";
        client.awaitCode(url, 200);

        cluster.apply(ManifestReader.read("pp-first.yaml", ADD));
        // The gateway now reads a PROXY header before HTTP: curl's is served, a plain request is not.
        assertEquals(client.address(), client.origin("--haproxy-protocol", url));
        assertEquals(-1, client.code(url));
        assertEquals("True", reconciled(cluster, "pp-first"));

        cluster.apply(ManifestReader.read("pp-removed.yaml", REMOVE));
        client.awaitCode(url, 200);
        assertEquals("True", reconciled(cluster, "pp-removed"));
    }

    private static String ip(Cluster cluster) {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress")
                .path(0).path("ip").asText();
    }

    private static String reconciled(Cluster cluster, String name) {
        return cluster.get(ResourceKind.ENVOY_FILTER, NS, name).orElseThrow().status().path("conditions").path(0)
                .path("status").asText();
    }
}
