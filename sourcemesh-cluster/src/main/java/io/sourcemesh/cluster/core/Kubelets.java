package io.sourcemesh.cluster.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.apps.UnsupportedImageException;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The kubelets' bookkeeping, the same in every runtime: which pods run (by namespace/name), which
 * failed to start and why, and the statuses they report. The runtime does the container work.
 * Called on the reconcile thread; the reads come from API threads too.
 */
final class Kubelets {
    private static final Logger LOG = Logger.getLogger(Kubelets.class.getName());

    private final ObjectStore store;
    private final Runtime runtime;
    private final List<Runtime.Node> nodes;
    private final List<String> nodeNames;
    private final Runnable retry;
    private final Map<String, RunningPod> pods = new ConcurrentHashMap<>();
    private final Map<String, String> failures = new ConcurrentHashMap<>();
    /** Commands exec'd into a pod, by the pod's uid: they end when it stops, as a container's processes do. */
    private final Map<String, Set<ExecProcess>> execs = new ConcurrentHashMap<>();

    Kubelets(ObjectStore store, Runtime runtime, List<Runtime.Node> nodes, Runnable retry) {
        this.store = store;
        this.runtime = runtime;
        this.nodes = nodes;
        this.nodeNames = nodes.stream().map(Runtime.Node::name).toList();
        this.retry = retry;
    }

    List<String> nodeNames() {
        return nodeNames;
    }

    Collection<RunningPod> running() {
        return pods.values();
    }

    Optional<RunningPod> pod(String namespace, String name) {
        return Optional.ofNullable(pods.get(key(namespace, name)));
    }

    /** Whether {@code uid} still runs as namespace/name (a followed log ends when it does not). */
    boolean runs(String namespace, String name, String uid) {
        RunningPod p = pods.get(key(namespace, name));
        return p != null && p.pod().uid().equals(uid);
    }

    /** The running pod, or kubectl's error: NotFound, or not running (with why it failed to start). */
    RunningPod require(String namespace, String pod) {
        RunningPod p = pods.get(key(namespace, pod));
        if (p == null) {
            if (store.get(ResourceKind.POD, namespace, pod).isEmpty()) {
                throw new ClusterApiException(404, "Error from server (NotFound): pods \"" + pod + "\" not found");
            }
            throw new ClusterApiException(400, "error: unable to upgrade connection: container not found (pod " + pod
                    + " is not running" + Optional.ofNullable(failures.get(key(namespace, pod))).map(m -> ": " + m).orElse("") + ")");
        }
        return p;
    }

    /**
     * Ties an exec'd command to its pod: stopping the pod (deleted, replaced, the cluster closing)
     * ends it, as the container runtime kills every process of a container, and the client sees it
     * end (exit 137). A pod already gone by the time the command started ends it at once.
     */
    ExecProcess track(RunningPod pod, ExecProcess process) {
        String uid = pod.pod().uid();
        execs.computeIfAbsent(uid, u -> ConcurrentHashMap.newKeySet()).add(process);
        process.onExit(() -> execs.computeIfPresent(uid, (u, set) -> {
            set.remove(process);
            return set.isEmpty() ? null : set;
        }));
        if (!runs(pod.pod().namespace(), pod.pod().name(), uid)) {
            endExecs(uid);
        }
        return process;
    }

    /** The runtime stops the pod after the commands exec'd into it ended. */
    private void stop(RunningPod pod) {
        endExecs(pod.pod().uid());
        runtime.stopPod(pod);
    }

    private void endExecs(String uid) {
        Set<ExecProcess> running = execs.remove(uid);
        if (running != null) {
            running.forEach(ExecProcess::destroy);
        }
    }

    /** Starts what the store schedules on our nodes, stops what it no longer has or replaced; true when it changed something. */
    boolean sync() {
        Map<String, KubeObject> wanted = new LinkedHashMap<>();
        for (KubeObject p : store.list(ResourceKind.POD, null)) {
            wanted.put(key(p.namespace(), p.name()), p);
        }
        boolean changed = false;
        for (String k : List.copyOf(pods.keySet())) {
            KubeObject p = wanted.get(k);
            if (p == null || !p.uid().equals(pods.get(k).pod().uid())) {
                stop(pods.remove(k));
                changed = true;
            }
        }
        failures.keySet().retainAll(wanted.keySet());
        for (Map.Entry<String, KubeObject> e : wanted.entrySet()) {
            KubeObject p = e.getValue();
            RunningPod running = pods.get(e.getKey());
            if (running != null) {
                changed |= running.restartExited();
                continue;
            }
            String node = p.spec().path("nodeName").asText("");
            if (!nodeNames.contains(node) || failures.containsKey(e.getKey())) {
                continue; // not scheduled on one of our nodes, or failed to start
            }
            try {
                pods.put(e.getKey(), runtime.startPod(p, node));
            } catch (Exception ex) { // bind failures arrive as unchecked IOExceptions
                failures.put(e.getKey(), String.valueOf(ex.getMessage()));
                write(p, PodStatuses.failed(p, startFailureReason(ex), ex.getMessage()));
            }
            changed = true;
        }
        return changed;
    }

    /**
     * The waiting reason for a pod whose start threw {@code ex}: {@code ErrImagePull} for an image nothing built in
     * stands in for (the kubelet's word when an image cannot be had), else the runtime's for a container that failed
     * as it was created or started (a port already taken is not an image pull failure).
     */
    String startFailureReason(Exception ex) {
        for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UnsupportedImageException) {
                return "ErrImagePull";
            }
        }
        return runtime.startFailureReason();
    }

    /** Every running pod's status as its kubelet reports it now; true when one was written. */
    boolean writeStatuses() {
        boolean changed = false;
        for (RunningPod running : pods.values()) {
            Optional<KubeObject> current = store.get(ResourceKind.POD, running.pod().namespace(), running.pod().name());
            if (current.isPresent() && current.get().uid().equals(running.pod().uid())) {
                changed |= write(current.get(), running.status(nodeIp(running.node())));
            }
        }
        return changed;
    }

    private boolean write(KubeObject p, ObjectNode status) {
        ObjectNode merged = PodStatuses.merged(p, status);
        if (merged.equals(p.status())) {
            return false;
        }
        try {
            store.updateStatus(p.withStatus(merged));
            return true;
        } catch (StoreException e) {
            retry.run();
            return false;
        }
    }

    private String nodeIp(String node) {
        return nodes.stream().filter(n -> n.name().equals(node)).map(Runtime.Node::internalIp).findFirst().orElse("");
    }

    /** Stops every pod, whatever fails on the way. */
    void stopAll() {
        for (String k : List.copyOf(pods.keySet())) {
            try {
                stop(pods.remove(k));
            } catch (RuntimeException e) {
                LOG.fine("stopping " + k + ": " + e.getMessage());
            }
        }
    }

    private static String key(String namespace, String name) {
        return namespace + "/" + name;
    }
}
