package io.sourcemesh.cluster.core;

import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.network.AddressPool;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.xds.XdsServer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@link Cluster} leaves to where its pods run: the nodes and their addresses, the
 * kubelet's container work (start, stop, status, exec), kube-proxy's service rules, the sidecars'
 * start, and the north-south pieces (node ports, load balancers). The cluster calls it on its
 * reconcile thread only; {@link #exec} and the pod reads of {@link RunningPod} come from API threads.
 */
public interface Runtime extends AutoCloseable {

    /** Builds a runtime for a cluster whose store and callbacks {@code host} gives. */
    @FunctionalInterface
    interface Factory {
        Runtime create(Host host);
    }

    /** What the cluster gives its runtime. */
    interface Host {
        Home home();

        ObjectStore store();

        /** Asks for a reconcile pass after {@code delay} (zero: soon). */
        void wake(Duration delay);
    }

    /** A node as its kubelet registers it; {@code podCidr} null when the runtime hands out pod addresses itself. */
    record Node(String name, String internalIp, String podCidr) {}

    /** "embedded" or "netns": the node's container runtime and `status`'s runtime. */
    String name();

    List<Node> nodes();

    /** Where ClusterIPs come from (one pool, the same allocation in every runtime). */
    AddressPool serviceAddresses();

    /** The control plane's xDS server, listening where this runtime's sidecars reach it; closed by {@link #close}. */
    XdsServer controlPlane();

    /**
     * Starts the pod's containers on {@code node} (its sidecar may come later, {@link #startSidecars}).
     * On failure nothing of the pod is left and the exception's message says why.
     */
    RunningPod startPod(KubeObject pod, String node);

    /**
     * The waiting reason a pod gets when {@link #startPod} failed for another reason than its image (kubectl's
     * STATUS column; an image nothing stands in for is {@code ErrImagePull} in every runtime).
     */
    String startFailureReason();

    /** Stops the pod's containers and frees what it held (its address, its namespace). */
    void stopPod(RunningPod pod);

    /** kube-proxy (ClusterIP and node-port rules) and the pods' name resolution, for the services as stored now. */
    void syncServices(List<KubeObject> services, Collection<RunningPod> pods);

    /**
     * Starts the sidecars that do not run yet, once their config is published; {@code nodeIds} maps
     * each injected pod to its proxy's node id. True when it started one.
     */
    boolean startSidecars(Map<RunningPod, String> nodeIds);

    /** Node ports' health checks and the cloud load balancers, for the services and the ready pods. */
    void syncNorthSouth(List<KubeObject> services, List<RunningPod> ready);

    /** Runs a command in a pod, as the pod ({@link ClusterApi#exec}); {@code container} is already checked. */
    ExecResult exec(RunningPod pod, List<String> command, byte[] stdin);

    /** Starts a command in a pod with its streams live ({@link ClusterApi#start}); {@code container} is already checked. */
    ExecProcess start(RunningPod pod, List<String> command, ExecProcess.Mode mode);

    /** The ingress gateway's external address, once its load balancer has one. */
    Optional<String> gatewayAddress();

    /** Stops everything the runtime made (pods are stopped before), also when a part fails. */
    @Override
    void close();
}
