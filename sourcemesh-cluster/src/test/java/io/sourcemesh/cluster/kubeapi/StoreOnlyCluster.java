package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.daemon.StoreVerbs;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.exec.PodExec;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The API-server half of a cluster with no runtime: {@code core.Cluster}'s object verbs ({@link StoreVerbs},
 * the same code) with nothing to reconcile, for API tests that run no pods (KubectlSeedTest drives a real
 * cluster) — except that, given a directory to run in, a streamed exec runs its command on this machine as
 * the embedded runtime would for a pod on 127.0.0.1 (for the exec protocol's tests).
 */
final class StoreOnlyCluster implements StoreVerbs {
    private final ObjectStore store;
    private final Path execDir;

    StoreOnlyCluster(ObjectStore store) {
        this(store, null);
    }

    StoreOnlyCluster(ObjectStore store, Path execDir) {
        this.store = store;
        this.execDir = execDir;
    }

    @Override
    public ObjectStore store() {
        return store;
    }

    @Override
    public ExecProcess start(String namespace, String pod, String container, List<String> command, ExecProcess.Mode mode) {
        if (execDir == null) {
            throw new ClusterApiException(400, "error: no kubelet runs pods in this test cluster");
        }
        return PodExec.start(InetAddress.getLoopbackAddress(), new PodExec.NameTable(Map.of()), execDir, command, mode);
    }

    @Override
    public ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin) {
        throw new ClusterApiException(400, "error: no kubelet runs pods in this test cluster");
    }
    @Override
    public void logs(String namespace, String pod, String container, boolean follow, int tail, Consumer<String> lines) {
        throw new ClusterApiException(400, "error: no kubelet runs pods in this test cluster");
    }

    @Override
    public String proxyConfig(String namespace, String pod) {
        throw new ClusterApiException(404, "error: no proxies");
    }

    @Override
    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        throw new ClusterApiException(404, "error: no proxies");
    }

    @Override
    public ClusterInfo info() {
        return new ClusterInfo("store-only", "", 0, ProcessHandle.current().pid(), List.of(), 0, "");
    }

    @Override
    public List<ProxyStatus> proxyStatus() {
        return List.of();
    }
}
