package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.daemon.StoreBackedCluster;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.List;
import java.util.function.Consumer;

/** The API-server half of a cluster with no kubelet: the store's verbs only, for API tests that run no pods. */
final class StoreOnlyCluster extends StoreBackedCluster {
    StoreOnlyCluster(ObjectStore store) {
        super(store);
    }

    @Override
    protected void requestReconcile() {
    }

    @Override
    protected void reconcileNow() {
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
}
