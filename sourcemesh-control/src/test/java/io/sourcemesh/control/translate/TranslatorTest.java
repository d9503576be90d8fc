package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TranslatorTest {
    private final Translator translator = Translator.create();

    @Test
    void httpbinSidecarRedirect() {
        MeshModel model = MeshModel.of(Fixtures.seed());
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        Golden.assertMatches("sidecar-httpbin-redirect", r.toJson());
        Cluster inbound = r.cluster("inbound|8000||").orElseThrow();
        assertEquals("127.0.0.6", inbound.getUpstreamBindConfig().getSourceAddress().getAddress());
        assertFalse(r.listener("virtualInbound").orElseThrow().hasTransparent());
    }

    @Test
    void httpbinSidecarTproxy() {
        MeshModel model = MeshModel.of(Fixtures.withTproxy(Fixtures.seed()));
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        Golden.assertMatches("sidecar-httpbin-tproxy", r.toJson());
        Listener inbound = r.listener("virtualInbound").orElseThrow();
        assertTrue(inbound.getTransparent().getValue());
        assertEquals("envoy.filters.listener.original_src", inbound.getListenerFilters(1).getName());
        // Istio keeps the 127.0.0.6 bind in TPROXY; original_src overrides it per connection.
        assertEquals("127.0.0.6", r.cluster("inbound|8000||").orElseThrow().getUpstreamBindConfig()
                .getSourceAddress().getAddress());
        assertTrue(r.listener("virtualOutbound").orElseThrow().getTransparent().getValue());
    }

    @Test
    void sleepSidecarOutbound() {
        MeshModel model = MeshModel.of(Fixtures.seed());
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("sidecar-sleep", r.toJson());
        Cluster httpbin = r.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals("127.17.0.5", httpbin.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint()
                .getAddress().getSocketAddress().getAddress());
        assertTrue(r.route("8000").orElseThrow().getVirtualHosts(0).getDomainsList().contains("httpbin"));
    }

    @Test
    void ingressGatewayHttpAndHttps() {
        MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml",
                "topology/gateway-secret.yaml"));
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        Golden.assertMatches("gateway-http-https", r.toJson());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        assertTrue(r.listener("0.0.0.0_80").isPresent());
        assertTrue(r.listener("0.0.0.0_443").orElseThrow().getFilterChains(0).hasTransportSocket());
        assertTrue(hcm(r.listener("0.0.0.0_80").orElseThrow()).getUseRemoteAddress().getValue());
    }

    @Test
    void gatewayWithoutSecretLeavesHttpsOutAndWarns() {
        MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml"));
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        Golden.assertMatches("gateway-missing-secret", r.toJson());
        assertTrue(r.listener("0.0.0.0_80").isPresent());
        assertFalse(r.listener("0.0.0.0_443").isPresent());
        assertEquals(1, r.warnings().size());
        assertTrue(r.warnings().get(0).message().contains("myexample-credential not found"));
    }

    @Test
    void secretInTheGatewayResourceNamespaceIsNotReadButNamed() {
        var objects = Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml");
        ObjectNode secret = Fixtures.yaml("topology/gateway-secret.yaml").get(0);
        ((ObjectNode) secret.path("metadata")).put("namespace", "default");
        objects.add(secret);
        MeshModel model = MeshModel.of(objects);
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        assertFalse(r.listener("0.0.0.0_443").isPresent());
        assertTrue(r.warnings().get(0).message().contains("it exists in default"), r.warnings().toString());
    }

    @Test
    void gatewayWithBadSecretWarns() {
        var objects = Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Secret
                metadata: {name: myexample-credential, namespace: istio-system}
                type: kubernetes.io/tls
                data: {tls.crt: bm90IGEgY2VydA==, tls.key: bm90IGEga2V5}
                """));
        MeshModel model = MeshModel.of(objects);
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        assertFalse(r.listener("0.0.0.0_443").isPresent());
        assertTrue(r.warnings().get(0).message().contains("not a PEM certificate"), r.warnings().toString());
    }

    @Test
    void gatewayTargetPortMapAndTrustedHops() {
        MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml"),
                io.sourcemesh.control.model.MeshConfig.defaults().withNumTrustedProxies(2));
        ProxyResources r = Translator.withGatewayTargetPorts(Map.of(80, 8080))
                .translate(model, Fixtures.gateway(model));
        Listener l = r.listener("0.0.0.0_8080").orElseThrow();
        assertEquals(8080, l.getAddress().getSocketAddress().getPortValue());
        assertEquals(2, hcm(l).getXffNumTrustedHops());
        assertEquals("http.8080", hcm(l).getRds().getRouteConfigName());
        assertEquals("*:80", r.route("http.8080").orElseThrow().getVirtualHosts(0).getName());
    }

    @Test
    void inlineRoutesForStaticBootstrap() {
        MeshModel model = MeshModel.of(Fixtures.seed());
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "sleep")).withInlineRoutes();
        assertTrue(r.routes().isEmpty());
        HttpConnectionManager hcm = hcm(r.listener("0.0.0.0_8000").orElseThrow());
        assertEquals("8000", hcm.getRouteConfig().getName());
    }

    @Test
    void versionFollowsContent() {
        MeshModel model = MeshModel.of(Fixtures.seed());
        String a = translator.translate(model, Fixtures.sidecar(model, "httpbin")).version();
        assertEquals(a, translator.translate(model, Fixtures.sidecar(model, "httpbin")).version());
        MeshModel tproxy = MeshModel.of(Fixtures.withTproxy(Fixtures.seed()));
        assertFalse(a.equals(translator.translate(tproxy, Fixtures.sidecar(tproxy, "httpbin")).version()));
    }

    static HttpConnectionManager hcm(Listener l) {
        return ProxyResources.unpack(l.getFilterChains(l.getFilterChainsCount() - 1).getFilters(0).getTypedConfig(),
                HttpConnectionManager.class);
    }
}
