package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Config dumps from Istio's own repository (src/test/resources/SOURCES.md says which commit and path),
 * read as they are: a sidecar from Istio 1.1 (per-address inbound listener, app reached over
 * 127.0.0.1), a sidecar dump in istioctl's camelCase JSON, and two ambient waypoints.
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
