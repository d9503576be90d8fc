package io.sourcemesh.proxy.tls;

import io.sourcemesh.proxy.config.CertificateValidation;
import io.sourcemesh.proxy.matcher.StringMatch;
import io.sourcemesh.proxy.network.CertificateFacts;
import io.sourcemesh.proxy.network.ChannelErrors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A validation context's check of a peer's certificate — a client's on a filter chain, a server's on a cluster (Envoy's
 * one DefaultCertValidator for both sides) — in Envoy's DefaultCertValidator order: the chain against
 * the trusted CAs (and the CRLs: every certificate of the chain, or the leaf only), then the SAN matchers (one
 * matching SAN is enough), then the pins (the certificate's SHA-256 or its SubjectPublicKeyInfo's; either list
 * passing is enough). ACCEPT_UNTRUSTED lets every failure through, as Envoy's. A failure is a
 * {@link Failure} naming Envoy's counter ({@code ssl.fail_verify_san}, {@code ssl.fail_verify_cert_hash},
 * {@code ssl.fail_verify_error}) and Envoy's debug message.
 */
final class PeerCertificateVerifier extends X509ExtendedTrustManager {

    /** The chain check over the trusted CAs; null when the context names none (then only SANs and pins decide). */
    private final X509ExtendedTrustManager chain;
    private final CertificateValidation config;
    /** An upstream context's: it verifies servers, and refuses to verify a client. */
    private final boolean verifiesServers;
    /** auto_san_validation: the engine's peer host, when it has one, must be one of the server's SANs. */
    private final boolean peerHostSan;

    private PeerCertificateVerifier(X509ExtendedTrustManager chain, CertificateValidation config, boolean verifiesServers,
            boolean peerHostSan) {
        this.chain = chain;
        this.config = config;
        this.verifiesServers = verifiesServers;
        this.peerHostSan = peerHostSan;
    }

    /** A filter chain's verifier of client certificates. */
    static PeerCertificateVerifier of(CertificateValidation config, String path) throws GeneralSecurityException, IOException {
        return new PeerCertificateVerifier(chain(config, path), config, false, false);
    }

    /** A cluster's verifier of the upstream server's certificate. */
    static PeerCertificateVerifier ofServers(CertificateValidation config, String path) throws GeneralSecurityException, IOException {
        return ofServers(config, path, false);
    }

    /**
     * A cluster's verifier; {@code peerHostSan} (auto_san_validation): the name a request set, the engine's peer host,
     * must be a SAN of the server's certificate too.
     */
    static PeerCertificateVerifier ofServers(CertificateValidation config, String path, boolean peerHostSan)
            throws GeneralSecurityException, IOException {
        return new PeerCertificateVerifier(chain(config, path), config, true, peerHostSan);
    }

    private static X509ExtendedTrustManager chain(CertificateValidation config, String path)
            throws GeneralSecurityException, IOException {
        return config.trustedCaPem().isPresent()
                ? chainCheck(config, path + ".typed_config.common_tls_context.validation_context.trusted_ca")
                : null;
    }

    /** A verification failure, with the stats counter Envoy bumps for it. */
    static final class Failure extends CertificateException {
        private final ChannelErrors.VerifyFailure kind;

        Failure(ChannelErrors.VerifyFailure kind, String message, Throwable cause) {
            super(message, cause);
            this.kind = kind;
        }

        ChannelErrors.VerifyFailure kind() {
            return kind;
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] certs, String authType, SSLEngine engine) throws CertificateException {
        verify(certs, authType, engine, false);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] certs, String authType, Socket socket) throws CertificateException {
        verify(certs, authType, null, false);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] certs, String authType) throws CertificateException {
        verify(certs, authType, null, false);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] certs, String authType, SSLEngine engine) throws CertificateException {
        verify(certs, authType, engine, true);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] certs, String authType, Socket socket) throws CertificateException {
        verify(certs, authType, null, true);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] certs, String authType) throws CertificateException {
        verify(certs, authType, null, true);
    }

    /** The CA names the CertificateRequest lists (Envoy sends its trusted CAs' subjects too). */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return chain == null ? new X509Certificate[0] : chain.getAcceptedIssuers();
    }

    private void verify(X509Certificate[] certs, String authType, SSLEngine engine, boolean server) throws CertificateException {
        if (server != verifiesServers) {
            throw new CertificateException(verifiesServers ? "an upstream context verifies servers only"
                    : "a downstream context verifies clients only");
        }
        if (certs == null || certs.length == 0) {
            throw new Failure(ChannelErrors.VerifyFailure.NO_CERT, "verify cert failed: empty cert chain", null);
        }
        if (chain != null) {
            try {
                if (server) {
                    // No endpoint identification is set on the engine: the host name is not checked, as Envoy's.
                    chain.checkServerTrusted(certs, authType, engine);
                } else if (engine != null) {
                    chain.checkClientTrusted(certs, authType, engine);
                } else {
                    chain.checkClientTrusted(certs, authType);
                }
            } catch (CertificateException e) {
                fail(ChannelErrors.VerifyFailure.ERROR, "verify cert failed: " + chainError(e), e);
            }
        }
        X509Certificate leaf = certs[0];
        String requested = peerHostSan && engine != null ? engine.getPeerHost() : null;
        if (requested != null) {
            // Envoy's verifySubjectAltName with the transport socket options' list, before (and beside) the matchers: a
            // DNS SAN by dnsNameMatch, any other by equality.
            List<San> sans = sans(leaf);
            boolean named = false;
            for (San san : sans) {
                named |= san.type() == CertificateValidation.SanType.DNS ? dnsNameMatch(requested, san.value()) : requested.equals(san.value());
            }
            if (!named) {
                fail(ChannelErrors.VerifyFailure.SAN, "verify cert failed: SAN matcher, certificate SANs are "
                        + sans.stream().map(San::value).toList() + ", the request's host is " + requested, null);
            }
        }
        if (!config.sanMatchers().isEmpty()) {
            List<San> sans = sans(leaf);
            if (!matchesAny(sans)) {
                fail(ChannelErrors.VerifyFailure.SAN, "verify cert failed: SAN matcher, certificate SANs are "
                        + sans.stream().map(San::value).toList(), null);
            }
        }
        if (!config.certificateHashes().isEmpty() || !config.spkiHashes().isEmpty()) {
            boolean hash = !config.certificateHashes().isEmpty()
                    && config.certificateHashes().contains(new CertificateFacts(leaf).sha256Digest());
            boolean spki = !config.spkiHashes().isEmpty()
                    && config.spkiHashes().contains(CertificateFacts.hexDigest("SHA-256", leaf.getPublicKey().getEncoded()));
            if (!hash && !spki) {
                fail(ChannelErrors.VerifyFailure.CERT_HASH, "verify cert failed: cert hash and spki", null);
            }
        }
    }

    /**
     * The chain check's failure as Envoy's default validator words it (Utility::getX509VerificationErrorInfo:
     * {@code X509_verify_cert: certificate verification error at depth N: <OpenSSL's X509_verify_cert_error_string>})
     * for what the JDK's PKIX check tells apart — no path to a trusted CA, a revoked, expired or not yet valid
     * certificate, no CRL of its issuer; the JDK's own message otherwise.
     */
    static String chainError(CertificateException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertPathValidatorException v) {
                String reason = v.getReason() instanceof java.security.cert.CertPathValidatorException.BasicReason b ? switch (b) {
                    case REVOKED -> "certificate revoked";
                    case EXPIRED -> "certificate has expired";
                    case NOT_YET_VALID -> "certificate is not yet valid";
                    case UNDETERMINED_REVOCATION_STATUS -> "unable to get certificate CRL";
                    default -> null;
                } : null;
                if (reason != null) {
                    return "X509_verify_cert: certificate verification error at depth " + Math.max(0, v.getIndex()) + ": " + reason;
                }
            }
            if (t instanceof java.security.cert.CertPathBuilderException) {
                return "X509_verify_cert: certificate verification error at depth 0: unable to get local issuer certificate";
            }
        }
        return e.getMessage();
    }

    private void fail(ChannelErrors.VerifyFailure kind, String message, Throwable cause) throws Failure {
        if (!config.acceptUntrusted()) {
            throw new Failure(kind, message, cause);
        }
    }

    private record San(CertificateValidation.SanType type, String value) {}

    private boolean matchesAny(List<San> sans) {
        for (CertificateValidation.SanMatcher m : config.sanMatchers()) {
            for (San san : sans) {
                if (san.type() == m.type() && matches(m.match(), san)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** An exact matcher on a DNS SAN follows DNS semantics (a wildcard SAN covers one label), as Envoy's StringSanMatcher. */
    private static boolean matches(StringMatch match, San san) {
        if (san.type() == CertificateValidation.SanType.DNS && match.kind() == StringMatch.Kind.EXACT) {
            return dnsNameMatch(match.value(), san.value());
        }
        return match.matches(san.value());
    }

    /**
     * Envoy's Utility::dnsNameMatch: equal ignoring ASCII case, or the SAN's left-most label holds the one wildcard
     * (not an A-label), the rest of the name is equal and the name's first label fits around the wildcard.
     */
    static boolean dnsNameMatch(String dnsName, String pattern) {
        String name = dnsName.toLowerCase(Locale.ROOT);
        String pat = pattern.toLowerCase(Locale.ROOT);
        if (name.equals(pat)) {
            return true;
        }
        int patDot = pat.indexOf('.');
        int nameDot = name.indexOf('.');
        if (patDot < 0 || nameDot < 0) {
            return false;
        }
        String patLabel = pat.substring(0, patDot);
        String patRest = pat.substring(patDot + 1);
        if (patLabel.indexOf('*') < 0 || patRest.indexOf('*') >= 0 || patLabel.startsWith("xn--")) {
            return false;
        }
        if (!name.substring(nameDot + 1).equals(patRest)) {
            return false;
        }
        String label = name.substring(0, nameDot);
        if (patLabel.equals("*")) {
            return true;
        }
        int star = patLabel.indexOf('*');
        if (patLabel.indexOf('*', star + 1) >= 0) {
            return false;
        }
        return patLabel.length() <= label.length() + 1 && label.startsWith(patLabel.substring(0, star))
                && label.endsWith(patLabel.substring(star + 1));
    }

    /** The leaf's SANs of the types Envoy matches, as Envoy prints them (read by the access log's CertificateFacts). */
    private static List<San> sans(X509Certificate leaf) {
        CertificateFacts facts = new CertificateFacts(leaf);
        List<San> out = new ArrayList<>();
        facts.dnsSans().forEach(v -> out.add(new San(CertificateValidation.SanType.DNS, v)));
        facts.uriSans().forEach(v -> out.add(new San(CertificateValidation.SanType.URI, v)));
        facts.emailSans().forEach(v -> out.add(new San(CertificateValidation.SanType.EMAIL, v)));
        facts.ipSans().forEach(v -> out.add(new San(CertificateValidation.SanType.IP_ADDRESS, v)));
        return out;
    }

    /**
     * The trusted CAs as a PKIX trust manager (any certificate in the bundle is an anchor, as Envoy's PARTIAL_CHAIN);
     * with CRLs, revocation is checked from them alone — every certificate of the chain, or the leaf only — and a
     * certificate whose issuer has no CRL fails, as Envoy's CRL_CHECK(_ALL). Never fetched from the network.
     */
    private static X509ExtendedTrustManager chainCheck(CertificateValidation config, String path)
            throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (X509Certificate c : ServerCertificates.certificates(config.trustedCaPem().orElseThrow(), path)) {
            store.setCertificateEntry("ca-" + i++, c);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        if (config.crlPem().isEmpty()) {
            factory.init(store);
        } else {
            PKIXBuilderParameters params = new PKIXBuilderParameters(store, new X509CertSelector());
            var crls = CertificateFactory.getInstance("X.509").generateCRLs(
                    new ByteArrayInputStream(config.crlPem().get().getBytes(StandardCharsets.US_ASCII)));
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(crls)));
            params.setRevocationEnabled(true);
            PKIXRevocationChecker revocation = (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX").getRevocationChecker();
            EnumSet<PKIXRevocationChecker.Option> options =
                    EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK);
            if (config.onlyVerifyLeafCrl()) {
                options.add(PKIXRevocationChecker.Option.ONLY_END_ENTITY);
            }
            revocation.setOptions(options);
            params.addCertPathChecker(revocation);
            factory.init(new CertPathTrustManagerParameters(params));
        }
        for (TrustManager tm : factory.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("the JDK's PKIX trust manager factory made no X509ExtendedTrustManager");
    }
}
