package io.sourcemesh.cluster.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.controller.Workloads;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Settled means the proxies have the settled state, not only that the pods are ready: when httpbin's
 * pod is replaced, a request the sleep pod sends next must meet the new pod's address in its sidecar,
 * not the old pod's (whose network is gone: the connection would hang until its timeout). On the netns
 * runtime (as root) the sleep sidecar, stopped with SIGSTOP, cannot answer the push that carries the
 * new endpoint; the cluster is not settled until it does.
 */
class AwaitSettledTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @Test
    void settledWaitsUntilEveryProxyAnsweredThePush() throws Exception {
        ClusterRuntime runtime = ClusterRuntime.NETNS;
        Cluster cluster = clusters.start(runtime, 1);
        for (String file : List.of("sleep.yaml", "httpbin.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + file)));
        }
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        String sleep = pod(cluster, "sleep").name();
        String before = pod(cluster, "httpbin").name();
        long sidecar = NetnsRuntime.sidecarPid(cluster, "default", sleep).orElseThrow();

        signal(sidecar, "STOP");
        try {
            cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC,
                    "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"rolled\":\"once\"}}}}}");
            long deadline = System.nanoTime() + runtime.settle().toNanos();
            while (!replaced(cluster, before) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(replaced(cluster, before), "the new httpbin pod is ready and the old one gone");
            assertFalse(cluster.awaitSettled(Duration.ofSeconds(2)), "the sleep sidecar has not answered the new endpoints");
            ClusterApi.ProxyStatus status = cluster.proxyStatus().stream()
                    .filter(s -> s.name().equals(sleep + ".default")).findFirst().orElseThrow();
            assertEquals("STALE", status.cds(), status.toString());
        } finally {
            signal(sidecar, "CONT");
        }
        assertTrue(cluster.awaitSettled(runtime.settle()), "settled once the sidecar answered");
        ExecResult r = cluster.exec("default", sleep, "sleep",
                List.of("curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://httpbin:8000/ip"));
        assertEquals(new ExecResult(0, "200", ""), r, "the first request after settling reaches the new pod");
    }

    private static KubeObject pod(Cluster cluster, String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream().filter(Workloads::ready).findFirst().orElseThrow();
    }

    /** One httpbin pod, ready, not the one there was before. */
    private static boolean replaced(Cluster cluster, String before) {
        List<KubeObject> pods = cluster.list(ResourceKind.POD, "default", "app=httpbin");
        return pods.size() == 1 && Workloads.ready(pods.getFirst()) && !pods.getFirst().name().equals(before);
    }

    private static void signal(long pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + signal + " " + pid);
    }
}
