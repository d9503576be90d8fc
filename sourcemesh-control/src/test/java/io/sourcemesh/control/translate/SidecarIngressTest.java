package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Sidecar's ingress listeners (Istio's listener_inbound.go buildInboundChainConfigs, cluster.go buildInboundClusters):
 * each is an inbound chain on its port whose cluster inbound|PORT|| is STATIC to its defaultEndpoint, and with any of
 * them the Service-derived chains are gone.
 */
class SidecarIngressTest {
    private static final String SIDECAR = """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: httpbin, namespace: default}
            spec:
              workloadSelector: {labels: {app: httpbin}}
              ingress:
              - port: {number: 9080, protocol: HTTP, name: http-alt}
                defaultEndpoint: 127.0.0.1:8000
            """;

    private ProxyResources translate(String sidecar) {
        var objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml(sidecar));
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
    }

    private static List<FilterChain> chains(ProxyResources r, int port) {
        return r.listener("virtualInbound").orElseThrow().getFilterChainsList().stream()
                .filter(c -> c.getFilterChainMatch().getDestinationPort().getValue() == port).toList();
    }

    private static SocketAddress endpoint(Cluster c) {
        return c.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress();
    }

    @Test
    void anIngressListenerSendsItsPortToTheDefaultEndpoint() throws Exception {
        ProxyResources r = translate(SIDECAR);
        Golden.assertMatches("sidecar-ingress", r.toJson());
        assertTrue(chains(r, 8000).isEmpty(), "the Service-derived chain is replaced: " + chains(r, 8000));
        assertFalse(r.cluster("inbound|8000||").isPresent());
        FilterChain chain = chains(r, 9080).getFirst();
        var hcm = chain.getFilters(chain.getFiltersCount() - 1).getTypedConfig().unpack(HttpConnectionManager.class);
        var route = hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0);
        assertEquals("inbound|9080||", route.getRoute().getCluster());
        assertEquals("httpbin.default:9080/*", route.getDecorator().getOperation(), "no service targets 9080");
        Cluster c = r.cluster("inbound|9080||").orElseThrow();
        assertEquals(Cluster.DiscoveryType.STATIC, c.getType());
        assertEquals("127.0.0.1", endpoint(c).getAddress());
        assertEquals(8000, endpoint(c).getPortValue());
        assertFalse(c.hasUpstreamBindConfig(), "to loopback: no 127.0.0.6, as Istio");
    }

    /** 0.0.0.0 is the pod's IP (Istio's PodIPAddressPrefix), reached from 127.0.0.6 so interception lets it through. */
    @Test
    void aWildcardEndpointIsThePodIp() throws Exception {
        ProxyResources r = translate(SIDECAR.replace("127.0.0.1:8000", "0.0.0.0:8000"));
        Cluster c = r.cluster("inbound|9080||").orElseThrow();
        assertEquals("127.17.0.5", endpoint(c).getAddress());
        assertEquals(8000, endpoint(c).getPortValue());
        assertEquals("127.0.0.6", c.getUpstreamBindConfig().getSourceAddress().getAddress());
    }

    @Test
    void aTcpPortIsATcpProxyAndAServicesPortNamesTheDecorator() throws Exception {
        ProxyResources r = translate(SIDECAR.replace("9080, protocol: HTTP", "8000, protocol: TCP")
                .replace("127.0.0.1:8000", "\"[::1]:8080\""));
        FilterChain chain = chains(r, 8000).getFirst();
        var tcp = chain.getFilters(chain.getFiltersCount() - 1).getTypedConfig().unpack(TcpProxy.class);
        assertEquals("inbound|8000||", tcp.getCluster());
        assertEquals("::1", endpoint(r.cluster("inbound|8000||").orElseThrow()).getAddress());
        assertEquals(8080, endpoint(r.cluster("inbound|8000||").orElseThrow()).getPortValue());

        ProxyResources http = translate(SIDECAR.replace("9080", "8000"));
        FilterChain httpChain = chains(http, 8000).getFirst();
        var hcm = httpChain.getFilters(httpChain.getFiltersCount() - 1).getTypedConfig().unpack(HttpConnectionManager.class);
        assertEquals("httpbin.default.svc.cluster.local:8000/*",
                hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getDecorator().getOperation());
    }

    /** Without a defaultEndpoint the original destination, as the Service-derived cluster. */
    @Test
    void withoutADefaultEndpointTheOriginalDestination() {
        ProxyResources r = translate(SIDECAR.replace("    defaultEndpoint: 127.0.0.1:8000\n", ""));
        assertEquals(Cluster.DiscoveryType.ORIGINAL_DST, r.cluster("inbound|9080||").orElseThrow().getType());
    }

    /** tls the proxy cannot serve: the port is left out rather than served in plaintext (the API server refuses it too). */
    @Test
    void tlsLeavesThePortOutAndSaysSo() {
        ProxyResources r = translate(SIDECAR + "    tls: {mode: SIMPLE, credentialName: cert}\n");
        assertTrue(chains(r, 9080).isEmpty());
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains("ingress[0] left out: tls")), r.warnings().toString());
    }
}
