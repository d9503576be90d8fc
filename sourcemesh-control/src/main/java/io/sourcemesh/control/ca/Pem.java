package io.sourcemesh.control.ca;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/** PEM as the mesh CA and the cluster's own credentials (cluster {@code kubeapi.ClusterPki}) read and write it. */
public final class Pem {
    private Pem() {}

    /** The private key that is the PEM's first object (PKCS#8, or a PKCS#1/SEC1 key pair); empty when it is none. */
    public static Optional<PrivateKey> privateKey(String pem) throws IOException {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            Object o = p.readObject();
            JcaPEMKeyConverter c = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                return Optional.of(c.getKeyPair(kp).getPrivate());
            }
            if (o instanceof PrivateKeyInfo info) {
                return Optional.of(c.getPrivateKey(info));
            }
            return Optional.empty();
        }
    }

    /** {@code o} (a certificate, a key's PKCS#8 generator) as PEM. */
    public static String write(Object o) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o);
        }
        return w.toString();
    }
}
