package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Hops that relay bytes with tcp_proxy (Istio's TCP service ports, a gateway's TCP and TLS passthrough servers): there is
 * no X-Forwarded-For over TCP, so the client survives a hop only on the socket (TPROXY) or in a PROXY header its
 * destination's cluster writes (DestinationRule proxyProtocol, Istio's upstream_proxy_protocol transport socket). Our own
 * cluster's collected state (own/), with the TCP shapes our control plane translates put into its dumps.
 */
class TracerTcpTest {
    private static final String CLIENT = "127.120.0.10";
    private static final String HTTPBIN = "outbound|8000||httpbin.default.svc.cluster.local";

    private static Snapshot load(String stage) {
        return DumpDirectory.load(Path.of("src/test/resources/own", stage));
    }

    @Test
    void aTcpServiceLosesTheClientAtTheServerSidecarUnderRedirect() {
        Trace t = Tracer.eastWest(tcpHttpbin(load("redirect"), false), "default", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(2, t.lostAt(), TraceText.text(t));
        Hop out = t.hops().get(1);
        assertTrue(out.name().endsWith("(outbound, tcp_proxy)"), out.name());
        assertEquals("", out.xffOut(), "no X-Forwarded-For over TCP");
        assertTrue(out.evidence().getFirst().contains("127.96.16.4_8000") && out.evidence().getFirst().contains("tcp_proxy to " + HTTPBIN),
                out.evidence().toString());
        Hop in = t.hops().get(2);
        assertEquals("127.0.0.6", in.passesSocket());
        assertTrue(in.reason().contains("relays port 8000 with tcp_proxy") && in.reason().contains("no X-Forwarded-For"), in.reason());
        assertTrue(in.fixes().get(0).contains("\"sidecar.istio.io/interceptionMode\":\"TPROXY\""), in.fixes().get(0));
        assertTrue(in.fixes().get(1).contains("host: httpbin") && in.fixes().get(1).contains("proxyProtocol: {version: V1}"),
                in.fixes().get(1));
        assertEquals("127.0.0.6", t.hops().get(3).believes(), "the app sees the sidecar's bind address");
    }

    @Test
    void aProxyHeaderFromTheClientsSidecarCarriesTheClientToAnAppThatReadsIt() {
        Trace t = Tracer.eastWest(tcpHttpbin(load("redirect"), true), "default", "deploy/sleep", "http://httpbin:8000/ip");
        assertTrue(t.kept(), TraceText.text(t));
        String sleep = t.client();
        assertEquals("PROXY " + sleep, t.hops().get(1).xffOut());
        assertEquals("PROXY " + sleep, t.hops().get(2).xffOut(), "tcp_proxy relays the header with the bytes");
        assertEquals(sleep, t.hops().get(3).believes());
        assertTrue(t.hops().get(3).evidence().getFirst().contains("reads PROXY protocol"), t.hops().get(3).evidence().toString());
    }

    @Test
    void underTproxyTheSocketKeepsTheClientOverTcp() {
        Trace t = Tracer.eastWest(tcpHttpbin(load("tproxy"), false), "default", "deploy/sleep", "http://httpbin:8000/ip");
        assertTrue(t.kept(), TraceText.text(t));
        assertEquals(t.client(), t.hops().get(3).believes());
    }

    @Test
    void withoutDumpsATcpServicePortIsTcpProxyAndSaidSo() {
        Snapshot s = tcpHttpbin(load("redirect"), false);
        Trace t = Tracer.eastWest(new Snapshot(s.objects(), Map.of(), Map.of()), "default", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(2, t.lostAt(), TraceText.text(t));
        assertTrue(t.hops().get(1).evidence().getFirst().contains("Istio's sidecar outbound for a TCP service port"));
        assertTrue(t.hops().get(2).name().endsWith("(inbound REDIRECT, tcp_proxy)"), t.hops().get(2).name());
    }

    @Test
    void aTcpGatewayServerLosesTheClientAtTheGateway() {
        Trace t = Tracer.northSouth(tcpGateway(load("local"), false), "http://127.100.16.2:31400/ip", CLIENT, "istio-system",
                "istio-ingressgateway");
        assertEquals(3, t.lostAt(), TraceText.text(t));
        Hop gw = t.hops().get(3);
        assertEquals(CLIENT, gw.believes(), "externalTrafficPolicy Local: the gateway's peer is the client");
        assertEquals("", gw.xffOut());
        assertTrue(gw.reason().contains("tcp_proxy (a TCP or TLS passthrough server") && gw.reason().contains("no X-Forwarded-For"),
                gw.reason());
        assertTrue(gw.fixes().getFirst().contains("host: httpbin"), gw.fixes().getFirst());
        assertEquals(gw.passesSocket(), t.hops().get(4).seesOnSocket(), "httpbin's sidecar sees the gateway pod");
        String text = TraceText.text(t);
        assertTrue(text.contains("WHY: the gateway serves this port with tcp_proxy"), text);
    }

    @Test
    void aTcpGatewayServerWithAProxyHeaderToATcpAppKeepsTheClient() {
        Snapshot s = tcpGateway(tcpHttpbin(load("local"), false), true);
        Trace t = Tracer.northSouth(s, "http://127.100.16.2:31400/ip", CLIENT, "istio-system", "istio-ingressgateway");
        assertTrue(t.kept(), TraceText.text(t));
        assertEquals("PROXY " + CLIENT, t.hops().get(3).xffOut());
        assertEquals(CLIENT, t.hops().getLast().believes());
    }

    @Test
    void aProxyHeaderIntoAnHttpChainIsWarnedAbout() {
        Trace t = Tracer.northSouth(tcpGateway(load("local"), true), "http://127.100.16.2:31400/ip", CLIENT, "istio-system",
                "istio-ingressgateway");
        assertTrue(t.warnings().stream().anyMatch(w -> w.contains("a PROXY header reaches httpbin-")
                && w.contains("reads the header as a malformed request")), t.warnings().toString());
    }

    @Test
    void withoutTheGatewaysDumpItsTcpServerDecides() {
        Snapshot s = tcpGateway(load("local"), false);
        Map<String, ProxyFacts> dumps = new HashMap<>(s.dumps());
        dumps.keySet().removeIf(k -> k.startsWith("istio-system/"));
        Trace t = Tracer.northSouth(new Snapshot(s.objects(), dumps, s.logs()), "http://127.100.16.2:31400/ip", CLIENT, "istio-system",
                "istio-ingressgateway");
        assertEquals(3, t.lostAt(), TraceText.text(t));
        assertTrue(t.hops().get(3).evidence().getFirst().contains("no config dump of istio-ingressgateway-"),
                t.hops().get(3).evidence().toString());
    }

    /**
     * A live probe through tcp_proxy hops: their access-log lines carry no request id, so each is found by the probe's
     * connection — the client sidecar's by the probe's own address, the server sidecar's by the client sidecar's
     * upstream_local_address — and a line of another connection beside it is not taken.
     */
    @Test
    void aProbesTcpHopsAreObservedByItsConnection() {
        Snapshot s = tcpHttpbin(load("redirect"), false);
        Trace t = Tracer.eastWest(s, "default", "deploy/sleep", "http://httpbin:8000/ip");
        String sleep = t.client();
        String out = t.hops().get(1).pod();
        String in = t.hops().get(2).pod();
        Map<String, List<String>> logs = Map.of(
                out, List.of(tcpLine(HTTPBIN, sleep + ":40000", sleep + ":40001"), tcpLine(HTTPBIN, sleep + ":39000", sleep + ":39001")),
                in, List.of(tcpLine("inbound|8000||", sleep + ":40001", "127.0.0.6:50000"),
                        tcpLine("inbound|8000||", sleep + ":39001", "127.0.0.6:1")));
        Snapshot withLogs = new Snapshot(s.objects(), s.dumps(), logs);

        Trace o = Observations.apply(t, withLogs, "probe-1", null, sleep + ":40000");
        assertEquals(List.of(), o.mismatches(), TraceText.text(o));
        assertEquals(sleep + ":40001", o.hops().get(1).observed().upstreamLocal());
        assertEquals("127.0.0.6:50000", o.hops().get(2).observed().upstreamLocal(), "the line of the probe's connection, not the later one");
        assertTrue(o.hops().get(2).observed().note().contains("the probe's connection from " + sleep + ":40001"),
                o.hops().get(2).observed().note());

        Trace unknown = Observations.apply(t, withLogs, "probe-1", null, null);
        assertTrue(unknown.mismatches().getFirst().contains("the address the probe reached " + out + " from is not known"),
                unknown.mismatches().toString());
        Trace otherConnection = Observations.apply(t, withLogs, "probe-1", null, sleep + ":41000");
        assertTrue(otherConnection.mismatches().getFirst().contains("no tcp_proxy access-log line for the probe's connection from "
                + sleep + ":41000 in " + out), otherConnection.mismatches().toString());
    }

    /** Istio's JSON access-log line of a tcp_proxy connection: no request id, no user agent, no X-Forwarded-For. */
    private static String tcpLine(String cluster, String downstreamRemote, String upstreamLocal) {
        return "{\"upstream_cluster\":\"" + cluster + "\",\"downstream_remote_address\":\"" + downstreamRemote
                + "\",\"upstream_local_address\":\"" + upstreamLocal + "\",\"request_id\":null,\"x_forwarded_for\":null}";
    }

    @Test
    void theReaderKnowsTcpProxyChainsAndProxyProtocolClusters() {
        ProxyFacts f = ProxyFactsReader.read("dump", """
                {"configs": [
                  {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": [{"active_state": {"listener": {
                    "name": "127.96.0.20_9000", "address": {"socket_address": {"address": "127.96.0.20", "port_value": 9000}},
                    "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {
                      "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "stat_prefix": "tcp-echo.default",
                      "weighted_clusters": {"clusters": [{"name": "outbound|9000|v1|tcp-echo", "weight": 80},
                                                         {"name": "outbound|9000|v2|tcp-echo", "weight": 20}]}}}]}]}}}]},
                  {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": [{"cluster": {
                    "name": "outbound|9000|v1|tcp-echo", "transport_socket": {"name": "envoy.transport_sockets.upstream_proxy_protocol",
                      "typed_config": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport",
                        "config": {"version": "V1"}}}}}]}
                ]}
                """);
        ProxyFacts.ChainFacts chain = f.outboundTcp("127.96.0.20", 9000).orElseThrow();
        assertTrue(chain.tcpProxy());
        assertNull(chain.hcm());
        assertEquals("outbound|9000|v1|tcp-echo", chain.cluster(), "a weighted tcp_proxy's first cluster");
        assertEquals("configs[0].dynamic_listeners[0].active_state.listener.filter_chains[0].filters[0].typed_config", chain.where());
        assertTrue(f.cluster("outbound|9000|v1|tcp-echo").orElseThrow().proxyProtocol());
        assertTrue(f.tcpListenerOnPort(9000).isPresent());
        assertTrue(f.listenerOnPort(9000).isEmpty(), "no HTTP connection manager on it");
    }

    // ---- the TCP shapes, put into the collected dumps ---------------------------------------------

    /**
     * httpbin's port named tcp (Istio: opaque TCP): sleep's sidecar gets the vip_port tcp_proxy listener instead of the
     * 0.0.0.0_8000 connection manager, httpbin's virtualInbound chain for 8000 becomes tcp_proxy; with {@code proxyProtocol}
     * sleep's httpbin cluster writes a PROXY header (DestinationRule proxyProtocol).
     */
    private static Snapshot tcpHttpbin(Snapshot s, boolean proxyProtocol) {
        String vip = s.find("Service", "default", "httpbin").orElseThrow().spec().path("clusterIP").asText();
        s = objects(s, "Service", "httpbin", o -> {
            ObjectNode n = o.node().deepCopy();
            ((ObjectNode) n.path("spec").path("ports").get(0)).put("name", "tcp");
            return KubeObject.of(n);
        });
        s = dump(s, "default/sleep", f -> {
            List<ProxyFacts.ListenerFacts> ls = new ArrayList<>(f.listeners().stream().filter(l -> !l.name().equals("0.0.0.0_8000")).toList());
            ls.add(new ProxyFacts.ListenerFacts(vip + "_8000", vip, 8000, false, List.of(), List.of(new ProxyFacts.ChainFacts("", 0,
                    null, true, HTTPBIN, "listeners[" + vip + "_8000].filter_chains[0].filters[0].typed_config")), "listeners[" + vip + "_8000]"));
            return facts(f, ls, proxyProtocol ? f.clusters().stream().map(c -> c.name().equals(HTTPBIN)
                    ? new ProxyFacts.ClusterFacts(c.name(), c.bindAddress(), c.endpoints(), true, c.path()) : c).toList() : f.clusters());
        });
        return dump(s, "default/httpbin", f -> facts(f, f.listeners().stream().map(l -> new ProxyFacts.ListenerFacts(l.name(), l.address(),
                l.port(), l.transparent(), l.listenerFilters(), l.chains().stream().map(c -> c.destinationPort() == 8000 && c.hcm() != null
                        ? new ProxyFacts.ChainFacts(c.name(), 8000, null, true, "inbound|8000||", c.where()) : c).toList(), l.path())).toList(),
                f.clusters()));
    }

    /**
     * The README's TCP gateway server: the gateway Service's port 31400, a Gateway with a TCP server on it and a
     * VirtualService's tcp route to httpbin:8000; the gateway's dump gets the 0.0.0.0_31400 tcp_proxy listener, its
     * httpbin cluster a PROXY header with {@code proxyProtocol}.
     */
    private static Snapshot tcpGateway(Snapshot s, boolean proxyProtocol) {
        s = objects(s, "Service", "istio-ingressgateway", o -> {
            ObjectNode n = o.node().deepCopy();
            ((com.fasterxml.jackson.databind.node.ArrayNode) n.path("spec").path("ports")).addObject()
                    .put("name", "tcp").put("port", 31400).put("targetPort", 31400).put("nodePort", 31400).put("protocol", "TCP");
            return KubeObject.of(n);
        });
        List<KubeObject> objects = new ArrayList<>(s.objects());
        objects.addAll(ManifestReader.read("tcp.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: tcp-gateway, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 31400, name: tcp, protocol: TCP}
                    hosts: ['*']
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: httpbin-tcp, namespace: default}
                spec:
                  hosts: ['*']
                  gateways: [tcp-gateway]
                  tcp:
                  - route:
                    - destination: {host: httpbin, port: {number: 8000}}
                """));
        s = new Snapshot(objects, s.dumps(), s.logs());
        return dump(s, "istio-system/istio-ingressgateway", f -> {
            List<ProxyFacts.ListenerFacts> ls = new ArrayList<>(f.listeners());
            ls.add(new ProxyFacts.ListenerFacts("0.0.0.0_31400", "0.0.0.0", 31400, false, List.of(), List.of(new ProxyFacts.ChainFacts("", 0,
                    null, true, HTTPBIN, "listeners[0.0.0.0_31400].filter_chains[0].filters[0].typed_config")), "listeners[0.0.0.0_31400]"));
            return facts(f, ls, proxyProtocol ? f.clusters().stream().map(c -> c.name().equals(HTTPBIN)
                    ? new ProxyFacts.ClusterFacts(c.name(), c.bindAddress(), c.endpoints(), true, c.path()) : c).toList() : f.clusters());
        });
    }

    private static ProxyFacts facts(ProxyFacts f, List<ProxyFacts.ListenerFacts> listeners, List<ProxyFacts.ClusterFacts> clusters) {
        return new ProxyFacts(f.source(), f.nodeId(), f.role(), f.nodeIp(), f.interceptionMetadata(), List.copyOf(listeners),
                List.copyOf(clusters));
    }

    private static Snapshot dump(Snapshot s, String keyPrefix, UnaryOperator<ProxyFacts> change) {
        Map<String, ProxyFacts> dumps = new HashMap<>(s.dumps());
        String key = dumps.keySet().stream().filter(k -> k.startsWith(keyPrefix)).findFirst().orElseThrow();
        dumps.put(key, change.apply(dumps.get(key)));
        return new Snapshot(s.objects(), dumps, s.logs());
    }

    private static Snapshot objects(Snapshot s, String kind, String name, UnaryOperator<KubeObject> change) {
        return new Snapshot(s.objects().stream().map(o -> o.kind().equals(kind) && o.name().equals(name) ? change.apply(o) : o).toList(),
                s.dumps(), s.logs());
    }
}
