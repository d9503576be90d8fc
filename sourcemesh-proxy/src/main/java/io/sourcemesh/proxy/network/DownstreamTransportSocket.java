package io.sourcemesh.proxy.network;

import io.netty.channel.ChannelHandlerContext;

/**
 * A filter chain's transport socket at run time (Envoy's downstream transport socket), built once
 * per config version through {@code extension.ExtensionFactories}: installed on each connection the
 * chain takes, after the listener's setup handler {@code ctx} and before the network filters.
 */
@FunctionalInterface
public interface DownstreamTransportSocket {

    /** raw_buffer: the bytes go to the filters as they arrive. */
    DownstreamTransportSocket RAW_BUFFER = (ctx, connection) -> {};

    void install(ChannelHandlerContext ctx, ConnectionContext connection);
}
