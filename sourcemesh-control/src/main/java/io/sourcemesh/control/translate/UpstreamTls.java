package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Secret;
import java.util.List;
import java.util.Optional;

/**
 * A DestinationRule's {@code tls} (its ClientTLSSettings, after the port and subset merge) → the outbound cluster's
 * {@code envoy.transport_sockets.tls} socket, as Istio's applyUpstreamTLSSettings and constructUpstreamTLS
 * (pilot/pkg/networking/core/cluster_tls.go) write it for SIMPLE and MUTUAL: TLS 1.2 to 1.3 (defaultUpstreamCommonTLSContext),
 * {@code sni} as given, else Envoy's auto_sni (and auto_san_validation when nothing else names the peer) in the
 * cluster's HttpProtocolOptions (setAutoSniAndAutoSanValidation); credentialName's key pair (MUTUAL) and CA with its
 * CRL, subjectAltNames as exact SAN matchers (ApplyCustomSDSToClientCommonTLSContext), nothing verified under
 * insecureSkipVerify; ALPN "h2" on an HTTP/2 cluster (constructUpstreamTLS's isHttp2Cluster), none otherwise.
 * <p>Istio serves credentialName by SDS from the proxy's own namespace (pilot/pkg/xds/sds.go); our proxies have no
 * SDS, so the Secrets are inlined, read from the proxy's namespace as Istio's SDS server would; file paths
 * (clientCertificate, privateKey, caCertificates, caCrl) are read from the Secrets the client proxy's pod mounts
 * ({@link PodFiles}), per proxy. A cluster whose TLS cannot be written as asked (a Secret missing, a file the pod does not
 * mount, the system CA bundle, ISTIO_MUTUAL without a mesh CA) is left out with a warning rather than
 * written with less verification: its requests fail (503) instead of going out unverified or in plaintext.
 */
final class UpstreamTls {
    static final String SOCKET_NAME = "envoy.transport_sockets.tls";
    /** Envoy's namespace of endpoint metadata that transport_socket_matches read (Istio's EnvoyTransportSocketMetadataKey). */
    static final String TRANSPORT_SOCKET_MATCH = "envoy.transport_socket_match";
    /** {@code tlsMode: istio}: Istio's istioMtlsTransportSocketMatch, and its in-mesh endpoints' metadata. */
    static final Struct ISTIO_MATCH = Struct.newBuilder()
            .putFields("tlsMode", Value.newBuilder().setStringValue(MeshTls.ISTIO_TLS_MODE).build()).build();
    /** Istio's xdsfilters.RawBufferTransportSocket: plaintext, the tlsMode-disabled match's socket. */
    private static final TransportSocket RAW_BUFFER = TransportSocket.newBuilder().setName("envoy.transport_sockets.raw_buffer")
            .setTypedConfig(EnvoyTypes.pack(RawBuffer.getDefaultInstance())).build();

    private UpstreamTls() {}

    /**
     * The client proxy's mesh TLS and the destination service's identities, for ISTIO_MUTUAL; {@code auto}: the
     * destination takes mTLS without being told (auto mTLS, {@link MeshTls#autoMtls}).
     */
    record Mesh(MeshTls tls, List<String> identities, boolean auto) {}

    /**
     * Sets the cluster's TLS socket for {@code tls} (null, missing or DISABLE: none); false, with a warning, when the
     * cluster must be left out.
     */
    static boolean apply(Cluster.Builder c, JsonNode tls, MeshModel model, String credentialNamespace, PodFiles files,
            Mesh mesh, String where, List<TranslationWarning> warnings) {
        String mode = tls == null ? "" : tls.path("mode").asText("");
        if (tls == null && mesh != null && mesh.auto()) {
            // Istio's auto mTLS (cluster_tls.go applyUpstreamTLSSettings): no tls in the rule; the endpoints with a
            // sidecar (tlsMode: istio metadata) get the mesh's mTLS, the others plaintext. An ORIGINAL_DST cluster's
            // hosts have no metadata, so Istio keeps the mTLS socket on it.
            TransportSocket mtls = TransportSocket.newBuilder().setName(SOCKET_NAME)
                    .setTypedConfig(EnvoyTypes.pack(mesh.tls().upstream(mesh.identities(), "", HttpOptions.isHttp2(c)))).build();
            if (c.getType() == Cluster.DiscoveryType.ORIGINAL_DST) {
                c.setTransportSocket(mtls);
                return true;
            }
            c.addTransportSocketMatches(Cluster.TransportSocketMatch.newBuilder()
                    .setName("tlsMode-" + MeshTls.ISTIO_TLS_MODE).setMatch(ISTIO_MATCH).setTransportSocket(mtls));
            c.addTransportSocketMatches(Cluster.TransportSocketMatch.newBuilder()
                    .setName("tlsMode-disabled").setMatch(Struct.getDefaultInstance()).setTransportSocket(RAW_BUFFER));
            return true;
        }
        switch (mode) {
            case "", "DISABLE" -> {
                return true;
            }
            case "SIMPLE", "MUTUAL" -> {
                Optional<UpstreamTlsContext> context = context(c, tls, mode.equals("MUTUAL"), model, credentialNamespace,
                        files, where, warnings);
                context.ifPresent(ctx -> c.setTransportSocket(TransportSocket.newBuilder().setName(SOCKET_NAME)
                        .setTypedConfig(EnvoyTypes.pack(ctx))));
                return context.isPresent();
            }
            case "ISTIO_MUTUAL" -> {
                if (mesh == null) {
                    warnings.add(new TranslationWarning(where, "cluster " + c.getName() + ": tls mode ISTIO_MUTUAL needs the "
                            + "workload certificates of the mesh CA, and the mesh has none (Secret istio-ca-secret or "
                            + "cacerts in " + model.meshConfig().rootNamespace() + "); cluster left out"));
                    return false;
                }
                c.setTransportSocket(TransportSocket.newBuilder().setName(SOCKET_NAME)
                        .setTypedConfig(EnvoyTypes.pack(istioMutual(tls, mesh, HttpOptions.isHttp2(c)))));
                return true;
            }
            default -> {
                warnings.add(new TranslationWarning(where, "cluster " + c.getName() + ": tls mode " + mode
                        + " is not one SourceMesh knows; cluster left out"));
                return false;
            }
        }
    }

    /**
     * Istio's buildIstioMutualTLS: the workload certificate and the root, the SANs the rule names else the
     * destination's service-account identities, the rule's sni, and the in-mesh ALPN. Without the rule's sni Istio sends
     * {@code outbound_.<port>_.<subset>_.<host>} ({@link MeshTls#sni}), which the JDK's TLS can neither send nor accept
     * (a host name with underscores), so none is sent: a sidecar's inbound chains choose by port and ALPN, not SNI; only
     * an AUTO_PASSTHROUGH gateway server would read it, and those are not translated.
     */
    private static UpstreamTlsContext istioMutual(JsonNode tls, Mesh mesh, boolean http2) {
        List<String> sans = Clusters.list(tls.path("subjectAltNames")).stream().map(JsonNode::asText).toList();
        String sni = tls.path("sni").asText("");
        return mesh.tls().upstream(sans.isEmpty() ? mesh.identities() : sans, sni, http2);
    }

    private static Optional<UpstreamTlsContext> context(Cluster.Builder c, JsonNode tls, boolean mutual, MeshModel model,
            String namespace, PodFiles files, String where, List<TranslationWarning> warnings) {
        String sni = tls.path("sni").asText("");
        boolean insecure = tls.path("insecureSkipVerify").asBoolean(false);
        List<String> sans = Clusters.list(tls.path("subjectAltNames")).stream().map(JsonNode::asText).toList();
        String credential = tls.path("credentialName").asText("");
        String cluster = "cluster " + c.getName() + ": tls mode " + tls.path("mode").asText();
        CommonTlsContext.Builder common = CommonTlsContext.newBuilder().setTlsParams(TlsParameters.newBuilder()
                .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
                .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3));
        if (credential.isEmpty()) {
            // Istio's file case: the key pair and the CA are files of the client proxy's pod, read from the Secrets its
            // sidecar.istio.io/userVolume annotations mount (PodFiles); "system" (caCertificates unset: the pod's trust
            // store) is none of them.
            if (mutual) {
                PodFiles.KeyPair pair = files.keyPair("clientCertificate", tls.path("clientCertificate").asText(""),
                        "privateKey", tls.path("privateKey").asText(""));
                if (pair.problem() != null) {
                    warnings.add(new TranslationWarning(where, cluster + " needs the client certificate: " + pair.problem()
                            + "; cluster left out"));
                    return Optional.empty();
                }
                common.addTlsCertificates(pair.certificate());
            }
            if (!insecure) {
                String ca = tls.path("caCertificates").asText("");
                if (ca.isEmpty()) {
                    warnings.add(new TranslationWarning(where, cluster + " without credentialName or caCertificates verifies "
                            + "the server against the proxy's system CA bundle, which SourceMesh's pods do not have; cluster "
                            + "left out"));
                    return Optional.empty();
                }
                PodFiles.Ca root = files.ca(ca, tls.has("caCrl") ? tls.path("caCrl").asText("") : null);
                if (root.problem() != null) {
                    warnings.add(new TranslationWarning(where, cluster + " needs the server's CA: " + root.problem()
                            + "; cluster left out"));
                    return Optional.empty();
                }
                CertificateValidationContext.Builder v = Credentials.trusting(root.root());
                sans.forEach(san -> v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san)));
                common.setValidationContext(v);
            }
            // SIMPLE with insecureSkipVerify: Istio writes an empty validation_context, which Envoy reads as none.
        } else {
            if (credential.startsWith("configmap://")) {
                warnings.add(new TranslationWarning(where, cluster + ": credentialName " + credential + " (a ConfigMap) is not "
                        + "read by SourceMesh; cluster left out"));
                return Optional.empty();
            }
            if (mutual) {
                Optional<Secret> secret = model.secret(namespace, credential);
                String problem = secret.isEmpty() ? "not found" : Credentials.keyPairProblem(secret.get());
                if (problem != null) {
                    warnings.add(new TranslationWarning(where, cluster + " needs the client certificate: secret " + namespace
                            + "/" + credential + " " + problem + "; cluster left out"));
                    return Optional.empty();
                }
                common.addTlsCertificates(Credentials.keyPair(secret.get()));
            }
            if (!insecure) {
                Optional<CertificateValidationContext> validation = validation(credential, sans, model, namespace);
                if (validation.isEmpty()) {
                    warnings.add(new TranslationWarning(where, cluster + " needs the server's CA: secret " + namespace + "/"
                            + credential + Credentials.CA_SUFFIX + " (or " + namespace + "/" + credential + ") with a PEM "
                            + "cacert or ca.crt not found; cluster left out"));
                    return Optional.empty();
                }
                common.setValidationContext(validation.get());
            }
        }
        if (HttpOptions.isHttp2(c)) {
            common.addAlpnProtocols("h2"); // Istio's util.ALPNH2Only: this is an HTTP/2 cluster, advertised by ALPN
        }
        if (sni.isEmpty()) {
            autoSni(c, sans.isEmpty() && !insecure);
        }
        return Optional.of(UpstreamTlsContext.newBuilder().setCommonTlsContext(common).setSni(sni).build());
    }

    /**
     * Istio's GetCaCert: Secret {@code <credential>-cacert}, else {@code <credential>}, its CA (ExtractRoot) and CRL;
     * subjectAltNames as exact matchers of the deprecated field, as Istio's StringToExactMatch.
     */
    private static Optional<CertificateValidationContext> validation(String credential, List<String> sans, MeshModel model,
            String namespace) {
        Credentials.Root root = Credentials.caSecret(model, namespace, credential).map(Credentials::root).orElse(null);
        if (root == null || !Credentials.parsesAsCertificate(root.ca())) {
            return Optional.empty();
        }
        CertificateValidationContext.Builder v = Credentials.trusting(root);
        sans.forEach(san -> v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san)));
        return Optional.of(v.build());
    }

    /**
     * Istio's setAutoSniAndAutoSanValidation for a cluster without sni: the request's host is the SNI (auto_sni), and
     * the certificate must name it (auto_san_validation) unless subjectAltNames or insecureSkipVerify say otherwise.
     */
    private static void autoSni(Cluster.Builder c, boolean sanValidation) {
        HttpProtocolOptions.Builder options = HttpOptions.of(c);
        UpstreamHttpProtocolOptions.Builder upstream = options.getUpstreamHttpProtocolOptions().toBuilder().setAutoSni(true);
        if (sanValidation) {
            upstream.setAutoSanValidation(true);
        }
        options.setUpstreamHttpProtocolOptions(upstream);
        HttpOptions.put(c, options);
    }
}
