package io.sourcemesh.proxy.upstream;

import io.sourcemesh.l4.ProxyHeader;
import io.sourcemesh.l4.SourceBinding;

import io.sourcemesh.proxy.network.ConnectionContext;

/**
 * A cluster's transport socket at run time (Envoy's upstream transport socket), built once per
 * cluster through {@code extension.ExtensionFactories}. What it adds to an upstream connection is
 * carried by the connection's {@link SourceBinding}, so it is part of the pool key: a connection
 * that began with one client's PROXY header is never reused for another client.
 */
@FunctionalInterface
public interface UpstreamTransportSocket {

    /** raw_buffer: plain TCP, the binding as it is. */
    UpstreamTransportSocket RAW_BUFFER = (binding, connection) -> binding;

    /** The binding for a stream of {@code connection} (the downstream connection). */
    SourceBinding bind(SourceBinding binding, ConnectionContext connection);

    /**
     * {@code envoy.transport_sockets.upstream_proxy_protocol} over raw_buffer: the header carries the
     * downstream connection's addresses (after a PROXY protocol listener filter, before any XFF), as Envoy's.
     */
    static UpstreamTransportSocket proxyProtocol(int version) {
        return (binding, connection) -> binding.withProxyHeader(
                new ProxyHeader(version, connection.remoteAddress(), connection.localAddress()));
    }
}
