package io.sourcemesh.proxy.config;

/** The network filters we support; each is terminal (tcp_proxy, http_connection_manager). */
public sealed interface NetworkFilterConfig permits TcpProxyConfig, HttpConnectionManagerConfig {
    String name();
}
