package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.ClusterPki;
import io.sourcemesh.cluster.kubeapi.Kubeconfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster verbs reach the cluster only through its Kubernetes API, with the kubeconfig's credentials. */
class ClusterOptionsTest {
    private static final String UNAUTHORIZED = "error: You must be logged in to the server (Unauthorized)\n";

    @TempDir
    Path home;

    @TempDir
    Path elsewhere;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("sleep.yaml", "httpbin.yaml");
        cluster.seedPods();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    /**
     * With a client certificate another CA issued in the kubeconfig, the API server refuses every
     * request: each verb fails with kubectl's words and changes nothing — none goes around the API.
     */
    @Test
    void everyVerbFailsWhenTheApiServerRefusesTheClientCertificate() throws IOException {
        Path tls = elsewhere.resolve("tls");
        Files.createDirectories(tls);
        Files.writeString(tls.resolve("tls.crt"), "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");
        Files.writeString(tls.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n");
        String before = cluster.run("get", "all", "-A", "-o", "yaml").out();
        withClientCertificateOf(ClusterPki.loadOrCreate(elsewhere.resolve("pki")));

        List<List<String>> verbs = List.of(
                List.of("get", "pods"),
                List.of("get", "deploy", "sleep", "-o", "yaml"),
                List.of("describe", "pod", "sleep-8f764df66-q7dr2"),
                List.of("apply", "-f", FakeCluster.seed("http-demo.yaml")),
                List.of("delete", "deploy", "sleep"),
                List.of("patch", "svc", "httpbin", "-p", "{\"spec\":{\"type\":\"NodePort\"}}"),
                List.of("create", "secret", "tls", "x", "--cert", tls.resolve("tls.crt").toString(), "--key", tls.resolve("tls.key").toString()),
                List.of("rollout", "restart", "deploy/sleep"),
                List.of("exec", "sleep-8f764df66-q7dr2", "-c", "sleep", "--", "curl", "http://httpbin:8000/ip"),
                List.of("logs", "sleep-8f764df66-q7dr2", "-c", "istio-proxy"));
        for (List<String> verb : verbs) {
            FakeCluster.Run r = cluster.run(verb.toArray(String[]::new));
            assertEquals(1, r.code(), verb + ": " + r);
            assertEquals(UNAUTHORIZED, r.err(), verb.toString());
            assertEquals("", r.out(), verb.toString());
        }
        assertTrue(cluster.execs.isEmpty(), "no command ran");
        assertTrue(cluster.store.get(ResourceKind.GATEWAY, "default", "httpbin-gw-httpprotocol").isEmpty(), "nothing applied");

        Files.delete(Kubeconfig.in(home));
        Kubeconfig.write(Kubeconfig.in(home), ClusterPki.loadOrCreate(home.resolve("pki")), "127.0.0.1", cluster.kubeApi.port());
        assertEquals(before, cluster.run("get", "all", "-A", "-o", "yaml").out(), "with the cluster's own certificate again, nothing changed");
    }

    /** The daemon's own API serves only what is not Kubernetes API; the cluster's objects, exec and logs are not there. */
    @Test
    void theDaemonNoLongerServesTheKubernetesVerbs() throws Exception {
        int port = new Home(home).daemon().orElseThrow().port();
        HttpClient http = HttpClient.newHttpClient();
        for (String verb : List.of("apply", "create", "delete", "get", "list", "patch", "exec", "logs", "rollout-restart")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/" + verb))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"pods\",\"namespace\":\"default\",\"name\":\"x\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, r.statusCode(), verb + ": " + r.body());
        }
        HttpResponse<String> info = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/info"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, info.statusCode(), info.body());
    }

    /** Rewrites the kubeconfig's user to present {@code other}'s admin certificate (the server CA stays the cluster's). */
    private void withClientCertificateOf(ClusterPki other) throws IOException {
        YAMLMapper yaml = new YAMLMapper();
        Path file = Kubeconfig.in(home);
        ObjectNode config = (ObjectNode) yaml.readTree(file.toFile());
        Base64.Encoder b64 = Base64.getEncoder();
        for (var user : config.path("users")) {
            ObjectNode u = (ObjectNode) user.path("user");
            if (u.has("client-certificate-data")) {
                u.put("client-certificate-data", b64.encodeToString(other.clientCertificatePem().getBytes(StandardCharsets.US_ASCII)));
                u.put("client-key-data", b64.encodeToString(other.clientKeyPem().getBytes(StandardCharsets.US_ASCII)));
            }
        }
        Files.writeString(file, yaml.writeValueAsString(config));
    }
}
