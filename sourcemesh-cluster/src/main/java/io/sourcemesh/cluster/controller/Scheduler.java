package io.sourcemesh.cluster.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * kube-scheduler and the taint eviction controller, one level-triggered pass at a time on the reconcile thread.
 * <ul>
 * <li>A cordoned node ({@code spec.unschedulable}) carries the taint {@code node.kubernetes.io/unschedulable:NoSchedule}
 * while it is (the node lifecycle controller's TaintNodesByCondition).</li>
 * <li>Each unbound pod a ReplicaSet made is bound to a node that passes the filters in kube-scheduler's order — the
 * node is not cordoned (unless the pod tolerates the unschedulable taint), has no NoSchedule or NoExecute taint the pod
 * does not tolerate, matches its nodeSelector and required node affinity — preferring the fewest untolerated
 * PreferNoSchedule taints, then the fewest pods. A pod no node passes stays Pending, its PodScheduled condition False
 * ({@code Unschedulable}) with the scheduler's message ({@code 0/2 nodes are available: 1 node(s) were unschedulable,
 * 1 node(s) didn't match Pod's node affinity/selector.}); the next pass, after any change, tries again.</li>
 * <li>A pod on a node with a NoExecute taint it does not tolerate is evicted (deleted: its ReplicaSet makes another,
 * which the taint keeps off the node); one that tolerates it with tolerationSeconds is evicted that long after this
 * pass first saw the taint on its node.</li>
 * </ul>
 * A bare pod is scheduled as a ReplicaSet's is (admission injected it when it was created: {@code ObjectStore.admitPods}).
 */
public final class Scheduler {
    private static final Logger LOG = Logger.getLogger(Scheduler.class.getName());
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final ObjectStore store;
    private final Supplier<List<String>> nodes;
    private final Consumer<Duration> wake;
    private final Clock clock;
    /** When each pod (by uid) that tolerates its node's NoExecute taints for a while is to be evicted (reconcile thread only). */
    private final Map<String, Instant> evictAt = new HashMap<>();

    private Scheduler(ObjectStore store, Supplier<List<String>> nodes, Consumer<Duration> wake, Clock clock) {
        this.store = store;
        this.nodes = nodes;
        this.wake = wake;
        this.clock = clock;
    }

    /**
     * A scheduler for the kubelets' {@code nodes}; {@code wake} asks for a pass after a delay (a tolerationSeconds
     * running out).
     */
    public static Scheduler create(ObjectStore store, Supplier<List<String>> nodes, Consumer<Duration> wake) {
        return new Scheduler(store, nodes, wake, Clock.systemUTC());
    }

    /** As {@link #create(ObjectStore, Supplier, Consumer)}, on {@code clock} (tests: tolerationSeconds running out). */
    static Scheduler create(ObjectStore store, Supplier<List<String>> nodes, Consumer<Duration> wake, Clock clock) {
        return new Scheduler(store, nodes, wake, clock);
    }

    /** One pass; true when it changed something. */
    public boolean reconcile() {
        boolean changed = false;
        List<KubeObject> nodeObjects = new ArrayList<>();
        for (String name : nodes.get()) {
            Optional<KubeObject> node = store.get(ResourceKind.NODE, null, name);
            if (node.isPresent()) {
                KubeObject n = cordonTaint(node.get());
                changed |= n != node.get();
                nodeObjects.add(n);
            }
        }
        changed |= evict(nodeObjects);
        Map<String, Integer> load = new HashMap<>();
        List<KubeObject> unbound = new ArrayList<>();
        for (KubeObject p : store.list(ResourceKind.POD, null)) {
            String node = p.spec().path("nodeName").asText("");
            if (node.isEmpty()) {
                unbound.add(p);
            } else {
                load.merge(node, 1, Integer::sum);
            }
        }
        for (KubeObject p : unbound) {
            try {
                changed |= schedule(p, nodeObjects, load);
            } catch (StoreException e) {
                LOG.fine(() -> "scheduling " + p.namespace() + "/" + p.name() + ": " + e.getMessage() + " (the next pass tries again)");
            }
        }
        return changed;
    }

    /** The node with the unschedulable taint while it is cordoned and without it after; the same object when right already. */
    private KubeObject cordonTaint(KubeObject node) {
        boolean cordoned = node.spec().path("unschedulable").asBoolean(false);
        JsonNode taints = node.spec().path("taints");
        boolean tainted = false;
        ArrayNode kept = F.arrayNode();
        for (JsonNode t : taints) {
            if (t.path("key").asText().equals(Tolerations.UNSCHEDULABLE) && t.path("effect").asText().equals("NoSchedule")) {
                tainted = true;
                if (!cordoned) {
                    continue;
                }
            }
            kept.add(t);
        }
        if (cordoned == tainted) {
            return node;
        }
        if (cordoned) {
            kept.addObject().put("key", Tolerations.UNSCHEDULABLE).put("effect", "NoSchedule").put("timeAdded", now());
        }
        ObjectNode spec = node.spec().deepCopy();
        if (kept.isEmpty()) {
            spec.remove("taints");
        } else {
            spec.set("taints", kept);
        }
        try {
            return store.update(node.withSpec(spec));
        } catch (StoreException e) {
            return node; // the user changed it meanwhile: the next pass looks again
        }
    }

    private boolean schedule(KubeObject pod, List<KubeObject> nodeObjects, Map<String, Integer> load) {
        Placement placement = place(pod.spec(), nodeObjects, load);
        if (placement.node().isEmpty()) {
            return writeCondition(pod, unscheduled("Unschedulable", placement.message()));
        }
        String node = placement.node().get();
        ObjectNode spec = pod.spec().deepCopy();
        spec.put("nodeName", node);
        KubeObject bound = store.update(pod.withSpec(spec));
        load.merge(node, 1, Integer::sum);
        ObjectNode status = bound.status().isObject() ? bound.status().deepCopy() : F.objectNode();
        status.put("phase", "Pending");
        ArrayNode conditions = status.putArray("conditions");
        conditions.addObject().put("type", "PodScheduled").put("status", "True").put("lastTransitionTime", now());
        store.updateStatus(bound.withStatus(status));
        LOG.fine(() -> "bound " + pod.namespace() + "/" + pod.name() + " to " + node);
        return true;
    }

    /** Where kube-scheduler would bind a pod of {@code podSpec}: a node, or none and its FitError message. */
    record Placement(Optional<String> node, String message) {}

    static Placement place(JsonNode podSpec, List<KubeObject> nodeObjects, Map<String, Integer> load) {
        Tolerations tolerations = Tolerations.of(podSpec);
        Map<String, Integer> reasons = new TreeMap<>();
        String best = null;
        int bestPrefer = 0;
        for (KubeObject n : nodeObjects) {
            Optional<String> reason = filter(podSpec, tolerations, n);
            if (reason.isPresent()) {
                reasons.merge(reason.get(), 1, Integer::sum);
                continue;
            }
            int prefer = tolerations.untoleratedPreferNoSchedule(n.spec().path("taints"));
            if (best == null || prefer < bestPrefer
                    || prefer == bestPrefer && load.getOrDefault(n.name(), 0) < load.getOrDefault(best, 0)) {
                best = n.name();
                bestPrefer = prefer;
            }
        }
        if (best != null) {
            return new Placement(Optional.of(best), "");
        }
        List<String> parts = new ArrayList<>();
        reasons.forEach((reason, count) -> parts.add(count + " " + reason));
        return new Placement(Optional.empty(), "0/" + nodeObjects.size() + " nodes are available"
                + (parts.isEmpty() ? "" : ": " + String.join(", ", parts)) + ".");
    }

    /** The first of kube-scheduler's filters (NodeUnschedulable, TaintToleration, NodeAffinity) the node fails, in its words. */
    static Optional<String> filter(JsonNode podSpec, Tolerations tolerations, KubeObject node) {
        if (node.spec().path("unschedulable").asBoolean(false) && !tolerations.tolerateUnschedulable()) {
            return Optional.of("node(s) were unschedulable");
        }
        Optional<JsonNode> taint = tolerations.untoleratedNoSchedule(node.spec().path("taints"));
        if (taint.isPresent()) {
            return Optional.of("node(s) had untolerated taint {" + taint.get().path("key").asText() + ": "
                    + taint.get().path("value").asText("") + "}");
        }
        if (!NodeAffinity.matches(podSpec, node.name(), node.labels())) {
            return Optional.of("node(s) didn't match Pod's node affinity/selector");
        }
        return Optional.empty();
    }

    /** Evicts the pods a NoExecute taint of their node no longer suffers; true when one went. */
    private boolean evict(List<KubeObject> nodeObjects) {
        Map<String, JsonNode> taints = new HashMap<>();
        nodeObjects.forEach(n -> taints.put(n.name(), n.spec().path("taints")));
        Instant now = clock.instant();
        Map<String, Instant> still = new HashMap<>();
        boolean changed = false;
        for (KubeObject p : store.list(ResourceKind.POD, null)) {
            JsonNode nodeTaints = taints.get(p.spec().path("nodeName").asText(""));
            if (nodeTaints == null) {
                continue;
            }
            Optional<Duration> grace = Tolerations.of(p.spec()).noExecuteGrace(nodeTaints);
            if (grace.isEmpty()) {
                continue;
            }
            Instant at = evictAt.getOrDefault(p.uid(), now.plus(grace.get()));
            at = at.isAfter(now.plus(grace.get())) ? now.plus(grace.get()) : at;
            if (at.isAfter(now)) {
                if (!at.equals(evictAt.get(p.uid()))) {
                    wake.accept(Duration.between(now, at)); // one timer per deadline, not one per pass
                }
                still.put(p.uid(), at);
                continue;
            }
            try {
                store.delete(ResourceKind.POD, p.namespace(), p.name());
                LOG.info(() -> "evicted " + p.namespace() + "/" + p.name() + " from " + p.spec().path("nodeName").asText()
                        + ": a NoExecute taint it does not tolerate");
                changed = true;
            } catch (StoreException e) {
                LOG.fine(() -> "evicting " + p.namespace() + "/" + p.name() + ": " + e.getMessage());
            }
        }
        evictAt.clear();
        evictAt.putAll(still);
        return changed;
    }

    private boolean writeCondition(KubeObject pod, ObjectNode condition) {
        for (JsonNode c : pod.status().path("conditions")) {
            if (c.path("type").asText().equals("PodScheduled") && c.path("status").equals(condition.path("status"))
                    && c.path("reason").equals(condition.path("reason")) && c.path("message").equals(condition.path("message"))) {
                return false;
            }
        }
        ObjectNode status = F.objectNode();
        status.put("phase", "Pending");
        status.putArray("conditions").add(condition);
        store.updateStatus(pod.withStatus(status));
        return true;
    }

    private ObjectNode unscheduled(String reason, String message) {
        ObjectNode c = F.objectNode();
        c.put("type", "PodScheduled").put("status", "False").putNull("lastProbeTime").put("lastTransitionTime", now())
                .put("reason", reason).put("message", message);
        return c;
    }

    private String now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    }
}
