package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoutingTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml",
            "topology/httpbin-routing.yaml"));

    @Test
    void meshVirtualServiceAndSubsets() {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("sidecar-sleep-routing", r.toJson());
        VirtualHost vh = r.route("8000").orElseThrow().getVirtualHosts(0);
        List<Route> routes = vh.getRoutesList();
        assertEquals(4, routes.size());
        assertEquals("/ip", routes.get(0).getMatch().getPath());
        assertEquals("ip.exact", routes.get(0).getName());
        assertEquals("/debug", routes.get(1).getMatch().getPrefix());
        assertEquals("x-debug", routes.get(1).getMatch().getHeaders(0).getName());
        assertEquals("/status/[0-9]+", routes.get(2).getMatch().getSafeRegex().getRegex());
        assertEquals(90, routes.get(2).getRoute().getWeightedClusters().getClusters(0).getWeight().getValue());
        assertEquals("outbound|8000|v2|httpbin.default.svc.cluster.local",
                routes.get(2).getRoute().getWeightedClusters().getClusters(1).getName());
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local", routes.get(3).getRoute().getCluster());
        Cluster v1 = r.cluster("outbound|8000|v1|httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, v1.getLbPolicy());
        assertEquals(1, v1.getLoadAssignment().getEndpoints(0).getLbEndpointsCount());
        Cluster v2 = r.cluster("outbound|8000|v2|httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals(Cluster.LbPolicy.RING_HASH, v2.getLbPolicy());
        assertEquals(0, routes.get(0).getRoute().getHashPolicyCount());
        assertEquals(0, v2.getLoadAssignment().getEndpointsCount());
    }

    @Test
    void useSourceIpHashesOnTheConnectionSource() {
        assertTrue(routeWith("{useSourceIp: true}").getHashPolicy(0).getConnectionProperties().getSourceIp());
    }

    /**
     * A subset's trafficPolicy overrides the rule's field by field (Istio's MergeTrafficPolicy,
     * pilot/pkg/model/destination_rule.go): a subset that sets only a connection pool keeps the rule's consistentHash
     * (its cluster a ring, its routes the hash policy), one that sets a loadBalancer has its own.
     */
    @Test
    void aSubsetsTrafficPolicyOverridesTheRulesFieldByField() throws Exception {
        MeshModel sticky = withRule("""
                trafficPolicy:
                  loadBalancer:
                    consistentHash: {useSourceIp: true}
                  connectionPool:
                    http: {maxRequestsPerConnection: 7}
                subsets:
                - name: v1
                  labels: {version: v1}
                  trafficPolicy:
                    connectionPool:
                      http: {maxRequestsPerConnection: 3}
                - name: v2
                  labels: {version: v2}
                  trafficPolicy:
                    loadBalancer: {simple: ROUND_ROBIN}
                """);
        ProxyResources r = sleepsSidecar(sticky);
        Cluster v1 = r.cluster("outbound|8000|v1|httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals(Cluster.LbPolicy.RING_HASH, v1.getLbPolicy(), "the rule's consistentHash, kept");
        assertEquals(3, TrafficPoliciesTest.typed(v1).getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue(),
                "the subset's own connection pool");
        Cluster v2 = r.cluster("outbound|8000|v2|httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, v2.getLbPolicy(), "the subset's own loadBalancer");
        assertEquals(7, TrafficPoliciesTest.typed(v2).getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue(),
                "the rule's connection pool, kept");
        String fqdn = "httpbin.default.svc.cluster.local";
        assertTrue(Clusters.hashPolicy(sticky, fqdn, "v1", 8000).orElseThrow().getConnectionProperties().getSourceIp());
        // HashForHTTPDestination (pilot/pkg/networking/core/route/route.go) takes a subset's consistentHash only when it
        // has one: a ROUND_ROBIN subset's route keeps the rule's hash policy, which its non-ring cluster never uses.
        assertTrue(Clusters.hashPolicy(sticky, fqdn, "v2", 8000).orElseThrow().getConnectionProperties().getSourceIp());
        assertTrue(Clusters.hashPolicy(sticky, fqdn, "", 8000).orElseThrow().getConnectionProperties().getSourceIp());
    }

    /** The seed with one DestinationRule for httpbin, {@code spec} its spec's fields below {@code host}. */
    private static MeshModel withRule(String spec) {
        var objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1beta1
                kind: DestinationRule
                metadata: {name: sticky, namespace: default}
                spec:
                  host: httpbin.default.svc.cluster.local
                """ + spec.indent(2)));
        return MeshModel.of(objects);
    }

    /** What sleep's sidecar gets. */
    private static ProxyResources sleepsSidecar(MeshModel model) {
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    private static ProxyResources translateWith(String consistentHash) {
        return sleepsSidecar(withRule("trafficPolicy:\n  loadBalancer:\n    consistentHash: " + consistentHash + "\n"));
    }

    private static Cluster clusterWith(String consistentHash) {
        return translateWith(consistentHash).cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow();
    }

    /**
     * Istio's ApplyRingHashLoadBalancer (pilot/pkg/networking/core/cluster_traffic_policy.go): ringHash.minimumRingSize
     * when set (0: no ring config), else the deprecated minimumRingSize, else 1024, always written.
     */
    @Test
    void ringSizesAsIstioWritesThem() {
        Cluster ring = clusterWith("{httpHeaderName: x-user, ringHash: {minimumRingSize: 4096}}");
        assertEquals(Cluster.LbPolicy.RING_HASH, ring.getLbPolicy());
        assertEquals(4096, ring.getRingHashLbConfig().getMinimumRingSize().getValue());
        assertFalse(clusterWith("{httpHeaderName: x-user, ringHash: {minimumRingSize: 0}}").hasRingHashLbConfig());
        assertFalse(clusterWith("{httpHeaderName: x-user, ringHash: {}}").hasRingHashLbConfig());
        assertEquals(2048, clusterWith("{httpHeaderName: x-user, minimumRingSize: 2048}").getRingHashLbConfig()
                .getMinimumRingSize().getValue());
        assertEquals(1024, clusterWith("{httpHeaderName: x-user}").getRingHashLbConfig().getMinimumRingSize().getValue());
        ProxyResources big = translateWith("{httpHeaderName: x-user, ringHash: {minimumRingSize: 9000000}}");
        assertEquals(8388608, big.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow()
                .getRingHashLbConfig().getMinimumRingSize().getValue(), "Envoy's bound: above it the proxy refuses the cluster");
        assertTrue(big.warnings().stream().anyMatch(w -> w.resource().equals("DestinationRule default/sticky")
                && w.message().equals("consistentHash.ringHash.minimumRingSize 9000000 is above Envoy's limit 8388608; "
                        + "8388608 used")), big.warnings().toString());
    }

    /**
     * Istio's ApplyRingHashLoadBalancer (pilot/pkg/networking/core/cluster_traffic_policy.go): maglev is lb_policy
     * MAGLEV, with maglev_lb_config.table_size when tableSize is not 0; the route hashes as for a ring. 1, which Istio's
     * validation takes and Envoy's table cannot use, is warned and left out.
     */
    @Test
    void maglevAsIstioWritesIt() {
        ProxyResources r = translateWith("{httpHeaderName: x-user, maglev: {tableSize: 1009}}");
        Cluster maglev = r.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals(Cluster.LbPolicy.MAGLEV, maglev.getLbPolicy());
        assertEquals(1009, maglev.getMaglevLbConfig().getTableSize().getValue());
        assertFalse(maglev.hasRingHashLbConfig());
        assertEquals("x-user", r.route("8000").orElseThrow().getVirtualHosts(0).getRoutes(0).getRoute().getHashPolicy(0)
                .getHeader().getHeaderName());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("maglev")), r.warnings().toString());
        Golden.assertMatches("sidecar-sleep-maglev", r.toJson());

        Cluster defaults = clusterWith("{httpHeaderName: x-user, maglev: {}}");
        assertEquals(Cluster.LbPolicy.MAGLEV, defaults.getLbPolicy());
        assertFalse(defaults.hasMaglevLbConfig(), "0: Envoy's default size");

        ProxyResources one = translateWith("{httpHeaderName: x-user, maglev: {tableSize: 1}}");
        Cluster refused = one.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals(Cluster.LbPolicy.MAGLEV, refused.getLbPolicy());
        assertFalse(refused.hasMaglevLbConfig());
        assertTrue(one.warnings().stream().anyMatch(w -> w.resource().equals("DestinationRule default/sticky")
                && w.message().equals("consistentHash.maglev.tableSize 1 is no table Envoy can build (a prime from 2 to "
                        + "5000011); Envoy's default 65537 used")), one.warnings().toString());
    }

    private static RouteAction routeWith(String consistentHash) {
        ProxyResources r = translateWith(consistentHash);
        assertEquals(Cluster.LbPolicy.RING_HASH,
                r.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow().getLbPolicy());
        return r.route("8000").orElseThrow().getVirtualHosts(0).getRoutes(0).getRoute();
    }

    /** Istio's ConsistentHashToHashPolicy (pilot/pkg/networking/core/route/route.go): name, path, ttl and attributes as written. */
    @Test
    void httpCookieIsTheRoutesCookieHashPolicy() {
        RouteAction a = routeWith("{httpCookie: {name: user, path: /app, ttl: 3600s, attributes: [{name: SameSite, value: Lax},"
                + " {name: Secure}]}}");
        assertEquals(1, a.getHashPolicyCount());
        assertEquals(RouteAction.HashPolicy.Cookie.newBuilder().setName("user").setPath("/app")
                .setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(3600))
                .addAttributes(RouteAction.HashPolicy.CookieAttribute.newBuilder().setName("SameSite").setValue("Lax"))
                .addAttributes(RouteAction.HashPolicy.CookieAttribute.newBuilder().setName("Secure"))
                .build(), a.getHashPolicy(0).getCookie());
        RouteAction.HashPolicy.Cookie noTtl = routeWith("{httpCookie: {name: user}}").getHashPolicy(0).getCookie();
        assertEquals("user", noTtl.getName());
        assertFalse(noTtl.hasTtl(), "no ttl stays none: Envoy then makes no cookie up");
        assertTrue(routeWith("{httpCookie: {name: user, ttl: 0s}}").getHashPolicy(0).getCookie().hasTtl(),
                "0s is a ttl: a session cookie");
    }

    @Test
    void httpQueryParameterNameIsTheRoutesQueryParameterHashPolicy() {
        assertEquals("user", routeWith("{httpQueryParameterName: user}").getHashPolicy(0).getQueryParameter().getName());
    }

    @Test
    void gatewayHostsAndWildcardServers() {
        ProxyResources r = Translator.create().translate(model, Fixtures.gateway(model));
        List<VirtualHost> vhosts = r.route("http.80").orElseThrow().getVirtualHostsList();
        assertEquals(2, vhosts.size(), vhosts.toString());
        VirtualHost example = vhosts.stream().filter(v -> v.getName().equals("httpbin.example.com:80"))
                .findFirst().orElseThrow();
        assertEquals(List.of("httpbin.example.com", "httpbin.example.com:*"), example.getDomainsList());
        assertTrue(vhosts.stream().anyMatch(v -> v.getName().equals("*:80")));
    }
}
