package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolloutCommandTest {
    @TempDir
    Path home;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("httpbin.yaml");
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void restartSaysRestarted() {
        assertEquals(new FakeCluster.Run(0, "deployment.apps/httpbin restarted\n", ""), cluster.run("rollout", "restart", "deploy/httpbin"));
        assertEquals(FakeCluster.NOW.toString(), cluster.store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow()
                .at("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt").asText());
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): deployments.apps \"nope\" not found\n"),
                cluster.run("rollout", "restart", "deployment", "nope"));
    }

    @Test
    void statusOfARolledOutDeployment() {
        status(1, 1, 1, 1);
        assertEquals(new FakeCluster.Run(0, "deployment \"httpbin\" successfully rolled out\n", ""),
                cluster.run("rollout", "status", "deploy/httpbin"));
    }

    @Test
    void statusWaitsForOldPodsToGo() throws Exception {
        status(1, 2, 1, 1);
        java.io.StringWriter live = new java.io.StringWriter();
        CompletableFuture<FakeCluster.Run> run = CompletableFuture.supplyAsync(() -> cluster.runWithOutput(live, new byte[0],
                // a poll every ten minutes: only the API's watch brings the change within the 20 s
                "-n", "default", "rollout", "status", "deploy/httpbin", "--timeout", "20s", "--poll-interval", "600000"));
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!live.toString().contains("pending termination") && System.nanoTime() < deadline) {
            Thread.sleep(10); // until the command has seen the old replica
        }
        status(1, 1, 1, 1);
        assertEquals(new FakeCluster.Run(0, """
                Waiting for deployment "httpbin" rollout to finish: 1 old replicas are pending termination...
                deployment "httpbin" successfully rolled out
                """, ""), run.get());
    }

    @Test
    void statusTimesOut() {
        status(1, 1, 1, 0);
        assertEquals(new FakeCluster.Run(1, "Waiting for deployment \"httpbin\" rollout to finish: 0 of 1 updated replicas are available...\n",
                "error: timed out waiting for the condition\n"),
                cluster.run("rollout", "status", "deploy/httpbin", "--timeout", "1s", "--poll-interval", "50"));
    }

    private void status(int observedGeneration, int replicas, int updated, int available) {
        KubeObject d = cluster.store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow();
        ObjectNode s = FakeCluster.JSON.createObjectNode();
        s.put("observedGeneration", observedGeneration).put("replicas", replicas).put("updatedReplicas", updated)
                .put("readyReplicas", available).put("availableReplicas", available);
        cluster.store.updateStatus(d.withStatus(s));
    }
}
