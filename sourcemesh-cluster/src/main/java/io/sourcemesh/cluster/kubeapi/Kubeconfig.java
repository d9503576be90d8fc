package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

/**
 * The kubeconfig a running cluster publishes: cluster {@code sourcemesh} at the API server's
 * address with the cluster CA, context {@code sourcemesh} (the current one) with the admin client
 * certificate, and context {@code sourcemesh-token} with the bearer token. Owner-readable only: it
 * holds a private key.
 */
public final class Kubeconfig {
    public static final String CONTEXT = "sourcemesh";

    private Kubeconfig() {
    }

    /** Where a cluster whose state is in {@code home} writes its kubeconfig. */
    public static Path in(Path home) {
        return home.resolve("kubeconfig");
    }

    /** The kubeconfig text for a server on {@code host:port}. */
    public static String render(ClusterPki pki, String host, int port) {
        Base64.Encoder b64 = Base64.getEncoder();
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("apiVersion", "v1").put("kind", "Config");
        ArrayNode clusters = root.putArray("clusters");
        ObjectNode cluster = clusters.addObject().put("name", CONTEXT).putObject("cluster");
        cluster.put("server", "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
        cluster.put("certificate-authority-data", b64.encodeToString(pki.caPem().getBytes(StandardCharsets.US_ASCII)));
        ArrayNode users = root.putArray("users");
        users.addObject().put("name", ClusterPki.ADMIN).putObject("user")
                .put("client-certificate-data", b64.encodeToString(pki.clientCertificatePem().getBytes(StandardCharsets.US_ASCII)))
                .put("client-key-data", b64.encodeToString(pki.clientKeyPem().getBytes(StandardCharsets.US_ASCII)));
        users.addObject().put("name", CONTEXT + "-token").putObject("user").put("token", pki.token());
        ArrayNode contexts = root.putArray("contexts");
        contexts.addObject().put("name", CONTEXT).putObject("context").put("cluster", CONTEXT).put("user", ClusterPki.ADMIN)
                .put("namespace", "default");
        contexts.addObject().put("name", CONTEXT + "-token").putObject("context").put("cluster", CONTEXT)
                .put("user", CONTEXT + "-token").put("namespace", "default");
        root.put("current-context", CONTEXT);
        root.putObject("preferences");
        try {
            return new YAMLMapper().writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the kubeconfig to {@code file} (replacing it whole, mode 0600). */
    public static void write(Path file, ClusterPki pki, String host, int port) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, render(pki, host, port), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the kubeconfig " + file, e);
        }
    }
}
