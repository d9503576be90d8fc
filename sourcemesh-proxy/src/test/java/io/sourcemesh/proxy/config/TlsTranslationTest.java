package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.load;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsTranslationTest {

    static final String TS = "listeners[0].filter_chains[0].transport_socket.typed_config";

    @TempDir
    static Path dir;

    static String certPem;
    static String keyPem;
    static Path certFile;
    static Path keyFile;

    @BeforeAll
    static void selfSignedCertificate() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair pair = generator.generateKeyPair();
        X500Name name = new X500Name("CN=test.example.com");
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, Date.from(now.minus(1, ChronoUnit.DAYS)),
                Date.from(now.plus(1, ChronoUnit.DAYS)), name, pair.getPublic());
        var cert = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        certPem = pem(cert);
        keyPem = pem(new JcaPKCS8Generator(pair.getPrivate(), null));
        certFile = Files.writeString(dir.resolve("cert.pem"), certPem);
        keyFile = Files.writeString(dir.resolve("key.pem"), keyPem);
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(o);
        }
        return out.toString();
    }

    static String tls(String downstreamTlsContext) {
        String socket = """
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                """ + downstreamTlsContext.indent(4);
        return Bootstraps.chain("""
                name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: backend}
                """, socket);
    }

    static String certificates(String chain, String key) {
        return "common_tls_context:\n  tls_certificates:\n  - certificate_chain: " + chain + "\n    private_key: " + key + "\n";
    }

    static TlsContextConfig loadTls(String yaml) {
        return load(yaml).listeners().get(0).filterChains().get(0).tls().orElseThrow();
    }

    static String quoted(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    @Test
    void certificateAndKeyFromFiles() {
        TlsContextConfig tls = loadTls(tls(certificates("{filename: " + certFile + "}", "{filename: " + keyFile + "}")));
        assertEquals(List.of(new TlsContextConfig.CertificateConfig(certPem, keyPem)), tls.certificates());
        assertEquals(Optional.empty(), tls.minVersion());
        assertEquals(Optional.empty(), tls.maxVersion());
        assertEquals(Optional.empty(), tls.trustedCaPem());
        assertEquals(false, tls.requireClientCertificate());
    }

    @Test
    void certificateAndKeyInline() {
        String bytes = Base64.getEncoder().encodeToString(keyPem.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        TlsContextConfig tls = loadTls(tls(certificates("{inline_string: " + quoted(certPem) + "}", "{inline_bytes: " + bytes + "}")));
        assertEquals(List.of(new TlsContextConfig.CertificateConfig(certPem, keyPem)), tls.certificates());
    }

    @Test
    void paramsAlpnAndClientCertificates() {
        TlsContextConfig tls = loadTls(tls("""
                require_client_certificate: true
                common_tls_context:
                  tls_params: {tls_minimum_protocol_version: TLSv1_2, tls_maximum_protocol_version: TLSv1_3}
                  alpn_protocols: [h2, http/1.1]
                  validation_context: {trusted_ca: {filename: %s}}
                  tls_certificates:
                  - {certificate_chain: {filename: %s}, private_key: {filename: %s}}
                """.formatted(certFile, certFile, keyFile)));
        assertEquals(Optional.of("TLSv1.2"), tls.minVersion());
        assertEquals(Optional.of("TLSv1.3"), tls.maxVersion());
        assertEquals(List.of("h2", "http/1.1"), tls.alpnProtocols());
        assertEquals(Optional.of(certPem), tls.trustedCaPem());
        assertTrue(tls.requireClientCertificate());
    }

    /** cipher_suites by OpenSSL names (an equal-preference group too), kept as the JDK's names in their order. */
    @Test
    void cipherSuitesAreTheJdksNamesOfTheListedSuites() {
        TlsContextConfig tls = loadTls(tls("""
                common_tls_context:
                  tls_params: {cipher_suites: ["[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
                    ECDHE-RSA-AES256-GCM-SHA384, ECDHE-RSA-AES128-SHA]}
                  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
                """.formatted(certFile, keyFile)));
        assertEquals(List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), tls.cipherSuites());
        assertEquals(List.of(), loadTls(tls(certificates("{filename: " + certFile + "}", "{filename: " + keyFile + "}")))
                .cipherSuites(), "none listed: the JDK's defaults");
    }

    /**
     * A name the proxy's TLS does not offer — unknown, RSA key exchange and 3DES (disabled in the JDK), an operator, a
     * TLS 1.3 suite — rejects the whole list with Envoy's error naming each.
     */
    @Test
    void cipherSuitesTheProxyCannotOfferAreRejectedWhole() {
        rejects(tls("""
                common_tls_context:
                  tls_params: {cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256, AES128-SHA, DES-CBC3-SHA, NOT-A-CIPHER, "!aNULL",
                    TLS_AES_128_GCM_SHA256]}
                  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
                """.formatted(certFile, keyFile)), TS + ".common_tls_context.tls_params.cipher_suites: Failed to initialize "
                + "cipher suites ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:DES-CBC3-SHA:NOT-A-CIPHER:!aNULL:TLS_AES_128_GCM_SHA256. "
                + "The following ciphers were rejected when tried individually: AES128-SHA, DES-CBC3-SHA, NOT-A-CIPHER, !aNULL, "
                + "TLS_AES_128_GCM_SHA256");
    }

    @Test
    void relativePathsResolveAgainstTheWorkingDirectoryAsInEnvoy() throws IOException {
        Path relative = Path.of("target", "tls-relative-" + ProcessHandle.current().pid());
        Files.createDirectories(relative);
        try {
            Files.writeString(relative.resolve("cert.pem"), certPem);
            Files.writeString(relative.resolve("key.pem"), keyPem);
            TlsContextConfig tls = loadTls(tls(certificates("{filename: " + relative.resolve("cert.pem") + "}",
                    "{filename: " + relative.resolve("key.pem") + "}")));
            assertEquals(certPem, tls.certificates().get(0).certificateChainPem());
        } finally {
            Files.deleteIfExists(relative.resolve("cert.pem"));
            Files.deleteIfExists(relative.resolve("key.pem"));
            Files.deleteIfExists(relative);
        }
    }

    @Test
    void unreadableFileIsNamed() {
        Path missing = dir.resolve("missing.pem");
        rejects(tls(certificates("{filename: " + missing + "}", "{filename: " + keyFile + "}")),
                TS + ".common_tls_context.tls_certificates[0].certificate_chain.filename: cannot read " + missing + " (NoSuchFileException)");
    }

    @Test
    void rejections() {
        rejects(tls(certificates("{filename: " + keyFile + "}", "{filename: " + keyFile + "}")),
                TS + ".common_tls_context.tls_certificates[0].certificate_chain: is not a PEM certificate");
        rejects(tls(certificates("{filename: " + certFile + "}", "{filename: " + certFile + "}")),
                TS + ".common_tls_context.tls_certificates[0].private_key: is not a PEM private key");
        rejects(tls("""
                common_tls_context:
                  tls_params: {tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_2}
                  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
                """.formatted(certFile, keyFile)),
                TS + ".common_tls_context.tls_params: tls_minimum_protocol_version TLSv1_3 is above tls_maximum_protocol_version TLSv1_2");
        rejects(tls("""
                common_tls_context:
                  tls_params: {tls_maximum_protocol_version: TLSv1_1}
                  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
                """.formatted(certFile, keyFile)), TS + ".common_tls_context.tls_params.tls_maximum_protocol_version: TLSv1_1 "
                + "would serve no client: this proxy speaks TLS 1.2 and 1.3 (TLS 1.0 and 1.1 have no cipher suite left)");
        rejects(Bootstraps.chain("name: envoy.filters.network.tcp_proxy\ntyped_config: {\"@type\": " + Bootstraps.TCP_TYPE
                + ", stat_prefix: t, cluster: backend}\n", "transport_socket: {typed_config: {\"@type\": "
                + "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext}}\n"),
                "listeners[0].filter_chains[0].transport_socket.name: is required");
        rejects(tls("common_tls_context: {}\n"), TS + ".common_tls_context.tls_certificates: a server needs at least one certificate");
        rejects(tls("require_sni: true\n" + certificates("{filename: " + certFile + "}", "{filename: " + keyFile + "}")),
                TS + ".require_sni: field is not supported");
        rejects(tls("common_tls_context: {tls_certificate_sds_secret_configs: [{name: default}]}\n"),
                TS + ".common_tls_context.tls_certificate_sds_secret_configs: field is not supported");
        rejects(tls("require_client_certificate: true\n" + certificates("{filename: " + certFile + "}", "{filename: " + keyFile + "}")),
                TS + ".require_client_certificate: TLS context has require_client_certificate set but no validation_context to verify it");
        rejects(tls(certificates("{environment_variable: CERT}", "{filename: " + keyFile + "}")),
                TS + ".common_tls_context.tls_certificates[0].certificate_chain.environment_variable: field is not supported");
    }

    private String validation(String fields) {
        return tls("""
                common_tls_context:
                  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
                  validation_context:
                %s""".formatted(certFile, keyFile, fields.indent(4)));
    }

    /** What a validation context may not say: each refused naming the field and value, as Envoy refuses or where we would verify less. */
    @Test
    void validationContextRefusals() {
        String v = TS + ".common_tls_context.validation_context";
        rejects(validation("verify_certificate_hash: [\"abcd\"]"), v + ".verify_certificate_hash[0]: invalid hex-encoded SHA-256 abcd");
        rejects(validation("verify_certificate_hash: [\"" + "zz".repeat(32) + "\"]"),
                v + ".verify_certificate_hash[0]: invalid hex-encoded SHA-256 " + "zz".repeat(32));
        rejects(validation("verify_certificate_spki: [\"AAAA\"]"), v + ".verify_certificate_spki[0]: invalid base64-encoded SHA-256 AAAA");
        rejects(validation("match_subject_alt_names: [{exact: a}]\nmatch_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]"),
                v + ".match_subject_alt_names: is deprecated and cannot be set together with match_typed_subject_alt_names");
        rejects(validation("match_typed_subject_alt_names: [{san_type: OTHER_NAME, matcher: {exact: a}}]"),
                v + ".match_typed_subject_alt_names[0].san_type: OTHER_NAME is not supported");
        rejects(validation("match_typed_subject_alt_names: [{matcher: {exact: a}}]"),
                v + ".match_typed_subject_alt_names[0].san_type: is required (DNS, URI, EMAIL or IP_ADDRESS)");
        rejects(validation("verify_certificate_hash: [\"" + "ab".repeat(32) + "\"]\ncrl: {filename: " + certFile + "}"),
                v + ".crl: needs trusted_ca: revocation is checked on the chain built to it");
        rejects(validation("allow_expired_certificate: true\ntrusted_ca: {filename: " + certFile + "}"),
                v + ".allow_expired_certificate: field is not supported");
        rejects(validation("match_typed_subject_alt_names: []"), v + ": verifies nothing: set trusted_ca, a subject-alt-name matcher, "
                + "verify_certificate_hash or verify_certificate_spki");
        rejects(validation("trusted_ca: {inline_string: " + quoted(certPem + "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n") + "}"),
                v + ".trusted_ca: holds CRLs: give them in validation_context.crl");
        rejects(validation("trusted_ca: {filename: " + certFile + "}\ncrl: {filename: " + certFile + "}"),
                v + ".crl: is not a PEM x509 crl");
    }

    @Test
    void validationContextFields() {
        String hash = "AB:".repeat(31) + "AB";
        TlsContextConfig tls = loadTls(validation("trusted_ca: {filename: " + certFile + "}\nverify_certificate_hash: [\"" + hash + "\"]\n"
                + "verify_certificate_spki: [\"" + java.util.Base64.getEncoder().encodeToString(new byte[32]) + "\"]\n"
                + "match_subject_alt_names: [{prefix: spiffe://}]\ntrust_chain_verification: ACCEPT_UNTRUSTED"));
        CertificateValidation v = tls.validation().orElseThrow();
        assertEquals(List.of("ab".repeat(32)), v.certificateHashes(), "the colon form, lower-cased");
        assertEquals(List.of("00".repeat(32)), v.spkiHashes());
        assertEquals(4, v.sanMatchers().size(), "the deprecated matcher over DNS, URI, EMAIL and IP_ADDRESS");
        assertTrue(v.acceptUntrusted());
        assertEquals(false, v.demandsCertificate(), "ACCEPT_UNTRUSTED demands nothing");
    }

    @Test
    void damagedCertificateIsNamed() {
        String damaged = certPem.replace(certPem.substring(100, 140), "A".repeat(40));
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> load(tls(certificates("{inline_string: " + quoted(damaged) + "}", "{filename: " + keyFile + "}"))));
        assertTrue(e.getMessage().startsWith(TS + ".common_tls_context.tls_certificates[0].certificate_chain: is not a valid certificate: "),
                e.getMessage());
    }

    @Test
    void upstreamTlsContextIsNotADownstreamSocket() {
        String yaml = Bootstraps.chain("""
                name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: backend}
                """, """
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext}
                """);
        rejects(yaml, "listeners[0].filter_chains[0].transport_socket.typed_config: "
                + "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext is not a downstream transport socket");
    }
}
