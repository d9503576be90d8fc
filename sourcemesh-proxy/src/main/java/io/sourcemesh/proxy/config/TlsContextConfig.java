package io.sourcemesh.proxy.config;

import java.util.List;
import java.util.Optional;

/**
 * A downstream TLS context: certificate chains with their keys (PEM text, read from files or
 * inline at load time), protocol bounds and ALPN to offer, and how a client certificate is verified
 * (none: no client certificate is asked for).
 */
public record TlsContextConfig(
        List<CertificateConfig> certificates,
        Optional<String> minVersion,
        Optional<String> maxVersion,
        List<String> alpnProtocols,
        Optional<CertificateValidation> validation,
        boolean requireClientCertificate) {

    public TlsContextConfig {
        certificates = List.copyOf(certificates);
        alpnProtocols = List.copyOf(alpnProtocols);
    }

    /** The trusted CAs' PEM, when the validation context names them. */
    public Optional<String> trustedCaPem() {
        return validation.flatMap(CertificateValidation::trustedCaPem);
    }

    /** A PEM certificate chain and its PEM private key. */
    public record CertificateConfig(String certificateChainPem, String privateKeyPem) {}
}
