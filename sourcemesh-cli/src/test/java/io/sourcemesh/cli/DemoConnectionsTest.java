package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.ClusterPki;
import io.sourcemesh.cluster.kubeapi.Kubeconfig;
import io.sourcemesh.cluster.kubeapi.RestClusterApi;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's verbs run in its process on its one API connection: one TLS handshake for them all, not one each. */
class DemoConnectionsTest {
    @TempDir
    Path home;

    @Test
    void theDemosVerbsShareOneConnectionToTheApiServer() throws Exception {
        try (FakeCluster cluster = FakeCluster.start(home); CountingRelay relay = new CountingRelay(cluster.kubeApi.port())) {
            cluster.applySeed("sleep.yaml", "httpbin.yaml");
            cluster.seedPods();
            Files.delete(Kubeconfig.in(home));
            Kubeconfig.write(Kubeconfig.in(home), ClusterPki.loadOrCreate(home.resolve("pki")), "127.0.0.1", relay.port());

            DemoCommand demo = new DemoCommand();
            demo.home = home;
            StringWriter shown = new StringWriter();
            demo.out = new PrintWriter(shown, true);
            demo.api = RestClusterApi.forHome(new Home(home));
            demo.run("-n", "default", "get", "pods");
            demo.run("-n", "default", "apply", "-f", FakeCluster.seed("http-demo.yaml"));
            demo.run("patch", "service", "httpbin", "-n", "default", "-p", "{\"spec\":{\"type\":\"NodePort\"}}");
            demo.run("-n", "default", "get", "service", "httpbin", "-o", "jsonpath={.spec.type}");
            demo.run("delete", "gateway", "httpbin-gw-httpprotocol", "-n", "default");

            assertTrue(shown.toString().contains("sleep-"), shown.toString());
            assertTrue(shown.toString().contains("NodePort"), shown.toString());
            assertTrue(shown.toString().contains("gateway.networking.istio.io \"httpbin-gw-httpprotocol\" deleted"), shown.toString());
            assertEquals(1, relay.accepted.get(), "TLS connections to the API server for five verbs");
        }
    }
}
