package io.sourcemesh.proxy.config;

import java.util.Optional;

/**
 * A cluster's UpstreamTlsContext: the SNI to send (none: no server_name extension, as Envoy without {@code sni}) and the
 * client side of a TLS context — at most one client certificate, the protocol bounds, ALPN to offer, and how the
 * server's certificate is verified (none: not at all, as Envoy without a validation context). {@code autoSanValidation}:
 * the cluster's upstream_http_protocol_options.auto_san_validation, so the validation context also requires the SAN a
 * request names (Envoy's DefaultCertValidator with the transport socket options' SAN list); without a validation
 * context nothing is verified, so it changes nothing, as in Envoy.
 */
public record UpstreamTlsConfig(Optional<String> sni, TlsContextConfig context, boolean autoSanValidation) {

    public UpstreamTlsConfig(Optional<String> sni, TlsContextConfig context) {
        this(sni, context, false);
    }
}
