package io.sourcemesh.cluster.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.KubeApiServer;
import io.sourcemesh.cluster.kubelet.BackOff;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import io.sourcemesh.cluster.kubeapi.Kubeconfig;
import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Boots a cluster on a runtime for one test, as the daemon does: its Kubernetes API served on
 * loopback (kubeconfig in {@link #home()}) and the control plane reading the mesh through informers
 * on it, so every walkthrough goes through that path. Removes everything it made afterwards, also when
 * the test failed: the cluster is closed, then (netns) any namespace of this JVM's prefix is swept
 * and the test fails if the cluster's close had left one, or its pods' /etc files.
 * Register it per test instance ({@code @RegisterExtension final ClusterExtension clusters = new ClusterExtension();}).
 */
public final class ClusterExtension implements AfterEachCallback {
    private Cluster cluster;
    private KubeApiServer kubeApi;
    private ClusterRuntime runtime;
    private Path home;
    private int nodes;
    private BackOff backOff = BackOff.KUBELET;

    /** Embedded clusters it starts restart exited containers after {@code backOff} (the kubelet's 10 s is long for a test). */
    public ClusterExtension withBackOff(BackOff backOff) {
        this.backOff = backOff;
        return this;
    }

    /** A cluster of {@code nodes} nodes on {@code runtime}, kept in a fresh directory; a netns run skips when this machine cannot. */
    public Cluster start(ClusterRuntime runtime, int nodes) {
        if (cluster != null) {
            throw new IllegalStateException("one cluster per test");
        }
        try {
            this.home = Files.createTempDirectory("sourcemesh-test-");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        this.runtime = runtime;
        this.nodes = nodes;
        return boot();
    }

    /** The cluster, its Kubernetes API and the control plane's informers on it (the daemon's order). */
    private Cluster boot() {
        this.cluster = runtime == ClusterRuntime.EMBEDDED && !backOff.equals(BackOff.KUBELET)
                ? Cluster.start(new Home(home), EmbeddedRuntime.factory(nodes, ClusterRuntime.embeddedBlock(), backOff))
                : runtime.boot(home, nodes);
        try {
            kubeApi = KubeApiServer.startWithKubeconfig(new InetSocketAddress("127.0.0.1", 0), cluster, cluster.store(), home);
            cluster.readMeshThrough(Kubeconfig.in(home));
        } catch (RuntimeException | Error e) {
            stop();
            throw e;
        }
        return cluster;
    }

    /** The cluster's Kubernetes API (its kubeconfig is {@code Kubeconfig.in(home())}). */
    public KubeApiServer kubeApi() {
        return kubeApi;
    }

    public ClusterRuntime runtime() {
        return runtime;
    }

    /** Where the cluster keeps its state and logs. */
    public Path home() {
        return home;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (cluster == null) {
            deleteHome();
            return;
        }
        closeNow();
    }

    /** Closes the cluster now, with the checks of the test's end (a test that looks at the machine afterwards). */
    public void closeNow() throws IOException {
        try {
            stop();
        } finally {
            deleteHome();
        }
    }

    /**
     * Closes the cluster, with the checks of the test's end, and starts it again from its home, as the
     * daemon does after {@code down} and {@code up}: what the store kept comes back.
     */
    public Cluster restart() {
        return restart(() -> { });
    }

    /** {@link #restart()}, doing {@code whileDown} (an older version's state written, say) while the cluster is down. */
    public Cluster restart(Runnable whileDown) {
        stop();
        whileDown.run();
        return boot();
    }

    /** Closes the cluster and fails if it left a namespace or its pods' /etc files; the home stays. */
    private void stop() {
        List<String> namespaces = runtime == ClusterRuntime.NETNS ? cluster.runtime(NetnsRuntime.class).namespaces() : List.of();
        try {
            cluster.close(); // its informers first, while the API they watch still serves
        } finally {
            if (kubeApi != null) {
                kubeApi.close();
                kubeApi = null;
            }
            List<String> left = List.of();
            if (runtime == ClusterRuntime.NETNS) {
                left = Topology.list().stream().filter(namespaces::contains).toList();
                Topology.sweep(NetnsSupport.PREFIX);
            }
            boolean etcLeft = Files.exists(home.resolve("etc"));
            cluster = null;
            assertEquals(List.of(), left, "the cluster's close removed every namespace it made");
            assertFalse(etcLeft, "the pods' /etc files are gone");
        }
    }

    private void deleteHome() throws IOException {
        if (home == null) {
            return;
        }
        try (var paths = Files.walk(home)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
        home = null;
    }
}
