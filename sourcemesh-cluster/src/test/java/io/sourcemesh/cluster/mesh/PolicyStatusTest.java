package io.sourcemesh.cluster.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A security policy's or Telemetry's status says whether the proxies it applies to enforce it — their answer to the
 * push that carries it, not that it was sent: an AuthorizationPolicy on a gateway that refused the push is Reconciled False (the gateway
 * enforces its last good config, without it); a PeerAuthentication on the workload's sidecar is Applied once that
 * sidecar ACKed; one a newer policy of its level would need is NoProxy; a mesh-wide Telemetry lists every proxy.
 */
class PolicyStatusTest {
    private static final String GATEWAY_POLICY = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: gateway-deny-admin
              namespace: istio-system
            spec:
              selector:
                matchLabels:
                  istio: ingressgateway
              action: DENY
              rules:
              - to:
                - operation:
                    paths: ["/admin"]
            """;
    private static final String STRICT = """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata:
              name: %s
              namespace: default
            spec:
              mtls:
                mode: STRICT
            """;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @Test
    void aPolicyIsEnforcedWhereItsProxiesAckedAndNotWhereOneRefusedThePush() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("httpbin.yaml", "http-demo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + f)));
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle");

        cluster.apply(ManifestReader.read("policy.yaml", GATEWAY_POLICY));
        awaitTrue(() -> reason(policy(cluster)).equals("Applied"), () -> "the gateway ACKed: " + policy(cluster).status());
        JsonNode proxy = policy(cluster).status().path("proxies").path(0);
        assertTrue(proxy.path("name").asText().startsWith("istio-ingressgateway-"), proxy.toString());
        assertEquals("ACKED", proxy.path("state").asText());

        // The gateway refuses every push from now on: a policy changed meanwhile is not what it enforces.
        cluster.apply(ManifestReader.read("filter.yaml", EnvoyFilterStatusTest.UNKNOWN_FILTER));
        cluster.apply(ManifestReader.read("policy.yaml", GATEWAY_POLICY.replace("/admin", "/private")));
        awaitTrue(() -> reason(policy(cluster)).equals("Rejected"), () -> "the gateway NACKed: " + policy(cluster).status());
        KubeObject refused = policy(cluster);
        assertEquals("False", refused.status().path("conditions").path(0).path("status").asText());
        assertEquals("NACKED", refused.status().path("proxies").path(0).path("state").asText());
        assertEquals("ProxyRejected", refused.status().path("validationMessages").path(0).path("type").asText(),
                refused.status().toString());

        cluster.delete(ResourceKind.ENVOY_FILTER, EnvoyFilterStatusTest.NS, "unknown-listener-filter");
        awaitTrue(() -> reason(policy(cluster)).equals("Applied"), () -> "ACKed again: " + policy(cluster).status());
        assertTrue(policy(cluster).status().path("validationMessages").isMissingNode(), policy(cluster).status().toString());

        // PeerAuthentication: the namespace's oldest one is in force on httpbin's sidecar, a newer one on nothing.
        cluster.apply(ManifestReader.read("pa.yaml", STRICT.formatted("strict")));
        cluster.apply(ManifestReader.read("pa2.yaml", STRICT.formatted("strict-too")));
        awaitTrue(() -> reason(peer(cluster, "strict")).equals("Applied"), () -> peer(cluster, "strict").status().toString());
        assertTrue(peer(cluster, "strict").status().path("proxies").path(0).path("name").asText().startsWith("httpbin-"),
                peer(cluster, "strict").status().toString());
        assertEquals("NoProxy", reason(peer(cluster, "strict-too")), peer(cluster, "strict-too").status().toString());

        // Telemetry: the mesh-wide access logging is in force on every proxy, each of which ACKed it.
        cluster.apply(ManifestReader.read("telemetry.yaml", """
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: mesh-logs, namespace: istio-system}
                spec: {accessLogging: [{providers: [{name: envoy}]}]}
                """));
        awaitTrue(() -> reason(telemetry(cluster)).equals("Applied"), () -> telemetry(cluster).status().toString());
        assertEquals(cluster.proxyStatus().size(), telemetry(cluster).status().path("proxies").size(),
                telemetry(cluster).status().toString());
    }

    private static KubeObject telemetry(Cluster cluster) {
        return cluster.get(ResourceKind.TELEMETRY, "istio-system", "mesh-logs").orElseThrow();
    }

    @Test
    void aWriteKeepsTheStatusMessagesOfOthers() {
        ObjectNode old = JsonNodeFactory.instance.objectNode();
        old.putArray("validationMessages").addObject().put("type", "FieldNotImplemented").put("level", "WARNING");
        old.withArray("validationMessages").addObject().put("type", "ProxyPending").put("level", "INFO");
        ObjectNode status = PolicyStatus.status(old, new ProxyVerdicts(List.of(ProxyAnswer.acked("a.default"))));
        assertEquals(1, status.path("validationMessages").size(), status.toString());
        assertEquals("FieldNotImplemented", status.path("validationMessages").path(0).path("type").asText());
        assertEquals("Applied", status.path("conditions").path(0).path("reason").asText());

        ObjectNode none = PolicyStatus.status(null, new ProxyVerdicts(List.of()));
        assertEquals("False", none.path("conditions").path(0).path("status").asText());
        assertEquals("NoProxy", none.path("conditions").path(0).path("reason").asText());
        assertTrue(none.path("validationMessages").isMissingNode(), none.toString());
    }

    private static KubeObject policy(Cluster cluster) {
        return cluster.get(ResourceKind.AUTHORIZATION_POLICY, "istio-system", "gateway-deny-admin").orElseThrow();
    }

    private static KubeObject peer(Cluster cluster, String name) {
        return cluster.get(ResourceKind.PEER_AUTHENTICATION, "default", name).orElseThrow();
    }

    private static String reason(KubeObject o) {
        return o.status() == null ? "" : o.status().path("conditions").path(0).path("reason").asText();
    }

    private static void awaitTrue(BooleanSupplier condition, java.util.function.Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what.get());
            }
            Thread.sleep(20);
        }
    }
}
