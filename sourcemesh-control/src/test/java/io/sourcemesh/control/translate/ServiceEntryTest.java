package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ServiceEntries in the sleep sidecar's registry (topology/service-entry.yaml), as Istio's convertServices and
 * convertEndpoints (pilot/pkg/serviceregistry/serviceentry/conversion.go) make services of them: a STATIC entry's HTTP
 * ports become virtual hosts named {@code <host>:<port>} on the port's route config (pilot/pkg/networking/core/
 * httproute.go) and clusters {@code outbound|<port>||<host>} of its endpoints (cluster_builder.go; Istio serves them by
 * EDS, inline here like a Service's pods), which VirtualServices and DestinationRules naming the host shape; under
 * REGISTRY_ONLY only such hosts pass block_all.
 */
class ServiceEntryTest {
    private static final String API = "api.external.test";

    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/service-entry.yaml"));

    private ProxyResources sleepsSidecar() {
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    private static List<String> endpoints(Cluster c) {
        return c.getLoadAssignment().getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
                .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress() + ":"
                        + e.getEndpoint().getAddress().getSocketAddress().getPortValue() + "*"
                        + e.getLoadBalancingWeight().getValue())
                .toList();
    }

    @Test
    void aStaticEntrysHttpPortIsAVirtualHostAndAClusterOfItsEndpoints() throws Exception {
        ProxyResources r = sleepsSidecar();
        Golden.assertMatches("sidecar-service-entry", r.toJson());

        List<VirtualHost> vhosts = r.route("8000").orElseThrow().getVirtualHostsList();
        assertEquals(List.of(API + ":8000", "dns.external.test:8000", "httpbin.default.svc.cluster.local:8000", "block_all"),
                vhosts.stream().map(VirtualHost::getName).toList(), "the entry's host beside httpbin's, before block_all");
        assertEquals(List.of(API), vhosts.get(0).getDomainsList(), "no short names for a host outside the cluster domain");

        Cluster all = r.cluster(Names.outboundCluster(8000, "", API)).orElseThrow();
        assertEquals(Cluster.DiscoveryType.STATIC, all.getType());
        assertEquals(Cluster.DnsLookupFamily.AUTO, all.getDnsLookupFamily(), "the proxy refuses a family on a STATIC cluster");
        assertEquals(List.of("127.0.0.1:18080*3", "127.0.0.2:8000*1"), endpoints(all),
                "an endpoint's own port for the port's name, else the port's number; weight 0 is Envoy's 1");
    }

    @Test
    void destinationRuleSubsetsSelectTheEntrysEndpointsByLabel() {
        ProxyResources r = sleepsSidecar();
        assertEquals(List.of("127.0.0.1:18080*3"), endpoints(r.cluster(Names.outboundCluster(8000, "v1", API)).orElseThrow()));
        assertEquals(List.of("127.0.0.2:8000*1"), endpoints(r.cluster(Names.outboundCluster(8000, "v2", API)).orElseThrow()));

        VirtualHost api = r.route("8000").orElseThrow().getVirtualHosts(0);
        assertEquals(Names.outboundCluster(8000, "v2", API), api.getRoutes(0).getRoute().getCluster(),
                "the VirtualService naming the host shapes its virtual host");
        assertEquals(Names.outboundCluster(8000, "v1", API), api.getRoutes(1).getRoute().getCluster());
        assertEquals(Names.outboundCluster(8000, "v1", API), api.getRoutes(0).getRoute().getRequestMirrorPolicies(0).getCluster(),
                "a mirror without a port on a host with two takes the listener's (Istio's GetDestinationCluster), not 0");
    }

    @Test
    void addressesAreDomainsAndTargetPortIsTheEndpointsPortByDefault() {
        ProxyResources r = sleepsSidecar();
        VirtualHost pinned = r.route("9080").orElseThrow().getVirtualHosts(0);
        assertEquals("pinned.external.test:9080", pinned.getName());
        assertEquals(List.of("pinned.external.test", "127.240.0.10"), pinned.getDomainsList());
        assertEquals(List.of("127.0.0.3:19080*1"),
                endpoints(r.cluster(Names.outboundCluster(9080, "", "pinned.external.test")).orElseThrow()));
    }

    @Test
    void whatIsNotTranslatedGetsNoListenerRouteOrCluster() {
        ProxyResources r = sleepsSidecar();
        assertFalse(r.cluster(Names.outboundCluster(8000, "", "named.external.test")).isPresent(),
                "DNS of a name the proxy would resolve: not translated");
        assertTrue(r.route("8000").orElseThrow().getVirtualHostsList().stream()
                .noneMatch(v -> v.getName().startsWith("named.external.test")));
    }

    private static String tcpProxyCluster(FilterChain chain) throws Exception {
        return chain.getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster();
    }

    /**
     * Istio's egress entry: TLS ports without addresses share the 0.0.0.0_443 listener, a chain per host by SNI to its
     * cluster (tls.go buildSidecarOutboundTLSFilterChainOpts: the host as SNI on a wildcard listener; listener.go
     * mergeTCPFilterChains), a wildcard host as Envoy's wildcard server name; what no chain matches goes to block_all's
     * BlackHoleCluster under REGISTRY_ONLY (PassthroughFilterChain).
     */
    @Test
    void tlsPortsWithoutAddressesAreChainsBySniOnTheWildcardListener() throws Exception {
        ProxyResources r = sleepsSidecar();
        Listener tls = r.listener("0.0.0.0_443").orElseThrow();
        assertEquals("0.0.0.0", tls.getAddress().getSocketAddress().getAddress());
        assertFalse(tls.getBindToPort().getValue(), "reached through virtualOutbound, as Istio's");
        assertEquals(List.of(Names.TLS_INSPECTOR), tls.getListenerFiltersList().stream().map(f -> f.getName()).toList());
        assertEquals(List.of(List.of("*.wild.external.test"), List.of("egress.external.test"), List.of("mirror.external.test")),
                tls.getFilterChainsList().stream().map(c -> c.getFilterChainMatch().getServerNamesList()).toList());
        assertEquals(List.of(Names.outboundCluster(443, "", "*.wild.external.test"),
                Names.outboundCluster(443, "", "egress.external.test"), Names.outboundCluster(443, "", "mirror.external.test")),
                tls.getFilterChainsList().stream().map(c -> {
                    try {
                        return tcpProxyCluster(c);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }).toList());
        assertEquals(Names.BLACKHOLE_CLUSTER, tcpProxyCluster(tls.getDefaultFilterChain()));
        Cluster egress = r.cluster(Names.outboundCluster(443, "", "egress.external.test")).orElseThrow();
        assertEquals(Cluster.DiscoveryType.STRICT_DNS, egress.getType());
        assertEquals(List.of("localhost:18443*1"), endpoints(egress));
        assertEquals(Cluster.DiscoveryType.ORIGINAL_DST,
                r.cluster(Names.outboundCluster(443, "", "*.wild.external.test")).orElseThrow().getType());
    }

    /**
     * A TCP port without addresses: one match-all chain on 0.0.0.0_port (tls.go buildSidecarOutboundTCPFilterChainOpts),
     * the oldest entry's; a newer one's would match the same connections (mergeTCPFilterChains' conflict) and is left out,
     * named on the entry; a TCP port where HTTP services listen is left out too (Istio sniffs, SourceMesh cannot).
     */
    @Test
    void aTcpPortWithoutAddressesTakesThePortAndTheOldestEntryWins() throws Exception {
        ProxyResources r = sleepsSidecar();
        Listener db = r.listener("0.0.0.0_5432").orElseThrow();
        assertEquals(1, db.getFilterChainsCount());
        assertFalse(db.getFilterChains(0).hasFilterChainMatch());
        assertEquals(Names.outboundCluster(5432, "", API), tcpProxyCluster(db.getFilterChains(0)));
        assertFalse(db.hasDefaultFilterChain(), "one match-all chain: no default chain, as Istio's buildListenerFromEntry");
        assertTrue(r.cluster(Names.outboundCluster(5432, "", "catchall.external.test")).isPresent(),
                "the cluster is built, as Istio's; only the listener's chain is another's");
        List<String> catchall = r.warnings().stream().filter(w -> w.resource().equals("ServiceEntry default/catchall"))
                .map(TranslationWarning::message).toList();
        assertEquals(List.of("port 5432 of catchall.external.test left out of the sidecars' listener 0.0.0.0_5432: "
                        + API + " (ServiceEntry default/external-api) matches the same connections there first (Istio keeps "
                        + "the older service's chain; a listener conflict)",
                "port 8000 of catchall.external.test left out of the sidecars' listener 0.0.0.0_8000: HTTP services listen "
                        + "there (Istio would sniff the protocol on one listener, which SourceMesh does not); give the entry an "
                        + "address"), catchall.stream().sorted().toList());
    }

    /**
     * A CIDR address: the port's 0.0.0.0 listener with a chain matching the range (listener.go buildSidecarOutboundListener,
     * ConvertAddressToCidr); a full-length one is its address (serviceentry/conversion.go), its own listener.
     */
    @Test
    void aCidrAddressIsAChainOfTheWildcardListenerAndASlash32ItsOwnListener() throws Exception {
        ProxyResources r = sleepsSidecar();
        Listener range = r.listener("0.0.0.0_6379").orElseThrow();
        assertEquals(1, range.getFilterChainsCount());
        assertEquals("127.241.0.0", range.getFilterChains(0).getFilterChainMatch().getPrefixRanges(0).getAddressPrefix());
        assertEquals(16, range.getFilterChains(0).getFilterChainMatch().getPrefixRanges(0).getPrefixLen().getValue());
        assertEquals(Names.outboundCluster(6379, "", "subnet.external.test"), tcpProxyCluster(range.getFilterChains(0)));
        assertEquals(Names.BLACKHOLE_CLUSTER, tcpProxyCluster(range.getDefaultFilterChain()), "outside the range: REGISTRY_ONLY");
        Listener own = r.listener("127.242.0.1_6379").orElseThrow();
        assertEquals(Names.outboundCluster(6379, "", "subnet.external.test"), tcpProxyCluster(own.getFilterChains(0)));
    }

    /**
     * resolution DNS is a STRICT_DNS cluster of the entry's endpoints (cluster.go convertResolution), V4_ONLY for a proxy of
     * IPv4 addresses (util.go SelectDNSLookupFamily); the proxy takes IP literals and localhost without a resolver.
     */
    @Test
    void aDnsEntryIsAStrictDnsClusterOfItsEndpoints() {
        ProxyResources r = sleepsSidecar();
        Cluster dns = r.cluster(Names.outboundCluster(8000, "", "dns.external.test")).orElseThrow();
        assertEquals(Cluster.DiscoveryType.STRICT_DNS, dns.getType());
        assertEquals(Cluster.DnsLookupFamily.V4_ONLY, dns.getDnsLookupFamily());
        assertEquals(List.of("localhost:18081*1", "127.0.0.4:8000*1"), endpoints(dns));
        assertTrue(r.route("8000").orElseThrow().getVirtualHostsList().stream()
                .anyMatch(v -> v.getName().equals("dns.external.test:8000")));
    }

    /** DNS_ROUND_ROBIN: a LOGICAL_DNS cluster of its one name (cluster.go convertResolution), V4_ONLY as DNS. */
    @Test
    void aDnsRoundRobinEntryIsALogicalDnsCluster() {
        ProxyResources r = sleepsSidecar();
        Cluster rr = r.cluster(Names.outboundCluster(9090, "", "rr.external.test")).orElseThrow();
        assertEquals(Cluster.DiscoveryType.LOGICAL_DNS, rr.getType());
        assertEquals(Cluster.DnsLookupFamily.V4_ONLY, rr.getDnsLookupFamily());
        assertEquals(List.of("localhost:19090*1"), endpoints(rr));
    }

    /** A TCP port of an entry with an address: a listener on it (listener.go buildSidecarOutboundTCPListenerOpts). */
    @Test
    void aTcpPortListensOnTheEntrysAddress() throws Exception {
        ProxyResources r = sleepsSidecar();
        Listener db = r.listener("127.240.0.20_5432").orElseThrow();
        assertEquals(Names.outboundCluster(5432, "", "db.external.test"), db.getFilterChains(0).getFilters(0).getTypedConfig()
                .unpack(TcpProxy.class).getCluster());
        assertEquals(List.of("127.0.0.5:5432*1"),
                endpoints(r.cluster(Names.outboundCluster(5432, "", "db.external.test")).orElseThrow()));
    }

    /** resolution NONE: ORIGINAL_DST clusters, CLUSTER_PROVIDED (cluster.go convertResolution, applyLoadBalancer). */
    @Test
    void aNoneEntrysClustersSendWhereTheClientDid() throws Exception {
        ProxyResources r = sleepsSidecar();
        for (int port : List.of(7070, 7071)) {
            Cluster c = r.cluster(Names.outboundCluster(port, "", "passthrough.external.test")).orElseThrow();
            assertEquals(Cluster.DiscoveryType.ORIGINAL_DST, c.getType());
            assertEquals(Cluster.LbPolicy.CLUSTER_PROVIDED, c.getLbPolicy());
            assertFalse(c.hasLoadAssignment());
        }
        assertEquals(Names.outboundCluster(7070, "", "passthrough.external.test"), r.route("7070").orElseThrow()
                .getVirtualHosts(0).getRoutes(0).getRoute().getCluster());
        assertEquals(Names.outboundCluster(7071, "", "passthrough.external.test"), r.listener("127.240.0.30_7071")
                .orElseThrow().getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster());
    }

    /** One service per host: a newer entry's host, or a Service's, would be a second cluster of one name. */
    @Test
    void aHostAnotherServiceHasFirstIsLeftOutAndNamed() {
        ProxyResources r = sleepsSidecar();
        assertEquals(List.of("127.0.0.1:18080*3", "127.0.0.2:8000*1"),
                endpoints(r.cluster(Names.outboundCluster(8000, "", API)).orElseThrow()), "the older entry's endpoints");
        assertEquals(1, r.clusters().stream().filter(c -> c.getName().equals(Names.outboundCluster(8000, "", API))).count());
        assertEquals(1, r.clusters().stream().filter(c -> c.getName().equals(
                Names.outboundCluster(8000, "", "httpbin.default.svc.cluster.local"))).count());
        assertEquals(List.of(
                "ServiceEntry default/external-api-again: host api.external.test left out of the proxies' registry: "
                        + "ServiceEntry default/external-api has it first (one service per host, the oldest entry's)",
                "ServiceEntry default/external-api-again: host httpbin.default.svc.cluster.local left out of the proxies' "
                        + "registry: Service default/httpbin has it first (one service per host, the oldest entry's)"),
                r.warnings().stream().filter(w -> w.resource().contains("external-api-again"))
                        .map(w -> w.resource() + ": " + w.message()).toList());
    }

    /**
     * A host another entry has in another case is the same host to the proxy (it matches domains ignoring case and
     * refuses a route config two of whose virtual hosts share one), so the newer entry is left out and named, where
     * Istio would send both and have the push refused.
     */
    @Test
    void aHostInAnotherCaseIsTheSameHost() {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed("topology/service-entry.yaml"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: shouting, namespace: default, creationTimestamp: "2031-01-01T00:00:00Z"}
                spec:
                  hosts: [API.External.Test]
                  resolution: STATIC
                  ports:
                  - {number: 8000, name: http, protocol: HTTP}
                  endpoints:
                  - {address: 127.0.0.8}
                """));
        MeshModel shouting = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(shouting, Fixtures.sidecar(shouting, "sleep"));
        assertTrue(r.route("8000").orElseThrow().getVirtualHostsList().stream()
                .noneMatch(v -> v.getName().startsWith("API.External.Test")));
        assertTrue(r.warnings().stream().anyMatch(w -> w.toString().equals("ServiceEntry default/shouting: host "
                + "API.External.Test left out of the proxies' registry: ServiceEntry default/external-api has it first (one "
                + "service per host, the oldest entry's)")), r.warnings().toString());
    }

    /** exportTo as Istio's service index: the namespaces named see the hosts, the others not at all. */
    @Test
    void exportToChoosesTheNamespacesWhoseProxiesSeeTheHosts() {
        ProxyResources sleep = sleepsSidecar();
        List<String> vhosts = sleep.route("8100").orElseThrow().getVirtualHostsList().stream().map(VirtualHost::getName).toList();
        assertTrue(vhosts.contains("own.external.test:8100"), ". is the entry's own namespace: " + vhosts);
        assertFalse(vhosts.contains("gateway-only.external.test:8100"), "exported to istio-system only: " + vhosts);
        assertTrue(sleep.cluster(Names.outboundCluster(8100, "", "own.external.test")).isPresent());
        assertFalse(sleep.cluster(Names.outboundCluster(8100, "", "gateway-only.external.test")).isPresent());

        ProxyResources gateway = Translator.create().translate(model, Fixtures.gateway(model));
        assertTrue(gateway.cluster(Names.outboundCluster(8100, "", "gateway-only.external.test")).isPresent(),
                "the gateway's namespace sees it");
        assertFalse(gateway.cluster(Names.outboundCluster(8100, "", "own.external.test")).isPresent(),
                "exported to default only");
    }

    /**
     * A host not exported to the proxy's namespace gets no cluster there, so a DestinationRule for it is not read there
     * either: no warning about a credentialName looked up in a namespace whose proxies never connect to the host.
     */
    @Test
    void aHostNotExportedHereHasNoClusterWarningsHere() {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed("topology/service-entry.yaml"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: gateway-only-tls, namespace: default}
                spec:
                  host: gateway-only.external.test
                  trafficPolicy: {tls: {mode: SIMPLE, credentialName: no-such-secret}}
                """));
        MeshModel withRule = MeshModel.of(objects);
        List<TranslationWarning> gateway = Translator.create().translate(withRule, Fixtures.gateway(withRule)).warnings().stream()
                .filter(w -> w.resource().equals("DestinationRule default/gateway-only-tls")).toList();
        assertFalse(gateway.isEmpty(), "the gateway's namespace sees the host and reads the rule");
        List<TranslationWarning> sleep = Translator.create().translate(withRule, Fixtures.sidecar(withRule, "sleep")).warnings()
                .stream().filter(w -> w.resource().equals("DestinationRule default/gateway-only-tls")).toList();
        assertEquals(List.of(), sleep, "sleep's namespace does not see the host");
    }

    @Test
    void withoutTheEntryTheHostIsBlockedUnderRegistryOnly() {
        MeshModel without = MeshModel.of(Fixtures.seed("topology/service-entry.yaml").stream()
                .filter(o -> !o.path("kind").asText().equals("ServiceEntry")).toList());
        ProxyResources r = Translator.create().translate(without, Fixtures.sidecar(without, "sleep"));
        List<VirtualHost> vhosts = r.route("8000").orElseThrow().getVirtualHostsList();
        assertEquals(List.of("httpbin.default.svc.cluster.local:8000", "block_all"),
                vhosts.stream().map(VirtualHost::getName).toList());
        assertFalse(r.cluster(Names.outboundCluster(8000, "", API)).isPresent());
    }
}
