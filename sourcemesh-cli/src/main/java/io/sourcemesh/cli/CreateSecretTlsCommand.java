package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code create secret tls NAME --cert FILE --key FILE}: a kubernetes.io/tls Secret, e.g. a gateway's credentialName. */
@Command(name = "tls", description = "Create a TLS secret from a PEM certificate and key.")
final class CreateSecretTlsCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--cert", required = true, paramLabel = "FILE")
    Path cert;

    @Option(names = "--key", required = true, paramLabel = "FILE")
    Path key;

    @Override
    public Integer call() {
        byte[] certPem = read(cert);
        byte[] keyPem = read(key);
        if (!new String(certPem, java.nio.charset.StandardCharsets.US_ASCII).contains("-----BEGIN ")) {
            throw CliException.error("tls: failed to find any PEM data in certificate input");
        }
        if (!new String(keyPem, java.nio.charset.StandardCharsets.US_ASCII).contains("-----BEGIN ")) {
            throw CliException.error("tls: failed to find any PEM data in key input");
        }
        ObjectNode secret = JsonNodeFactory.instance.objectNode();
        secret.put("apiVersion", "v1").put("kind", "Secret");
        secret.putObject("metadata").put("name", name).put("namespace", cluster.namespace());
        secret.put("type", "kubernetes.io/tls");
        ObjectNode data = secret.putObject("data");
        data.put("tls.crt", Base64.getEncoder().encodeToString(certPem));
        data.put("tls.key", Base64.getEncoder().encodeToString(keyPem));
        KubeObject created = cluster.api().create(KubeObject.of(secret));
        spec.commandLine().getOut().println("secret/" + created.name() + " created");
        return 0;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw CliException.error("open " + file + ": no such file or directory");
        } catch (IOException e) {
            throw CliException.error("open " + file + ": " + e.getMessage());
        }
    }
}
