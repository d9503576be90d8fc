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
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import io.sourcemesh.cluster.daemon.JsonTrees;

/**
 * fabric8 Kubernetes clients (over the JDK's HTTP client) for a kubeconfig: ours, or a real
 * cluster's. fabric8 takes a PKCS#8 client key ({@code BEGIN PRIVATE KEY}, what {@link ClusterPki}
 * writes) for RSA unless told its algorithm, so the algorithm is read from the key itself.
 */
public final class KubeClients {
    private KubeClients() {
    }

    private static final Set<String> CLUSTER_FIELDS = Set.of("server", "certificate-authority-data");
    private static final Set<String> USER_FIELDS = Set.of("client-certificate-data", "client-key-data", "token");
    private static final Set<String> CONTEXT_FIELDS = Set.of("cluster", "user", "namespace");

    /** The configuration of {@code kubeconfig}'s current context. */
    public static Config config(Path kubeconfig) {
        Config config = inline(kubeconfig).orElseGet(() -> Config.fromKubeconfig(kubeconfig.toFile()));
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

    /**
     * The current context of a kubeconfig that names only what ours holds — an https server, an inline CA,
     * an inline client certificate and key or a token, a namespace — read with the tree reader the CLI
     * uses; empty for any other kubeconfig (files, exec plugins, proxies, TLS options, a missing entry),
     * which fabric8's reader takes. fabric8's reader binds the file to its kubeconfig model with Jackson 3
     * (the deserializers for that model built first): 7 MB of the daemon's ~97 MB allocated on its way to ready.
     */
    static Optional<Config> inline(Path kubeconfig) {
        JsonNode root;
        try {
            root = JsonTrees.read(new YAMLFactory(), Files.readAllBytes(kubeconfig));
        } catch (IOException e) {
            return Optional.empty(); // fabric8's reader says what is wrong with it
        }
        if (root == null || !root.isObject()) {
            return Optional.empty();
        }
        JsonNode context = entry(root, "contexts", root.path("current-context").asText(""), "context", CONTEXT_FIELDS);
        JsonNode cluster = context == null ? null : entry(root, "clusters", context.path("cluster").asText(""), "cluster", CLUSTER_FIELDS);
        JsonNode user = context == null ? null : entry(root, "users", context.path("user").asText(""), "user", USER_FIELDS);
        if (cluster == null || user == null || !cluster.path("server").asText("").startsWith("https://")) {
            return Optional.empty();
        }
        Config config = Config.empty();
        config.setMasterUrl(cluster.path("server").asText());
        config.setCaCertData(cluster.path("certificate-authority-data").asText(null));
        config.setClientCertData(user.path("client-certificate-data").asText(null));
        config.setClientKeyData(user.path("client-key-data").asText(null));
        config.setClientKeyAlgo(null); // as fabric8's reader leaves it: read from the key below
        config.setAutoOAuthToken(user.path("token").asText(null)); // where fabric8's reader puts a kubeconfig's token
        config.setNamespace(context.path("namespace").asText(null));
        return Optional.of(config);
    }

    /** The {@code field} object of {@code list}'s entry called {@code name}; null when there is none or it holds a field not {@code known}. */
    private static JsonNode entry(JsonNode root, String list, String name, String field, Set<String> known) {
        for (JsonNode e : root.path(list)) {
            if (e.path("name").asText().equals(name)) {
                JsonNode body = e.path(field);
                if (!body.isObject()) {
                    return null;
                }
                for (var names = body.fieldNames(); names.hasNext(); ) {
                    if (!known.contains(names.next())) {
                        return null;
                    }
                }
                return body;
            }
        }
        return null;
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
