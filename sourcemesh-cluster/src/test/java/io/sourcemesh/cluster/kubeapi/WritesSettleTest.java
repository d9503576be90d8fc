package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A write through the Kubernetes API waits for its effect once: the write verb only stores, and the
 * settle after it reconciles until quiet and waits for the proxies' answers — one such wait per
 * request (counted by the cluster's own log line for it), not one in the verb and another in settle.
 */
class WritesSettleTest {
    private static final Logger CLUSTER_LOG = Logger.getLogger(Cluster.class.getName());
    private static final String CM = "/api/v1/namespaces/default/configmaps";

    @RegisterExtension
    @Order(1)
    final ClusterExtension clusters = new ClusterExtension();
    /** Registered after the cluster's, so it closes first: the API server reads the cluster's store. */
    @RegisterExtension
    @Order(2)
    final ApiServerExtension api = new ApiServerExtension();
    final List<String> waits = new CopyOnWriteArrayList<>();
    final Handler counter = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getMessage().startsWith("reconciled until quiet")) {
                waits.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    Level levelBefore;

    private void up() {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        api.serve(cluster, cluster.store(), clusters.home());
        levelBefore = CLUSTER_LOG.getLevel();
        CLUSTER_LOG.setLevel(Level.FINE);
        CLUSTER_LOG.addHandler(counter);
    }

    @AfterEach
    void down() {
        CLUSTER_LOG.removeHandler(counter);
        CLUSTER_LOG.setLevel(levelBefore);
    }

    private String send(String method, String path, String contentType, String body) throws Exception {
        HttpResponse<String> r = api.client().send(HttpRequest.newBuilder(URI.create(api.url(path)))
                .method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", contentType).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(method.equals("POST") ? 201 : 200, r.statusCode(), r.body());
        return r.body();
    }

    /** How many reconcile-until-quiet waits {@code write} made. */
    private int waitsOf(ThrowingRunnable write) throws Exception {
        waits.clear();
        write.run();
        return waits.size();
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void eachWriteWaitsForItsEffectOnce() throws Exception {
        up();
        assertEquals(1, waitsOf(() -> send("POST", CM, "application/json",
                "{\"metadata\":{\"name\":\"settle\"},\"data\":{\"n\":\"0\"}}")), () -> "POST: " + waits);
        assertEquals(1, waitsOf(() -> send("PATCH", CM + "/settle", "application/merge-patch+json",
                "{\"data\":{\"n\":\"1\"}}")), () -> "merge PATCH: " + waits);
        assertEquals(1, waitsOf(() -> send("PATCH", CM + "/settle", "application/json-patch+json",
                "[{\"op\":\"replace\",\"path\":\"/data/n\",\"value\":\"2\"}]")), () -> "JSON PATCH: " + waits);
        assertEquals(1, waitsOf(() -> send("PUT", CM + "/settle", "application/json",
                "{\"metadata\":{\"name\":\"settle\"},\"data\":{\"n\":\"3\"}}")), () -> "PUT: " + waits);
        assertEquals(1, waitsOf(() -> send("PATCH", CM + "/settle?fieldManager=test&force=true", "application/apply-patch+yaml",
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settle\"},\"data\":{\"n\":\"4\"}}")),
                () -> "server-side apply: " + waits);
    }
}
