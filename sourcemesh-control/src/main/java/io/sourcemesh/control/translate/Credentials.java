package io.sourcemesh.control.translate;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Secret;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Map;
import java.util.Optional;

/**
 * What a credentialName's Secret holds, read as Istio's SDS server reads it (pilot/pkg/credentials/kube/secrets.go):
 * a key pair (ExtractCertInfo) and a CA with its CRL (ExtractRoot). Istio sends them by SDS
 * ({@code kubernetes://<name>}, {@code kubernetes://<name>-cacert}); our proxies have no SDS, so they are inlined.
 */
final class Credentials {
    /** Istio's SdsCaSuffix: the Secret holding the CA of credential {@code x} is {@code x-cacert}, else {@code x} itself. */
    static final String CA_SUFFIX = "-cacert";

    private Credentials() {}

    /** A CA bundle and the CRL beside it (empty when none). */
    record Root(String keyName, byte[] ca, byte[] crl) {}

    /**
     * ExtractRoot: key {@code cacert} (with {@code crl}) when non-empty, else {@code ca.crt} (with {@code ca.crl}); null
     * when neither has a value.
     */
    static Root root(Secret secret) {
        Map<String, byte[]> data = secret.data();
        if (nonEmpty(data.get("cacert"))) {
            return new Root("cacert", data.get("cacert"), data.get("crl"));
        }
        if (nonEmpty(data.get("ca.crt"))) {
            return new Root("ca.crt", data.get("ca.crt"), data.get("ca.crl"));
        }
        return null;
    }

    /** The Secret holding credential {@code name}'s CA in {@code namespace}: {@code <name>-cacert}, else {@code <name>}. */
    static Optional<Secret> caSecret(MeshModel model, String namespace, String name) {
        return model.secret(namespace, name + CA_SUFFIX).or(() -> model.secret(namespace, name));
    }

    /** A validation context trusting {@code root}'s CA, with its CRL when it has one (SANs and pins are the caller's). */
    static CertificateValidationContext.Builder trusting(Root root) {
        CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder().setTrustedCa(inline(root.ca()));
        if (nonEmpty(root.crl())) {
            v.setCrl(inline(root.crl()));
        }
        return v;
    }

    /**
     * ExtractCertInfo: the generic pair (cert, key) when both are non-empty, else the kubernetes.io/tls pair (tls.crt,
     * tls.key); the problem with it, or null when it is a PEM certificate and a PEM private key.
     */
    static String keyPairProblem(Secret secret) {
        Map<String, byte[]> data = secret.data();
        boolean generic = nonEmpty(data.get("cert")) && nonEmpty(data.get("key"));
        byte[] crt = data.get(generic ? "cert" : "tls.crt");
        byte[] key = data.get(generic ? "key" : "tls.key");
        return !nonEmpty(crt) || !nonEmpty(key) ? "has no tls.crt/tls.key (or cert/key)" : keyPairProblem(crt, key, "tls.crt", "tls.key");
    }

    /** The problem with a certificate chain and a private key named {@code crtName}, {@code keyName}; null when none. */
    static String keyPairProblem(byte[] crt, byte[] key, String crtName, String keyName) {
        return !parsesAsCertificate(crt) ? crtName + " is not a PEM certificate"
                : !new String(key, StandardCharsets.US_ASCII).contains("PRIVATE KEY-----") ? keyName + " is not a PEM private key"
                : null;
    }

    /** The key pair inline; call only when {@link #keyPairProblem} found none. */
    static TlsCertificate keyPair(Secret secret) {
        Map<String, byte[]> data = secret.data();
        boolean generic = nonEmpty(data.get("cert")) && nonEmpty(data.get("key"));
        return keyPair(data.get(generic ? "cert" : "tls.crt"), data.get(generic ? "key" : "tls.key"));
    }

    /** A certificate chain and its private key inline (a credential's, or files of a proxy's pod: {@link PodFiles}). */
    static TlsCertificate keyPair(byte[] crt, byte[] key) {
        return TlsCertificate.newBuilder().setCertificateChain(inline(crt)).setPrivateKey(inline(key)).build();
    }

    static DataSource inline(byte[] pem) {
        return DataSource.newBuilder().setInlineString(new String(pem, StandardCharsets.UTF_8)).build();
    }

    static boolean nonEmpty(byte[] value) {
        return value != null && value.length > 0;
    }

    static boolean parsesAsCertificate(byte[] pem) {
        try {
            return !CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)).isEmpty();
        } catch (CertificateException | RuntimeException e) {
            return false;
        }
    }
}
