package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import org.junit.jupiter.api.Test;

/**
 * A Sidecar's inboundConnectionPool and its ingress listeners' connectionPool on the inbound clusters (Istio's
 * buildInboundCluster with SidecarScope.InboundConnectionPoolForPort): the listener's of the port over the Sidecar's,
 * over the DestinationRule's of the port's service, Istio's defaults (limits at max uint32) without any; the outbound
 * clusters keep theirs.
 */
class SidecarInboundConnectionPoolTest {
    private static final long MAX = 4294967295L;
    private static final String OUTBOUND = "outbound|8000||httpbin.default.svc.cluster.local";
    private static final String SIDECAR = """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: httpbin, namespace: default}
            spec:
              workloadSelector: {labels: {app: httpbin}}
              inboundConnectionPool:
                tcp: {maxConnections: 7, connectTimeout: 3s, tcpKeepalive: {probes: 4, time: 60s, interval: 10s}}
                http: {http1MaxPendingRequests: 5, http2MaxRequests: 6, maxRetries: 2, maxRequestsPerConnection: 9,
                       idleTimeout: 30s}
            """;

    private ProxyResources translate(String sidecar) {
        var objects = Fixtures.seed();
        if (sidecar != null) {
            objects.add(Fixtures.parseYaml(sidecar));
        }
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
    }

    private static CircuitBreakers.Thresholds thresholds(Cluster c) {
        assertEquals(1, c.getCircuitBreakers().getThresholdsCount(), c.getName());
        return c.getCircuitBreakers().getThresholds(0);
    }

    @Test
    void theSidecarsPoolBoundsEveryInboundCluster() throws Exception {
        ProxyResources r = translate(SIDECAR);
        Golden.assertMatches("sidecar-inbound-connection-pool", r.toJson());
        Cluster c = r.cluster("inbound|8000||").orElseThrow();
        CircuitBreakers.Thresholds t = thresholds(c);
        assertEquals(7, t.getMaxConnections().getValue());
        assertEquals(5, t.getMaxPendingRequests().getValue());
        assertEquals(6, t.getMaxRequests().getValue());
        assertEquals(2, t.getMaxRetries().getValue());
        assertEquals(3, c.getConnectTimeout().getSeconds());
        assertEquals(4, c.getUpstreamConnectionOptions().getTcpKeepalive().getKeepaliveProbes().getValue());
        assertEquals(60, c.getUpstreamConnectionOptions().getTcpKeepalive().getKeepaliveTime().getValue());
        assertEquals(10, c.getUpstreamConnectionOptions().getTcpKeepalive().getKeepaliveInterval().getValue());
        HttpProtocolOptions options = HttpOptions.of(c.toBuilder()).build();
        assertEquals(9, options.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue());
        assertEquals(30, options.getCommonHttpProtocolOptions().getIdleTimeout().getSeconds());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("inboundConnectionPool")), r.warnings().toString());
        // Not the outbound side: no DestinationRule, so Istio's defaults there.
        CircuitBreakers.Thresholds out = thresholds(r.cluster(OUTBOUND).orElseThrow());
        assertEquals(MAX, Integer.toUnsignedLong(out.getMaxConnections().getValue()));
        assertEquals(MAX, Integer.toUnsignedLong(out.getMaxPendingRequests().getValue()));
    }

    @Test
    void anIngressListenersPoolWinsOnItsPort() {
        ProxyResources r = translate(SIDECAR + """
                  ingress:
                  - port: {number: 9080, protocol: HTTP, name: http-alt}
                    defaultEndpoint: 127.0.0.1:8000
                    connectionPool: {tcp: {maxConnections: 1}}
                  - port: {number: 9090, protocol: TCP, name: tcp}
                    defaultEndpoint: 127.0.0.1:8000
                """);
        CircuitBreakers.Thresholds own = thresholds(r.cluster("inbound|9080||").orElseThrow());
        assertEquals(1, own.getMaxConnections().getValue());
        assertEquals(MAX, Integer.toUnsignedLong(own.getMaxPendingRequests().getValue()),
                "the listener's pool replaces the Sidecar's whole, as Istio");
        assertEquals(Clusters.inbound(9080, false).getConnectTimeout(), r.cluster("inbound|9080||").orElseThrow().getConnectTimeout(),
                "nor its connectTimeout");
        CircuitBreakers.Thresholds shared = thresholds(r.cluster("inbound|9090||").orElseThrow());
        assertEquals(7, shared.getMaxConnections().getValue(), "no pool of its own: the Sidecar's");
        assertEquals(5, shared.getMaxPendingRequests().getValue());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("connectionPool")), r.warnings().toString());
    }

    @Test
    void withoutEitherTheInboundClusterTakesIstiosDefaults() {
        for (String sidecar : new String[] {null, SIDECAR.substring(0, SIDECAR.indexOf("  inboundConnectionPool"))}) {
            ProxyResources r = translate(sidecar);
            Cluster c = r.cluster("inbound|8000||").orElseThrow();
            CircuitBreakers.Thresholds t = thresholds(c);
            for (int v : new int[] {t.getMaxConnections().getValue(), t.getMaxPendingRequests().getValue(),
                    t.getMaxRequests().getValue(), t.getMaxRetries().getValue()}) {
                assertEquals(MAX, Integer.toUnsignedLong(v), c.toString());
            }
            assertTrue(t.getTrackRemaining());
            assertFalse(c.hasUpstreamConnectionOptions());
            assertEquals(Clusters.inbound(8000, false).getConnectTimeout(), c.getConnectTimeout());
        }
    }

    /**
     * Istio's buildInboundCluster: "when users specify circuit breakers, they need to be set on the receiver end as well"
     * — the DestinationRule's pool for the service port bounds the server's inbound cluster too, unless the Sidecar
     * sets one (Istio's TestConnectionPoolSettings, "destination rule settings no sidecar").
     */
    @Test
    void theDestinationRulesPoolBoundsTheServersInboundClusterUnlessTheSidecarSetsOne() {
        String rule = """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    connectionPool: {tcp: {maxConnections: 11}, http: {http1MaxPendingRequests: 12}}
                """;
        var objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml(rule));
        MeshModel model = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
        CircuitBreakers.Thresholds in = thresholds(r.cluster("inbound|8000||").orElseThrow());
        assertEquals(11, in.getMaxConnections().getValue());
        assertEquals(12, in.getMaxPendingRequests().getValue());
        assertEquals(11, thresholds(r.cluster(OUTBOUND).orElseThrow()).getMaxConnections().getValue(), "and the client side");

        objects.add(Fixtures.parseYaml(SIDECAR));
        model = MeshModel.of(objects);
        r = Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
        CircuitBreakers.Thresholds sidecar = thresholds(r.cluster("inbound|8000||").orElseThrow());
        assertEquals(7, sidecar.getMaxConnections().getValue(), "the Sidecar's pool replaces the rule's");
        assertEquals(5, sidecar.getMaxPendingRequests().getValue());
    }
}
