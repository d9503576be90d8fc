package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * AuthorizationPolicy north-south, once per runtime (the netns run as root): Istio's task
 * "Authorization on Ingress Gateway" under externalTrafficPolicy Local with real curls from two
 * internet clients — allow list, a refused update, deny list, allow-nothing, AUDIT. Every policy
 * change is a push to the running gateway: it is never restarted. (East-west: {@code AuthorizationEastWestTest}.)
 */
class AuthorizationNorthSouthTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final String DENIED = "RBAC: access denied";
    /** The addresses the policy files name (the embedded runtime's clients), replaced by the runtime's own. */
    static final String FILE_CLIENT = AddressPlan.EXTERNAL_CLIENT;
    static final String FILE_OTHER = "127.120.0.11";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ClusterRuntime runtime;
    ExternalClient client;
    ExternalClient other;

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void ingressGatewayIpAllowListDenyListAllowNothingAndAudit(ClusterRuntime on) throws Exception {
        runtime = on;
        cluster = clusters.start(on, 2);
        client = on.client(cluster);
        other = on.otherClient(cluster);
        apply("seed/httpbin.yaml");
        apply("seed/http-demo.yaml");
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}")));
        String url = "http://" + loadBalancerIp() + ":80/ip";
        awaitTrue(() -> client.code(url) == 200 && other.code(url) == 200, "both clients served");
        KubeObject gatewayPod = runningPod(NS, "app=" + GW);

        // ALLOW ipBlocks [client]: the client passes, any other address gets Envoy's 403.
        apply("authz/ingress-allow-client.yaml");
        other.awaitCode(url, 403);
        assertEquals(DENIED + "\n403", other.curl("-w", "\n%{http_code}", url).out());
        JsonNode log = gatewayLog(other, 403);
        assertEquals("rbac_access_denied_matched_policy[none]", log.path("response_code_details").asText(), log.toString());
        awaitTrue(() -> policyCondition("ingress-policy").path("reason").asText().equals("Applied"),
                "the policy's status says the gateway ACKed it");
        assertEquals("True", policyCondition("ingress-policy").path("status").asText());
        JsonNode enforcer = cluster.get(ResourceKind.AUTHORIZATION_POLICY, NS, "ingress-policy").orElseThrow().status()
                .path("proxies").path(0);
        assertEquals(gatewayPod.name() + "." + NS, enforcer.path("name").asText(), "the policy's status names the gateway");
        assertEquals("ACKED", enforcer.path("state").asText());
        ExternalClient.Curl allowed = client.curl(url);
        assertTrue(allowed.out().contains("\"origin\": \"" + client.address() + "\""), allowed.out());
        assertEquals("via_upstream", gatewayLog(client, 200).path("response_code_details").asText());

        // A refused update (Istio's validation) changes nothing: the last good policy keeps being enforced.
        String bad = policyFile("authz/ingress-allow-client.yaml").replace(client.address(), "not-an-ip");
        Exception refused = assertThrows(Exception.class, () -> cluster.apply(ManifestReader.read("bad.yaml", bad)));
        assertTrue(refused.getMessage().contains("spec.rules[0].from[0].source.ipBlocks[0]: Invalid value: \"not-an-ip\": "
                + "bad IP address (not-an-ip)"), refused.getMessage());
        assertEquals(403, other.code(url));
        assertEquals(200, client.code(url));

        // DENY remoteIpBlocks [client] on top: DENY is asked first, so the client is now denied too.
        apply("authz/ingress-deny-client.yaml");
        client.awaitCode(url, 403);
        log = gatewayLog(client, 403);
        assertEquals("rbac_access_denied_matched_policy[ns[istio-system]-policy[ingress-deny]-rule[0]]",
                log.path("response_code_details").asText(), log.toString());
        assertEquals(403, other.code(url), "the other client still fails the ALLOW list");

        // Both removed: everyone passes again; then allow-nothing (spec: {}) denies everyone.
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "ingress-policy");
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "ingress-deny");
        awaitTrue(() -> client.code(url) == 200 && other.code(url) == 200, "both served again");
        apply("authz/allow-nothing.yaml");
        awaitTrue(() -> client.code(url) == 403 && other.code(url) == 403, "nobody is served");
        assertEquals("rbac_access_denied_matched_policy[none]", gatewayLog(client, 403).path("response_code_details").asText());

        // AUDIT (an RBAC LOG filter): requests from the other client are marked, nobody is ever blocked.
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, NS, "allow-nothing");
        awaitTrue(() -> client.code(url) == 200 && other.code(url) == 200, "both served again");
        apply("authz/ingress-audit-other.yaml");
        awaitTrue(() -> cluster.proxyConfig(NS, gatewayPod.name()).contains("\"action\": \"LOG\""), "the LOG filter reached the gateway");
        long allowedBefore = gatewayCounter("rbac.allowed");
        long deniedBefore = gatewayCounter("rbac.denied");
        String debug = rbacDebug(gatewayPod.name(), () -> {
            assertEquals(200, other.code(url), "an audited request is never blocked");
            assertEquals(200, client.code(url));
        });
        // Envoy counts a LOG decision as allowed (no logged/not_logged counters since handleAction).
        assertEquals(allowedBefore + 2, gatewayCounter("rbac.allowed"));
        assertEquals(deniedBefore, gatewayCounter("rbac.denied"));
        assertTrue(debug.contains("access_log_hint: true, matched policy ns[istio-system]-policy[ingress-audit]-rule[0]"), debug);
        assertTrue(debug.contains("access_log_hint: false, matched policy none"), debug);

        // Pushed to the running gateway, never restarted.
        KubeObject now = runningPod(NS, "app=" + GW);
        assertEquals(gatewayPod.name(), now.name());
        assertEquals(gatewayPod.uid(), now.uid());
        assertEquals(0, now.status().path("containerStatuses").path(0).path("restartCount").asInt());
    }

    // ---- helpers -------------------------------------------------------------------------------

    /**
     * The gateway's RBAC debug lines while {@code requests} run: its proxy logs at debug for them. The
     * embedded runtime's proxies run in this JVM (a handler on the logger sees them); a netns gateway is
     * a process of its own, whose lines land in its istio-proxy container log.
     */
    private String rbacDebug(String gatewayPod, ThrowingRunnable requests) throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger rbacLogger = Logger.getLogger("io.sourcemesh.proxy.rbac");
        int logBefore = containerLog(gatewayPod).size();
        rbacLogger.addHandler(capture);
        cluster.proxyAdmin(NS, gatewayPod, "/logging?rbac=debug");
        try {
            requests.run();
        } finally {
            cluster.proxyAdmin(NS, gatewayPod, "/logging?rbac=info");
            rbacLogger.removeHandler(capture);
        }
        if (runtime == ClusterRuntime.NETNS) {
            List<String> log = containerLog(gatewayPod);
            lines.addAll(log.subList(Math.min(logBefore, log.size()), log.size()));
        }
        return String.join("\n", lines);
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private List<String> containerLog(String pod) {
        List<String> lines = new ArrayList<>();
        cluster.logs(NS, pod, "istio-proxy", false, -1, lines::add);
        return lines;
    }

    /** The gateway's one counter whose name ends with {@code suffix} (HTTP RBAC: http.<stat_prefix>.rbac.*). */
    private long gatewayCounter(String suffix) {
        String stats = cluster.proxyAdmin(NS, runningPod(NS, "app=" + GW).name(), "/stats?filter=rbac");
        List<String> lines = stats.lines().filter(l -> l.startsWith("http.") && l.contains("." + suffix + ": ")).toList();
        assertEquals(1, lines.size(), stats);
        return Long.parseLong(lines.get(0).substring(lines.get(0).indexOf(": ") + 2).trim());
    }

    private JsonNode policyCondition(String name) {
        return cluster.get(ResourceKind.AUTHORIZATION_POLICY, NS, name).orElseThrow().status().path("conditions").path(0);
    }

    /** A policy file with the runtime's own client addresses in place of the ones it names. */
    private String policyFile(String file) throws Exception {
        return Files.readString(Path.of("src/test/resources/" + file)).replace(FILE_CLIENT, client.address())
                .replace(FILE_OTHER, other.address());
    }

    private void apply(String file) throws Exception {
        cluster.apply(ManifestReader.read(file, policyFile(file)));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
    }

    private KubeObject runningPod(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String loadBalancerIp() throws Exception {
        awaitTrue(() -> !cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer")
                .path("ingress").path(0).path("ip").asText().isEmpty(), "load balancer provisioned");
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer")
                .path("ingress").path(0).path("ip").asText();
    }

    private JsonNode gatewayLog(ExternalClient from, int code) throws Exception {
        return ProxyLogs.await(cluster, NS, runningPod(NS, "app=" + GW).name(),
                j -> j.path("downstream_remote_address").asText().startsWith(from.address() + ":"), j -> j.path("response_code").asInt() == code);
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        ExternalClient.awaitTrue(condition, what);
    }
}
