package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.core.Cluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
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
 * AuthorizationPolicy north-south on real network namespaces: the ingress gateway's allow and deny
 * lists on the internet client's address (198.18.0.5) kept by externalTrafficPolicy Local. (East-west
 * runs on both runtimes: {@code AuthorizationEastWestTest}.)
 */
@ExtendWith(NetnsSupport.class)
class NetnsAuthorizationWalkthroughTest {
    private static final Duration SETTLE = Duration.ofSeconds(90);
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
    void ingressGatewayAllowAndDenyListsOnTheClientAddress() throws Exception {
        apply(Path.of("src/test/resources/seed/httpbin.yaml"));
        apply(Path.of("src/test/resources/seed/http-demo.yaml"));
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        String url = "http://" + lbAddress() + ":80/ip";
        awaitTrue(() -> external(url).equals("200"), "the client is served");
        String client = Topology.EXTERNAL_IP;

        // The task's allow list, with the real client's address: 200. Naming another address instead: 403.
        cluster.apply(ManifestReader.read("allow.yaml", allowOnly(client)));
        awaitTrue(() -> policyPushed("ingress-policy"), "the policy reached the gateway");
        assertEquals("200", external(url));
        cluster.apply(ManifestReader.read("allow.yaml", allowOnly("198.18.0.6")));
        awaitTrue(() -> external(url).equals("403"), "a client not on the list is denied");
        assertEquals("rbac_access_denied_matched_policy[none]", gatewayLog(client, 403).path("response_code_details").asText());

        // The deny list on the client's address, with the allow list back on it: DENY is asked first.
        cluster.apply(ManifestReader.read("allow.yaml", allowOnly(client)));
        cluster.apply(ManifestReader.read("deny.yaml", """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: ingress-deny, namespace: istio-system}
                spec:
                  selector: {matchLabels: {app: istio-ingressgateway}}
                  action: DENY
                  rules:
                  - from: [{source: {remoteIpBlocks: ["IP"]}}]
                """.replace("IP", client)));
        awaitTrue(() -> external(url).equals("403"), "the client is denied");
        JsonNode log = gatewayLog(client, 403);
        assertEquals(403, log.path("response_code").asInt());
        assertEquals("rbac_access_denied_matched_policy[ns[istio-system]-policy[ingress-deny]-rule[0]]",
                log.path("response_code_details").asText(), log.toString());
    }

    private static String allowOnly(String ip) {
        return """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: ingress-policy, namespace: istio-system}
                spec:
                  selector: {matchLabels: {app: istio-ingressgateway}}
                  action: ALLOW
                  rules:
                  - from: [{source: {ipBlocks: ["IP"]}}]
                """.replace("IP", ip);
    }

    private boolean policyPushed(String name) {
        return cluster.get(ResourceKind.AUTHORIZATION_POLICY, NS, name).orElseThrow().status().path("conditions").path(0)
                .path("message").asText().startsWith("pushed to 1 proxy: istio-system/" + GW);
    }

    private void apply(Path file) throws Exception {
        cluster.apply(ManifestReader.read(file));
        assertTrue(cluster.awaitSettled(SETTLE), "pods settle");
    }

    private KubeObject running(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String lbAddress() throws Exception {
        String[] ip = new String[1];
        awaitTrue(() -> {
            ip[0] = cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress").path(0)
                    .path("ip").asText("");
            return !ip[0].isEmpty();
        }, "the load balancer's address");
        return ip[0];
    }

    /** The status code the internet client's curl gets, from its own namespace. */
    private String external(String url) {
        List<String> cmd = new ArrayList<>(List.of("curl", "--noproxy", "*", "--max-time", "5", "-sS", "-o", "/dev/null",
                "-w", "%{http_code}", url));
        return Shell.run(Shell.in(cluster.runtime(NetnsRuntime.class).externalClientNamespace(), cmd.toArray(String[]::new))).out().trim();
    }

    private JsonNode gatewayLog(String client, int code) throws Exception {
        return ProxyLogs.await(cluster, NS, running(NS, "app=" + GW).name(),
                j -> j.path("downstream_remote_address").asText().startsWith(client + ":"), j -> j.path("response_code").asInt() == code);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting for " + what);
    }
}
