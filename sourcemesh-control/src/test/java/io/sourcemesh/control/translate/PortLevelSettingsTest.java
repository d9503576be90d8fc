package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule's portLevelSettings, as Istio resolves them per port (topology/dr-port-level.yaml): the rule's entry
 * for the cluster's port replaces its connectionPool, loadBalancer, outlierDetection and tls whole, nothing inherited
 * (GetPortLevelTrafficPolicy, pilot/pkg/networking/util/util.go; applyDestinationRule, pilot/pkg/networking/core/
 * cluster_builder.go); a subset's policy goes over the port's (MergeSubsetTrafficPolicy), its own entry for the port
 * replacing those four fields whether set or not (MergeTrafficPolicy, pilot/pkg/model/destination_rule.go); and a
 * route's hash policy is the destination port's consistentHash (HashForHTTPDestination, hashForService,
 * pilot/pkg/networking/core/route/route.go).
 */
class PortLevelSettingsTest {
    private static final String WEB = "web.default.svc.cluster.local";
    private static final String CART = "cart.default.svc.cluster.local";
    private static final long UNLIMITED = 0xFFFFFFFFL;

    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/dr-port-level.yaml"));

    private static ProxyResources sleepsSidecar(MeshModel model) {
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    private static Cluster cluster(ProxyResources r, int port, String subset, String fqdn) {
        return r.cluster(Names.outboundCluster(port, subset, fqdn)).orElseThrow();
    }

    private static CircuitBreakers.Thresholds limits(Cluster c) {
        return c.getCircuitBreakers().getThresholds(0);
    }

    @Test
    void aPortsEntryReplacesTheRulesPolicyOnThatPortsClusters() throws Exception {
        ProxyResources r = sleepsSidecar(model);
        Golden.assertMatches("sidecar-dr-port-level", r.toJson());

        Cluster other = cluster(r, 9090, "", WEB);
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, other.getLbPolicy(), "no entry for 9090: the rule's policy");
        assertEquals(100, limits(other).getMaxConnections().getValue());
        assertEquals(7, other.getOutlierDetection().getConsecutive5Xx().getValue());
        assertEquals(UpstreamProxyProtocol.SOCKET_NAME, other.getTransportSocket().getName());

        Cluster port = cluster(r, 8080, "", WEB);
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, port.getLbPolicy(), "the first entry for 8080, not the second");
        assertEquals(1, limits(port).getMaxPendingRequests().getValue());
        assertEquals(UNLIMITED, Integer.toUnsignedLong(limits(port).getMaxConnections().getValue()),
                "the rule's maxConnections is not inherited: Istio's default");
        assertFalse(port.hasOutlierDetection(), "nor its outlierDetection");
        assertFalse(port.hasTransportSocket(), "nor its proxyProtocol (an entry has none)");
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("DestinationRule default/web")
                && w.message().equals("trafficPolicy.proxyProtocol is not applied to port 8080: its portLevelSettings "
                        + "entry replaces the policy there, as in Istio")), r.warnings().toString());
        assertEquals(1, r.warnings().stream().filter(w -> w.message().contains("proxyProtocol")).count(),
                r.warnings().toString());
    }

    @Test
    void aSubsetsPolicyGoesOverThePortsAndItsOwnEntryReplacesIt() {
        ProxyResources r = sleepsSidecar(model);
        // v1 sets only an outlierDetection: over the port's policy on 8080, over the rule's on 9090.
        Cluster v1Port = cluster(r, 8080, "v1", WEB);
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, v1Port.getLbPolicy());
        assertEquals(1, limits(v1Port).getMaxPendingRequests().getValue());
        assertEquals(3, v1Port.getOutlierDetection().getConsecutive5Xx().getValue());
        assertFalse(v1Port.hasTransportSocket());
        Cluster v1Other = cluster(r, 9090, "v1", WEB);
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, v1Other.getLbPolicy());
        assertEquals(100, limits(v1Other).getMaxConnections().getValue());
        assertEquals(3, v1Other.getOutlierDetection().getConsecutive5Xx().getValue());
        // Istio's applyOutlierDetection: the split, consecutiveLocalOriginFailures enforced at 100, the local-origin
        // success rate's enforcement 0.
        for (Cluster v1 : List.of(v1Port, v1Other)) {
            var o = v1.getOutlierDetection();
            assertTrue(o.getSplitExternalLocalOriginErrors());
            assertEquals(4, o.getConsecutiveLocalOriginFailure().getValue());
            assertEquals(100, o.getEnforcingConsecutiveLocalOriginFailure().getValue());
            assertTrue(o.hasEnforcingLocalOriginSuccessRate());
            assertEquals(0, o.getEnforcingLocalOriginSuccessRate().getValue());
        }
        assertFalse(cluster(r, 9090, "", WEB).getOutlierDetection().getSplitExternalLocalOriginErrors(), "the rule's policy has no split");
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("LocalOrigin")), r.warnings().toString());
        assertTrue(v1Other.hasTransportSocket());

        // v2's own loadBalancer over 8080's policy (no v2 entry for 8080).
        Cluster v2Port = cluster(r, 8080, "v2", WEB);
        assertEquals(Cluster.LbPolicy.RANDOM, v2Port.getLbPolicy());
        assertEquals(1, limits(v2Port).getMaxPendingRequests().getValue());
        // v2's entry for 9090 replaces the four fields: its pool; no loadBalancer (not v2's RANDOM, not the rule's
        // ROUND_ROBIN: Istio's default), no outlierDetection; the rule's proxyProtocol stays (not one of the four).
        Cluster v2Other = cluster(r, 9090, "v2", WEB);
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, v2Other.getLbPolicy());
        assertEquals(2, limits(v2Other).getMaxConnections().getValue());
        assertFalse(v2Other.hasOutlierDetection());
        assertTrue(v2Other.hasTransportSocket());

        // Istio's setKeepAliveSettings: the rule's tcpKeepalive on its clusters, and v1's (whose policy has no pool);
        // 8080's entry replaces the pool without one; v2's 9090 entry has its own, time alone, 90.5s as 90 (whole seconds).
        io.envoyproxy.envoy.config.core.v3.TcpKeepalive rules = io.envoyproxy.envoy.config.core.v3.TcpKeepalive.newBuilder()
                .setKeepaliveProbes(Protos.uint(9)).setKeepaliveTime(Protos.uint(7200)).setKeepaliveInterval(Protos.uint(75)).build();
        assertEquals(rules, cluster(r, 9090, "", WEB).getUpstreamConnectionOptions().getTcpKeepalive());
        assertEquals(rules, v1Other.getUpstreamConnectionOptions().getTcpKeepalive());
        assertFalse(cluster(r, 8080, "", WEB).hasUpstreamConnectionOptions(), "8080's entry replaces the pool");
        assertFalse(v2Port.hasUpstreamConnectionOptions());
        assertEquals(io.envoyproxy.envoy.config.core.v3.TcpKeepalive.newBuilder().setKeepaliveTime(Protos.uint(90)).build(),
                v2Other.getUpstreamConnectionOptions().getTcpKeepalive());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("tcpKeepalive")), r.warnings().toString());
    }

    @Test
    void gatewayClustersArePerPortToo() {
        ProxyResources r = Translator.create().translate(model, Fixtures.gateway(model));
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, cluster(r, 8080, "", WEB).getLbPolicy());
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, cluster(r, 9090, "", WEB).getLbPolicy());
        assertEquals(2, limits(cluster(r, 9090, "v2", WEB)).getMaxConnections().getValue());
        assertEquals(Cluster.LbPolicy.RING_HASH, cluster(r, 8080, "", CART).getLbPolicy());
    }

    /** The VirtualService sends /a to cart:8080 (whose entry hashes on x-user) and the rest to cart:9090 (no hash). */
    @Test
    void aRoutesHashPolicyIsItsDestinationPortsConsistentHash() {
        ProxyResources r = sleepsSidecar(model);
        assertEquals(Cluster.LbPolicy.RING_HASH, cluster(r, 8080, "", CART).getLbPolicy());
        assertEquals(1024, cluster(r, 8080, "", CART).getRingHashLbConfig().getMinimumRingSize().getValue());
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, cluster(r, 9090, "", CART).getLbPolicy());
        for (String routeConfig : List.of("8080", "9090")) {
            List<Route> routes = vhost(r, routeConfig, "cart").getRoutesList();
            RouteAction toPort = routes.get(0).getRoute();
            assertEquals(Names.outboundCluster(8080, "", CART), toPort.getCluster());
            assertEquals(List.of(RouteAction.HashPolicy.newBuilder().setHeader(
                    RouteAction.HashPolicy.Header.newBuilder().setHeaderName("x-user")).build()), toPort.getHashPolicyList());
            // Istio's ConvertPolicy(retries, hashPolicy != nil): a hashed route's retries keep to the same host.
            assertEquals(0, toPort.getRetryPolicy().getRetryHostPredicateCount());
            RouteAction toOther = routes.get(1).getRoute();
            assertEquals(Names.outboundCluster(9090, "", CART), toOther.getCluster());
            assertEquals(0, toOther.getHashPolicyCount(), routeConfig);
            assertEquals(1, toOther.getRetryPolicy().getRetryHostPredicateCount());
        }
    }

    /** Without a VirtualService, each port's default route (Istio's hashForService with the service port). */
    @Test
    void aDefaultRoutesHashPolicyIsItsPortsConsistentHash() {
        List<ObjectNode> objects = Fixtures.seed("topology/dr-port-level.yaml").stream()
                .filter(o -> !o.path("kind").asText().equals("VirtualService")).toList();
        ProxyResources r = sleepsSidecar(MeshModel.of(objects));
        assertEquals("x-user", vhost(r, "8080", "cart").getRoutes(0).getRoute().getHashPolicy(0).getHeader().getHeaderName());
        assertEquals(0, vhost(r, "9090", "cart").getRoutes(0).getRoute().getHashPolicyCount());
    }

    /**
     * HashForHTTPDestination's order: the subset's entry for the port, the subset's own, the rule's entry for the port,
     * the rule's — each only when it has a consistentHash, so a subset or entry with a simple loadBalancer leaves the
     * rule's hash on the route (its cluster is not a ring: the proxy does not hash there).
     */
    @Test
    void theHashOrderIsIstios() {
        MeshModel m = withCartRule("""
                trafficPolicy:
                  loadBalancer:
                    consistentHash: {useSourceIp: true}
                  portLevelSettings:
                  - port: {number: 8080}
                    loadBalancer:
                      consistentHash: {httpHeaderName: x-port}
                  - port: {number: 9090}
                    loadBalancer: {simple: ROUND_ROBIN}
                subsets:
                - name: v1
                  labels: {version: v1}
                  trafficPolicy:
                    loadBalancer:
                      consistentHash: {httpQueryParameterName: user}
                    portLevelSettings:
                    - port: {number: 8080}
                      loadBalancer:
                        consistentHash: {httpHeaderName: x-subset-port}
                - name: v2
                  labels: {version: v2}
                  trafficPolicy:
                    loadBalancer: {simple: RANDOM}
                """);
        assertEquals("x-subset-port", Clusters.hashPolicy(m, CART, "v1", 8080).orElseThrow().getHeader().getHeaderName());
        assertEquals("user", Clusters.hashPolicy(m, CART, "v1", 9090).orElseThrow().getQueryParameter().getName());
        assertEquals("x-port", Clusters.hashPolicy(m, CART, "v2", 8080).orElseThrow().getHeader().getHeaderName());
        assertEquals("x-port", Clusters.hashPolicy(m, CART, "", 8080).orElseThrow().getHeader().getHeaderName());
        assertTrue(Clusters.hashPolicy(m, CART, "", 9090).orElseThrow().getConnectionProperties().getSourceIp(),
                "an entry without consistentHash does not hide the rule's");
        assertTrue(Clusters.hashPolicy(m, CART, "", 0).orElseThrow().getConnectionProperties().getSourceIp(),
                "a destination without a port reads no entry");
        ProxyResources r = sleepsSidecar(m);
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, cluster(r, 9090, "", CART).getLbPolicy());
        assertEquals(Cluster.LbPolicy.RANDOM, cluster(r, 9090, "v2", CART).getLbPolicy());
    }

    private static VirtualHost vhost(ProxyResources r, String routeConfig, String service) {
        return r.route(routeConfig).orElseThrow().getVirtualHostsList().stream()
                .filter(v -> v.getName().startsWith(service + ".")).findFirst().orElseThrow();
    }

    /** The topology with its cart DestinationRule's spec (below host) replaced. */
    private static MeshModel withCartRule(String spec) {
        List<ObjectNode> objects = new java.util.ArrayList<>(Fixtures.seed("topology/dr-port-level.yaml").stream()
                .filter(o -> !(o.path("kind").asText().equals("DestinationRule")
                        && o.path("metadata").path("name").asText().equals("cart"))).toList());
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: cart, namespace: default}
                spec:
                  host: cart
                """ + spec.indent(2)));
        return MeshModel.of(objects);
    }
}
