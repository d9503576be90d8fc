package io.sourcemesh.cluster.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A pod that cannot start says why in its kubelet's words: an image nothing can stand in for is
 * {@code ErrImagePull}, a container that fails as it starts (here a port its pod already listens on)
 * is {@code RunContainerError} — not an image pull failure — with the runtime's message.
 */
class PodStartFailureTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @Test
    void anUnknownImageIsAnImagePullFailureAndAFailedStartIsARunContainerError() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read("pods.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: shell}
                spec:
                  selector: {matchLabels: {app: shell}}
                  template:
                    metadata: {labels: {app: shell}}
                    spec:
                      containers:
                      - {name: sh, image: busybox, command: ["sh"]}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: twice}
                spec:
                  selector: {matchLabels: {app: twice}}
                  template:
                    metadata: {labels: {app: twice}}
                    spec:
                      containers:
                      - {name: a, image: docker.io/kennethreitz/httpbin, ports: [{containerPort: 8000}]}
                      - {name: b, image: docker.io/kennethreitz/httpbin, ports: [{containerPort: 8000}]}
                """));

        JsonNode shell = waiting(cluster, "shell");
        assertEquals("ErrImagePull", shell.path("reason").asText(), shell.toString());
        assertTrue(shell.path("message").asText().startsWith("image \"busybox\" is not supported by the embedded runtime"), shell.toString());

        JsonNode twice = waiting(cluster, "twice");
        assertEquals("RunContainerError", twice.path("reason").asText(), twice.toString());
        assertTrue(twice.path("message").asText().contains("Address already in use"), twice.toString());
    }

    /** The pod's first container's waiting state, once its kubelet wrote one (a failed pod never settles). */
    private static JsonNode waiting(Cluster cluster, String app) throws InterruptedException {
        long deadline = System.nanoTime() + ClusterRuntime.EMBEDDED.settle().toNanos();
        while (true) {
            List<KubeObject> pods = cluster.list(ResourceKind.POD, "default", "app=" + app);
            JsonNode w = pods.isEmpty() ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : pods.get(0).status()
                    .path("containerStatuses").path(0).path("state").path("waiting");
            if (w.has("reason") || System.nanoTime() > deadline) {
                return w;
            }
            Thread.sleep(50);
        }
    }
}
