package io.sourcemesh.proxy.network;

import io.sourcemesh.proxy.config.FilterChainConfig;

/** A filter chain ready to serve: its config, its transport socket (built once), and its network filters. */
public record FilterChain(FilterChainConfig config, DownstreamTransportSocket transportSocket, NetworkFilterFactory filter) {}
