package io.sourcemesh.proxy.network;

import io.netty.channel.ChannelPipeline;

/**
 * Installs a network filter (rbac, or the terminal tcp_proxy / http_connection_manager) on a connection whose
 * filter chain has been chosen. Built once per config version; called once per connection.
 */
public interface NetworkFilterFactory {
    void install(ChannelPipeline pipeline, ConnectionContext connection);
}
