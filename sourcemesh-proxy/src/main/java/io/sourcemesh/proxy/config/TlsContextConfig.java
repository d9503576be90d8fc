package io.sourcemesh.proxy.config;

import java.util.List;
import java.util.Optional;

/**
 * A downstream TLS context: certificate chains with their keys (PEM text, read from files or
 * inline at load time), protocol bounds and ALPN to offer.
 */
public record TlsContextConfig(
        List<CertificateConfig> certificates,
        Optional<String> minVersion,
        Optional<String> maxVersion,
        List<String> alpnProtocols,
        Optional<String> trustedCaPem,
        boolean requireClientCertificate) {

    public TlsContextConfig {
        certificates = List.copyOf(certificates);
        alpnProtocols = List.copyOf(alpnProtocols);
    }

    /** A PEM certificate chain and its PEM private key. */
    public record CertificateConfig(String certificateChainPem, String privateKeyPem) {}
}
