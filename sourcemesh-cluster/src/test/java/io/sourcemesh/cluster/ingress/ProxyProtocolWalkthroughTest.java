package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.LocalCluster;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The third way to keep the client's address (after externalTrafficPolicy Local and XFF): the cloud
 * load balancer prepends PROXY protocol (Alibaba's annotation on the gateway Service) and the gateway
 * reads it (gatewayTopology.proxyProtocol), so httpbin sees the client even under
 * externalTrafficPolicy Cluster, where the node's SNAT hides it on the socket.
 */
class ProxyProtocolWalkthroughTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final String CLIENT = AddressPlan.EXTERNAL_CLIENT;
    static final String ON = "{\"metadata\":{\"annotations\":{\"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol\":\"on\"}}}";

    @TempDir
    Path home;
    LocalCluster cluster;
    final ExternalClient client = new ExternalClient(CLIENT);

    @BeforeEach
    void up() {
        cluster = LocalCluster.start(new Home(home), 2, 0);
    }

    @AfterEach
    void down() {
        cluster.close();
    }

    @Test
    void clusterPolicyKeepsTheClientThroughProxyProtocolV1AndV2() throws Exception {
        apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        String url = "http://" + loadBalancerIp() + "/ip";
        assertEquals("Cluster", cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().spec().path("externalTrafficPolicy").asText());
        assertTrue(client.awaitJson(b -> true, url).path("origin").asText().startsWith(AddressPlan.NODE_PREFIX), "a node before");

        // The gateway expects the header (the mesh default), then the load balancer sends it.
        apply(ManifestReader.read("mesh.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data:
                  mesh: |
                    defaultConfig:
                      gatewayTopology:
                        proxyProtocol: {}
                """));
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, ON);
        assertEquals(CLIENT, client.awaitJson(b -> b.path("origin").asText().equals(CLIENT), url).path("origin").asText());
        for (int i = 0; i < 5; i++) {
            assertEquals(CLIENT, client.awaitJson(b -> true, url).path("origin").asText(), "request " + i);
        }
        JsonNode log = gatewayLog();
        assertTrue(log.path("downstream_remote_address").asText().startsWith(CLIENT + ":"), log.toString());
        assertEquals(CLIENT, log.path("x_forwarded_for").asText(), log.toString());

        // v2: the binary header, same result.
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC,
                "{\"metadata\":{\"annotations\":{\"sourcemesh.io/proxy-protocol-version\":\"v2\"}}}");
        for (int i = 0; i < 5; i++) {
            assertEquals(CLIENT, client.awaitJson(b -> true, url).path("origin").asText(), "v2 request " + i);
        }
    }

    @Test
    void aGatewayThatDoesNotExpectTheHeaderRefusesTheBytes() throws Exception {
        apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        String url = "http://" + loadBalancerIp() + "/ip";
        client.awaitJson(b -> true, url);
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, ON);
        ExternalClient.Curl seen = null;
        for (int i = 0; i < 50; i++) {
            seen = client.curl("-v", url);
            if (seen.exit() != 0 || !seen.out().contains("\"origin\"")) {
                break;
            }
            Thread.sleep(100);
        }
        // The gateway's HTTP codec reads "PROXY TCP4 ..." as a malformed request line: curl gets the
        // proxy's 400 and the connection closes; httpbin is never reached.
        assertTrue(seen.out().contains(" 400 Bad Request"), seen.out());
        assertTrue(seen.out().contains("server: istio-envoy"), seen.out());
        assertTrue(seen.out().endsWith("Bad Request"), seen.out());
    }

    private JsonNode gatewayLog() throws Exception {
        String pod = cluster.list(ResourceKind.POD, NS, "app=" + GW).get(0).name();
        return ProxyLogs.await(cluster, NS, pod, l -> "/ip".equals(l.path("path").asText()),
                l -> l.path("downstream_remote_address").asText().startsWith(CLIENT + ":"));
    }

    private void apply(List<KubeObject> objects) throws Exception {
        cluster.apply(objects);
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle");
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
