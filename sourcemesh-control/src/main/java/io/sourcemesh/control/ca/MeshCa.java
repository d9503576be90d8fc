package io.sourcemesh.control.ca;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A mesh CA as istiod runs one (security/pkg/pki/ca/ca.go): a signing certificate and key, the root the proxies trust
 * and the chain between them. Its Secrets are Istio's: the self-signed {@code istio-ca-secret} (ca-cert.pem, ca-key.pem;
 * its certificate is the root) or a plug-in {@code cacerts} (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem),
 * which wins, both in the root namespace. It issues workload certificates as istiod's CSR signing does: the SPIFFE URI
 * the only SAN (no subject), server and client authentication, 24 hours (Istio's default workload certificate TTL).
 */
public final class MeshCa {
    /** istiod's own root, made once per cluster (Istio's CASecret). */
    public static final String SELF_SIGNED_SECRET = "istio-ca-secret";
    /** A user's plug-in CA (Istio's cacerts), preferred when present. */
    public static final String PLUGIN_SECRET = "cacerts";
    /** The ConfigMap the root is published in, in every namespace (Istio's namespace controller), and its key. */
    public static final String ROOT_CONFIGMAP = "istio-ca-root-cert";
    public static final String ROOT_KEY = "root-cert.pem";
    public static final String CA_CERT = "ca-cert.pem";
    public static final String CA_KEY = "ca-key.pem";
    public static final String CERT_CHAIN = "cert-chain.pem";
    /** Istio's type for istio-ca-secret. */
    public static final String SECRET_TYPE = "istio.io/ca-root";
    static final Duration WORKLOAD_TTL = Duration.ofHours(24);

    private final X509Certificate signer;
    private final PrivateKey signerKey;
    private final String chainPem;
    private final String rootPem;
    private final String fingerprint;

    private MeshCa(X509Certificate signer, PrivateKey signerKey, String chainPem, String rootPem) {
        this.signer = signer;
        this.signerKey = signerKey;
        this.chainPem = chainPem;
        this.rootPem = rootPem;
        this.fingerprint = sha256(signer) + "/" + sha256(rootPem.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The CA a Secret's data holds ({@code plugin}: the cacerts layout), or why not. The signing certificate is
     * ca-cert.pem; the root is root-cert.pem, else (istio-ca-secret) the signing certificate itself.
     */
    public static Result of(Map<String, byte[]> data, boolean plugin) {
        String what = plugin ? PLUGIN_SECRET : SELF_SIGNED_SECRET;
        byte[] cert = data.get(CA_CERT);
        byte[] key = data.get(CA_KEY);
        if (cert == null || cert.length == 0 || key == null || key.length == 0) {
            return new Result(Optional.empty(), what + " has no " + CA_CERT + " and " + CA_KEY);
        }
        byte[] root = plugin ? data.get(ROOT_KEY) : cert;
        if (root == null || root.length == 0) {
            return new Result(Optional.empty(), what + " has no " + ROOT_KEY);
        }
        try {
            X509Certificate signer = certificates(cert).getFirst();
            if (signer.getBasicConstraints() < 0) {
                return new Result(Optional.empty(), what + ": " + CA_CERT + " is not a CA certificate");
            }
            certificates(root);
            byte[] chain = data.getOrDefault(CERT_CHAIN, new byte[0]);
            String chainPem = chain.length == 0 ? "" : new String(chain, StandardCharsets.US_ASCII);
            return new Result(Optional.of(new MeshCa(signer, privateKey(new String(key, StandardCharsets.US_ASCII)),
                    chainPem, new String(root, StandardCharsets.US_ASCII))), null);
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return new Result(Optional.empty(), what + ": " + e.getMessage());
        }
    }

    /** A CA read from a Secret, or the problem that left it out. */
    public record Result(Optional<MeshCa> ca, String problem) {}

    /**
     * A new self-signed root in istio-ca-secret's layout (Istio's NewSelfSignedIstioCAOptions: organization the trust
     * domain, ten years).
     */
    public static Map<String, String> selfSigned(String trustDomain) {
        try {
            KeyPair keys = keyPair();
            Instant now = Instant.now();
            X500Name name = new X500Name("O=" + trustDomain);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), name, keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate root = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            Map<String, String> data = new LinkedHashMap<>();
            data.put(CA_CERT, Pem.write(root));
            data.put(CA_KEY, Pem.write(new JcaPKCS8Generator(keys.getPrivate(), null)));
            return data;
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot make the mesh CA's root", e);
        }
    }

    /** The certificate chain and key of {@code spiffeId}, fresh for {@link #WORKLOAD_TTL}. */
    public WorkloadCertificate issue(String spiffeId) {
        try {
            KeyPair keys = keyPair();
            Instant now = Instant.now();
            Instant notAfter = now.plus(WORKLOAD_TTL);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(signer, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(notAfter), new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                    keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(signer));
            // Istio's workload certificates have an empty subject, so the SAN is critical (RFC 5280 4.2.1.6).
            b.addExtension(Extension.subjectAlternativeName, true,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId)));
            X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signerKey)));
            StringBuilder chain = new StringBuilder(Pem.write(leaf));
            if (!isRoot(signer)) {
                chain.append(Pem.write(signer));
            }
            chain.append(chainPem);
            return new WorkloadCertificate(spiffeId, chain.toString(), Pem.write(new JcaPKCS8Generator(keys.getPrivate(), null)),
                    notAfter, now);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot issue a certificate for " + spiffeId, e);
        }
    }

    private boolean isRoot(X509Certificate cert) {
        return rootPem.contains(pemBody(cert));
    }

    /** The root every proxy trusts, PEM (the ConfigMap's root-cert.pem). */
    public String rootPem() {
        return rootPem;
    }

    /** Names this CA (signer and root), so certificates it issued are known for its. */
    public String fingerprint() {
        return fingerprint;
    }

    /** The SPIFFE identity of a workload: {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
    public static String spiffeId(String trustDomain, String namespace, String serviceAccount) {
        return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
    }

    static List<X509Certificate> certificates(byte[] pem) throws GeneralSecurityException {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
            out.add((X509Certificate) c);
        }
        if (out.isEmpty()) {
            throw new GeneralSecurityException("no PEM certificate");
        }
        return out;
    }

    private static PrivateKey privateKey(String pem) throws IOException {
        return Pem.privateKey(pem).orElseThrow(() -> new IOException(CA_KEY + " is not a PEM private key"));
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, new SecureRandom());
    }

    private static String pemBody(X509Certificate cert) {
        try {
            String pem = Pem.write(cert);
            return pem.substring(pem.indexOf('\n') + 1, pem.lastIndexOf("-----END"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(X509Certificate cert) {
        try {
            return sha256(cert.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
