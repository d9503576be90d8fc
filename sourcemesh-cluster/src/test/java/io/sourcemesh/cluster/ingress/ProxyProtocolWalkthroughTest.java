package io.sourcemesh.cluster.ingress;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
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
    Cluster cluster;
    static final String OTHER = "127.120.0.11";
    /** Every node address of every address block (127.10.B.n). */
    static final String NODES = "127.10.0.0/16";
    static final String MESH_PROXY_PROTOCOL = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: istio, namespace: istio-system}
            data:
              mesh: |
                defaultConfig:
                  gatewayTopology:
                    proxyProtocol: {}
            """;
    final ExternalClient client = new ExternalClient(CLIENT);
    final ExternalClient other = new ExternalClient(OTHER);

    @BeforeEach
    void up() {
        // An address block of its own (from the PID), so a concurrent run of the suite does not collide.
        cluster = EmbeddedRuntime.cluster(new Home(home), 2, 1 + (int) ((ProcessHandle.current().pid() + 7) % 29));
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
        assertTrue(client.awaitJson(b -> true, url).path("origin").asText().startsWith("127.10."), "a node before");

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

    /**
     * AuthorizationPolicy on the gateway under Cluster + PROXY protocol: remoteIpBlocks (RBAC remote_ip)
     * sees the client the header named; ipBlocks (RBAC direct_remote_ip) is, as Envoy's rbac.proto says,
     * "always the physical peer even if the remote_ip is inferred from ... proxy protocol": here the
     * node that forwarded the connection, never the client.
     */
    @Test
    void gatewayAuthorizationOnTheClientTheProxyProtocolHeaderNamed() throws Exception {
        apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        String url = "http://" + loadBalancerIp() + "/ip";
        apply(ManifestReader.read("mesh.yaml", MESH_PROXY_PROTOCOL));
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, ON);
        assertEquals("Cluster", cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().spec().path("externalTrafficPolicy").asText());
        client.awaitJson(b -> b.path("origin").asText().equals(CLIENT), url);

        // ALLOW remoteIpBlocks [client]: the client passes, another internet address gets Envoy's 403.
        policy("ingress-policy", "ALLOW", "remoteIpBlocks", CLIENT);
        awaitCode(OTHER, url, 403);
        ExternalClient.Curl denied = other.curl("-w", "\n%{http_code}", url);
        assertEquals("RBAC: access denied\n403", denied.out());
        JsonNode log = gatewayLog(OTHER, 403);
        assertEquals("rbac_access_denied_matched_policy[none]", log.path("response_code_details").asText(), log.toString());
        assertEquals(200, code(CLIENT, url));
        assertEquals("via_upstream", gatewayLog(CLIENT, 200).path("response_code_details").asText());

        // ipBlocks [client] matches nothing: the TCP peer is the node (its SNAT), the header does not change it.
        policy("ingress-policy", "ALLOW", "ipBlocks", CLIENT);
        awaitCode(CLIENT, url, 403);
        log = gatewayLog(CLIENT, 403);
        assertEquals("rbac_access_denied_matched_policy[none]", log.path("response_code_details").asText(), log.toString());
        // ipBlocks on the nodes' range: both clients pass, though each is logged under its own address.
        policy("ingress-policy", "ALLOW", "ipBlocks", NODES);
        awaitCode(CLIENT, url, 200);
        assertEquals(200, code(OTHER, url));
        assertEquals("via_upstream", gatewayLog(OTHER, 200).path("response_code_details").asText());

        // The allow list back on remoteIpBlocks, and a DENY remoteIpBlocks [client] on top: DENY is asked first.
        policy("ingress-policy", "ALLOW", "remoteIpBlocks", CLIENT);
        policy("ingress-deny", "DENY", "remoteIpBlocks", CLIENT);
        awaitCode(CLIENT, url, 403);
        String details = "rbac_access_denied_matched_policy[ns[istio-system]-policy[ingress-deny]-rule[0]]";
        assertEquals(details, gatewayLog(CLIENT, 403).path("response_code_details").asText());
        // A DENY ipBlocks [client] would not catch it: the peer is the node.
        policy("ingress-deny", "DENY", "ipBlocks", CLIENT);
        awaitCode(CLIENT, url, 200);

        // v2, the binary header: the same decisions.
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC,
                "{\"metadata\":{\"annotations\":{\"sourcemesh.io/proxy-protocol-version\":\"v2\"}}}");
        policy("ingress-deny", "DENY", "remoteIpBlocks", CLIENT);
        awaitCode(CLIENT, url, 403);
        for (int i = 0; i < 3; i++) {
            assertEquals(403, code(CLIENT, url), "v2 request " + i);
            assertEquals(403, code(OTHER, url), "v2 request " + i);
        }
        assertEquals(details, gatewayLog(CLIENT, 403).path("response_code_details").asText());
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "ingress-deny");
        awaitCode(CLIENT, url, 200);
        assertEquals(403, code(OTHER, url));
        assertEquals("rbac_access_denied_matched_policy[none]", gatewayLog(OTHER, 403).path("response_code_details").asText());
    }

    private void policy(String name, String action, String field, String ip) {
        cluster.apply(ManifestReader.read(name + ".yaml", """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: NAME, namespace: istio-system}
                spec:
                  selector: {matchLabels: {istio: ingressgateway}}
                  action: ACTION
                  rules:
                  - from: [{source: {FIELD: ["IP"]}}]
                """.replace("NAME", name).replace("ACTION", action).replace("FIELD", field).replace("IP", ip)));
    }

    private int code(String from, String url) throws Exception {
        ExternalClient.Curl c = new ExternalClient(from).curl("-o", "/dev/null", "-w", "%{http_code}", url);
        return c.exit() == 0 ? Integer.parseInt(c.out().trim()) : -1;
    }

    private void awaitCode(String from, String url, int expected) throws Exception {
        ExternalClient.awaitTrue(() -> {
            try {
                return code(from, url) == expected;
            } catch (Exception e) {
                return false;
            }
        }, from + " gets " + expected);
    }

    private JsonNode gatewayLog(String from, int code) throws Exception {
        String pod = cluster.list(ResourceKind.POD, NS, "app=" + GW).get(0).name();
        return ProxyLogs.await(cluster, NS, pod, l -> l.path("downstream_remote_address").asText().startsWith(from + ":"),
                l -> l.path("response_code").asInt() == code);
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
