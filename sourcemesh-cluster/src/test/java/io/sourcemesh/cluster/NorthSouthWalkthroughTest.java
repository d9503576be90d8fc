package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.core.Runtime;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.ProxyLogs;
import io.sourcemesh.cluster.testing.TlsSecrets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The seed's north-south section, once per runtime (the netns run as root): a real curl from an
 * internet client through the cloud load balancer, a node's kube-proxy and the ingress gateway to
 * httpbin. Under externalTrafficPolicy Cluster httpbin sees a node's address, under Local the
 * client's own, over HTTP and HTTPS; the load balancer follows the gateway pod to another node.
 */
class NorthSouthWalkthroughTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final ObjectMapper JSON = new ObjectMapper();
    static final String LOCAL = "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ClusterRuntime runtime;
    ExternalClient client;

    private void up(ClusterRuntime on) {
        runtime = on;
        cluster = clusters.start(on, 2);
        client = on.client(cluster);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void clusterPolicyShowsTheNodeLocalShowsTheClientOverHttpAndHttps(ClusterRuntime on) throws Exception {
        String hostBefore = on == ClusterRuntime.NETNS ? hostNetwork() : "";
        up(on);
        apply("httpbin.yaml", "http-demo.yaml");
        String lb = loadBalancerIp();
        assertTrue(lb.startsWith(runtime.loadBalancerPrefix()), lb);
        assertEquals(lb, cluster.info().gatewayAddress());
        KubeObject svc = service();
        assertEquals("Cluster", svc.spec().path("externalTrafficPolicy").asText());
        for (JsonNode p : svc.spec().path("ports")) {
            int np = p.path("nodePort").asInt();
            assertTrue(np >= 30000 && np <= 32767, "nodePort " + np);
        }
        assertFalse(svc.spec().has("healthCheckNodePort"));
        awaitTrue(() -> runtime.healthyNodes(cluster, NS, GW).equals(nodeIps()), "every node healthy under Cluster");

        // Cluster: kube-proxy masquerades, httpbin and the gateway see a node's address.
        Set<String> nodeAddresses = runtime.nodeAddresses(cluster);
        for (int i = 0; i < 4; i++) {
            String origin = client.origin("http://" + lb + ":80/ip");
            assertTrue(nodeAddresses.contains(origin), "a node's address " + nodeAddresses + ", not " + origin);
            JsonNode log = accessLogFrom(origin);
            assertEquals(origin, log.path("x_forwarded_for").asText(), log.toString());
            assertEquals(podIp("default", "app=httpbin") + ":8000", log.path("upstream_host").asText());
            assertTrue(log.path("upstream_local_address").asText().startsWith(podIp(NS, "app=" + GW) + ":"), log.toString());
            assertEquals(podIp(NS, "app=" + GW) + ":8080", log.path("downstream_local_address").asText());
        }

        // Local: the client's own address all the way; only the gateway's node passes the health check.
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, LOCAL)));
        int hc = service().spec().path("healthCheckNodePort").asInt();
        assertTrue(hc >= 30000 && hc <= 32767, "healthCheckNodePort " + hc);
        String gatewayNode = gatewayNodeIp();
        String otherNode = otherNode(gatewayNode);
        awaitTrue(() -> runtime.healthyNodes(cluster, NS, GW).equals(Set.of(gatewayNode)), "the load balancer sends only to " + gatewayNode);
        ExternalClient.Curl healthz = client.curl("-w", "\n%{http_code}", "http://" + gatewayNode + ":" + hc + "/healthz");
        assertTrue(healthz.out().endsWith("\n200"), healthz.out());
        JsonNode body = JSON.readTree(healthz.out().substring(0, healthz.out().lastIndexOf('\n')));
        assertEquals(1, body.path("localEndpoints").asInt());
        assertEquals(NS, body.path("service").path("namespace").asText());
        assertEquals(GW, body.path("service").path("name").asText());
        ExternalClient.Curl unhealthy = client.curl("-w", "\n%{http_code}", "http://" + otherNode + ":" + hc + "/healthz");
        assertTrue(unhealthy.out().endsWith("\n503"), unhealthy.out());
        assertTrue(unhealthy.out().contains("\"localEndpoints\": 0"), unhealthy.out());
        if (runtime == ClusterRuntime.NETNS) {
            // The kernel's rules: the lb DNATs only to the healthy node.
            int nodePort = service().spec().path("ports").path(0).path("nodePort").asInt();
            String lbRules = Shell.run(Shell.in(cluster.runtime(NetnsRuntime.class).topology().lb(), "iptables-save", "-t", "nat")).orThrow().out();
            assertTrue(lbRules.contains("--to-destination " + gatewayNode + ":" + nodePort), lbRules);
            assertFalse(lbRules.contains("--to-destination " + otherNode + ":" + nodePort), lbRules);
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(client.address(), client.origin("http://" + lb + ":80/ip"), "request " + i);
        }
        JsonNode log = accessLogFrom(client.address());
        assertEquals(client.address(), log.path("x_forwarded_for").asText(), log.toString());
        // Not only the address: the load balancer and kube-proxy translate destinations only, so the gateway's peer is the
        // client's own socket, port included — what a live trace matches a gateway's tcp_proxy line by.
        ExternalClient.Curl own = client.curl("-o", "/dev/null", "-w", "%{local_port}", "--local-port", "42000-42999",
                "http://" + lb + ":80/ip?port");
        assertEquals(0, own.exit(), own.out());
        String clientSocket = client.address() + ":" + own.out().trim();
        JsonNode byPort = ProxyLogs.await(cluster, NS, runningPod(NS, "app=" + GW).name(),
                json -> "/ip?port".equals(json.path("path").asText()), json -> !json.isMissingNode());
        assertEquals(clientSocket, byPort.path("downstream_remote_address").asText(), byPort.toString());

        // HTTPS, TLS terminated at the gateway with credentialName. The document's plain `curl -k`: the
        // gateway's TLS lists h2 first (as Istio's), so the proxy must offer only the HTTP/1.1 it speaks.
        createTlsSecret();
        apply("https-demo.yaml");
        assertEquals(client.address(), client.origin("-k", "https://" + lb + ":443/ip"));
        String https = podIp(NS, "app=" + GW) + ":8443";
        log = ProxyLogs.await(cluster, NS, runningPod(NS, "app=" + GW).name(),
                json -> json.path("downstream_local_address").asText().equals(https), json -> !json.isMissingNode());
        assertTrue(log.path("downstream_remote_address").asText().startsWith(client.address() + ":"), log.toString());
        assertEquals("True", gatewayCondition("httpbin-gw-https").path("status").asText());

        // Back to Cluster: a node's address again.
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Cluster\"}}")));
        awaitTrue(() -> runtime.healthyNodes(cluster, NS, GW).equals(nodeIps()), "every node healthy again");
        String origin = client.origin("http://" + lb + ":80/ip");
        assertTrue(nodeAddresses.contains(origin), origin);

        if (runtime == ClusterRuntime.NETNS) {
            clusters.closeNow();
            assertEquals(hostBefore, hostNetwork(), "the host's links, addresses and nat rules are as they were");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void loadBalancerFollowsTheGatewayPodToTheOtherNode(ClusterRuntime on) throws Exception {
        up(on);
        apply("httpbin.yaml", "http-demo.yaml");
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, LOCAL)));
        String lb = loadBalancerIp();
        String before = gatewayNodeIp();
        awaitTrue(() -> runtime.healthyNodes(cluster, NS, GW).equals(Set.of(before)), "healthy: " + before);
        assertEquals(client.address(), client.origin("http://" + lb + "/ip"));

        String target = otherNode(before);
        String targetName = cluster.runtime().nodes().stream().filter(n -> n.internalIp().equals(target)).findFirst().orElseThrow().name();
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, NS, GW, PatchType.STRATEGIC,
                "{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"kubernetes.io/hostname\":\"" + targetName + "\"}}}}}")));
        assertTrue(cluster.awaitSettled(runtime.settle()), "gateway rolled");
        awaitTrue(() -> gatewayNodeIp().equals(target), "gateway pod on " + target);
        awaitTrue(() -> runtime.healthyNodes(cluster, NS, GW).equals(Set.of(target)), "the load balancer follows to " + target);
        for (int i = 0; i < 6; i++) {
            assertEquals(client.address(), client.origin("http://" + lb + "/ip"), "request " + i);
        }
        assertTrue(accessLogFrom(client.address()).path("downstream_remote_address").asText().startsWith(client.address() + ":"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void missingCredentialLeavesHttpsOutWhileHttpServes(ClusterRuntime on) throws Exception {
        up(on);
        apply("httpbin.yaml", "http-demo.yaml", "https-demo.yaml");
        String lb = loadBalancerIp();
        client.origin("http://" + lb + "/ip");
        awaitTrue(() -> gatewayCondition("httpbin-gw-https").path("status").asText().equals("False"), "https gateway flagged");
        JsonNode status = cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-https").orElseThrow().status();
        assertTrue(status.path("validationMessages").path(0).path("description").asText()
                .contains("secret istio-system/myexample-credential not found"), status.toString());
        assertEquals("True", gatewayCondition("httpbin-gw-httpprotocol").path("status").asText());
        ExternalClient.Curl https = client.curl("-k", "--max-time", "3", "https://" + lb + ":443/ip");
        assertNotEquals(0, https.exit(), https.out());

        createTlsSecret(); // the server comes back once the credential exists
        awaitTrue(() -> gatewayCondition("httpbin-gw-https").path("status").asText().equals("True"), "https gateway accepted");
        String origin = client.origin("-k", "https://" + lb + ":443/ip");
        assertTrue(runtime.nodeAddresses(cluster).contains(origin), "Cluster: a node's address, not " + origin);
    }

    // ---- helpers -------------------------------------------------------------------------------

    private void apply(String... files) throws Exception {
        for (String f : files) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + f)));
        }
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
    }

    private KubeObject service() {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow();
    }

    /** kubectl get service istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}' */
    private String loadBalancerIp() throws Exception {
        awaitTrue(() -> !service().status().path("loadBalancer").path("ingress").path(0).path("ip").asText().isEmpty(),
                "load balancer provisioned");
        return service().status().path("loadBalancer").path("ingress").path(0).path("ip").asText();
    }

    private KubeObject runningPod(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String podIp(String namespace, String selector) {
        return runningPod(namespace, selector).status().path("podIP").asText();
    }

    private Set<String> nodeIps() {
        return Set.copyOf(cluster.runtime().nodes().stream().map(Runtime.Node::internalIp).toList());
    }

    /** The address of the node the one gateway pod runs on, or "" while there is not exactly one. */
    private String gatewayNodeIp() {
        List<KubeObject> pods = cluster.list(ResourceKind.POD, NS, "app=" + GW);
        if (pods.size() != 1) {
            return "";
        }
        String node = pods.get(0).spec().path("nodeName").asText();
        return cluster.runtime().nodes().stream().filter(n -> n.name().equals(node)).findFirst().orElseThrow().internalIp();
    }

    private String otherNode(String nodeIp) {
        return nodeIps().stream().filter(ip -> !ip.equals(nodeIp)).findFirst().orElseThrow();
    }

    private JsonNode gatewayCondition(String name) {
        return cluster.get(ResourceKind.GATEWAY, "default", name).orElseThrow().status().path("conditions").path(0);
    }

    private void createTlsSecret() {
        cluster.create(TlsSecrets.selfSigned(NS, "myexample-credential", "myexample.com"));
    }

    /** The gateway's newest /ip access-log line, once it is from {@code remote} (it lands a moment after the response). */
    private JsonNode accessLogFrom(String remote) throws Exception {
        return ProxyLogs.await(cluster, NS, runningPod(NS, "app=" + GW).name(), json -> "/ip".equals(json.path("path").asText()),
                json -> json.path("downstream_remote_address").asText().startsWith(remote + ":"));
    }

    /** The host namespace's links, addresses and nat rules (without counters): nothing of ours may appear there. */
    private static String hostNetwork() {
        String links = Shell.run(List.of("ip", "-o", "link", "show")).orThrow().out().lines()
                .map(l -> l.split(":\\s+")[1].split("@")[0]).sorted().toList().toString();
        String addresses = Shell.run(List.of("ip", "-o", "addr", "show")).orThrow().out().lines()
                .map(l -> l.replaceAll("valid_lft.*", "")).sorted().toList().toString();
        String nat = Shell.run(List.of("iptables-save", "-t", "nat")).orThrow().out().lines()
                .filter(l -> !l.startsWith("#")).map(l -> l.replaceAll("\\[\\d+:\\d+\\]", "")).toList().toString();
        return links + "\n" + addresses + "\n" + nat;
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        ExternalClient.awaitTrue(condition, what);
    }
}
