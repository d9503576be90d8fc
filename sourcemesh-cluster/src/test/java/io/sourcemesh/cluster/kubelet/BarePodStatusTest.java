package io.sourcemesh.cluster.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.cluster.kubeapi.Kubeconfig;
import io.sourcemesh.cluster.kubeapi.Kubectl;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A bare Pod (kind: Pod, no controller, no nodeName) applied with the real kubectl on the embedded runtime is
 * injected and scheduled as it is created (admission, as for a ReplicaSet's pods), started, and given a status its
 * kubelet keeps, as `kubectl get pod -o yaml` shows it. It used to be stored unscheduled, so no kubelet ran it.
 */
class BarePodStatusTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @Test
    void aBarePodGetsAStatus() throws Exception {
        assumeTrue(Kubectl.installed(), "kubectl is not installed");
        clusters.start(ClusterRuntime.EMBEDDED, 1);
        Path manifest = clusters.home().resolve("bare.yaml");
        Files.writeString(manifest, """
                apiVersion: v1
                kind: Pod
                metadata: {name: bare, labels: {app: bare}}
                spec:
                  containers:
                  - {name: httpbin, image: docker.io/kennethreitz/httpbin, ports: [{containerPort: 8000}]}
                """);
        Kubectl kubectl = new Kubectl(Kubeconfig.in(clusters.home()));
        Kubectl.Result applied = kubectl.run("apply", "-f", manifest.toString());
        assertEquals(0, applied.exit(), applied.toString());
        Kubectl.Result waited = kubectl.run("wait", "--for=condition=Ready", "pod/bare", "--timeout=60s");
        Kubectl.Result yaml = kubectl.run("get", "pod", "bare", "-o", "yaml");
        assertEquals(0, waited.exit(), waited + "\n" + yaml);
        assertTrue(yaml.out().contains("phase: Running"), yaml.toString());
        assertTrue(yaml.out().matches("(?s).*containerStatuses:.*name: httpbin.*ready: true.*"), yaml.toString());
        assertTrue(yaml.out().contains("nodeName: sourcemesh-node-1"), "scheduled: " + yaml);
        assertTrue(yaml.out().contains("name: istio-proxy"), "injected, as Istio's webhook injects a bare Pod: " + yaml);
    }
}
