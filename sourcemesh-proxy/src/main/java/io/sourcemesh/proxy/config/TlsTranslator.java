package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * DownstreamTlsContext → {@link TlsContextConfig}. Certificates and keys are read here, at load
 * time, so an unreadable file fails the config rather than the first handshake.
 */
final class TlsTranslator {

    private TlsTranslator() {}

    static TlsContextConfig downstream(DownstreamTlsContext tls, String path) {
        only(tls, path, "common_tls_context", "require_client_certificate");
        String cPath = at(path, "common_tls_context");
        CommonTlsContext common = tls.getCommonTlsContext();
        only(common, cPath, "tls_params", "tls_certificates", "validation_context", "alpn_protocols");
        if (common.getTlsCertificatesCount() == 0) {
            throw new ConfigException(at(cPath, "tls_certificates"), "a server needs at least one certificate");
        }
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
        if (common.hasTlsParams()) {
            String pPath = at(cPath, "tls_params");
            TlsParameters params = common.getTlsParams();
            only(params, pPath, "tls_minimum_protocol_version", "tls_maximum_protocol_version");
            min = version(params.getTlsMinimumProtocolVersion(), at(pPath, "tls_minimum_protocol_version"));
            max = version(params.getTlsMaximumProtocolVersion(), at(pPath, "tls_maximum_protocol_version"));
            // Below TLS 1.2 the JDK has no cipher suite left (as Envoy since 1.28 without cipher_suites): a
            // minimum of 1.0 or 1.1 serves from 1.2, a maximum of 1.0 or 1.1 would serve no client at all.
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
        Optional<String> trustedCa = Optional.empty();
        if (common.hasValidationContext()) {
            String vPath = at(cPath, "validation_context");
            only(common.getValidationContext(), vPath, "trusted_ca");
            if (!common.getValidationContext().hasTrustedCa()) {
                throw new ConfigException(at(vPath, "trusted_ca"), "is required");
            }
            String ca = Protos.text(common.getValidationContext().getTrustedCa(), at(vPath, "trusted_ca"));
            requireCertificates(ca, at(vPath, "trusted_ca"));
            trustedCa = Optional.of(ca);
        }
        boolean requireClient = tls.getRequireClientCertificate().getValue();
        if (requireClient && trustedCa.isEmpty()) {
            // Envoy's rule: client certificates cannot be verified without a CA.
            throw new ConfigException(at(path, "require_client_certificate"),
                    "TLS context has require_client_certificate set but no validation_context.trusted_ca to verify it");
        }
        return new TlsContextConfig(certificates, min, max, List.copyOf(common.getAlpnProtocolsList()), trustedCa, requireClient);
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
