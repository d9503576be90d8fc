package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.kubeapi.RestClusterApi;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The flags every cluster verb takes: where the cluster lives and the namespace to work in. The
 * verbs reach the cluster through its Kubernetes API with its kubeconfig, as kubectl does.
 */
final class ClusterOptions {
    @Option(names = "--home", paramLabel = "DIR",
            description = "The cluster's state directory (default: SOURCEMESH_HOME or ~/.sourcemesh).")
    Path home;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "The namespace (default: default).")
    String namespace;

    /**
     * The API a command running many verbs in one process lends them (the demo): one kubeconfig read,
     * one TLS context and one kept-alive connection for all of them, not a handshake per verb.
     */
    static final ScopedValue<ClusterApi> LENT = ScopedValue.newInstance();

    private ClusterApi api;

    ClusterApi api() {
        if (api == null) {
            api = LENT.isBound() ? LENT.get() : RestClusterApi.forHome(Invocation.home(home));
        }
        return api;
    }

    /** The namespace to use: the flag, else {@code default}. */
    String namespace() {
        return namespace == null || namespace.isEmpty() ? "default" : namespace;
    }

    /** Whether -n was given, which makes a manifest naming another namespace an error. */
    boolean explicitNamespace() {
        return namespace != null && !namespace.isEmpty();
    }
}
