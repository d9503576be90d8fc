package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.rbac.RbacConfig;

/** An HTTP filter in the connection manager's chain; the router is always last. */
public sealed interface HttpFilterConfig {
    String name();

    /** {@code envoy.filters.http.router}. */
    record Router(String name) implements HttpFilterConfig {}

    /** {@code envoy.filters.http.rbac}. */
    record Rbac(String name, RbacConfig rbac) implements HttpFilterConfig {}

    /** {@code envoy.filters.http.fault}: its own faults, replaced per route by the route's typed_per_filter_config. */
    record Fault(String name, FaultConfig fault) implements HttpFilterConfig {}

    /** {@code envoy.filters.http.jwt_authn}: providers with inline keys and the rules' requirements. */
    record JwtAuthn(String name, io.sourcemesh.proxy.jwt.JwtAuthnConfig jwt) implements HttpFilterConfig {}

    /** {@code envoy.filters.http.cors}: no config of its own; each route's (or virtual host's) {@link CorsPolicyConfig}. */
    record Cors(String name) implements HttpFilterConfig {}
}
