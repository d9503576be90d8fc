package io.sourcemesh.cluster.kubeapi;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import io.fabric8.kubernetes.client.internal.SSLUtils;

/**
 * fabric8 Kubernetes clients (over the JDK's HTTP client) for a kubeconfig: ours, or a real
 * cluster's. fabric8 takes a PKCS#8 client key ({@code BEGIN PRIVATE KEY}, what {@link ClusterPki}
 * writes) for RSA unless told its algorithm, so the algorithm is read from the key itself.
 */
public final class KubeClients {
    private KubeClients() {
    }

    /** The configuration of {@code kubeconfig}'s current context. */
    public static Config config(Path kubeconfig) {
        Config config = Config.fromKubeconfig(kubeconfig.toFile());
        // Watches as client-go makes them, a streamed HTTP response (fabric8 would try a WebSocket first,
        // which our API server serves only for exec; kube-apiserver serves both).
        config.setOnlyHttpWatches(true);
        if (config.getClientKeyAlgo() == null || config.getClientKeyAlgo().isEmpty()) {
            String pem = keyPem(config);
            if (pem != null && pem.contains("BEGIN PRIVATE KEY")) {
                try {
                    config.setClientKeyAlgo(KubeconfigCredentials.privateKey(pem.getBytes(StandardCharsets.US_ASCII), kubeconfig).getAlgorithm());
                } catch (GeneralSecurityException | RuntimeException e) {
                    throw new IllegalStateException("the kubeconfig " + kubeconfig + " holds an unreadable client key: " + e.getMessage(), e);
                }
            }
        }
        return config;
    }

    /** A client of {@code kubeconfig}'s current context. */
    public static KubernetesClient of(Path kubeconfig) {
        return of(config(kubeconfig));
    }

    /**
     * A client of {@code config}. A PKCS#8 client key (what {@link ClusterPki} writes) is handed to TLS as
     * it is, and {@code config} keeps no client certificate or key afterwards: fabric8 would put them
     * in a PKCS#12 key store, which encrypts the key on the way in and decrypts it on the way out
     * (PBKDF2, thousands of rounds) — a fifth of the daemon's main-thread CPU on its way to ready.
     */
    public static KubernetesClient of(Config config) {
        KubernetesClientBuilder builder = new KubernetesClientBuilder();
        X509ExtendedKeyManager key = clientKey(config);
        if (key != null) {
            TrustManager[] trust;
            try {
                trust = SSLUtils.trustManagers(config);
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException("the kubeconfig's certificate authority cannot be used: " + e.getMessage(), e);
            }
            config.setClientCertData(null);
            config.setClientCertFile(null);
            config.setClientKeyData(null);
            config.setClientKeyFile(null);
            builder.withHttpClientBuilderConsumer(http -> http.sslContext(new KeyManager[] {key}, trust));
        }
        return builder.withConfig(config).build();
    }

    /** The client certificate and PKCS#8 key {@code config} names, as a key manager; null when it names none or another kind of key. */
    private static X509ExtendedKeyManager clientKey(Config config) {
        String cert = pem(config.getClientCertData(), config.getClientCertFile());
        String key = keyPem(config);
        if (cert == null || key == null) {
            return null; // an unencrypted PKCS#8 key needs no passphrase (fabric8's default one, "changeit", is for key stores)
        }
        try {
            return KubeconfigCredentials.clientKey(cert.getBytes(StandardCharsets.US_ASCII), key.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the kubeconfig's client certificate or key cannot be used: " + e.getMessage(), e);
        }
    }

    private static String keyPem(Config config) {
        return pem(config.getClientKeyData(), config.getClientKeyFile());
    }

    /** Inline base64 data, else the file's text; null when neither is set. */
    private static String pem(String data, String file) {
        try {
            if (data != null && !data.isEmpty()) {
                return new String(Base64.getMimeDecoder().decode(data), StandardCharsets.US_ASCII);
            }
            if (file != null && !file.isEmpty()) {
                return Files.readString(Path.of(file), StandardCharsets.US_ASCII);
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
