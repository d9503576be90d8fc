package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.daemon.JsonTrees;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.net.Socket;
import java.security.Principal;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What a kubeconfig's current context says about reaching its API server: the server's URL, a TLS
 * context that trusts the cluster's CA and presents the user's client certificate, or the user's
 * bearer token. The same file, read the same way, as the real kubectl uses.
 */
public record KubeconfigCredentials(URI server, SSLContext tls, String token) {

    /**
     * What {@link #read} made of a kubeconfig whose credentials are all inline, by the file's identity
     * (path, size, time, inode): a long-lived process — the daemon answering the launcher's verbs —
     * reads and sets up TLS for its home's kubeconfig once, and its TLS sessions resume.
     */
    private static final Map<String, KubeconfigCredentials> INLINE = new ConcurrentHashMap<>();

    public static KubeconfigCredentials read(Path file) {
        String identity = identity(file);
        KubeconfigCredentials known = identity == null ? null : INLINE.get(identity);
        if (known != null) {
            return known;
        }
        boolean[] inline = {false};
        KubeconfigCredentials read = read(file, inline);
        if (identity != null && inline[0]) {
            if (INLINE.size() >= 16) {
                INLINE.clear();
            }
            INLINE.put(identity, read);
        }
        return read;
    }

    private static String identity(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return file.toAbsolutePath() + " " + a.size() + " " + a.lastModifiedTime().to(TimeUnit.NANOSECONDS) + " " + a.fileKey();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static KubeconfigCredentials read(Path file, boolean[] inline) {
        JsonNode config;
        try {
            config = JsonTrees.read(new YAMLFactory(), Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ClusterApiException(503, "error: cannot read the kubeconfig " + file + ": " + e.getMessage());
        }
        if (config == null || config.isMissingNode()) {
            throw new ClusterApiException(503, "error: the kubeconfig " + file + " is empty");
        }
        Path dir = file.toAbsolutePath().getParent();
        String contextName = config.path("current-context").asText("");
        JsonNode context = named(config, "contexts", contextName, file).path("context");
        JsonNode cluster = named(config, "clusters", context.path("cluster").asText(), file).path("cluster");
        JsonNode user = named(config, "users", context.path("user").asText(), file).path("user");
        inline[0] = !cluster.has("certificate-authority") && !user.has("client-certificate") && !user.has("client-key");
        String server = cluster.path("server").asText("");
        if (!server.startsWith("https://")) {
            throw new ClusterApiException(503, "error: the kubeconfig " + file + " names no https server for context \"" + contextName + "\"");
        }
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate ca : certificates(pem(cluster, "certificate-authority", dir, file))) {
                trust.setCertificateEntry("ca" + i++, ca);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManager[] keys = null;
            if (user.has("client-certificate-data") || user.has("client-certificate")) {
                List<Certificate> chain = certificates(pem(user, "client-certificate", dir, file));
                PrivateKey key = privateKey(pem(user, "client-key", dir, file), file);
                keys = new KeyManager[] {new ClientKey(key, chain.toArray(X509Certificate[]::new))};
            }
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(keys, tmf.getTrustManagers(), null);
            String token = user.path("token").asText(null);
            return new KubeconfigCredentials(URI.create(server), tls, token);
        } catch (GeneralSecurityException | IOException e) {
            throw new ClusterApiException(503, "error: the credentials in the kubeconfig " + file + " cannot be used: " + e.getMessage());
        }
    }

    /**
     * The one client certificate to present. A key store would do too, but a PKCS#12 store
     * encrypts the key on the way in and decrypts it on the way out (PBKDF2, thousands of rounds):
     * a tenth of a second of every CLI call spent on a key that is already in memory.
     */
    static final class ClientKey extends X509ExtendedKeyManager {
        private static final String ALIAS = "client";
        private final PrivateKey key;
        private final X509Certificate[] chain;

        ClientKey(PrivateKey key, X509Certificate[] chain) {
            this.key = key;
            this.chain = chain;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {ALIAS};
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return ALIAS;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return ALIAS;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return chain.clone();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return key;
        }
    }

    private static JsonNode named(JsonNode config, String list, String name, Path file) {
        for (JsonNode n : config.path(list)) {
            if (n.path("name").asText().equals(name)) {
                return n;
            }
        }
        throw new ClusterApiException(503, "error: the kubeconfig " + file + " has no " + list.substring(0, list.length() - 1)
                + " \"" + name + "\"");
    }

    /** {@code FIELD-data} (base64 PEM) or {@code FIELD} (a file, relative to the kubeconfig). */
    private static byte[] pem(JsonNode n, String field, Path dir, Path file) throws IOException {
        if (n.has(field + "-data")) {
            return Base64.getDecoder().decode(n.path(field + "-data").asText());
        }
        if (n.has(field)) {
            return Files.readAllBytes(dir.resolve(n.path(field).asText()));
        }
        throw new ClusterApiException(503, "error: the kubeconfig " + file + " has no " + field);
    }

    private static List<Certificate> certificates(byte[] pem) throws GeneralSecurityException {
        return new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)));
    }

    /**
     * The client certificate chain in {@code certPem} with the PKCS#8 key in {@code keyPem}, presented as
     * they are (no key store between), or null when the key is not a PKCS#8 PEM key.
     */
    static X509ExtendedKeyManager clientKey(byte[] certPem, byte[] keyPem) throws GeneralSecurityException {
        if (!new String(keyPem, StandardCharsets.US_ASCII).contains("-----BEGIN PRIVATE KEY-----")) {
            return null;
        }
        return new ClientKey(privateKey(keyPem, null), certificates(certPem).toArray(X509Certificate[]::new));
    }

    /** A PKCS#8 PEM key ({@code BEGIN PRIVATE KEY}), EC or RSA, as the cluster writes it. */
    static PrivateKey privateKey(byte[] pem, Path file) throws GeneralSecurityException {
        String text = new String(pem, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new ClusterApiException(503, "error: the client key in the kubeconfig " + file + " is not a PKCS#8 PEM key (BEGIN PRIVATE KEY)");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        try {
            return KeyFactory.getInstance("EC").generatePrivate(spec);
        } catch (GeneralSecurityException notEc) {
            return KeyFactory.getInstance("RSA").generatePrivate(spec);
        }
    }
}
