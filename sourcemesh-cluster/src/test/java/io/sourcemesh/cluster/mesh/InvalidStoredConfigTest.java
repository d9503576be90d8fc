package io.sourcemesh.cluster.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Gateway stored before a validation rule refused it (an older version's state), on the embedded runtime with the
 * control plane on informers, as the daemon runs: Kubernetes keeps it as stored, istiod leaves config that fails its
 * validation out of what it serves (pilot/pkg/config/kube/file through crd.ParseInputs) and istioctl analyze reports
 * it as IST0106 SchemaValidationError (pkg/config/analysis/analyzers/schema/validation.go). So the Gateway stays
 * readable as it was, its status says why it is not applied, its route leaves the gateway proxy, the VirtualService
 * bound to it is served by nothing (and breaks nothing), and fixing the Gateway serves it again.
 */
class InvalidStoredConfigTest {
    /** What the gateway proxy's route to httpbin looks like in its config dump. */
    private static final String HTTPBIN_ROUTE = "\"cluster\": \"outbound|8000||httpbin.default.svc.cluster.local\"";
    private static final String GATEWAY = "httpbin-gw-httpprotocol";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void aGatewayStoredBeforeARuleRefusedItIsKeptSaysWhyAndIsNotServed() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("httpbin.yaml", "http-demo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + f)));
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle");
        assertTrue(gatewayConfig().contains(HTTPBIN_ROUTE), "served before");

        // A second server repeating the port name "http": Istio's validateServer refuses it (port names in servers
        // must be unique), and an older SourceMesh stored it.
        Path state = Home.resolve(clusters.home()).stateDir().resolve("objects.json");
        cluster = clusters.restart(() -> addServer(state));
        KubeObject gw = gateway();
        assertEquals(2, gw.spec().path("servers").size(), "kept as stored: " + gw.spec());
        JsonNode message = gw.status().path("validationMessages").path(0);
        assertEquals("ERROR", message.path("level").asText(), gw.status().toString());
        assertEquals("SchemaValidationError", message.path("type").asText());
        assertEquals("spec.servers[1].port.name: Invalid value: port names in servers must be unique: duplicate name http; "
                + "stored before this rule refused it, it is kept but left out of the proxies' config until it is fixed",
                message.path("description").asText());
        assertEquals(List.of("Gateway default/" + GATEWAY + ": spec.servers[1].port.name: Invalid value: port names in "
                + "servers must be unique: duplicate name http; left out of the proxies' config"), cluster.info().invalid(),
                "what up and status list");
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle after the restart");
        awaitTrue(() -> "Invalid".equals(condition(gateway()).path("reason").asText()), () -> "Reconciled False, Invalid: "
                + gateway().status());
        assertEquals("False", condition(gateway()).path("status").asText());
        awaitTrue(() -> !gatewayConfig().contains(HTTPBIN_ROUTE), () -> "the invalid Gateway's route is not served");
        assertEquals("SchemaValidationError", gateway().status().path("validationMessages").path(0).path("type").asText(),
                "the control plane's status write keeps the message");

        // Fixed: served again, the message gone.
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        awaitTrue(() -> gatewayConfig().contains(HTTPBIN_ROUTE), () -> "served once fixed");
        awaitTrue(() -> "True".equals(condition(gateway()).path("status").asText()), () -> "reconciled: " + gateway().status());
        assertTrue(gateway().status().path("validationMessages").isMissingNode(), gateway().status().toString());
        assertEquals(List.of(), cluster.info().invalid());
    }

    private static void addServer(Path state) {
        ObjectMapper json = new ObjectMapper();
        try {
            JsonNode root = json.readTree(state.toFile());
            for (JsonNode o : root.path("objects")) {
                if (o.path("kind").asText().equals("Gateway") && o.path("metadata").path("name").asText().equals(GATEWAY)) {
                    ObjectNode server = ((ObjectNode) o.path("spec")).withArray("servers").addObject();
                    server.putArray("hosts").add("*");
                    server.putObject("port").put("name", "http").put("number", 81).put("protocol", "HTTP");
                }
            }
            json.writeValue(state.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private KubeObject gateway() {
        return cluster.get(ResourceKind.GATEWAY, "default", GATEWAY).orElseThrow();
    }

    private static JsonNode condition(KubeObject o) {
        for (JsonNode c : o.status().path("conditions")) {
            if (c.path("type").asText().equals("Reconciled")) {
                return c;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private String gatewayConfig() {
        String pod = cluster.list(ResourceKind.POD, "istio-system", "istio=ingressgateway").get(0).name();
        return cluster.proxyConfig("istio-system", pod);
    }

    private static void awaitTrue(BooleanSupplier condition, java.util.function.Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(what.get());
            }
            Thread.sleep(50);
        }
    }
}
