package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The informers' first watch event after their initial lists makes fabric8 register every model class it
 * ships (~1,000 classes): with {@link MeshInformers#warmUp} run first, that event loads few classes,
 * so the first write after the daemon is ready does not pay the registry. Each side in a JVM of its own,
 * against this test's cluster, because the registry is a static of the JVM.
 */
class MeshInformersWarmUpTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @Test
    void theFirstWatchEventAfterAWarmUpLoadsFewClasses() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        Path kubeconfig = Kubeconfig.in(clusters.home());
        long cold = classesLoadedByTheFirstEvent(cluster, kubeconfig, "cold", "warm-up-cold");
        long warm = classesLoadedByTheFirstEvent(cluster, kubeconfig, "warm", "warm-up-warm");
        assertTrue(cold > 500, "a cold JVM's first watch event registers fabric8's model: " + cold + " classes");
        assertTrue(warm < 150, "after warmUp the first watch event loads few classes: " + warm + " (cold: " + cold + ")");
    }

    @Test
    void theClustersWarmUpRunsOnItsOwnThreadAndCompletes() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.warmUpInBackground().get(60, TimeUnit.SECONDS);
    }

    private static long classesLoadedByTheFirstEvent(Cluster cluster, Path kubeconfig, String mode, String service) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                WatchWarmUpProbe.class.getName(), kubeconfig.toString(), mode))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("synced", out.readLine());
            cluster.store().apply(ManifestReader.read(service + ".yaml", """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: %s, namespace: default}
                    spec:
                      ports: [{port: 80}]
                    """.formatted(service)));
            p.getOutputStream().write('\n');
            p.getOutputStream().flush();
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("classes "), "the probe saw the Service: " + line);
            assertEquals(0, p.waitFor());
            return Long.parseLong(line.substring("classes ".length()));
        } finally {
            p.destroyForcibly();
        }
    }
}
