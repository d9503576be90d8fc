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
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            KeyPair kp = g.generateKeyPair();
            X500Name name = new X500Name("CN=" + commonName);
            long now = System.currentTimeMillis();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now), new Date(now - 60_000),
                    new Date(now + 86_400_000L), name, kp.getPublic());
            GeneralName[] sans = new GeneralName[dnsNames.length];
            for (int i = 0; i < dnsNames.length; i++) {
                sans[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
            }
            if (sans.length > 0) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            }
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
            return new Pem(pem(cert), pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(kp.getPrivate(), null)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(Object o) throws java.io.IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o);
        }
        return w.toString();
    }
}
