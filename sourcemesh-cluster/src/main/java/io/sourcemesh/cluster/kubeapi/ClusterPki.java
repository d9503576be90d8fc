package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.control.ca.Pem;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
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
 * The local cluster's credentials, as kubeadm lays them out: a cluster CA, the API server's
 * certificate (127.0.0.1, ::1, localhost), an admin client certificate (CN sourcemesh-admin,
 * O system:masters) and a bearer token. Made once in {@code <home>/pki} (keys readable by the owner
 * only) and kept across restarts, so a kubeconfig stays valid.
 */
public final class ClusterPki {
    /** The user the admin certificate names. */
    public static final String ADMIN = "sourcemesh-admin";
    private static final long DAY = 86_400_000L;

    private final X509Certificate ca;
    private final X509Certificate serverCert;
    private final PrivateKey serverKey;
    private final String clientCertPem;
    private final String clientKeyPem;
    private final String token;

    private ClusterPki(X509Certificate ca, X509Certificate serverCert, PrivateKey serverKey, String clientCertPem,
            String clientKeyPem, String token) {
        this.ca = ca;
        this.serverCert = serverCert;
        this.serverKey = serverKey;
        this.clientCertPem = clientCertPem;
        this.clientKeyPem = clientKeyPem;
        this.token = token;
    }

    /** The credentials in {@code dir}, made there first if it holds none. */
    public static ClusterPki loadOrCreate(Path dir) {
        try {
            if (!Files.exists(dir.resolve("ca.crt"))) {
                create(dir);
            }
            return new ClusterPki(certificate(read(dir, "ca.crt")), certificate(read(dir, "apiserver.crt")),
                    privateKey(read(dir, "apiserver.key")), read(dir, "admin.crt"), read(dir, "admin.key"),
                    read(dir, "token").strip());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the cluster's credentials in " + dir, e);
        }
    }

    private static void create(Path dir) throws IOException {
        Files.createDirectories(dir);
        try {
            KeyPair caKeys = keyPair();
            long now = System.currentTimeMillis();
            X500Name caName = new X500Name("CN=sourcemesh-ca");
            JcaX509v3CertificateBuilder cab = new JcaX509v3CertificateBuilder(caName, serial(), new Date(now - 3_600_000L),
                    new Date(now + 3650 * DAY), caName, caKeys.getPublic());
            cab.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            cab.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            cab.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(caKeys.getPublic()));
            X509Certificate ca = sign(cab, caKeys.getPrivate());

            KeyPair serverKeys = keyPair();
            X509Certificate server = leaf(ca, caKeys.getPrivate(), "CN=sourcemesh-apiserver", serverKeys.getPublic(),
                    KeyPurposeId.id_kp_serverAuth, new GeneralNames(new GeneralName[] {
                            new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.iPAddress, "::1"),
                            new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.dNSName, "kubernetes"),
                            new GeneralName(GeneralName.dNSName, "kubernetes.default.svc")}));
            KeyPair adminKeys = keyPair();
            X509Certificate admin = leaf(ca, caKeys.getPrivate(), "O=system:masters,CN=" + ADMIN, adminKeys.getPublic(),
                    KeyPurposeId.id_kp_clientAuth, null);

            write(dir, "ca.crt", Pem.write(ca), false);
            write(dir, "ca.key", Pem.write(new JcaPKCS8Generator(caKeys.getPrivate(), null)), true);
            write(dir, "apiserver.crt", Pem.write(server), false);
            write(dir, "apiserver.key", Pem.write(new JcaPKCS8Generator(serverKeys.getPrivate(), null)), true);
            write(dir, "admin.crt", Pem.write(admin), false);
            write(dir, "admin.key", Pem.write(new JcaPKCS8Generator(adminKeys.getPrivate(), null)), true);
            byte[] secret = new byte[24];
            new SecureRandom().nextBytes(secret);
            write(dir, "token", HexFormat.of().formatHex(secret) + "\n", true);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make the cluster's certificates", e);
        }
    }

    private static X509Certificate leaf(X509Certificate ca, PrivateKey caKey, String subject, PublicKey key, KeyPurposeId usage,
            GeneralNames sans) throws GeneralSecurityException, IOException, OperatorCreationException {
        long now = System.currentTimeMillis();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), new Date(now - 3_600_000L),
                new Date(now + 825 * DAY), new X500Principal(subject), key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(usage));
        b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca));
        if (sans != null) {
            b.addExtension(Extension.subjectAlternativeName, false, sans);
        }
        return sign(b, caKey);
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder b, PrivateKey key)
            throws GeneralSecurityException, OperatorCreationException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(63, new SecureRandom());
    }

    public X509Certificate ca() {
        return ca;
    }

    public X509Certificate serverCertificate() {
        return serverCert;
    }

    public PrivateKey serverKey() {
        return serverKey;
    }

    public String caPem() {
        try {
            return Pem.write(ca);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String clientCertificatePem() {
        return clientCertPem;
    }

    public String clientKeyPem() {
        return clientKeyPem;
    }

    public String token() {
        return token;
    }

    /**
     * The user a client certificate chain names (its CN), if the cluster CA issued it for client
     * authentication and it is within its validity — as kube-apiserver's x509 authenticator.
     */
    public Optional<String> authenticate(X509Certificate[] chain) {
        if (chain == null || chain.length == 0) {
            return Optional.empty();
        }
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
            params.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(List.of(chain)), params);
            List<String> eku = chain[0].getExtendedKeyUsage();
            if (eku == null || !eku.contains(KeyPurposeId.id_kp_clientAuth.getId())) {
                return Optional.empty();
            }
            return Optional.of(commonName(chain[0]));
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether {@code presented} is the cluster's bearer token (compared in constant time). */
    public boolean tokenMatches(String presented) {
        return presented != null && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8),
                token.getBytes(StandardCharsets.UTF_8));
    }

    private static String commonName(X509Certificate cert) {
        for (String part : cert.getSubjectX500Principal().getName().split(",")) {
            if (part.startsWith("CN=")) {
                return part.substring(3);
            }
        }
        return cert.getSubjectX500Principal().getName();
    }

    private static String read(Path dir, String name) throws IOException {
        return Files.readString(dir.resolve(name), StandardCharsets.US_ASCII);
    }

    private static void write(Path dir, String name, String content, boolean secret) throws IOException {
        Path file = dir.resolve(name);
        Files.deleteIfExists(file);
        if (secret) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, content, StandardCharsets.US_ASCII);
    }

    static X509Certificate certificate(String pem) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("not a PEM certificate", e);
        }
    }

    static PrivateKey privateKey(String pem) throws IOException {
        return Pem.privateKey(pem).orElseThrow(() -> new IOException("not a PEM private key"));
    }
}
