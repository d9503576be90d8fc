package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import org.junit.jupiter.api.Test;

/** DestinationRule trafficPolicy.proxyProtocol → upstream_proxy_protocol over raw_buffer (Istio's TestApplyUpstreamProxyProtocol, no-TLS case). */
class UpstreamProxyProtocolTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/dr-proxy-protocol.yaml"));

    @Test
    void sidecarClustersWrapRawBufferInUpstreamProxyProtocol() throws Exception {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("sidecar-dr-proxy-protocol", r.toJson());
        assertEquals(ProxyProtocolConfig.Version.V1, version(r.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow()),
                "no version is V1, Istio's enum default");
        assertEquals(ProxyProtocolConfig.Version.V2, version(r.cluster("outbound|8000|v1|httpbin.default.svc.cluster.local").orElseThrow()),
                "a subset's own proxyProtocol wins");
        assertEquals(ProxyProtocolConfig.Version.V1, version(r.cluster("outbound|8000|v2|httpbin.default.svc.cluster.local").orElseThrow()),
                "a subset policy without proxyProtocol inherits the rule's");
        assertFalse(r.cluster("outbound|80||sleep.default.svc.cluster.local").orElseThrow().hasTransportSocket(),
                "services without the rule stay plain");
    }

    @Test
    void gatewayClustersGetItToo() throws Exception {
        ProxyResources r = Translator.create().translate(model, Fixtures.gateway(model));
        assertEquals(ProxyProtocolConfig.Version.V2, version(r.cluster("outbound|8000|v1|httpbin.default.svc.cluster.local").orElseThrow()));
    }

    private static ProxyProtocolConfig.Version version(Cluster c) throws Exception {
        assertEquals("envoy.transport_sockets.upstream_proxy_protocol", c.getTransportSocket().getName());
        ProxyProtocolUpstreamTransport pp = c.getTransportSocket().getTypedConfig().unpack(ProxyProtocolUpstreamTransport.class);
        assertEquals("raw_buffer", pp.getTransportSocket().getName());
        pp.getTransportSocket().getTypedConfig().unpack(RawBuffer.class);
        return pp.getConfig().getVersion();
    }
}
