package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gateway servers of protocol TCP and TLS (and HTTPS PASSTHROUGH) as Istio's gateway.go builds them
 * (buildGatewayTCPBasedFilterChains, buildGatewayNetworkFiltersFromTCPRoutes / FromTLSRoutes): tcp_proxy chains to
 * the VirtualServices' tcp and tls routes, SNI-matched for passthrough.
 */
class GatewayTcpTest {
    private static final String HTTPBIN = "outbound|8000||httpbin.default.svc.cluster.local";
    private static final String SLEEP = "outbound|80||sleep.default.svc.cluster.local";
    private final Translator translator = Translator.create();

    @Test
    void tcpAndPassthroughServersAsIstioBuildsThem() {
        ProxyResources r = translate(Fixtures.yaml("topology/gateway-tcp-tls.yaml"));
        Golden.assertMatches("gateway-tcp-tls", r.toJson());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void aTcpServerProxiesToTheTcpRoutesDestinationWithIstiosAccessLog() {
        ProxyResources r = translate(Fixtures.yaml("topology/gateway-tcp-tls.yaml"));
        Listener l = r.listener("0.0.0.0_31400").orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        assertFalse(l.getFilterChains(0).hasFilterChainMatch(), "opaque TCP: one chain for every connection");
        assertEquals(0, l.getListenerFiltersCount(), "no TLS inspector: nothing to read from the bytes");
        TcpProxy tp = tcpProxy(l.getFilterChains(0));
        assertEquals(HTTPBIN, tp.getCluster());
        assertEquals(HTTPBIN, tp.getStatPrefix(), "Istio's stat prefix for one destination is its cluster");
        assertEquals(AccessLogs.istioJson(MeshConfig.from(List.of()).accessLogFile()), tp.getAccessLog(0),
                "the HTTP chains' Istio JSON access log");
    }

    @Test
    void aPassthroughServerMatchesEachTlsRouteBySniWithoutTerminating() {
        ProxyResources r = translate(Fixtures.yaml("topology/gateway-tcp-tls.yaml"));
        Listener l = r.listener("0.0.0.0_15443").orElseThrow();
        assertEquals("envoy.filters.listener.tls_inspector", l.getListenerFilters(0).getName());
        assertEquals(2, l.getFilterChainsCount());
        FilterChain a = l.getFilterChains(0);
        assertEquals(List.of("a.example.com"), a.getFilterChainMatch().getServerNamesList());
        assertFalse(a.hasTransportSocket(), "passthrough: the client's TLS goes to the app");
        assertEquals(HTTPBIN, tcpProxy(a).getCluster(), "no destination port: the service's only port");
        FilterChain b = l.getFilterChains(1);
        assertEquals(List.of("b.example.com"), b.getFilterChainMatch().getServerNamesList());
        TcpProxy weighted = tcpProxy(b);
        assertEquals("by-sni.default", weighted.getStatPrefix(), "Istio's weighted stat prefix: <vs>.<namespace>");
        assertEquals(HTTPBIN, weighted.getWeightedClusters().getClusters(0).getName());
        assertEquals(80, weighted.getWeightedClusters().getClusters(0).getWeight());
        assertEquals(SLEEP, weighted.getWeightedClusters().getClusters(1).getName());
        assertEquals(20, weighted.getWeightedClusters().getClusters(1).getWeight());
    }

    @Test
    void aWildcardSniHostMatchesAnyNameAndStillInspects() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        ObjectNode vs = named(objects, "by-sni");
        ((ObjectNode) vs.path("spec").path("tls").get(0).path("match").get(0)).putArray("sniHosts").add("*");
        Listener l = translate(objects).listener("0.0.0.0_15443").orElseThrow();
        assertFalse(l.getFilterChains(0).getFilterChainMatch().getServerNamesCount() > 0, "Istio's toFilterChainMatch: * is any");
        assertEquals(List.of("b.example.com"), l.getFilterChains(1).getFilterChainMatch().getServerNamesList());
        assertEquals("envoy.filters.listener.tls_inspector", l.getListenerFilters(0).getName());
        vs.with("spec").remove("tls");
        vs.with("spec").putArray("tls").addObject().putArray("match").addObject().put("port", 15443).putArray("sniHosts").add("*");
        ((ObjectNode) vs.path("spec").path("tls").get(0)).putArray("route").addObject().putObject("destination").put("host", "httpbin");
        l = translate(objects).listener("0.0.0.0_15443").orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        assertEquals(1, l.getListenerFiltersCount(), "only a * chain: Istio still adds the TLS inspector (its sniHosts)");
    }

    @Test
    void anHttpsPassthroughServerIsTheSameAsTls() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        server(objects, 1).with("port").put("protocol", "HTTPS");
        ProxyResources r = translate(objects);
        Listener l = r.listener("0.0.0.0_15443").orElseThrow();
        assertEquals(List.of("a.example.com"), l.getFilterChains(0).getFilterChainMatch().getServerNamesList());
        assertEquals(HTTPBIN, tcpProxy(l.getFilterChains(0)).getCluster());
        assertTrue(r.routes().isEmpty(), "no connection manager, no route configuration");
    }

    @Test
    void noMatchingRouteBuildsNoChainAsIstioNamed() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        server(objects, 0).with("port").put("number", 31401); // the tcp route matches port 31400 only
        ProxyResources r = translate(objects);
        assertTrue(r.listener("0.0.0.0_31401").isEmpty(), "a listener without chains is left out: the port refuses");
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("Gateway default/tcp-gw server[0] port 31401")
                && w.message().contains("no VirtualService tcp route")), r.warnings().toString());
    }

    @Test
    void aMatchForAnotherGatewayDoesNotApply() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        ObjectNode vs = named(objects, "httpbin-tcp");
        ((ObjectNode) vs.path("spec").path("tcp").get(0).path("match").get(0)).putArray("gateways").add("istio-system/other");
        assertTrue(translate(objects).listener("0.0.0.0_31400").isEmpty());
        ((ObjectNode) vs.path("spec").path("tcp").get(0).path("match").get(0)).putArray("gateways").add("default/tcp-gw");
        assertTrue(translate(objects).listener("0.0.0.0_31400").isPresent(), "the gateway's namespace/name matches");
    }

    @Test
    void aDuplicateSniHostIsLeftOutNamed() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        ObjectNode vs = named(objects, "by-sni");
        ((ObjectNode) vs.path("spec").path("tls").get(1).path("match").get(0)).putArray("sniHosts").add("a.example.com");
        ProxyResources r = translate(objects);
        assertEquals(1, r.listener("0.0.0.0_15443").orElseThrow().getFilterChainsCount(), "Envoy refuses two equal matches");
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains(
                "VirtualService default/by-sni tls[1].match[0] left out: duplicate SNI host names [a.example.com]")),
                r.warnings().toString());
    }

    @Test
    void autoPassthroughAndIstioMutualWithoutAMeshCaAreLeftOutNamed() {
        for (String mode : List.of("AUTO_PASSTHROUGH", "ISTIO_MUTUAL")) {
            List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
            server(objects, 1).with("tls").put("mode", mode);
            ProxyResources r = translate(objects);
            assertTrue(r.listener("0.0.0.0_15443").isEmpty(), mode);
            String why = mode.equals("ISTIO_MUTUAL") ? "needs the mesh CA (Secret cacerts or istio-ca-secret in istio-system), "
                    + "and the mesh has none" : "is not supported";
            assertTrue(r.warnings().stream().anyMatch(w -> w.message().equals("tls mode " + mode + " " + why
                    + "; server left out")), r.warnings().toString());
        }
    }

    @Test
    void aTlsServerOfIstioMutualTerminatesWithTheMeshCertificateThenTheTcpRoute() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml");
        server(objects, 0).with("port").put("protocol", "TLS");
        server(objects, 0).putObject("tls").put("mode", "ISTIO_MUTUAL");
        ObjectNode ca = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: istio-ca-secret, namespace: istio-system}\n");
        ObjectNode data = ca.putObject("data");
        io.sourcemesh.control.ca.MeshCa.selfSigned("cluster.local").forEach((k, v) -> data.put(k,
                java.util.Base64.getEncoder().encodeToString(v.getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
        objects.add(ca);
        ProxyResources r = translate(objects);
        FilterChain fc = r.listener("0.0.0.0_31400").orElseThrow().getFilterChains(0);
        DownstreamTlsContext ctx = ProxyResources.unpack(fc.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class);
        assertTrue(ctx.getRequireClientCertificate().getValue());
        assertTrue(ctx.getCommonTlsContext().getValidationContext().hasTrustedCa(), "the mesh root");
        assertEquals(HTTPBIN, tcpProxy(fc).getCluster());
    }

    @Test
    void aTlsServerThatTerminatesSendsTheBytesToTheTcpRoute() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml", "topology/gateway-secret.yaml");
        server(objects, 0).with("port").put("protocol", "TLS");
        server(objects, 0).putObject("tls").put("mode", "SIMPLE").put("credentialName", "myexample-credential");
        Listener l = translate(objects).listener("0.0.0.0_31400").orElseThrow();
        FilterChain fc = l.getFilterChains(0);
        DownstreamTlsContext ctx = ProxyResources.unpack(fc.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class);
        assertEquals(1, ctx.getCommonTlsContext().getTlsCertificatesCount());
        assertEquals(HTTPBIN, tcpProxy(fc).getCluster());
        assertEquals("envoy.filters.listener.tls_inspector", l.getListenerFilters(0).getName(), "Istio: a TLS context's ALPN");
    }

    @Test
    void aTcpServerBesideAnHttpServerOnOnePortIsLeftOutNamed() {
        List<ObjectNode> objects = Fixtures.yaml("seed/http-demo.yaml", "topology/gateway-tcp-tls.yaml");
        server(objects, 0).with("port").put("number", 80);
        ((ObjectNode) named(objects, "httpbin-tcp").path("spec").path("tcp").get(0).path("match").get(0)).put("port", 80);
        ProxyResources r = translate(objects);
        assertEquals(1, r.listener("0.0.0.0_80").orElseThrow().getFilterChainsCount(), "the HTTP connection manager only");
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains("already has a plaintext server")), r.warnings().toString());
    }

    @Test
    void theDestinationRulesTcpSettingsAndSourceIpHashAreTcpProxys() {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.yaml("topology/gateway-tcp-tls.yaml"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    connectionPool: {tcp: {idleTimeout: 30s, maxConnectionDuration: 1h}}
                    loadBalancer: {consistentHash: {useSourceIp: true}}
                """));
        ProxyResources r = translate(objects);
        TcpProxy tp = tcpProxy(r.listener("0.0.0.0_31400").orElseThrow().getFilterChains(0));
        assertEquals(30, tp.getIdleTimeout().getSeconds(), "Istio: connectionPool.tcp.idleTimeout on tcp_proxy");
        assertEquals(3600, tp.getMaxDownstreamConnectionDuration().getSeconds(),
                "Istio: connectionPool.tcp.maxConnectionDuration is max_downstream_connection_duration");
        assertEquals(1, tp.getHashPolicyCount(), "Istio's maybeSetHashPolicy (networkfilter.go)");
        assertTrue(tp.getHashPolicy(0).hasSourceIp());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("useSourceIp")), r.warnings().toString());
    }

    @Test
    void authorizationPoliciesGuardTheTcpChainBeforeTcpProxy() {
        List<ObjectNode> objects = Fixtures.yaml("topology/gateway-tcp-tls.yaml", "authz/ingress-allow-client.yaml");
        FilterChain fc = translate(objects).listener("0.0.0.0_31400").orElseThrow().getFilterChains(0);
        assertEquals("envoy.filters.network.rbac", fc.getFilters(0).getName());
        assertEquals("envoy.filters.network.tcp_proxy", fc.getFilters(1).getName());
    }

    private static ObjectNode named(List<ObjectNode> objects, String name) {
        return objects.stream().filter(o -> o.path("metadata").path("name").asText().equals(name)).findFirst().orElseThrow();
    }

    /** Gateway tcp-gw's server {@code index}. */
    private static ObjectNode server(List<ObjectNode> objects, int index) {
        ObjectNode gw = objects.stream().filter(o -> o.path("kind").asText().equals("Gateway")
                && o.path("metadata").path("name").asText().equals("tcp-gw")).findFirst().orElseThrow();
        return (ObjectNode) gw.path("spec").path("servers").get(index);
    }

    private static TcpProxy tcpProxy(FilterChain fc) {
        return ProxyResources.unpack(fc.getFilters(fc.getFiltersCount() - 1).getTypedConfig(), TcpProxy.class);
    }

    private ProxyResources translate(List<ObjectNode> extra) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.addAll(extra);
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        return translator.translate(model, Fixtures.gateway(model));
    }
}
