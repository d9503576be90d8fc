package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;

/**
 * DestinationRule {@code trafficPolicy.proxyProtocol} → the cluster's transport sockets, as Istio's
 * applyUpstreamProxyProtocol (cluster_traffic_policy.go) builds them: the upstream_proxy_protocol socket wrapping
 * the cluster's TLS socket and each of its transport_socket_matches' sockets (auto mTLS), {@link UpstreamTls}
 * applied first; with neither, Istio's raw_buffer socket (named "raw_buffer").
 */
final class UpstreamProxyProtocol {
    static final String SOCKET_NAME = "envoy.transport_sockets.upstream_proxy_protocol";
    private static final String RAW_BUFFER = "raw_buffer";

    private UpstreamProxyProtocol() {}

    /** Sets the transport socket when {@code proxyProtocol} is present; a missing version is V1 (Istio's enum default). */
    static void apply(Cluster.Builder cluster, JsonNode proxyProtocol) {
        if (proxyProtocol == null || proxyProtocol.isNull() || proxyProtocol.isMissingNode()) {
            return;
        }
        ProxyProtocolConfig.Version version = switch (proxyProtocol.path("version").asText("V1")) {
            case "V2" -> ProxyProtocolConfig.Version.V2;
            case "V1", "" -> ProxyProtocolConfig.Version.V1;
            // the DestinationRule schema admits only V1 and V2; anything else reaching here is a bug
            default -> throw new IllegalArgumentException("proxyProtocol.version: " + proxyProtocol.path("version").asText());
        };
        if (!cluster.hasTransportSocket() && cluster.getTransportSocketMatchesCount() == 0) {
            cluster.setTransportSocket(wrap(version, TransportSocket.newBuilder().setName(RAW_BUFFER)
                    .setTypedConfig(EnvoyTypes.pack(RawBuffer.getDefaultInstance())).build()));
            return;
        }
        if (cluster.hasTransportSocket()) {
            cluster.setTransportSocket(wrap(version, cluster.getTransportSocket()));
        }
        for (int i = 0; i < cluster.getTransportSocketMatchesCount(); i++) {
            Cluster.TransportSocketMatch match = cluster.getTransportSocketMatches(i);
            cluster.setTransportSocketMatches(i, match.toBuilder().setTransportSocket(wrap(version, match.getTransportSocket())));
        }
    }

    private static TransportSocket wrap(ProxyProtocolConfig.Version version, TransportSocket inner) {
        return TransportSocket.newBuilder().setName(SOCKET_NAME)
                .setTypedConfig(EnvoyTypes.pack(ProxyProtocolUpstreamTransport.newBuilder()
                        .setConfig(ProxyProtocolConfig.newBuilder().setVersion(version))
                        .setTransportSocket(inner).build())).build();
    }
}
