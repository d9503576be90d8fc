package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.List;
import java.util.Optional;

/**
 * A TLS context's {@code validation_context}: what the peer's certificate must satisfy — a client's on a filter chain,
 * the server's on a cluster (Envoy's DefaultCertValidator for both). The chain is verified against {@code trustedCaPem} (with {@code crlPem}'s revocations),
 * then the leaf must match one of the SAN matchers, then its SHA-256 must be one of {@code certificateHashes} or
 * its SubjectPublicKeyInfo's SHA-256 one of {@code spkiHashes} (either list passing is enough). Hashes are
 * lower-case hex.
 */
public record CertificateValidation(
        Optional<String> trustedCaPem,
        List<SanMatcher> sanMatchers,
        List<String> certificateHashes,
        List<String> spkiHashes,
        Optional<String> crlPem,
        boolean onlyVerifyLeafCrl,
        boolean acceptUntrusted) {

    public CertificateValidation {
        sanMatchers = List.copyOf(sanMatchers);
        certificateHashes = List.copyOf(certificateHashes);
        spkiHashes = List.copyOf(spkiHashes);
    }

    /** Only a trusted CA, as the older configs and tests write it. */
    public static CertificateValidation trustedCa(String pem) {
        return new CertificateValidation(Optional.of(pem), List.of(), List.of(), List.of(), Optional.empty(), false, false);
    }

    /**
     * A SAN matcher or a pin is set: Envoy then verifies with SSL_VERIFY_FAIL_IF_NO_PEER_CERT, so a client without a
     * certificate is refused even when require_client_certificate is false (unless ACCEPT_UNTRUSTED).
     */
    public boolean demandsCertificate() {
        return !acceptUntrusted && (!sanMatchers.isEmpty() || !certificateHashes.isEmpty() || !spkiHashes.isEmpty());
    }

    /** Envoy's SubjectAltNameMatcher: a SAN of {@code type} whose string form {@code match} accepts. */
    public record SanMatcher(SanType type, StringMatch match) {}

    /** The SAN types Envoy matches (OTHER_NAME is refused at load). */
    public enum SanType { DNS, URI, EMAIL, IP_ADDRESS }
}
