package io.sourcemesh.cluster.kubeapi;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A Java client's TLS as the kubeconfig's admin: its client certificate, trusting only the cluster CA. */
final class AdminTls {
    private AdminTls() {}

    /** {@code pkiDir}: where {@code pki} keeps its files (the admin key is read from there). */
    static SSLContext of(ClusterPki pki, Path pkiDir) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("admin", ClusterPki.privateKey(Files.readString(pkiDir.resolve("admin.key"))), new char[0],
                new Certificate[] {ClusterPki.certificate(pki.clientCertificatePem())});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", pki.ca());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ssl;
    }
}
