package io.sourcemesh.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.sourcemesh.l4.ProxyHeader;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.proxy.accesslog.TlsConnectionInfo;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.stats.Stats;
import java.io.IOException;

/**
 * A cluster's transport socket at run time (Envoy's upstream transport socket), built once per
 * cluster through {@code extension.ExtensionFactories}. What it adds to an upstream connection is
 * carried by the connection's {@link SourceBinding}, so it is part of the pool key: a connection
 * that began with one client's PROXY header is never reused for another client. A socket that
 * speaks through the connection (TLS) adds its handler with {@link #pipeline} and says when the
 * connection is ready for bytes with {@link #ready}; raw sockets return what they are given.
 */
@FunctionalInterface
public interface UpstreamTransportSocket {

    /**
     * raw_buffer: plain TCP, the binding as it is. A class, not a lambda: a lambda of an interface with default
     * methods is not taken into the proxy's AOT cache, so it would be defined as the proxy starts.
     */
    UpstreamTransportSocket RAW_BUFFER = new RawBuffer();

    /** The binding for a stream of {@code connection} (the downstream connection). */
    SourceBinding bind(SourceBinding binding, ConnectionContext connection);

    /** This socket counting into a cluster's stats under {@code prefix} ({@code cluster.<name>.}). */
    default UpstreamTransportSocket forCluster(Stats stats, String prefix) {
        return this;
    }

    /** The handler a new connection starts with: {@code handler} itself, or one that adds this socket's in front of it. */
    default ChannelHandler pipeline(ChannelHandler handler) {
        return handler;
    }

    /**
     * As {@link #pipeline(ChannelHandler)}, for a connection bound as {@code binding}: a TLS socket takes the binding's
     * {@link io.sourcemesh.l4.TlsNames} (a request's auto_sni and auto_san_validation); the others ignore them, as
     * Envoy's raw_buffer does.
     */
    default ChannelHandler pipeline(ChannelHandler handler, SourceBinding binding) {
        return pipeline(handler);
    }

    /** Whether this socket uses a binding's TLS names (only then does a request set them, splitting the pool by them). */
    default boolean takesTlsNames() {
        return false;
    }

    /**
     * The future of a connection ready for bytes: {@code connected} itself, or one that completes once this socket's
     * handshake did and fails with a {@link HandshakeFailure} when it failed (a connect failure, as Envoy counts it).
     */
    default ChannelFuture ready(ChannelFuture connected) {
        return connected;
    }

    /** The TLS of a ready connection of this socket, for the access log; null for a plaintext one (no allocation). */
    default TlsConnectionInfo tlsInfo(Channel ready) {
        return null;
    }

    /**
     * The socket's handshake failed: the connection is closed. {@code reason} is Envoy's transport failure reason
     * ({@code %UPSTREAM_TRANSPORT_FAILURE_REASON%}), null when there is none (the server closed mid-handshake).
     */
    final class HandshakeFailure extends IOException {
        private final String reason;

        public HandshakeFailure(String reason, Throwable cause) {
            super(reason == null ? "the connection closed during the TLS handshake" : reason, cause);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /**
     * {@code envoy.transport_sockets.upstream_proxy_protocol} around {@code inner}: the header carries the
     * downstream connection's addresses (after a PROXY protocol listener filter, before any XFF), as Envoy's; it goes
     * out first (the connector puts its writer first in the pipeline), then {@code inner} speaks — a TLS handshake
     * follows the header, as Envoy's socket writes the header before it lets the wrapped socket write.
     */
    static UpstreamTransportSocket proxyProtocol(int version, UpstreamTransportSocket inner) {
        return new ProxyProtocol(version, inner);
    }

    /** {@link #RAW_BUFFER}'s class. */
    final class RawBuffer implements UpstreamTransportSocket {
        private RawBuffer() {}

        @Override
        public SourceBinding bind(SourceBinding binding, ConnectionContext connection) {
            return binding;
        }
    }

    /** {@link #proxyProtocol}'s class (as {@link RawBuffer}, not a lambda): the header, and the rest is {@code inner}'s. */
    final class ProxyProtocol implements UpstreamTransportSocket {
        private final int version;
        private final UpstreamTransportSocket inner;

        private ProxyProtocol(int version, UpstreamTransportSocket inner) {
            this.version = version;
            this.inner = inner;
        }

        @Override
        public SourceBinding bind(SourceBinding binding, ConnectionContext connection) {
            return inner.bind(binding, connection)
                    .withProxyHeader(new ProxyHeader(version, connection.remoteAddress(), connection.localAddress()));
        }

        @Override
        public UpstreamTransportSocket forCluster(Stats stats, String prefix) {
            UpstreamTransportSocket counted = inner.forCluster(stats, prefix);
            return counted == inner ? this : new ProxyProtocol(version, counted);
        }

        @Override
        public ChannelHandler pipeline(ChannelHandler handler) {
            return inner.pipeline(handler);
        }

        @Override
        public ChannelHandler pipeline(ChannelHandler handler, SourceBinding binding) {
            return inner.pipeline(handler, binding);
        }

        @Override
        public boolean takesTlsNames() {
            return inner.takesTlsNames();
        }

        @Override
        public ChannelFuture ready(ChannelFuture connected) {
            return inner.ready(connected);
        }

        @Override
        public TlsConnectionInfo tlsInfo(Channel ready) {
            return inner.tlsInfo(ready);
        }
    }
}
