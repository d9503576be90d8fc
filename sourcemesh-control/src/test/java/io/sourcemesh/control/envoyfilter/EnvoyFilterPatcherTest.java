package io.sourcemesh.control.envoyfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.JsonDiff;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.control.translate.Translator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Golden tests: the seed topology (plus http-demo, https-demo and the gateway secret), one EnvoyFilter
 * case from src/test/resources/envoyfilter, and the resulting change to the proxy's config as a JSON diff.
 */
class EnvoyFilterPatcherTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    static PatchResult run(String resource, String proxyName, List<ObjectNode> extra) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml",
                "topology/gateway-secret.yaml", resource);
        objects.addAll(extra);
        MeshModel model = MeshModel.of(objects);
        ProxyIdentity proxy = proxyName.equals("gateway") ? Fixtures.gateway(model) : Fixtures.sidecar(model, proxyName);
        ProxyResources before = Translator.create().translate(model, proxy);
        return EnvoyFilterPatcher.apply(model, proxy, before);
    }

    static String golden(String resource, String proxyName) {
        MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml",
                "topology/gateway-secret.yaml"));
        ProxyIdentity proxy = proxyName.equals("gateway") ? Fixtures.gateway(model) : Fixtures.sidecar(model, proxyName);
        String before = Translator.create().translate(model, proxy).toJson();
        PatchResult result = run(resource, proxyName, List.of());
        ObjectNode out = MAPPER.createObjectNode();
        out.put("proxy", proxy.nodeId("cluster.local"));
        ArrayNode applied = out.putArray("applied");
        result.applied().forEach(applied::add);
        ArrayNode failures = out.putArray("failures");
        result.failures().forEach(f -> failures.add(f.toString()));
        out.set("changes", JsonDiff.diff(before, result.resources().toJson()));
        return JsonDiff.pretty(out);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({
        "listener-add, httpbin", "listener-merge, httpbin", "listener-remove, sleep",
        "filter-chain-add, httpbin", "filter-chain-merge, httpbin", "filter-chain-remove, httpbin",
        "network-filter-insert-before, httpbin", "network-filter-insert-after, httpbin",
        "network-filter-insert-first, httpbin", "network-filter-add, httpbin",
        "network-filter-replace, sleep", "network-filter-remove, sleep", "network-filter-merge, sleep",
        "http-filter-insert-before, httpbin", "http-filter-insert-after, httpbin",
        "http-filter-insert-first, httpbin", "http-filter-add, httpbin", "http-filter-replace, httpbin",
        "http-filter-merge, gateway", "http-filter-remove, sleep",
        "route-configuration-merge, gateway",
        "virtual-host-add, sleep", "virtual-host-merge, sleep", "virtual-host-remove, sleep",
        "http-route-insert-before, httpbin", "http-route-insert-after, httpbin",
        "http-route-insert-first, httpbin", "http-route-add, httpbin", "http-route-merge, sleep",
        "http-route-remove, sleep",
        "cluster-add, sleep", "cluster-merge, sleep", "cluster-remove, httpbin",
        "proxy-version-mismatch, httpbin", "workload-selector-mismatch, httpbin", "other-namespace, httpbin",
        "context-mismatch, httpbin",
        "failure-unknown-type, httpbin", "failure-unknown-field, httpbin", "failure-bad-operation, httpbin",
        "failure-bad-regex, httpbin",
        "priority-order, httpbin", "gateway-xff-trusted-hops, gateway",
    })
    void patchCase(String name, String proxy) {
        Golden.assertMatches("envoyfilter/" + name, golden("envoyfilter/" + name + ".yaml", proxy));
    }

    @ParameterizedTest(name = "seed XFF EnvoyFilter on {0}")
    @CsvSource({"httpbin", "sleep", "gateway"})
    void seedXffFilter(String proxy) throws Exception {
        String json = golden("seed/enable-xff-for-sidecar-inbound.yaml", proxy);
        Golden.assertMatches("envoyfilter/seed-xff-" + proxy, json);
        JsonNode changes = MAPPER.readTree(json).path("changes");
        if (!proxy.equals("gateway")) {
            // Exactly one field changes: the inbound HCM (httpbin 8000, sleep 80) now trusts the peer.
            assertEquals(1, changes.size(), changes.toString());
            assertTrue(changes.get(0).path("path").asText().endsWith("/typed_config/use_remote_address"));
            assertEquals(true, changes.get(0).path("after").asBoolean());
        } else {
            // Gateways are not SIDECAR_INBOUND.
            assertEquals(0, changes.size(), changes.toString());
        }
    }

    @ParameterizedTest(name = "{0} is refused whole")
    @CsvSource({
        "failure-unknown-type, bad-type, 1, Wasm",
        "failure-unknown-field, unknown-field, 0, use_remote_adress",
        "failure-bad-operation, bad-operation, 0, INSERT_BEFORE is not supported for CLUSTER",
        "failure-bad-regex, bad-regex, 0, invalid escape sequence: `\\Z`",
    })
    void failuresNameFilterIndexAndReason(String file, String filter, int index, String reason) {
        PatchResult r = run("envoyfilter/" + file + ".yaml", "httpbin", List.of());
        assertEquals(1, r.failures().size(), r.failures().toString());
        PatchFailure f = r.failures().get(0);
        assertEquals("istio-system/" + filter, f.envoyFilter());
        assertEquals(index, f.patchIndex());
        assertTrue(f.reason().contains(reason), f.reason());
        assertTrue(r.resources().cluster("BlackHoleCluster").isPresent());
    }

    /**
     * Istio's application order (PushContext.EnvoyFilters, pilot/pkg/model/push_context.go): priority; at one priority
     * the root namespace's before the proxy namespace's, however old; then oldest first; then name.namespace as one
     * string, so "a-b" comes before "a" ('-' sorts before '.').
     */
    @Test
    void envoyFiltersApplyByPriorityThenRootNamespaceThenAgeThenNameDotNamespace() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(envoyFilter("local-oldest", "default", "2024-01-01T00:00:00Z", 0));
        objects.add(envoyFilter("root-newest", "istio-system", "2024-01-01T00:00:09Z", 0));
        objects.add(envoyFilter("root-older", "istio-system", "2024-01-01T00:00:05Z", 0));
        objects.add(envoyFilter("a", "default", "2024-01-01T00:00:07Z", 0));
        objects.add(envoyFilter("a-b", "default", "2024-01-01T00:00:07Z", 0));
        objects.add(envoyFilter("root-first", "istio-system", "2024-01-01T00:00:09Z", -1));
        objects.add(envoyFilter("root-last", "istio-system", "2024-01-01T00:00:00Z", 1));
        MeshModel model = MeshModel.of(objects);
        assertEquals(List.of("istio-system/root-first", "istio-system/root-older", "istio-system/root-newest",
                "default/local-oldest", "default/a-b", "default/a", "istio-system/root-last"),
                EnvoyFilterPatcher.selected(model, Fixtures.sidecar(model, "httpbin")).stream().map(IstioConfig::key).toList());
    }

    private static ObjectNode envoyFilter(String name, String namespace, String created, int priority) {
        ObjectNode ef = MAPPER.createObjectNode().put("apiVersion", "networking.istio.io/v1alpha3").put("kind", "EnvoyFilter");
        ef.putObject("metadata").put("name", name).put("namespace", namespace).put("creationTimestamp", created);
        ef.putObject("spec").put("priority", priority);
        return ef;
    }

    @ParameterizedTest(name = "version changes only when applied: {0}")
    @CsvSource({"cluster-merge, true", "proxy-version-mismatch, false"})
    void versionTracksChanges(String file, boolean changed) {
        MeshModel model = MeshModel.of(Fixtures.seed());
        ProxyResources before = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        PatchResult r = run("envoyfilter/" + file + ".yaml", "sleep", List.of());
        if (changed) {
            assertNotEquals(before.version(), r.resources().version());
        } else {
            assertEquals(before.version(), r.resources().version());
        }
    }
}
