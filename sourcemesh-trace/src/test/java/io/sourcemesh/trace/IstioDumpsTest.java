package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config dumps from Istio's own repository (src/test/resources/SOURCES.md says which commit and path),
 * read as they are: a sidecar from Istio 1.1 (per-address inbound listener, app reached over
 * 127.0.0.1), a sidecar dump in istioctl's camelCase JSON, two ambient waypoints, and an ingress
 * gateway of Istio 1.3 with the productpage sidecar istioctl's describe test put beside it.
 */
class IstioDumpsTest {
    private static ProxyFacts read(String file) throws Exception {
        return ProxyFactsReader.read(file, Files.readString(Path.of("src/test/resources/" + file)));
    }

    @Test
    void productpageSidecarFromIstio11() throws Exception {
        ProxyFacts f = read("istio-productpage/config_dump/default.productpage-v1-5cb458d74f-56sx7.json");
        assertEquals("sidecar", f.role());
        assertEquals("10.52.2.21", f.nodeIp());
        assertEquals("REDIRECT", f.interceptionMetadata());
        ProxyFacts.Inbound in = f.inbound(9080, "10.52.2.21").orElseThrow();
        assertEquals("10.52.2.21_9080", in.listener().name(), "Istio 1.1's per-address inbound listener");
        assertFalse(in.chain().hcm().useRemoteAddress());
        assertEquals(0, in.chain().hcm().xffNumTrustedHops());
        assertTrue(in.chain().hcm().where().endsWith(".filters[0].config"), "the pre-typed_config field: " + in.chain().hcm().where());
        assertEquals("REDIRECT", in.mode());
        assertEquals("127.0.0.1", in.appSource(), "the inbound cluster's endpoint is 127.0.0.1:9080");
        assertTrue(in.appSourceEvidence().contains("inbound|9080|http|productpage.default.svc.cluster.local"), in.appSourceEvidence());
        assertTrue(f.inbound(9999, "10.52.2.21").isEmpty(), "no inbound listener for a port the pod does not serve");
    }

    @Test
    void eastWestToProductpageIsLostAtItsSidecar() {
        Snapshot snap = DumpDirectory.load(Path.of("src/test/resources/istio-productpage"));
        Trace t = Tracer.eastWest(snap, "default", "sleep-6bdb595bcb-x2hzm", "http://productpage:9080/");
        assertEquals(List.of("client", "server sidecar", "app"), t.hops().stream().map(Hop::component).toList(),
                "the sleep pod has no sidecar in this snapshot");
        assertEquals(1, t.lostAt());
        Hop sidecar = t.hops().get(1);
        assertEquals("10.52.2.30", sidecar.seesOnSocket());
        assertEquals("10.52.2.30", sidecar.believes());
        assertEquals("127.0.0.1", sidecar.passesSocket());
        assertTrue(sidecar.reason().contains("REDIRECT") && sidecar.reason().contains("127.0.0.1"), sidecar.reason());
        assertEquals(Fixes.tproxy("default", "productpage-v1"), sidecar.fixes().getFirst());
        Hop app = t.hops().get(2);
        assertEquals("127.0.0.1", app.seesOnSocket());
        assertFalse(app.known());
        String text = TraceText.text(t);
        assertTrue(text.contains("LOST at hop 2 (istio-proxy of productpage-v1-5cb458d74f-56sx7 (inbound REDIRECT))"), text);
        assertTrue(text.contains("FIX: kubectl patch deployment -n default productpage-v1"), text);
    }

    @Test
    void ingressGatewayFromIstio13() throws Exception {
        ProxyFacts f = read("istio-gateway/config_dump/istio-system.istio-ingressgateway-5bf6c9887-vvvmj.json");
        assertEquals("router", f.role());
        assertEquals("172.30.229.137", f.nodeIp());
        ProxyFacts.ListenerFacts http = f.listenerOnPort(80).orElseThrow();
        assertEquals("0.0.0.0_80", http.name());
        assertEquals(List.of(), http.listenerFilters(), "no proxy_protocol listener filter: the load balancer must not send PROXY");
        Hcm hcm = http.chains().getFirst().hcm();
        assertEquals(new Hcm(true, 0, false, "configs[2].dynamic_listeners[0].active_state.listener.filter_chains[0].filters[0].typed_config"), hcm,
                "use_remote_address as Istio's gateway sets it, xff_num_trusted_hops absent (0), skip_xff_append absent");
        ProxyFacts.ListenerFacts tcp = f.listeners().stream().filter(l -> l.port() == 31400).findFirst().orElseThrow();
        assertTrue(tcp.chains().stream().allMatch(c -> c.hcm() == null), "31400 is a tcp_proxy: no HTTP connection manager");
        assertTrue(f.listenerOnPort(31400).isEmpty(), "so it is no HTTP gateway listener");
    }

    @Test
    void northSouthThroughIstio13sGatewayIsLostAtTheNodeUnderCluster() {
        Trace t = Tracer.northSouth(DumpDirectory.load(Path.of("src/test/resources/istio-gateway")), "http://10.1.2.3/productpage",
                "203.0.113.7", "istio-system", "istio-ingressgateway");
        assertEquals(List.of("client", "load balancer", "node", "gateway", "server sidecar", "app"), t.hops().stream().map(Hop::component).toList());
        assertEquals(2, t.lostAt(), TraceText.text(t));
        Hop node = t.hops().get(2);
        assertEquals("node kube-proxy (NodePort 31380)", node.name());
        assertEquals(Fixes.externalTrafficPolicyLocal("istio-system", "istio-ingressgateway"), node.fixes().getFirst());
        assertEquals(Fixes.proxyProtocol("istio-system", "istio-ingressgateway"), node.fixes().get(1));
        Hop gw = t.hops().get(3);
        assertFalse(gw.known());
        assertEquals("172.30.229.137", gw.passesSocket(), "the gateway connects upstream from its own pod address (the dump's node id)");
        assertTrue(Tracer.has(gw.believes(), "10.240.0.4") && !Tracer.has(gw.believes(), "203.0.113.7"), gw.believes());
        assertTrue(gw.evidence().getFirst().startsWith("use_remote_address: true, xff_num_trusted_hops: 0 (configs[2].dynamic_listeners[0]"),
                gw.evidence().toString());
        assertEquals("127.0.0.1", t.hops().get(4).passesSocket(), "Istio 1.3's inbound cluster reaches productpage over 127.0.0.1");
        assertTrue(TraceText.text(t).contains("is LOST at hop 3 (node kube-proxy (NodePort 31380))."));
    }

    @Test
    void withLocalTheGatewayAppendsTheClientToXForwardedFor(@TempDir Path dir) throws Exception {
        Path src = Path.of("src/test/resources/istio-gateway");
        Files.createDirectories(dir.resolve("config_dump"));
        try (var files = Files.list(src.resolve("config_dump"))) {
            for (Path p : files.toList()) {
                Files.copy(p, dir.resolve("config_dump").resolve(p.getFileName()));
            }
        }
        String yaml = Files.readString(src.resolve("cluster.yaml"));
        Files.writeString(dir.resolve("cluster.yaml"), yaml.replace("    type: LoadBalancer\n", "    type: LoadBalancer\n    externalTrafficPolicy: Local\n"));
        Trace t = Tracer.northSouth(DumpDirectory.load(dir), "http://10.1.2.3/productpage", "203.0.113.7", "istio-system", "istio-ingressgateway");
        assertEquals(-1, t.lostAt(), TraceText.text(t));
        Hop gw = t.hops().get(3);
        assertEquals("203.0.113.7", gw.seesOnSocket());
        assertEquals("203.0.113.7", gw.believes());
        assertEquals("203.0.113.7", gw.xffOut(), "use_remote_address: true appends the peer");
        Hop sidecar = t.hops().get(4);
        assertEquals("127.0.0.1", sidecar.passesSocket());
        assertEquals("203.0.113.7", sidecar.xffOut());
        assertEquals("203.0.113.7", t.hops().get(5).believes());
    }

    @Test
    void camelCaseDumpFromIstioctl() throws Exception {
        ProxyFacts f = read("istio/details-sidecar-camelcase.json");
        assertEquals("sidecar", f.role());
        assertEquals("172.30.77.243", f.nodeIp());
        ProxyFacts.ListenerFacts l = f.listenerOnPort(8080).orElseThrow();
        assertEquals("0.0.0.0", l.address(), "socketAddress.portValue read as socket_address.port_value");
        Hcm hcm = f.outbound(8080).orElseThrow();
        assertFalse(hcm.useRemoteAddress());
        assertEquals("configs[2].dynamic_listeners[1].active_state.listener.filter_chains[0].filters[0].config", hcm.where(),
                "dynamicListeners/activeState/filterChains read as their proto names");
    }

    @Test
    void waypointsConnectionManagersAreRead() throws Exception {
        ProxyFacts f = read("istio/httpbin-waypoint.json");
        assertEquals("waypoint", f.role());
        assertEquals("192.168.252.229", f.nodeIp());
        ProxyFacts.ListenerFacts main = f.listeners().stream().filter(l -> l.name().equals("main_internal")).findFirst().orElseThrow();
        assertEquals(List.of("envoy.filters.listener.original_dst", "envoy.filters.listener.http_inspector"), main.listenerFilters());
        List<ProxyFacts.ChainFacts> http = main.chains().stream().filter(c -> c.hcm() != null).toList();
        assertEquals(3, http.size(), http.toString());
        assertTrue(http.stream().noneMatch(c -> c.hcm().useRemoteAddress()), "a waypoint does not use the remote address");
        assertTrue(main.chains().stream().anyMatch(c -> c.name().equals("inbound-vip|8000||httpbin.default.svc.cluster.local-http")));

        ProxyFacts g = read("istio/compare-waypoint.json");
        assertTrue(g.listeners().stream().anyMatch(l -> l.name().equals("connect_terminate") && l.port() == 15008));
        assertTrue(g.listeners().stream().flatMap(l -> l.chains().stream()).anyMatch(c -> c.hcm() != null));
    }

    @Test
    void aDumpThatIsNotOneIsRefusedByName() {
        TraceException e = assertThrows(TraceException.class, () -> ProxyFactsReader.read("config_dump/x.y.json", "{\"listeners\": []}"));
        assertEquals("config_dump/x.y.json: not an Envoy config dump (no \"configs\" array)", e.getMessage());
        e = assertThrows(TraceException.class, () -> ProxyFactsReader.read("config_dump/x.y.json", "{not json"));
        assertTrue(e.getMessage().startsWith("config_dump/x.y.json: not JSON"), e.getMessage());
    }
}
