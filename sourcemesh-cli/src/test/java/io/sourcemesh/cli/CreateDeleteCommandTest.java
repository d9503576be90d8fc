package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CreateDeleteCommandTest {
    static final String CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    static final String KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

    @TempDir
    Path home;

    @TempDir
    Path files;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void createsATlsSecretForTheGatewaysCredential() throws IOException {
        Path cert = Files.writeString(files.resolve("myexample.crt"), CERT);
        Path key = Files.writeString(files.resolve("myexample.key"), KEY);
        FakeCluster.Run r = cluster.run("create", "-n", "istio-system", "secret", "tls", "myexample-credential",
                "--cert", cert.toString(), "--key", key.toString());
        assertEquals(new FakeCluster.Run(0, "secret/myexample-credential created\n", ""), r);
        KubeObject secret = cluster.store.get(ResourceKind.SECRET, "istio-system", "myexample-credential").orElseThrow();
        assertEquals("kubernetes.io/tls", secret.field("type").asText());
        assertEquals(CERT, new String(Base64.getDecoder().decode(secret.field("data").path("tls.crt").asText()), StandardCharsets.UTF_8));
        assertEquals(KEY, new String(Base64.getDecoder().decode(secret.field("data").path("tls.key").asText()), StandardCharsets.UTF_8));
        assertEquals("""
                NAME                   TYPE                DATA   AGE
                myexample-credential   kubernetes.io/tls   2      0s
                """, cluster.run("-n", "istio-system", "get", "secrets").out());
        FakeCluster.Run again = cluster.run("-n", "istio-system", "create", "secret", "tls", "myexample-credential",
                "--cert", cert.toString(), "--key", key.toString());
        assertEquals(new FakeCluster.Run(1, "", "Error from server (AlreadyExists): secrets \"myexample-credential\" already exists\n"), again);
    }

    @Test
    void createsAGenericSecretFromFilesDirectoriesAndLiteralsAsKubectl() throws IOException {
        Path ca = Files.writeString(files.resolve("client-ca.pem"), CERT);
        Path dir = Files.createDirectory(files.resolve("bundle"));
        Files.writeString(dir.resolve("tls.crt"), CERT);
        Files.writeString(dir.resolve("tls.key"), KEY);
        FakeCluster.Run r = cluster.run("create", "-n", "istio-system", "secret", "generic", "myexample-credential",
                "--from-file=" + dir, "--from-file=ca.crt=" + ca, "--from-literal=note=a=b");
        assertEquals(new FakeCluster.Run(0, "secret/myexample-credential created\n", ""), r);
        KubeObject secret = cluster.store.get(ResourceKind.SECRET, "istio-system", "myexample-credential").orElseThrow();
        assertEquals("Opaque", secret.field("type").asText());
        var data = secret.field("data");
        assertEquals(java.util.List.of("tls.crt", "tls.key", "ca.crt", "note"), iterable(data.fieldNames()));
        assertEquals(CERT, decode(data.path("ca.crt").asText()));
        assertEquals(KEY, decode(data.path("tls.key").asText()));
        assertEquals("a=b", decode(data.path("note").asText()), "a literal's value is everything after the first '='");
        // A file source without a key is named after the file.
        cluster.run("create", "secret", "generic", "byname", "--from-file", ca.toString(), "--type", "kubernetes.io/generic");
        KubeObject byName = cluster.store.get(ResourceKind.SECRET, "default", "byname").orElseThrow();
        assertEquals(CERT, decode(byName.field("data").path("client-ca.pem").asText()));
        assertEquals("kubernetes.io/generic", byName.field("type").asText());
    }

    @Test
    void aGenericSecretsKeysAreValidAndEachOnce() throws IOException {
        Path ca = Files.writeString(files.resolve("ca.crt"), CERT);
        assertEquals(new FakeCluster.Run(1, "", "error: cannot add key ca.crt, another key by that name already exists in Data for "
                + "Secret \"x\"\n"), cluster.run("create", "secret", "generic", "x", "--from-file=" + ca, "--from-literal=ca.crt=y"));
        assertEquals(new FakeCluster.Run(1, "", "error: \"a/b\" is not a valid key name for a Secret: a valid config key must consist "
                + "of alphanumeric characters, '-', '_' or '.'\n"), cluster.run("create", "secret", "generic", "x", "--from-literal=a/b=c"));
        assertEquals(new FakeCluster.Run(1, "", "error: invalid literal source novalue, expected key=value\n"),
                cluster.run("create", "secret", "generic", "x", "--from-literal=novalue"));
        assertEquals(new FakeCluster.Run(1, "", "error: open " + files.resolve("missing") + ": no such file or directory\n"),
                cluster.run("create", "secret", "generic", "x", "--from-file=k=" + files.resolve("missing")));
        assertTrue(cluster.store.list(ResourceKind.SECRET, "default").isEmpty(), "nothing created by a refused command");
    }

    private static java.util.List<String> iterable(java.util.Iterator<String> names) {
        java.util.List<String> out = new java.util.ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }

    private static String decode(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }

    @Test
    void secretFilesMustBeReadablePem() throws IOException {
        Path cert = Files.writeString(files.resolve("a.crt"), CERT);
        Path notPem = Files.writeString(files.resolve("a.key"), "hello");
        assertEquals(new FakeCluster.Run(1, "", "error: open " + files.resolve("missing.crt") + ": no such file or directory\n"),
                cluster.run("create", "secret", "tls", "x", "--cert", files.resolve("missing.crt").toString(), "--key", notPem.toString()));
        assertEquals(new FakeCluster.Run(1, "", "error: tls: failed to find any PEM data in key input\n"),
                cluster.run("create", "secret", "tls", "x", "--cert", cert.toString(), "--key", notPem.toString()));
        assertTrue(cluster.store.list(ResourceKind.SECRET, "default").isEmpty());
    }

    @Test
    void deletesByFileAndByName() {
        cluster.applySeed("sleep.yaml", "httpbin.yaml");
        assertEquals(new FakeCluster.Run(0, "service \"httpbin\" deleted\ndeployment.apps \"httpbin\" deleted\n", ""),
                cluster.run("delete", "-f", FakeCluster.seed("httpbin.yaml")));
        assertEquals(new FakeCluster.Run(0, "deployment.apps \"sleep\" deleted\n", ""), cluster.run("delete", "deployment", "sleep", "-n", "default"));
        assertEquals(new FakeCluster.Run(0, "service \"sleep\" deleted\nserviceaccount \"sleep\" deleted\n", ""),
                cluster.run("delete", "svc/sleep", "sa/sleep"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): deployments.apps \"x\" not found\n"),
                cluster.run("delete", "deploy", "x"));
        assertEquals(new FakeCluster.Run(0, "", ""), cluster.run("delete", "deploy", "x", "--ignore-not-found"));
        assertEquals(new FakeCluster.Run(1, "", "error: the server doesn't have a resource type \"foo\"\n"), cluster.run("delete", "foo", "x"));
    }
}
