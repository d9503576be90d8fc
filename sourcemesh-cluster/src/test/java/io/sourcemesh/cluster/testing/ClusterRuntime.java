package io.sourcemesh.cluster.testing;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import java.nio.file.Path;
import java.time.Duration;

/** The runtimes a walkthrough runs on, each with how it boots a test cluster and how long its pods take. */
public enum ClusterRuntime {
    /** In this JVM on loopback, on its own address block so a cluster the developer runs is not disturbed. */
    EMBEDDED(Duration.ofSeconds(30), "127.17.") {
        @Override
        Cluster boot(Path home, int nodes) {
            return EmbeddedRuntime.cluster(new Home(home), nodes, 1 + (int) (ProcessHandle.current().pid() % 29));
        }
    },
    /** Real network namespaces, iptables and processes (root); skipped with the reason elsewhere. */
    NETNS(Duration.ofSeconds(90), "172.17.") {
        @Override
        Cluster boot(Path home, int nodes) {
            NetnsSupport.requireNetns();
            return NetnsRuntime.cluster(new Home(home), NetnsSupport.PREFIX, nodes);
        }
    };

    private final Duration settle;
    private final String podPrefix;

    ClusterRuntime(Duration settle, String podPrefix) {
        this.settle = settle;
        this.podPrefix = podPrefix;
    }

    abstract Cluster boot(Path home, int nodes);

    /** How long a test waits for pods to settle on this runtime. */
    public Duration settle() {
        return settle;
    }

    /** What every pod address starts with. */
    public String podPrefix() {
        return podPrefix;
    }
}
