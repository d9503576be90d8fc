package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.proxy.config.ConfigTranslator;
import io.sourcemesh.proxy.config.NodeInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How a Gateway's servers are read and merged, as Istio does: ServerTLSSettings' default mode (PASSTHROUGH, enum 0 in
 * networking/v1alpha3/gateway.proto), {@code namespace/host} server hosts (pilot/pkg/model/gateway.go
 * sanitizeServerHostNamespace, pilot/pkg/networking/core/gateway.go pickMatchingGatewayHosts), a later server with tls
 * naming a host of the port again left out (mergeGateways' CheckDuplicates), and protocols read whatever their case
 * (pkg/config/protocol's Parse).
 */
class GatewayServersTest {
    private final Translator translator = Translator.create();

    @Test
    void anHttpsServerWithTlsButNoModePassesThroughAsIstiosDefault() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml", "topology/gateway-secret.yaml");
        server(objects, 1).with("port").put("protocol", "HTTPS");
        server(objects, 1).putObject("tls").put("credentialName", "myexample-credential");
        ProxyResources r = translate(objects);
        Listener l = r.listener("0.0.0.0_15443").orElseThrow();
        assertEquals(2, l.getFilterChainsCount(), "a chain per tls route match, as PASSTHROUGH");
        for (FilterChain fc : l.getFilterChainsList()) {
            assertFalse(fc.hasTransportSocket(), "not terminated: the client's TLS goes to the tls route's destination");
        }
        assertEquals(List.of("a.example.com"), l.getFilterChains(0).getFilterChainMatch().getServerNamesList());
        assertTrue(r.routes().isEmpty(), "no connection manager, no https route configuration");
        // The ignored credentialName is named at apply, as Istio's validation warns; the server serves, so its status
        // does not call it left out.
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void anHttpsServerWithoutTlsIsLeftOutNamedAsIstioRequiresIt() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        server(objects, 1).with("port").put("protocol", "HTTPS");
        server(objects, 1).remove("tls");
        ProxyResources r = translate(objects);
        assertTrue(r.listener("0.0.0.0_15443").isEmpty());
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("Gateway default/tcp-gw server[1] port 15443")
                && w.message().equals("protocol HTTPS without tls settings (Istio requires them); server left out")),
                r.warnings().toString());
    }

    @Test
    void aServerHostsNamespaceChoosesTheVirtualServicesThatBind() {
        // httpbin-tcp (its tcp route) is in namespace default, as the Gateway.
        for (String host : List.of("default/*", "./*", "*/*", "*/anything.example.com", "*")) {
            List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
            server(objects, 0).putArray("hosts").add(host);
            assertTrue(translate(objects).listener("0.0.0.0_31400").isPresent(), host + " admits a VirtualService of default");
        }
        for (String host : List.of("istio-system/*", "other/*")) {
            List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
            server(objects, 0).putArray("hosts").add(host);
            ProxyResources r = translate(objects);
            assertTrue(r.listener("0.0.0.0_31400").isEmpty(), host + ": a VirtualService of default does not bind");
            assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains("no VirtualService tcp route")), host);
        }
    }

    @Test
    void aNamespacedHostBindsOnlyThatNamespacesVirtualServicesOnHttpAndPassthroughServers() {
        List<ObjectNode> objects = Fixtures.yaml("seed/http-demo.yaml");
        ObjectNode http = (ObjectNode) gateway(objects, "httpbin-gw-httpprotocol").path("spec").path("servers").get(0);
        http.putArray("hosts").add("istio-system/*");
        RouteConfiguration rc = translate(objects).route("http.80").orElseThrow();
        assertEquals(List.of("blackhole:80"), rc.getVirtualHostsList().stream().map(v -> v.getName()).toList(),
                "VirtualService default/httpbin does not bind to istio-system/*: Istio's 404");
        http.putArray("hosts").add("./*");
        rc = translate(objects).route("http.80").orElseThrow();
        assertEquals(List.of("*:80"), rc.getVirtualHostsList().stream().map(v -> v.getName()).toList(), "./* is default/*");

        objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        server(objects, 1).putArray("hosts").add("istio-system/*.example.com").add("default/b.example.com");
        Listener l = translate(objects).listener("0.0.0.0_15443").orElseThrow();
        assertEquals(2, l.getFilterChainsCount(), "by-sni (default) binds through default/b.example.com");
        server(objects, 1).putArray("hosts").add("istio-system/*.example.com");
        assertTrue(translate(objects).listener("0.0.0.0_15443").isEmpty(), "no VirtualService of istio-system");
    }

    @Test
    void aLaterServerWithTlsNamingAHostOfThePortAgainIsLeftOutAndTheProxyAccepts() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml", "topology/gateway-secret.yaml");
        server(objects, 1).putArray("hosts").add("a.example.com").add("b.example.com");
        addTerminatingServer(objects, "a.example.com");
        ProxyResources r = translate(objects);
        Listener l = r.listener("0.0.0.0_15443").orElseThrow();
        assertEquals(2, l.getFilterChainsCount(), "the passthrough server's two chains; the HTTPS one left out");
        assertTrue(l.getFilterChainsList().stream().noneMatch(FilterChain::hasTransportSocket));
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("Gateway default/tcp-gw server[2] port 15443")
                && w.message().equals("duplicate host names [a.example.com] on port 15443, already served by Gateway "
                        + "default/tcp-gw server[1] port 15443 (Istio keeps the first server with tls for a host); server "
                        + "left out")), r.warnings().toString());
        accepted(r);
    }

    @Test
    void aTerminatingServerAndAPassthroughRouteForOneSniHostNeverReachTheProxyTogether() {
        // Istio's exact-host check passes these (*.example.com is not a.example.com), and Envoy would refuse the listener.
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml", "topology/gateway-secret.yaml");
        addTerminatingServer(objects, "a.example.com");
        ProxyResources r = translate(objects);
        Listener l = r.listener("0.0.0.0_15443").orElseThrow();
        assertEquals(2, l.getFilterChainsCount(), "the passthrough chains a and b; the later HTTPS server left out");
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("Gateway default/tcp-gw server[2] port 15443")
                && w.message().equals("SNI host names [a.example.com] are already matched by an earlier filter chain of port "
                        + "15443 (Envoy refuses two chains that match alike); server left out")), r.warnings().toString());
        accepted(r);

        // The terminating server first: the passthrough match for its host is left out, as Istio leaves out a duplicate.
        ArrayNode servers = (ArrayNode) gateway(objects, "tcp-gw").path("spec").path("servers");
        servers.insert(1, servers.remove(2));
        r = translate(objects);
        l = r.listener("0.0.0.0_15443").orElseThrow();
        assertEquals(2, l.getFilterChainsCount(), "the HTTPS chain and the passthrough chain b");
        assertTrue(l.getFilterChains(0).hasTransportSocket());
        assertEquals(List.of("b.example.com"), l.getFilterChains(1).getFilterChainMatch().getServerNamesList());
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().equals("VirtualService default/by-sni tls[0].match[0] left "
                + "out: duplicate SNI host names [a.example.com] on port 15443")), r.warnings().toString());
        accepted(r);
    }

    @Test
    void protocolsAreReadWhateverTheirCase() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        server(objects, 0).with("port").put("protocol", "tcp");
        server(objects, 1).with("port").put("protocol", "tls");
        ProxyResources r = translate(objects);
        assertTrue(r.listener("0.0.0.0_31400").isPresent());
        assertEquals(2, r.listener("0.0.0.0_15443").orElseThrow().getFilterChainsCount());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());

        // GRPC-WEB is one of Istio's HTTP protocols (protocol.IsHTTP): a connection manager like HTTP's.
        for (String protocol : List.of("GRPC-WEB", "grpc-web", "Http2")) {
            objects = Fixtures.yaml("seed/http-demo.yaml");
            ((ObjectNode) gateway(objects, "httpbin-gw-httpprotocol").path("spec").path("servers").get(0).path("port"))
                    .put("protocol", protocol);
            r = translate(objects);
            assertTrue(r.route("http.80").isPresent(), protocol);
            assertTrue(r.warnings().isEmpty(), protocol + ": " + r.warnings());
        }
    }

    /**
     * mergeGateways (pilot/pkg/model/gateway.go) merges servers by the port the proxy listens on (resolvePorts: the gateway
     * Service port's target port), so a server on 443 and one on 8443, both listened on at 8443, are one listener, and
     * the later naming the earlier's tls host is the duplicate left out.
     */
    @Test
    void serversAreMergedByTheTargetPortTheProxyListensOn() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml", "topology/gateway-secret.yaml");
        addTerminatingServer(objects, "a.example.com", 443, "https-443");
        addTerminatingServer(objects, "a.example.com", 8443, "https-8443");
        ProxyResources r = translate(Translator.withGatewayTargetPorts(Map.of(443, 8443)), objects);
        assertEquals(1, r.listeners().stream().filter(l -> l.getName().equals("0.0.0.0_8443")).count(), "one listener");
        assertTrue(r.listener("0.0.0.0_443").isEmpty());
        assertEquals(1, r.listener("0.0.0.0_8443").orElseThrow().getFilterChainsCount(), "the first server's chain only");
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("Gateway default/tcp-gw server[3] port 8443")
                && w.message().equals("duplicate host names [a.example.com] on port 8443, already served by Gateway "
                        + "default/tcp-gw server[2] port 443 (Istio keeps the first server with tls for a host); server "
                        + "left out")), r.warnings().toString());
        accepted(r);

        // Numbers that stay apart keep their own listeners, each with its server.
        r = translate(Translator.create(), objects);
        assertEquals(1, r.listener("0.0.0.0_443").orElseThrow().getFilterChainsCount());
        assertEquals(1, r.listener("0.0.0.0_8443").orElseThrow().getFilterChainsCount());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("duplicate")), r.warnings().toString());
    }

    /**
     * Istio builds MONGO, REDIS and MYSQL servers as TCP ones (pkg/config/protocol IsTCP; the gateway listener's
     * createGatewayTCPFilterChainOpts in pilot/pkg/networking/core/gateway.go): tcp_proxy to the bound tcp route.
     */
    @Test
    void mongoRedisAndMysqlServersAreTcpServers() {
        for (String protocol : List.of("MONGO", "redis", "MySQL")) {
            List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
            server(objects, 0).with("port").put("protocol", protocol);
            ProxyResources r = translate(objects);
            Listener l = r.listener("0.0.0.0_31400").orElseThrow(() -> new AssertionError(protocol + ": " + r.warnings()));
            assertEquals(1, l.getFilterChainsCount(), protocol);
            assertEquals("envoy.filters.network.tcp_proxy",
                    l.getFilterChains(0).getFilters(l.getFilterChains(0).getFiltersCount() - 1).getName(), protocol);
            assertTrue(r.warnings().isEmpty(), protocol + ": " + r.warnings());
        }
    }

    /**
     * Which of two Gateways with tls servers for one host keeps it: the older, and at the same second (creationTimestamp
     * has whole seconds) the one first by name, then namespace, as initGateways sorts them before mergeGateways
     * (pilot/pkg/model/push_context.go, config.go configCompareByCreationTime) — not the first by namespace.
     */
    @Test
    void ofTwoGatewaysServingOneTlsHostTheOldestThenFirstByNameKeepsIt() {
        String created = "2024-01-01T00:00:00Z";
        ObjectNode b = terminatingGateway("b-gw", "default", created);
        ObjectNode a = terminatingGateway("a-gw", "istio-system", created);
        ProxyResources r = translate(List.of(b, a, Fixtures.yaml("topology/gateway-secret.yaml").get(0)));
        assertEquals(List.of("Gateway default/b-gw server[0] port 8443"), r.warnings().stream()
                .filter(w -> w.message().startsWith("duplicate host names")).map(w -> w.resource()).toList(),
                "the same second: a-gw before b-gw, whatever their namespaces");

        a.with("metadata").put("creationTimestamp", "2024-01-01T00:00:01Z");
        r = translate(List.of(b, a, Fixtures.yaml("topology/gateway-secret.yaml").get(0)));
        assertEquals(List.of("Gateway istio-system/a-gw server[0] port 8443"), r.warnings().stream()
                .filter(w -> w.message().startsWith("duplicate host names")).map(w -> w.resource()).toList(),
                "a second older: b-gw first");
    }

    private static ObjectNode terminatingGateway(String name, String namespace, String created) {
        ObjectNode gw = JsonNodeFactory.instance.objectNode().put("apiVersion", "networking.istio.io/v1").put("kind", "Gateway");
        gw.putObject("metadata").put("name", name).put("namespace", namespace).put("creationTimestamp", created);
        ObjectNode spec = gw.putObject("spec");
        spec.putObject("selector").put("istio", "ingressgateway");
        ObjectNode server = spec.putArray("servers").addObject();
        server.putObject("port").put("number", 8443).put("name", "https").put("protocol", "HTTPS");
        server.putArray("hosts").add("a.example.com");
        server.putObject("tls").put("mode", "SIMPLE").put("credentialName", "myexample-credential");
        return gw;
    }

    /** Our proxy's config loader takes the push whole (it refuses two chains that match alike, as Envoy). */
    private static void accepted(ProxyResources r) {
        ProxyResources inline = r.withInlineRoutes();
        assertDoesNotThrow(() -> ConfigTranslator.fromResources(inline.listeners(), inline.clusters(), "v1", NodeInfo.unnamed()));
    }

    /** An HTTPS SIMPLE server on tcp-gw's passthrough port 15443, after the others. */
    private static void addTerminatingServer(List<ObjectNode> objects, String host) {
        addTerminatingServer(objects, host, 15443, "https");
    }

    private static void addTerminatingServer(List<ObjectNode> objects, String host, int port, String portName) {
        ObjectNode terminating = ((ArrayNode) gateway(objects, "tcp-gw").path("spec").path("servers")).addObject();
        terminating.putObject("port").put("number", port).put("name", portName).put("protocol", "HTTPS");
        terminating.putArray("hosts").add(host);
        terminating.putObject("tls").put("mode", "SIMPLE").put("credentialName", "myexample-credential");
    }

    private static ObjectNode gateway(List<ObjectNode> objects, String name) {
        return objects.stream().filter(o -> o.path("kind").asText().equals("Gateway")
                && o.path("metadata").path("name").asText().equals(name)).findFirst().orElseThrow();
    }

    /** Gateway tcp-gw's server {@code index}. */
    private static ObjectNode server(List<ObjectNode> objects, int index) {
        return (ObjectNode) gateway(objects, "tcp-gw").path("spec").path("servers").get(index);
    }

    private ProxyResources translate(List<ObjectNode> extra) {
        return translate(translator, extra);
    }

    private static ProxyResources translate(Translator translator, List<ObjectNode> extra) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.addAll(extra);
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        return translator.translate(model, Fixtures.gateway(model));
    }
}
