package io.sourcemesh.cluster;

import io.sourcemesh.cluster.exec.ExecResult;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.OptionalLong;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * AuthorizationPolicy east-west at httpbin's sidecar, once per runtime (the netns run as root): an ipBlocks DENY of the sleep
 * pod under REDIRECT and TPROXY (the sidecar's peer is the sleep pod in both; only the app sees 127.0.0.6
 * under REDIRECT), remoteIpBlocks with and without the seed's XFF EnvoyFilter (without it, the remote
 * address is X-Forwarded-For's last entry, which the client writes). Policies are pushes: the
 * sidecar process is never restarted.
 */
class AuthorizationEastWestTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ClusterRuntime runtime;

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void eastWestIpBlocksAtTheSidecarAndRemoteIpBlocksWithTheXffFilter(ClusterRuntime on) throws Exception {
        runtime = on;
        cluster = clusters.start(on, 2);
        apply("seed/sleep.yaml", "seed/httpbin.yaml");
        String sleepIp = ip("sleep");
        assertEquals(200, fromSleep().code());

        // REDIRECT: the app sees 127.0.0.6, but the policy runs in httpbin's sidecar, whose peer is the
        // sleep pod itself, so an ipBlocks DENY on the sleep pod's address does match.
        applyText(denySleep("ipBlocks", sleepIp));
        awaitTrue(() -> fromSleep().code() == 403, "sleep denied under REDIRECT");
        JsonNode log = inboundLog(l -> l.path("response_code").asInt() == 403);
        assertTrue(log.path("downstream_remote_address").asText().startsWith(sleepIp + ":"), log.toString());
        assertEquals("rbac_access_denied_matched_policy[ns[default]-policy[deny-sleep]-rule[0]]",
                log.path("response_code_details").asText(), log.toString());
        assertTrue(log.path("upstream_host").isNull() || log.path("upstream_host").isMissingNode(), "never reached httpbin");
        OptionalLong sidecar = sidecarPid();

        // TPROXY: the same decision, and a request let through would now show the sleep pod's address.
        assertEquals(sidecar, sidecarPid(), "pushed, not restarted");
        rollHttpbin(Files.readString(Path.of("src/test/resources/seed/tproxy-patch.json")));
        assertEquals(403, fromSleep().code(), "sleep still denied under TPROXY");
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, "default", "deny-sleep");
        awaitTrue(() -> fromSleep().code() == 200, "allowed once the policy is gone");
        assertTrue(fromSleep().body().contains("\"origin\": \"" + sleepIp + "\""));
        rollHttpbin("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":null}}}}}");

        // remoteIpBlocks: without the XFF filter the inbound HCM does not use the peer (use_remote_address
        // false), so the remote address is X-Forwarded-For's last entry, which the client chooses.
        applyText(denySleep("remoteIpBlocks", sleepIp));
        awaitTrue(() -> fromSleep().code() == 403, "sleep denied by remote address (no XFF: the peer)");
        assertEquals(200, fromSleep("-H", "X-Forwarded-For: 192.0.2.7").code(),
                "a client-chosen X-Forwarded-For is the remote address without the XFF filter");
        // The seed's XFF EnvoyFilter: use_remote_address, so the sidecar trusts the peer, not the header.
        apply("seed/enable-xff-for-sidecar-inbound.yaml");
        awaitTrue(() -> fromSleep("-H", "X-Forwarded-For: 192.0.2.7").code() == 403, "the peer is the remote address");
        log = inboundLog(l -> l.path("response_code").asInt() == 403);
        assertEquals("rbac_access_denied_matched_policy[ns[default]-policy[deny-sleep]-rule[0]]",
                log.path("response_code_details").asText(), log.toString());
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The httpbin sidecar's process where the runtime has processes (netns); empty in the embedded runtime's one JVM. */
    private OptionalLong sidecarPid() {
        return runtime == ClusterRuntime.NETNS
                ? NetnsRuntime.sidecarPid(cluster, "default", runningPod("default", "app=httpbin").name())
                : OptionalLong.empty();
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
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
    }

    private void applyText(String yaml) {
        cluster.apply(ManifestReader.read("policy.yaml", yaml));
    }

    private void rollHttpbin(String patch) throws Exception {
        String before = runningPod("default", "app=httpbin").name();
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC, patch)));
        assertTrue(cluster.awaitSettled(runtime.settle()));
        assertNotEquals(before, runningPod("default", "app=httpbin").name());
    }

    private KubeObject runningPod(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String ip(String app) {
        return runningPod("default", "app=" + app).status().path("podIP").asText();
    }

    record Answer(int code, String body) {}

    /** sleep's curl to httpbin, with the status code on the last line. */
    private Answer fromSleep(String... extra) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}"));
        cmd.addAll(List.of(extra));
        cmd.add("http://httpbin:8000/ip");
        ExecResult r = cluster.exec("default", runningPod("default", "app=sleep").name(), "sleep", cmd);
        return split(r.stdout());
    }

    private static Answer split(String out) {
        int nl = out.lastIndexOf('\n');
        try {
            return new Answer(Integer.parseInt(out.substring(nl + 1).trim()), nl < 0 ? "" : out.substring(0, nl));
        } catch (NumberFormatException e) {
            return new Answer(-1, out);
        }
    }

    private JsonNode inboundLog(java.util.function.Predicate<JsonNode> expected) throws Exception {
        return ProxyLogs.await(cluster, "default", runningPod("default", "app=httpbin").name(),
                j -> j.path("route_name").asText().equals("default") || j.path("upstream_cluster").asText().startsWith("inbound")
                        || j.path("response_code").asInt() == 403, expected);
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
