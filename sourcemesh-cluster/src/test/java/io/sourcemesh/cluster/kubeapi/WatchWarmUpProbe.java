package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.api.resource.ResourceKind;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;

/**
 * A fresh JVM (fabric8's kind registry is a static of the JVM) with informers on Services:
 * {@code KUBECONFIG warm|cold}; prints "synced", waits for a line on stdin (the test writes a
 * Service meanwhile), then prints how many classes the JVM loaded until the informer had it.
 */
public final class WatchWarmUpProbe {
    private WatchWarmUpProbe() {}

    public static void main(String[] args) throws Exception {
        try (MeshInformers informers = MeshInformers.start(Path.of(args[0]), List.of(ResourceKind.SERVICE))) {
            if (args[1].equals("warm")) {
                informers.warmUp();
            }
            var classes = ManagementFactory.getClassLoadingMXBean();
            int before = informers.list(ResourceKind.SERVICE).size();
            System.out.println("synced");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in)).readLine();
            long loaded = classes.getTotalLoadedClassCount();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (informers.list(ResourceKind.SERVICE).size() == before && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            System.out.println("classes " + (classes.getTotalLoadedClassCount() - loaded));
        }
    }
}
