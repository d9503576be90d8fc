package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.sourcemesh.api.resource.GatewayRules;
import io.sourcemesh.proxy.config.CipherSuiteNames;
import java.util.List;
import java.util.Optional;

/**
 * Istio's ServerTLSSettings as a listener's DownstreamTlsContext (BuildListenerTLSContext), shared by a Gateway's
 * servers ({@link GatewayBuilder}, key pairs from credentialName or files of the gateway pod) and a Sidecar's ingress listeners
 * ({@link SidecarBuilder}, key pairs from files of the pod, {@link PodFiles}): the protocol versions and cipher suites,
 * the clients' CA with subjectAltNames and the pins, ALPN h2 and http/1.1, a client certificate required for MUTUAL and
 * ISTIO_MUTUAL. {@code leftOut} ends a warning that leaves the part out ("server left out").
 */
final class ServerTls {
    private ServerTls() {}

    /**
     * tls.minProtocolVersion / maxProtocolVersion and cipherSuites → tls_params (none when both are TLS_AUTO and no
     * suite is listed). Empty when the part is left out: a maximum below TLS 1.2 (the proxy serves TLS 1.2 and 1.3
     * only, so it could serve no client), a minimum above the maximum, or a suite the proxy cannot offer. A minimum of
     * TLS 1.0 or 1.1 is passed on and serves from 1.2 (apply warns about it).
     */
    static Optional<Optional<TlsParameters>> params(JsonNode tls, String where, String leftOut, List<TranslationWarning> warnings) {
        String min = tls.path("minProtocolVersion").asText("TLS_AUTO");
        String max = tls.path("maxProtocolVersion").asText("TLS_AUTO");
        if (max.equals("TLSV1_0") || max.equals("TLSV1_1")) {
            warnings.add(new TranslationWarning(where, "tls.maxProtocolVersion " + max
                    + " would serve no client: the proxy speaks TLS 1.2 and 1.3; " + leftOut));
            return Optional.empty();
        }
        if (!min.equals("TLS_AUTO") && !max.equals("TLS_AUTO") && min.compareTo(max) > 0) {
            warnings.add(new TranslationWarning(where, "tls.minProtocolVersion " + min + " is above tls.maxProtocolVersion "
                    + max + "; " + leftOut));
            return Optional.empty();
        }
        // Istio's FilterCipherSuites; a suite the proxy cannot offer would make it refuse the whole update.
        List<String> ciphers = GatewayRules.filteredCipherSuites(tls.path("cipherSuites"));
        List<String> notOffered = CipherSuiteNames.notOffered(ciphers);
        if (!notOffered.isEmpty()) {
            warnings.add(new TranslationWarning(where, "tls.cipherSuites " + String.join(", ", notOffered)
                    + " cannot be offered by the proxy (the JDK's TLS has no RSA key exchange or 3DES, and its cipher list "
                    + "takes suite names only); " + leftOut));
            return Optional.empty();
        }
        if (min.equals("TLS_AUTO") && max.equals("TLS_AUTO") && ciphers.isEmpty()) {
            return Optional.of(Optional.empty());
        }
        return Optional.of(Optional.of(TlsParameters.newBuilder()
                .setTlsMinimumProtocolVersion(tlsProtocol(min))
                .setTlsMaximumProtocolVersion(tlsProtocol(max))
                .addAllCipherSuites(ciphers)
                .build()));
    }

    /**
     * MUTUAL / OPTIONAL_MUTUAL's client validation: {@code root}'s CA with its CRL, subjectAltNames as exact SAN
     * matchers, verifyCertificateSpki/Hash as pins (Istio's ApplyCredentialSDSToServerCommonTLSContext and its file
     * case alike).
     */
    static CertificateValidationContext clients(Credentials.Root root, JsonNode tls) {
        CertificateValidationContext.Builder v = Credentials.trusting(root);
        for (JsonNode san : tls.path("subjectAltNames")) {
            v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san.asText()));
        }
        tls.path("verifyCertificateSpki").forEach(h -> v.addVerifyCertificateSpki(h.asText()));
        tls.path("verifyCertificateHash").forEach(h -> v.addVerifyCertificateHash(h.asText()));
        return v.build();
    }

    /** verifyCertificateSpki/Hash with a mode whose client validation Istio builds without them: named as unused. */
    static void unusedPins(JsonNode tls, String mode, String where, List<TranslationWarning> warnings) {
        if (tls.path("verifyCertificateSpki").size() + tls.path("verifyCertificateHash").size() > 0) {
            warnings.add(TranslationWarning.note(where, "tls.verifyCertificateSpki/verifyCertificateHash are not "
                    + "used with tls.mode " + mode + " (Istio applies them to MUTUAL and OPTIONAL_MUTUAL)"));
        }
    }

    /**
     * The terminating transport socket: Istio's BuildListenerTLSContext offers h2 and http/1.1 by ALPN (on a sidecar's
     * ingress listener and every terminating gateway server, TCP ones too); MUTUAL and ISTIO_MUTUAL require a client
     * certificate, OPTIONAL_MUTUAL verifies one when sent.
     */
    static TransportSocket socket(String mode, List<TlsCertificate> certificates, Optional<TlsParameters> params,
            Optional<CertificateValidationContext> clients) {
        CommonTlsContext.Builder common = CommonTlsContext.newBuilder()
                .addAlpnProtocols("h2").addAlpnProtocols("http/1.1")
                .addAllTlsCertificates(certificates);
        params.ifPresent(common::setTlsParams);
        clients.ifPresent(common::setValidationContext);
        DownstreamTlsContext ctx = DownstreamTlsContext.newBuilder()
                .setCommonTlsContext(common)
                .setRequireClientCertificate(Protos.bool(mode.equals("MUTUAL") || mode.equals("ISTIO_MUTUAL")))
                .build();
        return TransportSocket.newBuilder().setName(Names.TLS_TRANSPORT_SOCKET).setTypedConfig(Any.pack(ctx)).build();
    }

    /** Istio's TLSV1_2 → Envoy's TLSv1_2 (the schema admits only these five values). */
    private static TlsParameters.TlsProtocol tlsProtocol(String istio) {
        return istio.equals("TLS_AUTO") ? TlsParameters.TlsProtocol.TLS_AUTO
                : TlsParameters.TlsProtocol.valueOf("TLSv" + istio.substring("TLSV".length()));
    }
}
