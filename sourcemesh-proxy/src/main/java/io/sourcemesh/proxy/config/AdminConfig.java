package io.sourcemesh.proxy.config;

import java.net.InetSocketAddress;

/** Envoy's {@code admin}: where the admin listener binds. */
public record AdminConfig(InetSocketAddress address) {}
