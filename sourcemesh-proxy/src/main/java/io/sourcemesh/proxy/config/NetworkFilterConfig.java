package io.sourcemesh.proxy.config;

/** The network filters we support: the terminal tcp_proxy and http_connection_manager, and rbac before them. */
public sealed interface NetworkFilterConfig permits TcpProxyConfig, HttpConnectionManagerConfig, NetworkRbacConfig {
    String name();
}
