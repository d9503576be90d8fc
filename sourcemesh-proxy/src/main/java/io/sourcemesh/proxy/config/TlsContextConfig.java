package io.sourcemesh.proxy.config;

import java.util.List;
import java.util.Optional;

/**
 * A TLS context of either side: certificate chains with their keys (PEM text, read from files or
 * inline at load time; a cluster's has at most one, its client certificate), protocol bounds and ALPN to
 * offer, and how the peer's certificate is verified (downstream, none: no client certificate is asked for;
 * upstream, none: the server is not verified, as Envoy's).
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
