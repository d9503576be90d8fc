package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.load;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.sourcemesh.proxy.matcher.StringMatch;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster's UpstreamTlsContext (api/envoy/extensions/transport_sockets/tls/v3/tls.proto, read as Envoy's
 * ClientContextConfigImpl in source/common/tls/context_config_impl.cc): sni, the client certificate (inline or from a
 * file), protocol bounds, ALPN, the validation context the downstream side reads too; every other field refused by path.
 */
class UpstreamTlsTranslationTest {
    private static final String SOCKET = "clusters[0].transport_socket.typed_config";

    @TempDir
    Path dir;

    private static String cluster(String upstreamTlsContext) {
        return """
                static_resources:
                  clusters:
                  - name: c
                    transport_socket:
                      name: envoy.transport_sockets.tls
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                """ + upstreamTlsContext.indent(8);
    }

    private static UpstreamTlsConfig loadUpstream(String context) {
        return assertInstanceOf(TransportSocketConfig.UpstreamTls.class, load(cluster(context)).clusters().get(0).transportSocket()).tls();
    }

    @Test
    void sniClientCertificateBoundsAlpnAndValidation() throws Exception {
        TestCertificates.Pem client = TestCertificates.selfSigned("client", "client.example");
        TestCertificates.Authority ca = TestCertificates.Authority.root("servers");
        Path caFile = Files.writeString(dir.resolve("ca.crt"), ca.certificate());
        Path keyFile = Files.writeString(dir.resolve("client.key"), client.privateKey());
        UpstreamTlsConfig tls = loadUpstream("""
                sni: httpbin.default.svc.cluster.local
                common_tls_context:
                  tls_params: {tls_minimum_protocol_version: TLSv1_3}
                  alpn_protocols: [istio-http/1.1, istio]
                  tls_certificates:
                  - certificate_chain: {inline_string: @CERT@}
                    private_key: {filename: @KEY@}
                  validation_context:
                    trusted_ca: {filename: @CA@}
                    match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "spiffe://cluster.local/ns/default/sa/httpbin"}}]
                """.replace("@CERT@", TlsTranslationTest.quoted(client.certificate())).replace("@KEY@", keyFile.toString())
                .replace("@CA@", caFile.toString()));
        assertEquals(Optional.of("httpbin.default.svc.cluster.local"), tls.sni());
        assertEquals(List.of(new TlsContextConfig.CertificateConfig(client.certificate(), client.privateKey())), tls.context().certificates());
        assertEquals(Optional.of("TLSv1.3"), tls.context().minVersion());
        assertEquals(List.of("istio-http/1.1", "istio"), tls.context().alpnProtocols());
        CertificateValidation v = tls.context().validation().orElseThrow();
        assertEquals(Optional.of(ca.certificate()), v.trustedCaPem());
        assertEquals(List.of(new CertificateValidation.SanMatcher(CertificateValidation.SanType.URI,
                StringMatch.of(StringMatch.Kind.EXACT, "spiffe://cluster.local/ns/default/sa/httpbin", false))), v.sanMatchers());
    }

    @Test
    void fieldsNotImplementedAreRefusedByPath() {
        rejects(cluster("sni: \"a..b\""), SOCKET + ".sni: a..b is not a host name the TLS client can send: "
                + "Empty label is not a legal name");
        rejects(cluster("allow_renegotiation: true"), SOCKET + ".allow_renegotiation: field is not supported");
        rejects(cluster("max_session_keys: 4"), SOCKET + ".max_session_keys: field is not supported");
        rejects(cluster("auto_host_sni: true"), SOCKET + ".auto_host_sni: field is not supported");
        rejects(cluster("auto_sni_san_validation: true"), SOCKET + ".auto_sni_san_validation: field is not supported");
        rejects(cluster("enforce_rsa_key_usage: true"), SOCKET + ".enforce_rsa_key_usage: field is not supported");
        assertEquals(List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), loadUpstream("common_tls_context: {tls_params: "
                + "{cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256]}}").context().cipherSuites(), "the client offers what it lists");
        rejects(cluster("common_tls_context: {tls_params: {cipher_suites: [AES256-GCM-SHA384]}}"),
                SOCKET + ".common_tls_context.tls_params.cipher_suites: Failed to initialize cipher suites AES256-GCM-SHA384. "
                        + "The following ciphers were rejected when tried individually: AES256-GCM-SHA384");
        rejects(cluster("common_tls_context: {tls_params: {ecdh_curves: [X25519]}}"),
                SOCKET + ".common_tls_context.tls_params.ecdh_curves: field is not supported");
        rejects(cluster("common_tls_context: {tls_certificate_sds_secret_configs: [{name: default}]}"),
                SOCKET + ".common_tls_context.tls_certificate_sds_secret_configs: field is not supported");
        rejects(cluster("common_tls_context: {combined_validation_context: {default_validation_context: {}}}"),
                SOCKET + ".common_tls_context.combined_validation_context: field is not supported");
        rejects(cluster("common_tls_context: {validation_context_sds_secret_config: {name: ROOTCA}}"),
                SOCKET + ".common_tls_context.validation_context_sds_secret_config: field is not supported");
        rejects(cluster("common_tls_context: {tls_params: {tls_maximum_protocol_version: TLSv1_1}}"),
                SOCKET + ".common_tls_context.tls_params.tls_maximum_protocol_version: TLSv1_1 would serve no client: "
                        + "this proxy speaks TLS 1.2 and 1.3 (TLS 1.0 and 1.1 have no cipher suite left)");
    }

    @Test
    void aClientContextHasAtMostOneCertificate() {
        TestCertificates.Pem a = TestCertificates.selfSigned("a");
        String one = "{certificate_chain: {inline_string: " + TlsTranslationTest.quoted(a.certificate()) + "}, private_key: {inline_string: "
                + TlsTranslationTest.quoted(a.privateKey()) + "}}";
        rejects(cluster("common_tls_context: {tls_certificates: [" + one + ", " + one + "]}"),
                SOCKET + ".common_tls_context.tls_certificates: multiple TLS certificates are not supported for client contexts");
        rejects(cluster("common_tls_context: {tls_certificates: [{certificate_chain: {inline_string: "
                + TlsTranslationTest.quoted(a.certificate()) + "}}]}"),
                SOCKET + ".common_tls_context.tls_certificates[0].private_key: is required");
    }
}
