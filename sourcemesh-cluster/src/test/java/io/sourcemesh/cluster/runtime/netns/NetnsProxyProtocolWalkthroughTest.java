package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.core.Cluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol on real namespaces: with Alibaba's proxy-protocol annotation the lb namespace stops
 * DNATing the gateway Service and forwards in userspace, prepending the header; with
 * gatewayTopology.proxyProtocol the gateway reads it, so under externalTrafficPolicy Cluster (the
 * node's MASQUERADE) httpbin still sees the internet client 198.18.0.5 — v1 and v2.
 */
@ExtendWith(NetnsSupport.class)
class NetnsProxyProtocolWalkthroughTest {
    private static final Duration SETTLE = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NS = "istio-system";
    private static final String GW = "istio-ingressgateway";

    @TempDir
    Path home;
    Cluster cluster;

    @BeforeEach
    void up() {
        cluster = NetnsRuntime.cluster(new Home(home), NetnsSupport.PREFIX, 2);
    }

    @AfterEach
    void down() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void clusterPolicyKeepsTheClientThroughTheUserspaceForwarder() throws Exception {
        apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        String lb = lbAddress();
        awaitTrue(() -> cluster.runtime(NetnsRuntime.class).healthyNodes(NS, GW).size() == 2, "both nodes healthy under Cluster");
        String before = origin(curl("http://" + lb + ":80/ip"));
        assertFalse(before.equals(Topology.EXTERNAL_IP), "Cluster hides the client without PROXY protocol: " + before);
        assertTrue(lbNat().contains("--to-destination"), lbNat());

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
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"metadata\":{\"annotations\":"
                + "{\"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol\":\"on\"}}}");
        awaitTrue(() -> !lbNat().contains("--to-destination"), "the lb namespace no longer DNATs the gateway Service");
        awaitOrigin(lb, Topology.EXTERNAL_IP);
        for (int i = 0; i < 4; i++) {
            assertEquals(Topology.EXTERNAL_IP, origin(curl("http://" + lb + ":80/ip")), "v1 request " + i);
        }
        JsonNode log = gatewayLog();
        assertTrue(log.path("downstream_remote_address").asText().startsWith(Topology.EXTERNAL_IP + ":"), log.toString());

        // AuthorizationPolicy on the gateway, still under Cluster: remoteIpBlocks sees the header's client.
        String url = "http://" + lb + ":80/ip";
        String client = Topology.EXTERNAL_IP;
        policy("ingress-policy", "ALLOW", "remoteIpBlocks", client);
        awaitTrue(() -> policyPushed("ingress-policy"), "the policy reached the gateway");
        assertEquals("200", code(url));
        assertEquals("via_upstream", gatewayLog(client, 200).path("response_code_details").asText());
        policy("ingress-policy", "ALLOW", "remoteIpBlocks", "198.18.0.6");
        awaitTrue(() -> code(url).equals("403"), "a client not on the allow list is denied");
        assertEquals("RBAC: access denied", external("-sS", url).out());
        assertEquals("rbac_access_denied_matched_policy[none]", gatewayLog(client, 403).path("response_code_details").asText());
        // ipBlocks is RBAC direct_remote_ip, the TCP peer: the node's MASQUERADE address, not the client.
        policy("ingress-policy", "ALLOW", "ipBlocks", client);
        awaitTrue(() -> policyPushed("ingress-policy") && code(url).equals("403"), "ipBlocks [client] does not match the node");
        policy("ingress-policy", "ALLOW", "remoteIpBlocks", client);
        awaitTrue(() -> code(url).equals("200"), "the client is allowed again");
        policy("ingress-deny", "DENY", "remoteIpBlocks", client);
        awaitTrue(() -> code(url).equals("403"), "the client is denied");
        String details = "rbac_access_denied_matched_policy[ns[istio-system]-policy[ingress-deny]-rule[0]]";
        assertEquals(details, gatewayLog(client, 403).path("response_code_details").asText());
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "ingress-deny");
        awaitTrue(() -> code(url).equals("200"), "served once the DENY is gone");

        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC,
                "{\"metadata\":{\"annotations\":{\"sourcemesh.io/proxy-protocol-version\":\"v2\"}}}");
        for (int i = 0; i < 4; i++) {
            assertEquals(Topology.EXTERNAL_IP, origin(curl("http://" + lb + ":80/ip")), "v2 request " + i);
        }
        // v2 with the DENY back: the same decision on the binary header's client.
        policy("ingress-deny", "DENY", "remoteIpBlocks", client);
        awaitTrue(() -> code(url).equals("403"), "the client is denied under v2");
        assertEquals(details, gatewayLog(client, 403).path("response_code_details").asText());

        List<String> namespaces = cluster.runtime(NetnsRuntime.class).namespaces();
        cluster.close();
        cluster = null;
        assertEquals(List.of(), Topology.list().stream().filter(namespaces::contains).toList(), "every namespace removed");
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

    private boolean policyPushed(String name) {
        return cluster.get(ResourceKind.AUTHORIZATION_POLICY, NS, name).orElseThrow().status().path("conditions").path(0)
                .path("message").asText().startsWith("pushed to 1 proxy: istio-system/" + GW);
    }

    /** The status code the internet client gets. */
    private String code(String url) {
        return external("-sS", "-o", "/dev/null", "-w", "%{http_code}", url).out().trim();
    }

    private JsonNode gatewayLog(String client, int code) throws Exception {
        String pod = cluster.list(ResourceKind.POD, NS, "app=" + GW).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow().name();
        return ProxyLogs.await(cluster, NS, pod, j -> j.path("downstream_remote_address").asText().startsWith(client + ":"),
                j -> j.path("response_code").asInt() == code);
    }

    private String lbNat() {
        return Shell.run(Shell.in(cluster.runtime(NetnsRuntime.class).topology().lb(), "iptables-save", "-t", "nat")).orThrow().out();
    }

    private void apply(List<io.sourcemesh.api.resource.KubeObject> objects) throws Exception {
        cluster.apply(objects);
        assertTrue(cluster.awaitSettled(SETTLE), "pods settle");
    }

    private String lbAddress() throws Exception {
        String[] ip = new String[1];
        awaitTrue(() -> {
            ip[0] = cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress").path(0)
                    .path("ip").asText("");
            return !ip[0].isEmpty();
        }, "the load balancer's address in the Service status");
        return ip[0];
    }

    private void awaitOrigin(String lb, String expected) throws Exception {
        String[] last = {""};
        awaitTrue(() -> {
            Shell.Result r = external("-sS", "-f", "http://" + lb + ":80/ip");
            try {
                last[0] = r.out() + r.err();
                return r.ok() && origin(r.out()).equals(expected);
            } catch (Exception e) {
                return false;
            }
        }, () -> "origin " + expected + "; the last answer: " + last[0]);
    }

    private JsonNode gatewayLog() throws Exception {
        String pod = cluster.list(ResourceKind.POD, NS, "app=" + GW).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow().name();
        List<String> lines = new ArrayList<>();
        cluster.logs(NS, pod, "istio-proxy", false, -1, lines::add);
        for (String l : lines.reversed()) {
            if (l.startsWith("{") && JSON.readTree(l).path("path").asText().equals("/ip")) {
                return JSON.readTree(l);
            }
        }
        return fail("no /ip access-log line");
    }

    private String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("-sS", "-f"));
        cmd.addAll(List.of(args));
        Shell.Result last = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            last = external(cmd.toArray(String[]::new));
            if (last.ok()) {
                return last.out();
            }
            Thread.sleep(200);
        }
        return fail("curl " + String.join(" ", args) + " failed: " + last.out() + last.err() + "\nlb nat:\n" + lbNat());
    }

    private Shell.Result external(String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "--noproxy", "*", "--max-time", "5"));
        cmd.addAll(List.of(args));
        return Shell.run(Shell.in(cluster.runtime(NetnsRuntime.class).externalClientNamespace(), cmd.toArray(String[]::new)));
    }

    private static String origin(String body) throws Exception {
        return JSON.readTree(body).path("origin").asText();
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        awaitTrue(condition, () -> what);
    }

    private static void awaitTrue(BooleanSupplier condition, java.util.function.Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting for " + what.get());
    }
}
