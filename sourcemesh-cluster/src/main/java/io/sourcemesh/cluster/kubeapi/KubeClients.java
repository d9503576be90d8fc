package io.sourcemesh.cluster.kubeapi;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

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
                    config.setClientKeyAlgo(ClusterPki.privateKey(pem).getAlgorithm());
                } catch (IOException e) {
                    throw new UncheckedIOException("the kubeconfig " + kubeconfig + " holds an unreadable client key", e);
                }
            }
        }
        return config;
    }

    /** A client of {@code kubeconfig}'s current context. */
    public static KubernetesClient of(Path kubeconfig) {
        return of(config(kubeconfig));
    }

    public static KubernetesClient of(Config config) {
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    private static String keyPem(Config config) {
        try {
            if (config.getClientKeyData() != null && !config.getClientKeyData().isEmpty()) {
                return new String(Base64.getMimeDecoder().decode(config.getClientKeyData()), StandardCharsets.US_ASCII);
            }
            if (config.getClientKeyFile() != null && !config.getClientKeyFile().isEmpty()) {
                return Files.readString(Path.of(config.getClientKeyFile()), StandardCharsets.US_ASCII);
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the client key " + config.getClientKeyFile(), e);
        }
    }
}
