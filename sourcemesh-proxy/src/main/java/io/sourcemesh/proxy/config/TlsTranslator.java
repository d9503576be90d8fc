package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * DownstreamTlsContext → {@link TlsContextConfig}, UpstreamTlsContext → {@link UpstreamTlsConfig}. Certificates and keys are read here, at load
 * time, so an unreadable file fails the config rather than the first handshake.
 */
final class TlsTranslator {

    private TlsTranslator() {}

    static TlsContextConfig downstream(DownstreamTlsContext tls, String path) {
        only(tls, path, "common_tls_context", "require_client_certificate");
        String cPath = at(path, "common_tls_context");
        Common common = common(tls.getCommonTlsContext(), cPath);
        if (common.certificates().isEmpty()) {
            throw new ConfigException(at(cPath, "tls_certificates"), "a server needs at least one certificate");
        }
        boolean requireClient = tls.getRequireClientCertificate().getValue();
        if (requireClient && common.validation().isEmpty()) {
            // Envoy's rule: client certificates cannot be verified without a validation context.
            throw new ConfigException(at(path, "require_client_certificate"),
                    "TLS context has require_client_certificate set but no validation_context to verify it");
        }
        return new TlsContextConfig(common.certificates(), common.min(), common.max(), common.alpn(), common.validation(),
                requireClient, common.ciphers());
    }

    /**
     * A cluster's UpstreamTlsContext (Envoy's ClientContextConfigImpl): {@code sni} is sent as given and not checked
     * against the certificate (only auto_sni_san_validation would, and it is refused); at most one client certificate,
     * as Envoy's client contexts; no validation context verifies nothing, as Envoy's.
     */
    static UpstreamTlsConfig upstream(UpstreamTlsContext tls, String path) {
        // allow_renegotiation, max_session_keys, enforce_rsa_key_usage, auto_host_sni, auto_sni_san_validation: refused.
        only(tls, path, "sni", "common_tls_context");
        String cPath = at(path, "common_tls_context");
        Common common = common(tls.getCommonTlsContext(), cPath);
        if (common.certificates().size() > 1) {
            throw new ConfigException(at(cPath, "tls_certificates"), "multiple TLS certificates are not supported for client contexts");
        }
        // Envoy's proto validation: sni is at most 255 bytes.
        if (tls.getSni().length() > 255) {
            throw new ConfigException(at(path, "sni"), "is longer than 255 characters");
        }
        if (!tls.getSni().isEmpty()) {
            try {
                new javax.net.ssl.SNIHostName(tls.getSni());
            } catch (IllegalArgumentException e) {
                // Envoy would send any string; the JDK's TLS sends only a host name.
                throw new ConfigException(at(path, "sni"), tls.getSni() + " is not a host name the TLS client can send: " + e.getMessage());
            }
        }
        TlsContextConfig context = new TlsContextConfig(common.certificates(), common.min(), common.max(), common.alpn(),
                common.validation(), false, common.ciphers());
        return new UpstreamTlsConfig(tls.getSni().isEmpty() ? Optional.empty() : Optional.of(tls.getSni()), context);
    }

    /** What both sides read from a CommonTlsContext; anything else in it is refused by path. */
    private record Common(List<TlsContextConfig.CertificateConfig> certificates, Optional<String> min, Optional<String> max,
            List<String> alpn, Optional<CertificateValidation> validation, List<String> ciphers) {}

    private static Common common(CommonTlsContext common, String cPath) {
        only(common, cPath, "tls_params", "tls_certificates", "validation_context", "alpn_protocols");
        List<TlsContextConfig.CertificateConfig> certificates = new ArrayList<>();
        for (int i = 0; i < common.getTlsCertificatesCount(); i++) {
            String certPath = at(cPath, "tls_certificates", i);
            TlsCertificate cert = common.getTlsCertificates(i);
            only(cert, certPath, "certificate_chain", "private_key");
            if (!cert.hasCertificateChain()) {
                throw new ConfigException(at(certPath, "certificate_chain"), "is required");
            }
            if (!cert.hasPrivateKey()) {
                throw new ConfigException(at(certPath, "private_key"), "is required");
            }
            String chain = Protos.text(cert.getCertificateChain(), at(certPath, "certificate_chain"));
            String key = Protos.text(cert.getPrivateKey(), at(certPath, "private_key"));
            requireCertificates(chain, at(certPath, "certificate_chain"));
            requirePem(key, "PRIVATE KEY", at(certPath, "private_key"));
            certificates.add(new TlsContextConfig.CertificateConfig(chain, key));
        }
        Optional<String> min = Optional.empty();
        Optional<String> max = Optional.empty();
        List<String> ciphers = List.of();
        if (common.hasTlsParams()) {
            String pPath = at(cPath, "tls_params");
            TlsParameters params = common.getTlsParams();
            only(params, pPath, "tls_minimum_protocol_version", "tls_maximum_protocol_version", "cipher_suites");
            ciphers = cipherSuites(params.getCipherSuitesList(), at(pPath, "cipher_suites"));
            min = version(params.getTlsMinimumProtocolVersion(), at(pPath, "tls_minimum_protocol_version"));
            max = version(params.getTlsMaximumProtocolVersion(), at(pPath, "tls_maximum_protocol_version"));
            // Below TLS 1.2 the JDK has no cipher suite left (as Envoy since 1.28 without cipher_suites): a
            // minimum of 1.0 or 1.1 speaks from 1.2, a maximum of 1.0 or 1.1 would speak to no peer at all.
            if (params.getTlsMaximumProtocolVersion() == TlsParameters.TlsProtocol.TLSv1_0
                    || params.getTlsMaximumProtocolVersion() == TlsParameters.TlsProtocol.TLSv1_1) {
                throw new ConfigException(at(pPath, "tls_maximum_protocol_version"), params.getTlsMaximumProtocolVersion()
                        + " would serve no client: this proxy speaks TLS 1.2 and 1.3 (TLS 1.0 and 1.1 have no cipher suite left)");
            }
            if (min.isPresent() && max.isPresent()
                    && params.getTlsMinimumProtocolVersion().getNumber() > params.getTlsMaximumProtocolVersion().getNumber()) {
                throw new ConfigException(pPath, "tls_minimum_protocol_version " + params.getTlsMinimumProtocolVersion()
                        + " is above tls_maximum_protocol_version " + params.getTlsMaximumProtocolVersion());
            }
        }
        Optional<CertificateValidation> validation = common.hasValidationContext()
                ? Optional.of(validation(common.getValidationContext(), at(cPath, "validation_context")))
                : Optional.empty();
        return new Common(certificates, min, max, List.copyOf(common.getAlpnProtocolsList()), validation, ciphers);
    }

    /**
     * tls_params.cipher_suites, as BoringSSL's strict cipher list reads the entries Envoy joins with ':' — a suite's
     * OpenSSL name, or an equal-preference group {@code [A|B]} — by the JDK's names. A suite this proxy's TLS (the
     * JDK's) does not offer by default, an operator ({@code !}, {@code -}, {@code +}, {@code ALL}) or a TLS 1.3 name
     * (which no cipher list narrows) rejects the whole list with Envoy's error, naming each entry rejected.
     */
    static List<String> cipherSuites(List<String> entries, String path) {
        if (entries.isEmpty()) {
            return List.of();
        }
        if (!CipherSuiteNames.jdkAvailable()) {
            throw new ConfigException(path, "the JDK's TLS is not available");
        }
        List<String> rejected = CipherSuiteNames.notOffered(entries);
        if (!rejected.isEmpty()) {
            throw new ConfigException(path, "Failed to initialize cipher suites " + String.join(":", entries)
                    + ". The following ciphers were rejected when tried individually: " + String.join(", ", rejected));
        }
        List<String> out = new ArrayList<>();
        for (String entry : entries) {
            for (String name : CipherSuiteNames.names(entry)) {
                String jdk = CipherSuiteNames.jdkName(name);
                if (!out.contains(jdk)) {
                    out.add(jdk);
                }
            }
        }
        return List.copyOf(out);
    }

    /**
     * A CertificateValidationContext, read as Envoy's DefaultCertValidator reads it. Refused: a context that
     * verifies nothing (no trusted_ca, SAN matcher or pin — Envoy would not even ask for a certificate, and a
     * reader would take it for verification), a crl without trusted_ca (no chain is built to check it against),
     * both SAN matcher fields (Envoy ≥ 1.31 ignores the deprecated one; older Envoys refuse), OTHER_NAME SANs.
     */
    static CertificateValidation validation(CertificateValidationContext v, String vPath) {
        only(v, vPath, "trusted_ca", "match_typed_subject_alt_names", "match_subject_alt_names", "verify_certificate_hash",
                "verify_certificate_spki", "crl", "only_verify_leaf_cert_crl", "trust_chain_verification");
        Optional<String> ca = Optional.empty();
        if (v.hasTrustedCa()) {
            String pem = Protos.text(v.getTrustedCa(), at(vPath, "trusted_ca"));
            if (pem.contains("-----BEGIN X509 CRL-----")) {
                // Envoy would check revocation from CRLs in the CA bundle; say so rather than read past them.
                throw new ConfigException(at(vPath, "trusted_ca"), "holds CRLs: give them in validation_context.crl");
            }
            requireCertificates(pem, at(vPath, "trusted_ca"));
            ca = Optional.of(pem);
        }
        if (v.getMatchTypedSubjectAltNamesCount() > 0 && v.getMatchSubjectAltNamesCount() > 0) {
            throw new ConfigException(at(vPath, "match_subject_alt_names"),
                    "is deprecated and cannot be set together with match_typed_subject_alt_names");
        }
        List<CertificateValidation.SanMatcher> sans = new ArrayList<>();
        for (int i = 0; i < v.getMatchTypedSubjectAltNamesCount(); i++) {
            String mPath = at(vPath, "match_typed_subject_alt_names", i);
            SubjectAltNameMatcher m = v.getMatchTypedSubjectAltNames(i);
            only(m, mPath, "san_type", "matcher");
            CertificateValidation.SanType type = switch (m.getSanType()) {
                case DNS -> CertificateValidation.SanType.DNS;
                case URI -> CertificateValidation.SanType.URI;
                case EMAIL -> CertificateValidation.SanType.EMAIL;
                case IP_ADDRESS -> CertificateValidation.SanType.IP_ADDRESS;
                case OTHER_NAME -> throw new ConfigException(at(mPath, "san_type"), "OTHER_NAME is not supported");
                default -> throw new ConfigException(at(mPath, "san_type"), "is required (DNS, URI, EMAIL or IP_ADDRESS)");
            };
            if (!m.hasMatcher()) {
                throw new ConfigException(at(mPath, "matcher"), "is required");
            }
            sans.add(new CertificateValidation.SanMatcher(type, Matchers.string(m.getMatcher(), at(mPath, "matcher"))));
        }
        // The deprecated field matches a DNS, URI, EMAIL or IP_ADDRESS SAN (Envoy makes one typed matcher for each).
        for (int i = 0; i < v.getMatchSubjectAltNamesCount(); i++) {
            var match = Matchers.string(v.getMatchSubjectAltNames(i), at(vPath, "match_subject_alt_names", i));
            for (CertificateValidation.SanType type : CertificateValidation.SanType.values()) {
                sans.add(new CertificateValidation.SanMatcher(type, match));
            }
        }
        List<String> hashes = new ArrayList<>();
        for (int i = 0; i < v.getVerifyCertificateHashCount(); i++) {
            hashes.add(certificateHash(v.getVerifyCertificateHash(i), at(vPath, "verify_certificate_hash", i)));
        }
        List<String> spkis = new ArrayList<>();
        for (int i = 0; i < v.getVerifyCertificateSpkiCount(); i++) {
            spkis.add(spkiHash(v.getVerifyCertificateSpki(i), at(vPath, "verify_certificate_spki", i)));
        }
        Optional<String> crl = Optional.empty();
        if (v.hasCrl()) {
            if (ca.isEmpty()) {
                throw new ConfigException(at(vPath, "crl"), "needs trusted_ca: revocation is checked on the chain built to it");
            }
            String pem = Protos.text(v.getCrl(), at(vPath, "crl"));
            requireCrls(pem, at(vPath, "crl"));
            crl = Optional.of(pem);
        }
        boolean acceptUntrusted = switch (v.getTrustChainVerification()) {
            case VERIFY_TRUST_CHAIN -> false;
            case ACCEPT_UNTRUSTED -> true;
            default -> throw new ConfigException(at(vPath, "trust_chain_verification"), v.getTrustChainVerification()
                    + " is not supported");
        };
        if (ca.isEmpty() && sans.isEmpty() && hashes.isEmpty() && spkis.isEmpty() && !acceptUntrusted) {
            throw new ConfigException(vPath, "verifies nothing: set trusted_ca, a subject-alt-name matcher, "
                    + "verify_certificate_hash or verify_certificate_spki");
        }
        return new CertificateValidation(ca, sans, hashes, spkis, crl, v.getOnlyVerifyLeafCertCrl(), acceptUntrusted);
    }

    /** Envoy's verify_certificate_hash: 64 hex digits, or the 95-character colon-separated fingerprint form. */
    private static String certificateHash(String hash, String path) {
        String hex = hash.length() == 95 ? hash.replace(":", "") : hash;
        if (hex.length() != 64 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new ConfigException(path, "invalid hex-encoded SHA-256 " + hash);
        }
        return hex.toLowerCase(Locale.ROOT);
    }

    /** Envoy's verify_certificate_spki: the base64 of a 32-byte SHA-256, kept as lower-case hex. */
    private static String spkiHash(String hash, String path) {
        byte[] decoded;
        try {
            decoded = java.util.Base64.getDecoder().decode(hash);
        } catch (IllegalArgumentException e) {
            decoded = new byte[0];
        }
        if (decoded.length != 32) {
            throw new ConfigException(path, "invalid base64-encoded SHA-256 " + hash);
        }
        return java.util.HexFormat.of().formatHex(decoded);
    }

    private static void requireCrls(String pem, String path) {
        requirePem(pem, "X509 CRL", path);
        try {
            if (CertificateFactory.getInstance("X.509")
                    .generateCRLs(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).isEmpty()) {
                throw new ConfigException(path, "holds no CRL");
            }
        } catch (java.security.cert.CRLException | CertificateException e) {
            throw new ConfigException(path, "is not a valid CRL: " + e.getMessage());
        }
    }

    /** Envoy's enum names → JSSE protocol names; TLS_AUTO leaves the choice to the runtime. */
    private static Optional<String> version(TlsParameters.TlsProtocol protocol, String path) {
        return switch (protocol) {
            case TLS_AUTO -> Optional.empty();
            case TLSv1_0 -> Optional.of("TLSv1");
            case TLSv1_1 -> Optional.of("TLSv1.1");
            case TLSv1_2 -> Optional.of("TLSv1.2");
            case TLSv1_3 -> Optional.of("TLSv1.3");
            default -> throw new ConfigException(path, protocol + " is not supported");
        };
    }

    /** Parsed once here so a damaged certificate fails the config, naming the field, not the first handshake. */
    private static void requireCertificates(String pem, String path) {
        requirePem(pem, "CERTIFICATE", path);
        try {
            var certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            if (certificates.isEmpty()) {
                throw new ConfigException(path, "holds no certificate");
            }
        } catch (CertificateException e) {
            throw new ConfigException(path, "is not a valid certificate: " + e.getMessage());
        }
    }

    private static void requirePem(String text, String kind, String path) {
        if (!text.contains("-----BEGIN ") || !text.contains(kind)) {
            throw new ConfigException(path, "is not a PEM " + kind.toLowerCase(Locale.ROOT));
        }
    }
}
