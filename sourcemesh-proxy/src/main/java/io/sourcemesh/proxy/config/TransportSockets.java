package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import com.google.protobuf.Descriptors.Descriptor;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;

/**
 * A {@code transport_socket} → {@link TransportSocketConfig}, resolved through {@link Extensions}
 * within its side (a filter chain's is downstream, a cluster's upstream), so {@code tls} and
 * {@code raw_buffer} (Envoy's deprecated names) mean the right socket on each. A socket that is
 * unknown or of the other side is refused by path.
 */
final class TransportSockets {
    private TransportSockets() {}

    /** A filter chain's {@code transport_socket}: raw_buffer or TLS. */
    static TransportSocketConfig downstream(TransportSocket socket, String path) {
        Descriptor type = resolve(socket, Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET, path);
        String config = at(path, "typed_config");
        if (type.equals(Protos.type(RawBuffer.class))) {
            only(Protos.unpack(socket.hasTypedConfig(), socket.getTypedConfig(), RawBuffer.getDefaultInstance(), path), config);
            return TransportSocketConfig.RAW_BUFFER;
        }
        if (type.equals(Protos.type(DownstreamTlsContext.class))) {
            if (!socket.hasTypedConfig()) {
                throw new ConfigException(config, "is required for " + socket.getName());
            }
            DownstreamTlsContext tls = Protos.unpack(true, socket.getTypedConfig(), DownstreamTlsContext.getDefaultInstance(), path);
            return new TransportSocketConfig.DownstreamTls(TlsTranslator.downstream(tls, config));
        }
        throw new ConfigException(config, EnvoyTypes.typeUrl(type) + " is not supported as a downstream transport socket");
    }

    /** A cluster's {@code transport_socket}: raw_buffer, TLS, or upstream_proxy_protocol over either. */
    static TransportSocketConfig upstream(TransportSocket socket, String path) {
        Descriptor type = resolve(socket, Extensions.Category.UPSTREAM_TRANSPORT_SOCKET, path);
        String config = at(path, "typed_config");
        if (type.equals(Protos.type(RawBuffer.class))) {
            only(Protos.unpack(socket.hasTypedConfig(), socket.getTypedConfig(), RawBuffer.getDefaultInstance(), path), config);
            return TransportSocketConfig.RAW_BUFFER;
        }
        if (type.equals(Protos.type(UpstreamTlsContext.class))) {
            // An empty UpstreamTlsContext is valid in Envoy: TLS with no SNI, no client certificate, no verification.
            UpstreamTlsContext tls = Protos.unpack(socket.hasTypedConfig(), socket.getTypedConfig(),
                    UpstreamTlsContext.getDefaultInstance(), path);
            return new TransportSocketConfig.UpstreamTls(TlsTranslator.upstream(tls, config));
        }
        if (!type.equals(Protos.type(ProxyProtocolUpstreamTransport.class))) {
            throw new ConfigException(config, EnvoyTypes.typeUrl(type) + " is not supported as an upstream transport socket"
                    + " (raw_buffer, tls and upstream_proxy_protocol are)");
        }
        ProxyProtocolUpstreamTransport pp = Protos.unpack(socket.hasTypedConfig(), socket.getTypedConfig(),
                ProxyProtocolUpstreamTransport.getDefaultInstance(), path);
        only(pp, config, "config", "transport_socket");
        // Envoy's proto validation: the wrapped socket is required.
        if (!pp.hasTransportSocket()) {
            throw new ConfigException(at(config, "transport_socket"), "is required (raw_buffer)");
        }
        TransportSocketConfig inner = upstream(pp.getTransportSocket(), at(config, "transport_socket"));
        if (inner instanceof TransportSocketConfig.UpstreamProxyProtocol) {
            throw new ConfigException(at(config, "transport_socket"), "cannot wrap another upstream_proxy_protocol");
        }
        only(pp.getConfig(), at(config, "config"), "version");
        return new TransportSocketConfig.UpstreamProxyProtocol(switch (pp.getConfig().getVersion()) {
            case V1 -> ClusterConfig.UpstreamProxyProtocol.V1;
            case V2 -> ClusterConfig.UpstreamProxyProtocol.V2;
            default -> throw new ConfigException(at(config, "config.version"), pp.getConfig().getVersion() + " is not supported");
        }, inner);
    }

    /** The socket's config type on {@code side}: by its typed_config's type URL, else by its name. */
    private static Descriptor resolve(TransportSocket socket, Extensions.Category side, String path) {
        only(socket, path, "name", "typed_config");
        Protos.requireName(socket.getName(), path);
        if (!socket.hasTypedConfig()) {
            return Extensions.byName(side, socket.getName()).map(Extensions.Extension::type)
                    .orElseThrow(() -> new ConfigException(at(path, "name"), socket.getName() + " is not " + side.description()
                            + " (supported: " + String.join(", ", names(side)) + ")"));
        }
        Descriptor type = Protos.extension(socket.getName(), true, socket.getTypedConfig(), path);
        Extensions.require(side, type, at(path, "typed_config"));
        return type;
    }

    private static java.util.List<String> names(Extensions.Category side) {
        return Extensions.all().stream().filter(e -> e.category() == side).map(Extensions.Extension::name).distinct().toList();
    }
}
