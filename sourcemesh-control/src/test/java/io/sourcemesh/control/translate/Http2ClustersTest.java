package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which clusters speak HTTP/2, as Istio's cluster builder decides (pilot/pkg/networking/core/cluster_builder.go
 * setUpstreamProtocol and setH2Options, cluster_traffic_policy.go applyConnectionPool and applyH2Upgrade): an http2,
 * grpc or grpc-web service port's outbound and inbound clusters; connectionPool.http.h2UpgradePolicy UPGRADE, or the
 * mesh's h2UpgradePolicy for an HTTP port unless the rule says DO_NOT_UPGRADE; maxConcurrentStreams on the HTTP/2
 * options a port's protocol gave (not an upgrade's); ALPN h2 on an HTTP/2 cluster's SIMPLE TLS (cluster_tls.go).
 */
class Http2ClustersTest {
    private static final String GRPC = "outbound|9000||echo.default.svc.cluster.local";
    private static final String HTTP = "outbound|8000||echo.default.svc.cluster.local";
    private static final String TCP = "outbound|7000||echo.default.svc.cluster.local";

    /** Service echo on the httpbin pods: grpc-echo 9000, http-web 8000, tcp-raw 7000; a rule on it with {@code trafficPolicy}. */
    private static ProxyResources translate(String trafficPolicy, String mesh, String proxy) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed("seed/http-demo.yaml"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Service
                metadata: {name: echo, namespace: default}
                spec:
                  clusterIP: 127.96.0.50
                  ports:
                  - {name: grpc-echo, port: 9000, targetPort: 9000}
                  - {name: http-web, port: 8000, targetPort: 8001}
                  - {name: tcp-raw, port: 7000, targetPort: 7000}
                  selector: {app: httpbin}
                """));
        if (!trafficPolicy.isEmpty()) {
            objects.add(Fixtures.parseYaml("""
                    apiVersion: networking.istio.io/v1
                    kind: DestinationRule
                    metadata: {name: echo, namespace: default}
                    spec:
                      host: echo
                      trafficPolicy: %s
                    """.formatted(trafficPolicy)));
        }
        if (!mesh.isEmpty()) {
            objects.add(Fixtures.parseYaml("""
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: istio, namespace: istio-system}
                    data:
                      mesh: "%s"
                    """.formatted(mesh)));
        }
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        return Translator.create().translate(model, Fixtures.sidecar(model, proxy));
    }

    private static HttpProtocolOptions options(ProxyResources r, String cluster) throws Exception {
        return TrafficPoliciesTest.typed(r.cluster(cluster).orElseThrow());
    }

    private static boolean http2(ProxyResources r, String cluster) throws Exception {
        HttpProtocolOptions o = options(r, cluster);
        return o != null && o.getExplicitHttpConfig().hasHttp2ProtocolOptions();
    }

    @Test
    void grpcAndHttp2PortsAreHttp2ClustersOutboundAndInbound() throws Exception {
        ProxyResources sleep = translate("", "", "sleep");
        assertEquals(io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.getDefaultInstance(),
                options(sleep, GRPC).getExplicitHttpConfig().getHttp2ProtocolOptions());
        assertNull(options(sleep, HTTP), "an HTTP/1.1 port's cluster has no options without a connection pool");
        assertNull(options(sleep, TCP));
        // The seed's ingress gateway Service names its port 80 http2.
        assertTrue(http2(sleep, "outbound|80||istio-ingressgateway.istio-system.svc.cluster.local"));
        ProxyResources httpbin = translate("", "", "httpbin");
        assertTrue(http2(httpbin, "inbound|9000||"), "the app behind a grpc port is spoken to in HTTP/2");
        assertNull(options(httpbin, "inbound|8001||"));
        assertNull(options(httpbin, "inbound|7000||"));
    }

    @Test
    void maxConcurrentStreamsGoesOnAPortsHttp2Options() throws Exception {
        ProxyResources r = translate("{connectionPool: {http: {maxConcurrentStreams: 7}}}", "", "sleep");
        assertEquals(7, options(r, GRPC).getExplicitHttpConfig().getHttp2ProtocolOptions().getMaxConcurrentStreams().getValue());
        // Istio's applyConnectionPool: the common options, empty, and no HTTP/2 options on an HTTP/1.1 cluster.
        HttpProtocolOptions http = options(r, HTTP);
        assertTrue(http.hasCommonHttpProtocolOptions());
        assertEquals(io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.getDefaultInstance(), http.getCommonHttpProtocolOptions());
        assertTrue(http.getExplicitHttpConfig().hasHttpProtocolOptions());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("maxConcurrentStreams")), r.warnings().toString());
    }

    /** Istio's applyConnectionPool: http2KeepAlive as the HTTP/2 options' connection_keepalive, where the cluster has them. */
    @Test
    void http2KeepAliveGoesOnAPortsHttp2Options() throws Exception {
        ProxyResources r = translate("{connectionPool: {http: {http2KeepAlive: {interval: 30s, timeout: 5s}}}}", "", "sleep");
        io.envoyproxy.envoy.config.core.v3.KeepaliveSettings k = options(r, GRPC).getExplicitHttpConfig()
                .getHttp2ProtocolOptions().getConnectionKeepalive();
        assertEquals(30, k.getInterval().getSeconds());
        assertEquals(5, k.getTimeout().getSeconds());
        assertFalse(k.hasIntervalJitter(), "Istio sets none: Envoy's 15%");
        HttpProtocolOptions http = options(r, HTTP);
        assertTrue(http.hasCommonHttpProtocolOptions(), "Istio's condition writes the common options, empty");
        assertFalse(http.getExplicitHttpConfig().hasHttp2ProtocolOptions(), "an HTTP/1.1 cluster sends no PING");
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void h2UpgradePolicyUpgradeMakesAnyPortsClusterHttp2() throws Exception {
        ProxyResources r = translate("{connectionPool: {http: {h2UpgradePolicy: UPGRADE, maxConcurrentStreams: 7}}}", "", "sleep");
        assertTrue(http2(r, HTTP));
        assertTrue(http2(r, TCP), "UPGRADE: the user says the port is HTTP (Istio's shouldH2Upgrade)");
        // The upgrade comes after the connection pool, with fresh options: Istio's setH2Options.
        assertFalse(options(r, HTTP).getExplicitHttpConfig().getHttp2ProtocolOptions().hasMaxConcurrentStreams());
        assertFalse(options(r, GRPC).getExplicitHttpConfig().getHttp2ProtocolOptions().hasMaxConcurrentStreams());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("h2UpgradePolicy")), r.warnings().toString());
    }

    @Test
    void theMeshsH2UpgradePolicyUpgradesHttpPortsUnlessTheRuleSaysNot() throws Exception {
        ProxyResources upgraded = translate("", "h2UpgradePolicy: UPGRADE", "sleep");
        assertTrue(http2(upgraded, HTTP));
        assertFalse(http2(upgraded, TCP), "not a TCP port");
        assertTrue(http2(upgraded, "outbound|80||sleep.default.svc.cluster.local"));
        ProxyResources kept = translate("{connectionPool: {http: {h2UpgradePolicy: DO_NOT_UPGRADE}}}", "h2UpgradePolicy: UPGRADE",
                "sleep");
        assertFalse(http2(kept, HTTP));
        assertTrue(http2(kept, GRPC), "DO_NOT_UPGRADE keeps a grpc port's HTTP/2");
        ProxyResources none = translate("", "h2UpgradePolicy: DO_NOT_UPGRADE", "sleep");
        assertFalse(http2(none, HTTP));
    }

    @Test
    void anHttp2ClustersTlsOffersH2ByAlpn() throws Exception {
        ProxyResources r = translate("{tls: {mode: SIMPLE, insecureSkipVerify: true}}", "", "sleep");
        assertEquals(List.of("h2"), tls(r, GRPC).getCommonTlsContext().getAlpnProtocolsList());
        assertEquals(List.of(), tls(r, HTTP).getCommonTlsContext().getAlpnProtocolsList());
    }

    private static UpstreamTlsContext tls(ProxyResources r, String cluster) throws Exception {
        Cluster c = r.cluster(cluster).orElseThrow();
        return c.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    }
}
