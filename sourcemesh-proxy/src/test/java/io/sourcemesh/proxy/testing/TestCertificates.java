package io.sourcemesh.proxy.testing;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed certificates made in the test, as PEM text. */
public final class TestCertificates {
    /** A certificate chain and its key in PEM. */
    public record Pem(String certificate, String privateKey) {}

    private TestCertificates() {}

    public static Pem selfSigned(String commonName, String... dnsNames) {
        return selfSigned("EC", true, commonName, dnsNames);
    }

    /**
     * An {@code EC} (P-256, ECDSA) or {@code RSA} (2048) certificate, with {@code dnsNames} as its subject alternative
     * names (a name with "://" is a URI SAN); the key as PKCS#8 ("PRIVATE KEY")
     * or, with {@code pkcs8} false, in the key type's own form as openssl writes it ("RSA PRIVATE KEY",
     * "EC PRIVATE KEY").
     */
    public static Pem selfSigned(String algorithm, boolean pkcs8, String commonName, String... dnsNames) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            g.initialize(algorithm.equals("RSA") ? 2048 : 256);
            KeyPair kp = g.generateKeyPair();
            X500Name name = new X500Name("CN=" + commonName);
            long now = System.currentTimeMillis();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now), new Date(now - 60_000),
                    new Date(now + 86_400_000L), name, kp.getPublic());
            GeneralName[] sans = new GeneralName[dnsNames.length];
            for (int i = 0; i < dnsNames.length; i++) {
                // "spiffe://…" and other names with a scheme are URI SANs (a mesh workload's identity); the rest DNS names
                sans[i] = new GeneralName(dnsNames[i].contains("://") ? GeneralName.uniformResourceIdentifier : GeneralName.dNSName,
                        dnsNames[i]);
            }
            if (sans.length > 0) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            }
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder(algorithm.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA")
                            .build(kp.getPrivate())));
            return new Pem(pem(cert), pkcs8 ? pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(kp.getPrivate(), null)) : ownForm(kp));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A self-signed {@code EC} or {@code RSA} certificate with the whole {@code subject} and {@code serial} given, and
     * {@code names} as its subject alternative names: a name with "://" is a URI SAN, one with '@' an email (rfc822Name),
     * an IP literal an IP address, any other a DNS name. The key as PKCS#8.
     */
    public static Pem selfSigned(String algorithm, X500Name subject, BigInteger serial, String... names) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            g.initialize(algorithm.equals("RSA") ? 2048 : 256);
            KeyPair kp = g.generateKeyPair();
            long now = System.currentTimeMillis() / 1000 * 1000; // X.509 times are whole seconds
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial, new Date(now - 60_000),
                    new Date(now + 86_400_000L), subject, kp.getPublic());
            GeneralName[] sans = new GeneralName[names.length];
            for (int i = 0; i < names.length; i++) {
                sans[i] = generalName(names[i]);
            }
            if (sans.length > 0) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            }
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder(algorithm.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA")
                            .build(kp.getPrivate())));
            return new Pem(pem(cert), pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(kp.getPrivate(), null)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A certificate authority made in the test: it issues certificates (CA or leaf, with SANs as
     * {@link #selfSigned}) and CRLs revoking some of their serials.
     */
    public static final class Authority {
        private final KeyPair keys;
        private final X509Certificate certificate;

        private Authority(KeyPair keys, X509Certificate certificate) {
            this.keys = keys;
            this.certificate = certificate;
        }

        /** A self-signed root CA. */
        public static Authority root(String commonName) {
            KeyPair kp = ecKeys();
            return new Authority(kp, sign(kp, new X500Name("CN=" + commonName), kp, new X500Name("CN=" + commonName), true, new String[0]));
        }

        /** An intermediate CA this one signs. */
        public Authority intermediate(String commonName) {
            KeyPair kp = ecKeys();
            return new Authority(kp, sign(kp, new X500Name("CN=" + commonName), keys, subject(), true, new String[0]));
        }

        /** A leaf certificate this CA signs (its PEM, then this CA's certificate is not appended). */
        public Pem issue(String commonName, String... sans) {
            KeyPair kp = ecKeys();
            try {
                return new Pem(pem(sign(kp, new X500Name("CN=" + commonName), keys, subject(), false, sans)),
                        pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(kp.getPrivate(), null)));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** This CA's certificate in PEM. */
        public String certificate() {
            try {
                return pem(certificate);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** A CRL this CA signs, revoking the certificates given (PEM). */
        public String crl(String... revoked) {
            try {
                long now = System.currentTimeMillis();
                var b = new org.bouncycastle.cert.X509v2CRLBuilder(subject(), new Date(now - 60_000));
                b.setNextUpdate(new Date(now + 86_400_000L));
                var factory = java.security.cert.CertificateFactory.getInstance("X.509");
                for (String pem : revoked) {
                    X509Certificate c = (X509Certificate) factory.generateCertificate(
                            new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                    b.addCRLEntry(c.getSerialNumber(), new Date(now - 30_000), org.bouncycastle.asn1.x509.CRLReason.keyCompromise);
                }
                var holder = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
                return pem(new org.bouncycastle.cert.jcajce.JcaX509CRLConverter().getCRL(holder));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private X500Name subject() {
            return X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong SERIAL = new java.util.concurrent.atomic.AtomicLong(System.currentTimeMillis());

    /** A name with "://" is a URI SAN, one with '@' an email (rfc822Name), an IP literal an IP address, any other a DNS name. */
    private static GeneralName generalName(String n) {
        int kind = n.contains("://") ? GeneralName.uniformResourceIdentifier
                : n.contains("@") ? GeneralName.rfc822Name
                : n.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*") ? GeneralName.iPAddress
                : GeneralName.dNSName;
        return new GeneralName(kind, n);
    }

    private static KeyPair ecKeys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            return g.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(KeyPair subjectKeys, X500Name subject, KeyPair issuerKeys, X500Name issuer, boolean ca,
            String[] names) {
        try {
            long now = System.currentTimeMillis();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                    new Date(now - 60_000), new Date(now + 86_400_000L), subject, subjectKeys.getPublic());
            if (ca) {
                b.addExtension(Extension.basicConstraints, true, new org.bouncycastle.asn1.x509.BasicConstraints(true));
                b.addExtension(Extension.keyUsage, true, new org.bouncycastle.asn1.x509.KeyUsage(
                        org.bouncycastle.asn1.x509.KeyUsage.keyCertSign | org.bouncycastle.asn1.x509.KeyUsage.cRLSign));
            }
            if (names.length > 0) {
                GeneralName[] sans = new GeneralName[names.length];
                for (int i = 0; i < names.length; i++) {
                    sans[i] = generalName(names[i]);
                }
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            }
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                    .build(issuerKeys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** RSA: PKCS#1, as JcaPEMWriter writes a key pair; EC: SEC1 with its curve and public key, as openssl writes it. */
    private static String ownForm(KeyPair kp) throws java.io.IOException {
        if (!kp.getPrivate().getAlgorithm().equals("EC")) {
            return pem(kp);
        }
        var info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded());
        var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
        var publicKey = org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()).getPublicKeyData();
        var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(), publicKey, info.getPrivateKeyAlgorithm().getParameters());
        return pem(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1.getEncoded()));
    }

    private static String pem(Object o) throws java.io.IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o);
        }
        return w.toString();
    }
}
