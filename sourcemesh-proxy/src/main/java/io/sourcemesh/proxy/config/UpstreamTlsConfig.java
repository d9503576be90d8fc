package io.sourcemesh.proxy.config;

import java.util.Optional;

/**
 * A cluster's UpstreamTlsContext: the SNI to send (none: no server_name extension, as Envoy without {@code sni}) and the
 * client side of a TLS context — at most one client certificate, the protocol bounds, ALPN to offer, and how the
 * server's certificate is verified (none: not at all, as Envoy without a validation context).
 */
public record UpstreamTlsConfig(Optional<String> sni, TlsContextConfig context) {}
