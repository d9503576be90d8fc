package io.sourcemesh.proxy.network;

import io.netty.handler.ssl.SslContext;
import io.sourcemesh.proxy.config.FilterChainConfig;
import java.util.Optional;

/** A filter chain ready to serve: its config, its TLS context built once, and its terminal filter. */
public record FilterChain(FilterChainConfig config, Optional<SslContext> sslContext, NetworkFilterFactory filter) {}
