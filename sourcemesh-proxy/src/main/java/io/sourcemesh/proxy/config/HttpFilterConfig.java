package io.sourcemesh.proxy.config;

/** An HTTP filter in the connection manager's chain; the router is always last. */
public sealed interface HttpFilterConfig {
    String name();

    /** {@code envoy.filters.http.router}. */
    record Router(String name) implements HttpFilterConfig {}
}
