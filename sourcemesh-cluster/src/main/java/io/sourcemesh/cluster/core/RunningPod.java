package io.sourcemesh.cluster.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import java.nio.file.Path;
import java.util.Map;

/** A pod its runtime's kubelet started: what the {@link Cluster} reads of it in every runtime. */
public interface RunningPod {
    /** The pod object it was started from (its uid tells a replacement apart). */
    KubeObject pod();

    String node();

    /** The pod's address (a literal). */
    String ip();

    /** Whether it has an istio-proxy container. */
    boolean injected();

    /** An ingress gateway (Istio's {@code istio: *gateway} label): its proxy is a router, nothing is intercepted. */
    default boolean gateway() {
        return pod().labels().getOrDefault("istio", "").endsWith("gateway");
    }

    /** Every container runs and, if injected, its sidecar has its first config: it may take traffic. */
    boolean ready();

    /** The status its kubelet reports now, on the node with address {@code hostIp}. */
    ObjectNode status(String hostIp);

    /** Each container's log file, in the pod's container order. */
    Map<String, Path> logs();

    /** Restarts containers that exited (per restartPolicy and back-off); true when it changed something. */
    default boolean restartExited() {
        return false;
    }

    /** The sidecar's admin /config_dump. */
    String configDump();

    /** One request to the sidecar's admin endpoint, and its answer. */
    String admin(String method, String pathAndQuery);
}
