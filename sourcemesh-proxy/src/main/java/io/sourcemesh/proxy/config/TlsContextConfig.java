package io.sourcemesh.proxy.config;

import java.util.List;
import java.util.Optional;

/**
 * A TLS context of either side: certificate chains with their keys (PEM text, read from files or
 * inline at load time; a cluster's has at most one, its client certificate), protocol bounds and ALPN to
 * offer, and how the peer's certificate is verified (downstream, none: no client certificate is asked for;
 * upstream, none: the server is not verified, as Envoy's); {@code cipherSuites}, the TLS 1.2 suites
 * tls_params.cipher_suites narrows to, by the JDK's names (empty: the JDK's defaults).
 */
public record TlsContextConfig(
        List<CertificateConfig> certificates,
        Optional<String> minVersion,
        Optional<String> maxVersion,
        List<String> alpnProtocols,
        Optional<CertificateValidation> validation,
        boolean requireClientCertificate,
        List<String> cipherSuites) {

    public TlsContextConfig {
        certificates = List.copyOf(certificates);
        alpnProtocols = List.copyOf(alpnProtocols);
        cipherSuites = List.copyOf(cipherSuites);
    }

    /** A context offering the JDK's default cipher suites. */
    public TlsContextConfig(List<CertificateConfig> certificates, Optional<String> minVersion, Optional<String> maxVersion,
            List<String> alpnProtocols, Optional<CertificateValidation> validation, boolean requireClientCertificate) {
        this(certificates, minVersion, maxVersion, alpnProtocols, validation, requireClientCertificate, List.of());
    }

    /**
     * The suites to enable by the JDK's names, or null for its defaults: tls_params.cipher_suites' TLS 1.2 suites, then
     * the TLS 1.3 ones, which BoringSSL does not let a cipher list narrow and neither does Envoy.
     */
    public String[] enabledCipherSuites() {
        if (cipherSuites.isEmpty()) {
            return null;
        }
        List<String> out = new java.util.ArrayList<>(cipherSuites);
        out.addAll(List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"));
        return out.toArray(String[]::new);
    }

    /** The trusted CAs' PEM, when the validation context names them. */
    public Optional<String> trustedCaPem() {
        return validation.flatMap(CertificateValidation::trustedCaPem);
    }

    /** A PEM certificate chain and its PEM private key. */
    public record CertificateConfig(String certificateChainPem, String privateKeyPem) {}
}
