package io.sourcemesh.cluster.daemon;

import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.store.ApplyResult;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What the CLI asks of a running cluster — the API server's verbs plus exec, logs and proxy
 * config. The cluster implements it and its Kubernetes API server calls it; the CLI's client
 * ({@code kubeapi.RestClusterApi}) carries the Kubernetes verbs over that API and the rest
 * (proxy config, proxy-status, info) to the daemon with {@link HttpClusterApi}.
 * Errors are {@link ClusterApiException}s whose message is what kubectl would print.
 */
public interface ClusterApi {

    /** Applies a batch as one transaction; warnings (e.g. an EnvoyFilter that failed to patch) come back too. */
    ApplyResponse apply(List<KubeObject> objects);

    KubeObject create(KubeObject object);

    /**
     * After writes: reconciles, waits until the proxies answered the push and returns what they made
     * of {@code written} (an EnvoyFilter they refused) as warnings, so {@code kubectl apply} returns
     * with its effect in place and says what did not take. The write verbs themselves return once
     * stored; a caller that needs their effect in place calls this after them.
     */
    default List<String> settle(List<KubeObject> written) {
        return List.of();
    }

    KubeObject delete(ResourceKind kind, String namespace, String name);

    Optional<KubeObject> get(ResourceKind kind, String namespace, String name);

    /** {@code namespace} null lists all namespaces; {@code selector} as kubectl's -l, or empty. */
    List<KubeObject> list(ResourceKind kind, String namespace, String selector);

    KubeObject patch(ResourceKind kind, String namespace, String name, PatchType type, String patch);

    /**
     * Replaces an object (the API's PUT, {@code kubectl replace}); a resourceVersion in it must be
     * the live one, else a conflict. Not every client of this interface offers it.
     */
    default KubeObject update(KubeObject object) {
        throw new ClusterApiException(405, "error: update is not supported by this client");
    }

    /** The most standard input {@link #exec} takes: it is given whole (the Kubernetes API streams it instead, {@link #start}). */
    int MAX_EXEC_STDIN = 64 * 1024 * 1024;

    /** Runs a command in a pod's container with an empty standard input (exec without -i). */
    default ExecResult exec(String namespace, String pod, String container, List<String> command) {
        return exec(namespace, pod, container, command, new byte[0]);
    }

    /**
     * Runs a command in a pod's container, as the pod: its address, its name resolution, its sidecar.
     * {@code stdin} (any bytes, at most {@link #MAX_EXEC_STDIN}; null is empty) is the command's
     * standard input, closed after its last byte so a reader such as {@code cat} ends.
     */
    ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin);

    /**
     * Starts a command in a pod's container, as {@link #exec} runs it, with its standard input and
     * output streamed while it runs, and on a terminal when {@code mode} asks ({@code kubectl exec -it}).
     * Not every client of this interface offers it.
     */
    default ExecProcess start(String namespace, String pod, String container, List<String> command,
            ExecProcess.Mode mode) {
        throw new ClusterApiException(405, "error: streaming exec is not supported by this client");
    }

    /** A container's log lines; with {@code follow}, keeps calling {@code lines} until the stream is closed. */
    void logs(String namespace, String pod, String container, boolean follow, int tail, Consumer<String> lines);

    /** The pod's proxy config dump (Envoy's /config_dump JSON), for proxy-config. */
    String proxyConfig(String namespace, String pod);

    /** POSTs to the pod's proxy admin endpoint ({@code /logging?level=debug}) and returns its answer. */
    String proxyAdmin(String namespace, String pod, String pathAndQuery);

    ClusterInfo info();

    /** istioctl proxy-status: every proxy the control plane configures and its standing per xDS type. */
    List<ProxyStatus> proxyStatus();

    /** The outcome of an apply: per object (kubectl's "created"/"configured"/"unchanged") and warnings. */
    record ApplyResponse(List<ApplyResult> results, List<String> warnings) {}

    /**
     * One row of proxy-status: the proxy ({@code pod.namespace}), its cluster, CDS/LDS/EDS/RDS/ECDS
     * each SYNCED, STALE, NACKED or NOT SENT, the control plane and version; {@code errors} the NACKs
     * that keep it on an older config.
     */
    record ProxyStatus(String name, String cluster, String cds, String lds, String eds, String rds, String ecds,
            String istiod, String version, List<String> errors) {
        public ProxyStatus {
            errors = List.copyOf(errors);
        }
    }

    /**
     * What `sourcemesh status` shows; {@code meshSource} is where the control plane reads the mesh
     * from ("informers on" the Kubernetes API's URL, or "store"); {@code invalidObjects} the stored objects this
     * version's validation refuses, a line each ({@code ObjectStore#invalid}); null from a daemon that does not say.
     */
    record ClusterInfo(String runtime, String home, int apiPort, long pid, List<String> nodes, int pods, String gatewayAddress,
            String meshSource, List<String> invalidObjects) {
        /** A cluster that does not say where its control plane reads (a test double's). */
        public ClusterInfo(String runtime, String home, int apiPort, long pid, List<String> nodes, int pods, String gatewayAddress) {
            this(runtime, home, apiPort, pid, nodes, pods, gatewayAddress, "");
        }

        /** A cluster with no invalid stored object. */
        public ClusterInfo(String runtime, String home, int apiPort, long pid, List<String> nodes, int pods, String gatewayAddress,
                String meshSource) {
            this(runtime, home, apiPort, pid, nodes, pods, gatewayAddress, meshSource, List.of());
        }

        /** The invalid stored objects' lines; none when the daemon did not say. */
        public List<String> invalid() {
            return invalidObjects == null ? List.of() : invalidObjects;
        }
    }
}
