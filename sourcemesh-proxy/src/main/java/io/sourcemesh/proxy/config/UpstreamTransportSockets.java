package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import com.google.protobuf.Descriptors.Descriptor;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import java.util.Optional;

/**
 * A cluster's {@code transport_socket}: raw_buffer (plain TCP), or
 * {@code envoy.transport_sockets.upstream_proxy_protocol} wrapping raw_buffer. Upstream TLS is
 * refused: a cluster that asked for it must not silently speak plain text.
 */
final class UpstreamTransportSockets {
    private UpstreamTransportSockets() {}

    static Optional<ClusterConfig.UpstreamProxyProtocol> proxyProtocol(TransportSocket socket, String path) {
        only(socket, path, "name", "typed_config");
        Protos.requireName(socket.getName(), path);
        Descriptor type = Protos.extension(socket.getName(), socket.hasTypedConfig(), socket.getTypedConfig(), path);
        String config = at(path, "typed_config");
        Extensions.require(Extensions.Category.TRANSPORT_SOCKET, type, config);
        if (type.equals(RawBuffer.getDescriptor())) {
            only(Protos.unpack(socket.hasTypedConfig(), socket.getTypedConfig(), RawBuffer.getDefaultInstance(), path), config);
            return Optional.empty();
        }
        if (!type.equals(ProxyProtocolUpstreamTransport.getDescriptor())) {
            throw new ConfigException(config, EnvoyTypes.typeUrl(type) + " is not supported as an upstream transport socket"
                    + " (raw_buffer and upstream_proxy_protocol are)");
        }
        ProxyProtocolUpstreamTransport pp = Protos.unpack(socket.hasTypedConfig(), socket.getTypedConfig(),
                ProxyProtocolUpstreamTransport.getDefaultInstance(), path);
        only(pp, config, "config", "transport_socket");
        // Envoy's proto validation: the wrapped socket is required.
        if (!pp.hasTransportSocket()) {
            throw new ConfigException(at(config, "transport_socket"), "is required (raw_buffer)");
        }
        if (proxyProtocol(pp.getTransportSocket(), at(config, "transport_socket")).isPresent()) {
            throw new ConfigException(at(config, "transport_socket"), "cannot wrap another upstream_proxy_protocol");
        }
        only(pp.getConfig(), at(config, "config"), "version");
        return Optional.of(switch (pp.getConfig().getVersion()) {
            case V1 -> ClusterConfig.UpstreamProxyProtocol.V1;
            case V2 -> ClusterConfig.UpstreamProxyProtocol.V2;
            default -> throw new ConfigException(at(config, "config.version"), pp.getConfig().getVersion() + " is not supported");
        });
    }

}
