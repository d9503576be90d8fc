package io.sourcemesh.cluster;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AuthorizationPolicy enforced end to end on the embedded runtime: Istio's task "Authorization on Ingress
 * Gateway" under externalTrafficPolicy Local with real curls from two client addresses, and east-west
 * ipBlocks/remoteIpBlocks at httpbin's sidecar under REDIRECT, TPROXY and the seed's XFF EnvoyFilter. Every
 * policy change is a push to the running proxies: the pods are never restarted.
 */
class AuthorizationWalkthroughTest {
    static final String CLIENT = AddressPlan.EXTERNAL_CLIENT;
    static final String OTHER_CLIENT = "127.120.0.11";
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final String DENIED = "RBAC: access denied";

    @TempDir
    Path home;
    Cluster cluster;

    @BeforeEach
    void up() {
        cluster = EmbeddedRuntime.cluster(new Home(home), 2, 1 + (int) ((ProcessHandle.current().pid() + 13) % 29));
    }

    @AfterEach
    void down() {
        cluster.close();
    }

    @Test
    void ingressGatewayIpAllowListDenyListAndAllowNothing() throws Exception {
        apply("seed/httpbin.yaml", "seed/http-demo.yaml");
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        String url = "http://" + loadBalancerIp() + ":80/ip";
        awaitTrue(() -> answers(CLIENT, url).code() == 200 && answers(OTHER_CLIENT, url).code() == 200, "both clients served");
        KubeObject gatewayPod = runningPod(NS, "app=" + GW);

        // ALLOW ipBlocks [client]: the client passes, any other address gets Envoy's 403.
        apply("authz/ingress-allow-client.yaml");
        awaitTrue(() -> answers(OTHER_CLIENT, url).code() == 403, "the other client is denied");
        Answer denied = answers(OTHER_CLIENT, url);
        assertEquals(DENIED, denied.body());
        JsonNode log = gatewayLog(OTHER_CLIENT, 403);
        assertEquals(403, log.path("response_code").asInt(), log.toString());
        assertEquals("rbac_access_denied_matched_policy[none]", log.path("response_code_details").asText(), log.toString());
        awaitTrue(() -> policyCondition("ingress-policy").path("message").asText()
                .equals("pushed to 1 proxy: istio-system/" + gatewayPod.name()), "the policy's status names the gateway");
        assertEquals("True", policyCondition("ingress-policy").path("status").asText());
        Answer allowed = answers(CLIENT, url);
        assertEquals(200, allowed.code(), allowed.body());
        assertTrue(allowed.body().contains("\"origin\": \"" + CLIENT + "\""), allowed.body());
        assertEquals("via_upstream", gatewayLog(CLIENT, 200).path("response_code_details").asText());

        // A refused update (Istio's validation) changes nothing: the last good policy keeps being enforced.
        String bad = Files.readString(Path.of("src/test/resources/authz/ingress-allow-client.yaml")).replace(CLIENT, "not-an-ip");
        Exception refused = assertThrows(Exception.class, () -> cluster.apply(ManifestReader.read("bad.yaml", bad)));
        assertTrue(refused.getMessage().contains("spec.rules[0].from[0].source.ipBlocks[0]: Invalid value: \"not-an-ip\": "
                + "bad IP address (not-an-ip)"), refused.getMessage());
        assertEquals(403, answers(OTHER_CLIENT, url).code());
        assertEquals(200, answers(CLIENT, url).code());

        // DENY remoteIpBlocks [client] on top: DENY is asked first, so the client is now denied too.
        apply("authz/ingress-deny-client.yaml");
        awaitTrue(() -> answers(CLIENT, url).code() == 403, "the client is denied");
        log = gatewayLog(CLIENT, 403);
        assertEquals("rbac_access_denied_matched_policy[ns[istio-system]-policy[ingress-deny]-rule[0]]",
                log.path("response_code_details").asText(), log.toString());
        assertEquals(403, answers(OTHER_CLIENT, url).code(), "the other client still fails the ALLOW list");

        // Both removed: everyone passes again; then allow-nothing (spec: {}) denies everyone.
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "ingress-policy");
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "ingress-deny");
        awaitTrue(() -> answers(CLIENT, url).code() == 200 && answers(OTHER_CLIENT, url).code() == 200, "both served again");
        apply("authz/allow-nothing.yaml");
        awaitTrue(() -> answers(CLIENT, url).code() == 403 && answers(OTHER_CLIENT, url).code() == 403, "nobody is served");
        assertEquals("rbac_access_denied_matched_policy[none]", gatewayLog(CLIENT, 403).path("response_code_details").asText());

        // AUDIT (an RBAC LOG filter): requests from the other client are marked, nobody is ever blocked.
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "allow-nothing");
        awaitTrue(() -> answers(CLIENT, url).code() == 200 && answers(OTHER_CLIENT, url).code() == 200, "both served again");
        apply("authz/ingress-audit-other.yaml");
        awaitTrue(() -> gatewayRbacFilters().contains("\"action\": \"LOG\""), "the LOG filter reached the gateway");
        long allowedBefore = gatewayCounter("rbac.allowed");
        long deniedBefore = gatewayCounter("rbac.denied");
        List<String> rbacDebug = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                rbacDebug.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        java.util.logging.Logger rbacLogger = java.util.logging.Logger.getLogger("io.sourcemesh.proxy.rbac");
        rbacLogger.addHandler(capture); // the embedded runtime's proxies run in this JVM
        cluster.proxyAdmin(NS, gatewayPod.name(), "/logging?rbac=debug");
        try {
            assertEquals(200, answers(OTHER_CLIENT, url).code(), "an audited request is never blocked");
            assertEquals(200, answers(CLIENT, url).code());
        } finally {
            cluster.proxyAdmin(NS, gatewayPod.name(), "/logging?rbac=info");
            rbacLogger.removeHandler(capture);
        }
        // Envoy counts a LOG decision as allowed (no logged/not_logged counters since handleAction).
        assertEquals(allowedBefore + 2, gatewayCounter("rbac.allowed"));
        assertEquals(deniedBefore, gatewayCounter("rbac.denied"));
        String debug = String.join("\n", rbacDebug);
        assertTrue(debug.contains("access_log_hint: true, matched policy ns[istio-system]-policy[ingress-audit]-rule[0]"), debug);
        assertTrue(debug.contains("access_log_hint: false, matched policy none"), debug);

        // Pushed to the running gateway, never restarted.
        KubeObject now = runningPod(NS, "app=" + GW);
        assertEquals(gatewayPod.name(), now.name());
        assertEquals(gatewayPod.uid(), now.uid());
        assertEquals(0, now.status().path("containerStatuses").path(0).path("restartCount").asInt());
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The gateway's one counter whose name ends with {@code suffix} (HTTP RBAC: http.<stat_prefix>.rbac.*). */
    private long gatewayCounter(String suffix) {
        String stats = cluster.proxyAdmin(NS, runningPod(NS, "app=" + GW).name(), "/stats?filter=rbac");
        List<String> lines = stats.lines().filter(l -> l.startsWith("http.") && l.contains("." + suffix + ": ")).toList();
        assertEquals(1, lines.size(), stats);
        return Long.parseLong(lines.get(0).substring(lines.get(0).indexOf(": ") + 2).trim());
    }

    private String gatewayRbacFilters() {
        return cluster.proxyConfig(NS, runningPod(NS, "app=" + GW).name());
    }

    private JsonNode policyCondition(String name) {
        return cluster.get(ResourceKind.AUTHORIZATION_POLICY, NS, name).orElseThrow().status().path("conditions").path(0);
    }

    private static String denySleep(String field, String ip) {
        return """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-sleep, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  action: DENY
                  rules:
                  - from: [{source: {FIELD: ["IP"]}}]
                """.replace("FIELD", field).replace("IP", ip);
    }

    private void apply(String... files) throws Exception {
        for (String f : files) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle");
    }

    private void applyText(String yaml) {
        cluster.apply(ManifestReader.read("policy.yaml", yaml));
    }

    private void rollHttpbin(String patch) throws Exception {
        String before = runningPod("default", "app=httpbin").name();
        cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC, patch);
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
        assertNotEquals(before, runningPod("default", "app=httpbin").name());
    }

    private KubeObject runningPod(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String ip(String app) {
        return runningPod("default", "app=" + app).status().path("podIP").asText();
    }

    private String loadBalancerIp() throws Exception {
        awaitTrue(() -> !cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer")
                .path("ingress").path(0).path("ip").asText().isEmpty(), "load balancer provisioned");
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer")
                .path("ingress").path(0).path("ip").asText();
    }

    record Answer(int code, String body) {}

    /** sleep's curl to httpbin, with the status code on the last line. */
    private Answer fromSleep(String... extra) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-w", "\n%{http_code}"));
        cmd.addAll(List.of(extra));
        cmd.add("http://httpbin:8000/ip");
        ClusterApi.ExecResult r = cluster.exec("default", runningPod("default", "app=sleep").name(), "sleep", cmd);
        return split(r.stdout());
    }

    /** A real curl from an external client address through the load balancer. */
    private static Answer answers(String client, String url) {
        try {
            Process p = new ProcessBuilder("curl", "-sS", "--interface", client, "--max-time", "5", "-w", "\n%{http_code}", url)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            return split(out);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Answer split(String out) {
        int nl = out.lastIndexOf('\n');
        try {
            return new Answer(Integer.parseInt(out.substring(nl + 1).trim()), nl < 0 ? "" : out.substring(0, nl));
        } catch (NumberFormatException e) {
            return new Answer(-1, out);
        }
    }

    private JsonNode gatewayLog(String client, int code) throws Exception {
        return ProxyLogs.await(cluster, NS, runningPod(NS, "app=" + GW).name(),
                j -> j.path("downstream_remote_address").asText().startsWith(client + ":"), j -> j.path("response_code").asInt() == code);
    }

    private JsonNode inboundLog(java.util.function.Predicate<JsonNode> expected) throws Exception {
        return ProxyLogs.await(cluster, "default", runningPod("default", "app=httpbin").name(),
                j -> j.path("route_name").asText().equals("default") || j.path("upstream_cluster").asText().startsWith("inbound")
                        || j.path("response_code").asInt() == 403, expected);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting for " + what);
    }
}
