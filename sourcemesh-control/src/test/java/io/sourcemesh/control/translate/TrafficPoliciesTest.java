package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * connectionPool on the outbound clusters, as Istio's applyConnectionPool (pilot/pkg/networking/core/cluster_traffic_policy.go)
 * writes it: the HTTP settings in typed_extension_protocol_options' HttpProtocolOptions (cluster_builder.go, clusterWrapper.build),
 * never the deprecated cluster fields; tcp.maxConnectionDuration as its common_http_protocol_options.max_connection_duration,
 * on the service's cluster and its subsets'; under 1ms (Istio's ValidateDuration refuses it) not sent, and named.
 */
class TrafficPoliciesTest {
    private static final String HTTPBIN = "outbound|8000||httpbin.default.svc.cluster.local";
    private static final String HTTPBIN_V1 = "outbound|8000|v1|httpbin.default.svc.cluster.local";

    private static ProxyResources translate(String maxConnectionDuration) {
        return translatePool("{tcp: {maxConnectionDuration: " + maxConnectionDuration + "}}");
    }

    /** The cluster's typed HttpProtocolOptions, or null without them. */
    static HttpProtocolOptions typed(Cluster c) throws Exception {
        Any any = c.getTypedExtensionProtocolOptionsMap().get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
        if (any != null) {
            assertEquals("type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", any.getTypeUrl());
        }
        assertEquals(any == null ? 0 : 1, c.getTypedExtensionProtocolOptionsCount(), "Istio writes one key");
        return any == null ? null : any.unpack(HttpProtocolOptions.class);
    }

    private static ProxyResources translatePool(String connectionPool) {
        ObjectNode rule = Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    connectionPool: %s
                  subsets:
                  - name: v1
                    labels: {version: v1}
                """.formatted(connectionPool));
        List<ObjectNode> objects = new java.util.ArrayList<>(Fixtures.seed("seed/http-demo.yaml"));
        objects.add(rule);
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    @Test
    void maxConnectionDurationIsTheHttpClustersMaxConnectionDuration() throws Exception {
        ProxyResources r = translate("90s");
        for (String name : List.of(HTTPBIN, HTTPBIN_V1)) {
            Cluster c = r.cluster(name).orElseThrow();
            assertFalse(c.hasCommonHttpProtocolOptions(), "not the deprecated field");
            var options = typed(c).getCommonHttpProtocolOptions();
            assertEquals(90, options.getMaxConnectionDuration().getSeconds(), name);
            assertFalse(options.hasIdleTimeout(), name);
            // clusterWrapper.build: the upstream protocol is required, explicit HTTP/1.1 unless set otherwise
            assertTrue(typed(c).getExplicitHttpConfig().hasHttpProtocolOptions(), name);
        }
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("maxConnectionDuration")), r.warnings().toString());
    }

    @Test
    void underAMillisecondItIsNotSentAndIsNamed() throws Exception {
        ProxyResources r = translate("0.5ms");
        assertFalse(r.cluster(HTTPBIN).orElseThrow().hasCommonHttpProtocolOptions());
        assertNull(typed(r.cluster(HTTPBIN).orElseThrow()));
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains(
                "connectionPool.tcp.maxConnectionDuration 0.5ms is not a duration of at least 1ms")), r.warnings().toString());
    }

    @Test
    void httpSettingsAreTheTypedOptionsCommonOnes() throws Exception {
        ProxyResources r = translatePool("{http: {idleTimeout: 30s, maxRequestsPerConnection: 5}}");
        HttpProtocolOptions options = typed(r.cluster(HTTPBIN).orElseThrow());
        assertEquals(30, options.getCommonHttpProtocolOptions().getIdleTimeout().getSeconds());
        assertEquals(5, options.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue());
        assertEquals(HttpProtocolOptions.UpstreamProtocolOptionsCase.EXPLICIT_HTTP_CONFIG, options.getUpstreamProtocolOptionsCase());
        // Without a connectionPool's HTTP settings Istio writes no options (the circuit breakers only).
        assertNull(typed(r.cluster("outbound|80||sleep.default.svc.cluster.local").orElseThrow()));
    }

    /** Istio's applyConnectionPool: useClientProtocol → setUseDownstreamProtocol (HTTP/1 and HTTP/2 options, both empty). */
    @Test
    void useClientProtocolIsTheDownstreamProtocol() throws Exception {
        ProxyResources r = translatePool("{http: {useClientProtocol: true}}");
        HttpProtocolOptions options = typed(r.cluster(HTTPBIN).orElseThrow());
        assertEquals(HttpProtocolOptions.UseDownstreamHttpConfig.newBuilder()
                .setHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance())
                .setHttp2ProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.getDefaultInstance()).build(),
                options.getUseDownstreamProtocolConfig());
        assertFalse(options.hasCommonHttpProtocolOptions());
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("useClientProtocol")), r.warnings().toString());
    }

    /** cluster_builder.go's passthroughHttpProtocolOptions on PassthroughCluster and InboundPassthroughCluster. */
    @Test
    void passthroughClustersCarryIstiosPassthroughOptions() throws Exception {
        ProxyResources r = translate("90s");
        for (String name : List.of("PassthroughCluster", "InboundPassthroughClusterIpv4")) {
            HttpProtocolOptions options = typed(r.cluster(name).orElseThrow());
            assertEquals(300, options.getCommonHttpProtocolOptions().getIdleTimeout().getSeconds(), name);
            assertTrue(options.getUseDownstreamProtocolConfig().hasHttpProtocolOptions(), name);
            assertTrue(options.getUseDownstreamProtocolConfig().hasHttp2ProtocolOptions(), name);
        }
    }

    /**
     * tcp.tcpKeepalive as Istio's setKeepAliveSettings (pilot/pkg/networking/core/cluster.go) writes it: an empty one is
     * SO_KEEPALIVE alone; a time or interval Istio would write as 0 seconds (under a second), or one or a probe count
     * beyond the kernel's bound, would fail every upstream connection: left out, and named.
     */
    @Test
    void tcpKeepalive() {
        ProxyResources empty = translatePool("{tcp: {tcpKeepalive: {}}}");
        for (String name : List.of(HTTPBIN, HTTPBIN_V1)) {
            Cluster c = empty.cluster(name).orElseThrow();
            assertTrue(c.getUpstreamConnectionOptions().hasTcpKeepalive(), name);
            assertEquals(io.envoyproxy.envoy.config.core.v3.TcpKeepalive.getDefaultInstance(),
                    c.getUpstreamConnectionOptions().getTcpKeepalive());
        }
        assertTrue(empty.warnings().isEmpty(), empty.warnings().toString());
        ProxyResources odd = translatePool("{tcp: {tcpKeepalive: {probes: 200, time: 500ms, interval: 10h}}}");
        Cluster c = odd.cluster(HTTPBIN).orElseThrow();
        assertEquals(io.envoyproxy.envoy.config.core.v3.TcpKeepalive.getDefaultInstance(), c.getUpstreamConnectionOptions().getTcpKeepalive());
        List<String> warnings = odd.warnings().stream().map(TranslationWarning::message).distinct().toList();
        assertEquals(List.of("connectionPool.tcp.tcpKeepalive.probes 200 is above the kernel's bound 127, which would fail every "
                        + "upstream connection; the kernel's default is left",
                "connectionPool.tcp.tcpKeepalive.time 500ms is under a second: Istio writes 0 seconds, which the kernel refuses; "
                        + "the kernel's default is left",
                "connectionPool.tcp.tcpKeepalive.interval 10h is above the kernel's bound 32767s, which would fail every upstream "
                        + "connection; the kernel's default is left"), warnings);
        assertFalse(translatePool("{tcp: {maxConnections: 3}}").cluster(HTTPBIN).orElseThrow().hasUpstreamConnectionOptions());
    }
}
