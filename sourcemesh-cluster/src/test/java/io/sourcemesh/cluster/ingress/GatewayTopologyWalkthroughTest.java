package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.store.StoreException;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Istio's "Configuring Gateway Network Topology" example, once per runtime (the netns run as root): a client sends
 * {@code X-Forwarded-For: 56.5.6.7, 72.9.5.6, 98.1.2.3} through the cloud load balancer and the
 * ingress gateway to httpbin's {@code /get?show_env=true}; numTrustedProxies in the istio ConfigMap
 * (then the gateway's proxy.istio.io/config annotation) decides X-Envoy-External-Address.
 */
class GatewayTopologyWalkthroughTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final String XFF = "56.5.6.7, 72.9.5.6, 98.1.2.3";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ClusterRuntime runtime;
    ExternalClient client;

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void trustedHopsZeroOneTwoFromTheMeshConfigThenThePodAnnotation(ClusterRuntime on) throws Exception {
        runtime = on;
        cluster = clusters.start(on, 2);
        client = on.client(cluster);
        Set<String> nodes = on.nodeAddresses(cluster);
        apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        String url = "http://" + loadBalancerIp() + "/get?show_env=true";

        // 0 (no gatewayTopology): the trusted client is the TCP peer — a node's address under Cluster —
        // appended to the XFF as Envoy's code does (a bare ","); a multi-entry XFF makes the request
        // external, so the peer is also X-Envoy-External-Address.
        JsonNode h = headers(url, b -> true);
        String peer = h.path("X-Forwarded-For").asText().substring(XFF.length() + 1);
        assertTrue(nodes.contains(peer), "a node's address " + nodes + ": " + h);
        assertEquals(XFF + "," + peer, h.path("X-Forwarded-For").asText());
        assertEquals(peer, h.path("X-Envoy-External-Address").asText(), h.toString());

        // 1: the last address the client's proxies wrote.
        apply(meshConfig("numTrustedProxies: 1"));
        h = headers(url, b -> b.path("X-Envoy-External-Address").asText().equals("98.1.2.3"));
        assertTrue(nodes.contains(lastHop(h)), h.toString());

        // 2: Istio's page, exactly: "X-Envoy-External-Address": "72.9.5.6".
        apply(meshConfig("numTrustedProxies: 2"));
        h = headers(url, b -> b.path("X-Envoy-External-Address").asText().equals("72.9.5.6"));
        assertTrue(nodes.contains(lastHop(h)), h.toString());

        // A mesh config with a field SourceMesh does not honour is refused whole (reading the manifest
        // already, as kubectl's client-side validation); the last good one serves.
        RuntimeException refused = assertThrows(RuntimeException.class,
                () -> cluster.apply(meshConfig("numTrustedProxies: 1\n        forwardClientCertDetails: SANITIZE")));
        assertTrue(refused.getMessage().contains("data.mesh: defaultConfig.gatewayTopology.forwardClientCertDetails: not supported"),
                refused.getMessage());
        assertEquals("72.9.5.6", headers(url, b -> true).path("X-Envoy-External-Address").asText());

        // The gateway pod's annotation overrides the mesh default; the template change rolls the pod.
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"template\":{\"metadata\":"
                + "{\"annotations\":{\"proxy.istio.io/config\":\"{\\\"gatewayTopology\\\":{\\\"numTrustedProxies\\\":1}}\"}}}}}")));
        assertTrue(cluster.awaitSettled(runtime.settle()), "gateway rolled");
        h = headers(url, b -> b.path("X-Envoy-External-Address").asText().equals("98.1.2.3"));

        // A bad annotation is refused by the API server, naming the field.
        StoreException bad = assertThrows(StoreException.class, () -> cluster.patch(ResourceKind.DEPLOYMENT, NS, GW,
                PatchType.STRATEGIC, "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
                        + "{\"proxy.istio.io/config\":\"holdApplicationUntilProxyStarts: true\"}}}}}"));
        assertTrue(bad.getMessage().contains("spec.template.metadata.annotations[proxy.istio.io/config]:"
                + " holdApplicationUntilProxyStarts: not supported by SourceMesh"), bad.getMessage());
    }

    /** The address the gateway appended to the client's X-Forwarded-For (the TCP peer). */
    private static String lastHop(JsonNode headers) {
        String xff = headers.path("X-Forwarded-For").asText();
        assertTrue(xff.startsWith(XFF + ","), xff);
        return xff.substring(XFF.length() + 1);
    }

    private JsonNode headers(String url, java.util.function.Predicate<JsonNode> expected) throws Exception {
        return client.awaitJson(b -> expected.test(b.path("headers")), "-H", "X-Forwarded-For: " + XFF, url).path("headers");
    }

    private static List<KubeObject> meshConfig(String topology) {
        return ManifestReader.read("mesh.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data:
                  mesh: |
                    defaultConfig:
                      gatewayTopology:
                        %s
                """.formatted(topology));
    }

    private void apply(List<KubeObject> objects) throws Exception {
        cluster.apply(objects);
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
    }

    private String loadBalancerIp() throws Exception {
        ExternalClient.awaitTrue(() -> !ip().isEmpty(), "load balancer provisioned");
        return ip();
    }

    private String ip() {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress").path(0)
                .path("ip").asText();
    }
}
