package io.sourcemesh.cluster.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A command exec'd into a pod lives no longer than the pod, as with a container runtime: deleting
 * the pod ends it, and the client sees it end. Before, the command ran on after its pod was gone.
 */
class ExecEndsWithItsPodTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void deletingThePodEndsItsExecs(ClusterRuntime on) throws Exception {
        Cluster cluster = clusters.start(on, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        assertTrue(cluster.awaitSettled(on.settle()), "pods settle");
        KubeObject pod = cluster.list(ResourceKind.POD, "default", "app=sleep").get(0);
        ExecProcess sleeping = cluster.start("default", pod.name(), "sleep", List.of("sleep", "300"), new ExecProcess.Mode(false, false));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
            try {
                return sleeping.waitFor();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertTrue(!exit.isDone(), "the command runs while its pod does");

        cluster.delete(ResourceKind.POD, "default", pod.name());
        int code = exit.get(30, TimeUnit.SECONDS); // the pod's stop, well before sleep's 300 s
        assertNotEquals(0, code, "killed, not ended by itself");
        assertEquals(137, code, "SIGKILL, as kubectl reports a killed container's exec");
    }
}
