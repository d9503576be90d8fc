package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * meshConfig.defaultConfig.gatewayTopology and the gateway pod's proxy.istio.io/config annotation
 * become the gateway's xff_num_trusted_hops and proxy_protocol listener filter (Istio's
 * "Configuring Gateway Network Topology"); sidecars are untouched.
 */
class GatewayTopologyTest {
    private final Translator translator = Translator.create();

    @Test
    void meshConfigMapSetsTrustedHopsAndProxyProtocolOnEveryGatewayListener() {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml", "topology/gateway-secret.yaml",
                "gateway-topology/mesh-config.yaml");
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        Golden.assertMatches("gateway-topology-mesh", r.toJson());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        for (String name : List.of("0.0.0.0_80", "0.0.0.0_443")) {
            Listener l = r.listener(name).orElseThrow();
            assertEquals("envoy.filters.listener.proxy_protocol", l.getListenerFilters(0).getName(), name);
            for (int i = 0; i < l.getFilterChainsCount(); i++) {
                assertEquals(2, hcm(l, i).getXffNumTrustedHops(), name);
                assertTrue(hcm(l, i).getUseRemoteAddress().getValue(), name);
            }
        }
        // Sidecars are no gateways: their listeners do not change.
        MeshModel plain = MeshModel.of(Fixtures.seed("seed/http-demo.yaml"));
        MeshModel withMesh = MeshModel.of(objects, MeshConfig.from(objects));
        assertEquals(translator.translate(plain, Fixtures.sidecar(plain, "httpbin")).toJson(),
                translator.translate(withMesh, Fixtures.sidecar(withMesh, "httpbin")).toJson());
    }

    @Test
    void podAnnotationOverridesTheMeshDefaultFieldByField() {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml", "gateway-topology/mesh-config.yaml");
        annotate(objects, "{\"gatewayTopology\" : { \"numTrustedProxies\": 1 } }");
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        Golden.assertMatches("gateway-topology-annotation", r.toJson());
        Listener l = r.listener("0.0.0.0_80").orElseThrow();
        assertEquals(1, hcm(l, 0).getXffNumTrustedHops());
        assertEquals("envoy.filters.listener.proxy_protocol", l.getListenerFilters(0).getName(), "kept from the mesh default");

        // An explicit 0 in the annotation wins over the mesh's 2 (a set field overrides).
        annotate(objects, "gatewayTopology: {numTrustedProxies: 0}");
        model = MeshModel.of(objects, MeshConfig.from(objects));
        l = translator.translate(model, Fixtures.gateway(model)).listener("0.0.0.0_80").orElseThrow();
        assertEquals(0, hcm(l, 0).getXffNumTrustedHops());

        // Without the ConfigMap, the annotation alone.
        List<ObjectNode> noMesh = Fixtures.seed("seed/http-demo.yaml");
        annotate(noMesh, "gatewayTopology:\n  proxyProtocol: {}\n");
        model = MeshModel.of(noMesh, MeshConfig.from(noMesh));
        l = translator.translate(model, Fixtures.gateway(model)).listener("0.0.0.0_80").orElseThrow();
        assertEquals(0, hcm(l, 0).getXffNumTrustedHops());
        assertEquals("envoy.filters.listener.proxy_protocol", l.getListenerFilters(0).getName());
    }

    @Test
    void defaultsHaveNoProxyProtocolAndNoTrustedHops() {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        Listener l = translator.translate(model, Fixtures.gateway(model)).listener("0.0.0.0_80").orElseThrow();
        assertEquals(0, l.getListenerFiltersCount());
        assertEquals(0, hcm(l, 0).getXffNumTrustedHops());
    }

    @Test
    void anAnnotationThatDoesNotParseIsWarnedAboutNotIgnored() {
        // The API server refuses these; a pod stored before that check still gets the mesh default, named.
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml", "gateway-topology/mesh-config.yaml");
        annotate(objects, "gatewayTopology: {numTrustedProxies: many}");
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        assertEquals(2, hcm(r.listener("0.0.0.0_80").orElseThrow(), 0).getXffNumTrustedHops());
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().get(0).toString().startsWith("Pod istio-system/istio-ingressgateway-"), r.warnings().toString());
        assertTrue(r.warnings().get(0).message().contains("gatewayTopology.numTrustedProxies: must be a non-negative integer"),
                r.warnings().toString());
    }

    @Test
    void aMeshConfigThatDoesNotParseIsRefused() {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data: {mesh: "defaultConfig: {gatewayTopology: {numTrustedProxies: 2, forwardClientCertDetails: SANITIZE}}"}
                """));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MeshConfig.from(objects));
        assertTrue(e.getMessage().contains("defaultConfig.gatewayTopology.forwardClientCertDetails: not supported"), e.getMessage());
        assertFalse(e.getMessage().contains("numTrustedProxies:"), e.getMessage());
    }

    private static void annotate(List<ObjectNode> objects, String config) {
        ObjectNode gw = objects.stream().filter(o -> o.path("kind").asText().equals("Pod")
                && o.path("metadata").path("name").asText().startsWith("istio-ingressgateway")).findFirst().orElseThrow();
        ((ObjectNode) gw.path("metadata")).with("annotations").put("proxy.istio.io/config", config);
    }

    private static io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager hcm(
            Listener l, int chain) {
        return ProxyResources.unpack(l.getFilterChains(chain).getFilters(0).getTypedConfig(),
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.class);
    }
}
