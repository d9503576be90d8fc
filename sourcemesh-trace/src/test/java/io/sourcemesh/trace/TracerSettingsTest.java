package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.api.resource.KubeObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The settings the seed names, one at a time, on our own cluster's collected state (own/): each
 * changed setting moves the loss to the hop it belongs to, or raises the warning it deserves.
 */
class TracerSettingsTest {
    private static final String URL = "http://127.100.16.2:80/ip";
    private static final String CLIENT = "127.120.0.10";

    private static Snapshot load(String stage) {
        return DumpDirectory.load(Path.of("src/test/resources/own", stage));
    }

    /** The snapshot with the gateway's dump changed: its HCMs and listener filters as given. */
    private static Snapshot gateway(Snapshot s, UnaryOperator<Hcm> hcm, List<String> extraListenerFilters) {
        Map<String, ProxyFacts> dumps = new HashMap<>(s.dumps());
        String key = dumps.keySet().stream().filter(k -> k.startsWith("istio-system/istio-ingressgateway")).findFirst().orElseThrow();
        ProxyFacts f = dumps.get(key);
        List<ProxyFacts.ListenerFacts> ls = new ArrayList<>();
        for (ProxyFacts.ListenerFacts l : f.listeners()) {
            List<String> filters = new ArrayList<>(l.listenerFilters());
            filters.addAll(extraListenerFilters);
            ls.add(new ProxyFacts.ListenerFacts(l.name(), l.address(), l.port(), l.transparent(), List.copyOf(filters),
                    l.chains().stream().map(c -> new ProxyFacts.ChainFacts(c.name(), c.destinationPort(), c.hcm() == null ? null : hcm.apply(c.hcm()),
                            c.tcpProxy(), c.cluster(), c.where())).toList(), l.path()));
        }
        dumps.put(key, new ProxyFacts(f.source(), f.nodeId(), f.role(), f.nodeIp(), f.interceptionMetadata(), ls, f.clusters()));
        return new Snapshot(s.objects(), dumps, s.logs());
    }

    private static Snapshot objects(Snapshot s, String kind, String namePrefix, UnaryOperator<KubeObject> change) {
        List<KubeObject> out = s.objects().stream().map(o -> o.kind().equals(kind) && o.name().startsWith(namePrefix) ? change.apply(o) : o).toList();
        return new Snapshot(out, s.dumps(), s.logs());
    }

    @Test
    void gatewayWithoutUseRemoteAddressLosesTheClientItself() {
        Snapshot s = gateway(load("local"), h -> new Hcm(false, 0, false, h.where()), List.of());
        Trace t = Tracer.northSouth(s, URL, CLIENT, "istio-system", "istio-ingressgateway");
        assertEquals(3, t.lostAt(), TraceText.text(t));
        Hop gw = t.hops().get(3);
        assertEquals(CLIENT, gw.believes(), "with no X-Forwarded-For the peer is still the trusted client");
        assertEquals("", gw.xffOut(), "but it is not appended");
        assertTrue(gw.reason().contains("use_remote_address false"), gw.reason());
        assertTrue(gw.fixes().getFirst().contains("context: GATEWAY") && gw.fixes().getFirst().contains("use_remote_address: true"));
    }

    @Test
    void trustedHopsWithOnlyALayer4BalancerInFrontIsTooHigh() {
        Snapshot s = gateway(load("local"), h -> new Hcm(true, 1, false, h.where()), List.of());
        Trace t = Tracer.northSouth(s, URL, CLIENT, "istio-system", "istio-ingressgateway");
        assertTrue(t.kept());
        assertTrue(t.warnings().stream().anyMatch(w -> w.contains("xff_num_trusted_hops 1") && w.contains("numTrustedProxies\\\":0")),
                t.warnings().toString());
    }

    @Test
    void proxyProtocolCarriesTheClientThroughClusterPolicy() {
        Snapshot s = gateway(load("cluster"), h -> h, List.of("envoy.filters.listener.proxy_protocol"));
        s = objects(s, "Service", "istio-ingressgateway",
                o -> o.withAnnotation("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol", "on"));
        Trace t = Tracer.northSouth(s, URL, CLIENT, "istio-system", "istio-ingressgateway");
        assertTrue(t.kept(), TraceText.text(t));
        assertEquals("PROXY " + CLIENT, t.hops().get(2).xffOut());
        assertEquals(CLIENT, t.hops().get(3).believes());

        Snapshot noFilter = objects(load("cluster"), "Service", "istio-ingressgateway",
                o -> o.withAnnotation("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol", "on"));
        Trace broken = Tracer.northSouth(noFilter, URL, CLIENT, "istio-system", "istio-ingressgateway");
        assertTrue(broken.warnings().stream().anyMatch(w -> w.contains("no envoy.filters.listener.proxy_protocol")), broken.warnings().toString());
    }

    @Test
    void anAnnotationThePodsProxyDoesNotRunIsNamed() {
        Snapshot s = objects(load("redirect"), "Pod", "httpbin", o -> o.withAnnotation("sidecar.istio.io/interceptionMode", "TPROXY"));
        Trace t = Tracer.eastWest(s, "default", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(2, t.lostAt(), "the proxy's own config decides, not the annotation");
        assertTrue(t.warnings().stream().anyMatch(w -> w.contains("annotated interceptionMode TPROXY but its proxy runs REDIRECT")
                && w.contains("kubectl rollout restart deployment/httpbin")), t.warnings().toString());
    }

    @Test
    void withoutDumpsIstioDefaultsAreUsedAndSaidSo() {
        Snapshot full = load("redirect");
        Trace t = Tracer.eastWest(new Snapshot(full.objects(), Map.of(), Map.of()), "default", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(2, t.lostAt());
        assertEquals("127.0.0.6", t.hops().get(2).passesSocket());
        assertTrue(t.hops().get(2).evidence().stream().anyMatch(e -> e.contains("no config dump of httpbin-")), t.hops().get(2).evidence().toString());

        Snapshot tproxy = objects(new Snapshot(full.objects(), Map.of(), Map.of()), "Pod", "httpbin",
                o -> o.withAnnotation("sidecar.istio.io/interceptionMode", "TPROXY"));
        assertTrue(Tracer.eastWest(tproxy, "default", "deploy/sleep", "http://httpbin:8000/ip").kept());
    }

    @Test
    void unknownTargetsAreNamed() {
        Snapshot s = load("redirect");
        assertEquals("no service \"nope\" in namespace default",
                assertThrows(TraceException.class, () -> Tracer.eastWest(s, "default", "deploy/sleep", "http://nope:8000/")).getMessage());
        assertEquals("deployment \"ghost\" not found in namespace default",
                assertThrows(TraceException.class, () -> Tracer.eastWest(s, "default", "deploy/ghost", "http://httpbin:8000/")).getMessage());
        assertEquals("service default/httpbin has no port 9",
                assertThrows(TraceException.class, () -> Tracer.eastWest(s, "default", "deploy/sleep", "http://httpbin:9/")).getMessage());
    }
}
