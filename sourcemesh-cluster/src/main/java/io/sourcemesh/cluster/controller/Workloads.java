package io.sourcemesh.cluster.controller;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * The deployment and replica-set controllers: a Deployment keeps one ReplicaSet per pod-template
 * hash (named {@code <deployment>-<hash>}, as Kubernetes names them) and rolls from the old to the
 * new one once the new pods are ready; a ReplicaSet keeps its count of pods
 * ({@code <replicaset>-<5 chars>}). New pods pass through {@code admission} (sidecar injection,
 * scheduling) before they are stored. Level-triggered: each call brings the store one step closer.
 */
public final class Workloads {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Kubernetes' alphabet for generated names: no vowels, no look-alikes. */
    private static final String ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private static final Logger LOG = Logger.getLogger(Workloads.class.getName());

    private final ObjectStore store;
    private final UnaryOperator<ObjectNode> admission;
    /** The last refusal logged per object, so a refusal that repeats every pass is logged once (reconcile thread only). */
    private final Map<String, String> refusals = new HashMap<>();

    public Workloads(ObjectStore store, UnaryOperator<ObjectNode> admission) {
        this.store = store;
        this.admission = admission;
    }

    public void reconcile() {
        for (KubeObject d : store.list(ResourceKind.DEPLOYMENT, null)) {
            try {
                reconcileDeployment(d);
                refusals.remove(key(d));
            } catch (StoreException e) {
                refused(d, e);
            }
        }
        for (KubeObject rs : store.list(ResourceKind.REPLICA_SET, null)) {
            try {
                reconcileReplicaSet(rs);
                refusals.remove(key(rs));
            } catch (StoreException e) {
                refused(rs, e);
            }
        }
    }

    /**
     * A conflict or a vanished object is a concurrent change the next pass sees; any other refusal repeats on
     * every pass and the object never progresses, so it is logged, once while it stays the same.
     */
    private void refused(KubeObject o, StoreException e) {
        if (e.reason() == StoreException.Reason.CONFLICT || e.reason() == StoreException.Reason.NOT_FOUND) {
            LOG.fine(() -> key(o) + ": " + e.getMessage() + " (the next pass sees the change)");
        } else if (!e.getMessage().equals(refusals.put(key(o), e.getMessage()))) {
            LOG.warning(key(o) + " cannot be reconciled: " + e.getMessage());
        }
    }

    private static String key(KubeObject o) {
        return o.kind() + " " + o.namespace() + "/" + o.name() + " " + o.uid();
    }

    /** One Deployment as the pass listed it (package-private: tests hand it a view a delete has overtaken). */
    void reconcileDeployment(KubeObject d) {
        JsonNode template = d.spec().path("template");
        String hash = templateHash(template);
        String rsName = d.name() + "-" + hash;
        int desired = d.spec().path("replicas").asInt(1);
        List<KubeObject> owned = owned(ResourceKind.REPLICA_SET, d);
        KubeObject current = owned.stream().filter(rs -> rs.name().equals(rsName)).findFirst().orElse(null);
        if (current == null) {
            current = store.create(newReplicaSet(d, rsName, hash, desired));
        } else if (current.spec().path("replicas").asInt() != desired) {
            current = store.update(current.withSpec(((ObjectNode) current.spec().deepCopy()).put("replicas", desired)));
        }
        int newReady = current.status().path("readyReplicas").asInt(0);
        int total = 0;
        int ready = 0;
        for (KubeObject rs : owned) {
            total += rs.status().path("replicas").asInt(0);
            ready += rs.status().path("readyReplicas").asInt(0);
            // Rolling update: old replica sets go to zero once the new one is fully ready.
            if (!rs.name().equals(rsName) && newReady >= desired && rs.spec().path("replicas").asInt() != 0) {
                store.update(rs.withSpec(((ObjectNode) rs.spec().deepCopy()).put("replicas", 0)));
            }
        }
        if (owned.stream().noneMatch(rs -> rs.name().equals(rsName))) {
            total += current.status().path("replicas").asInt(0);
        }
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        status.put("observedGeneration", d.generation());
        status.put("replicas", total);
        status.put("updatedReplicas", current.status().path("replicas").asInt(0));
        status.put("readyReplicas", ready);
        status.put("availableReplicas", ready);
        if (total > ready) {
            status.put("unavailableReplicas", total - ready);
        }
        ArrayNode conditions = status.putArray("conditions");
        conditions.addObject().put("type", "Available").put("status", ready >= desired ? "True" : "False")
                .put("reason", ready >= desired ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable");
        conditions.addObject().put("type", "Progressing").put("status", "True")
                .put("reason", newReady >= desired ? "NewReplicaSetAvailable" : "ReplicaSetUpdated")
                .put("message", "ReplicaSet \"" + rsName + "\" " + (newReady >= desired ? "has successfully progressed." : "is progressing."));
        if (!status.equals(d.status())) {
            store.updateStatus(d.withStatus(status));
        }
    }

    private KubeObject newReplicaSet(KubeObject d, String name, String hash, int replicas) {
        ObjectNode rs = JsonNodeFactory.instance.objectNode();
        rs.put("apiVersion", "apps/v1").put("kind", "ReplicaSet");
        ObjectNode meta = rs.putObject("metadata");
        meta.put("name", name).put("namespace", d.namespace());
        ObjectNode labels = meta.putObject("labels");
        d.spec().path("template").path("metadata").path("labels").fields().forEachRemaining(e -> labels.set(e.getKey(), e.getValue()));
        labels.put("pod-template-hash", hash);
        ownedBy(meta, d, "apps/v1", "Deployment");
        ObjectNode spec = rs.putObject("spec");
        spec.put("replicas", replicas);
        ObjectNode selector = ((ObjectNode) d.spec().path("selector").deepCopy());
        selector.with("matchLabels").put("pod-template-hash", hash);
        spec.set("selector", selector);
        ObjectNode template = (ObjectNode) d.spec().path("template").deepCopy();
        template.with("metadata").with("labels").put("pod-template-hash", hash);
        spec.set("template", template);
        return KubeObject.of(rs);
    }

    private void reconcileReplicaSet(KubeObject rs) {
        int desired = rs.spec().path("replicas").asInt(1);
        List<KubeObject> pods = new ArrayList<>(owned(ResourceKind.POD, rs));
        for (int i = pods.size(); i < desired; i++) {
            pods.add(store.create(KubeObject.of(admission.apply(newPod(rs)))));
        }
        if (pods.size() > desired) {
            pods.sort(Comparator.comparing(KubeObject::creationTimestamp).reversed());
            for (KubeObject extra : pods.subList(0, pods.size() - desired)) {
                store.delete(ResourceKind.POD, extra.namespace(), extra.name());
            }
            pods = pods.subList(pods.size() - desired, pods.size());
        }
        int ready = (int) pods.stream().filter(Workloads::ready).count();
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        status.put("replicas", pods.size()).put("fullyLabeledReplicas", pods.size()).put("readyReplicas", ready)
                .put("availableReplicas", ready).put("observedGeneration", rs.generation());
        if (!status.equals(rs.status())) {
            store.updateStatus(rs.withStatus(status));
        }
    }

    private static ObjectNode newPod(KubeObject rs) {
        JsonNode template = rs.spec().path("template");
        ObjectNode pod = JsonNodeFactory.instance.objectNode();
        pod.put("apiVersion", "v1").put("kind", "Pod");
        ObjectNode meta = pod.putObject("metadata");
        meta.put("name", rs.name() + "-" + randomSuffix(5)).put("namespace", rs.namespace());
        if (template.path("metadata").has("labels")) {
            meta.set("labels", template.path("metadata").path("labels").deepCopy());
        }
        if (template.path("metadata").has("annotations")) {
            meta.set("annotations", template.path("metadata").path("annotations").deepCopy());
        }
        ownedBy(meta, rs, "apps/v1", "ReplicaSet");
        pod.set("spec", template.path("spec").deepCopy());
        pod.putObject("status").put("phase", "Pending");
        return pod;
    }

    static void ownedBy(ObjectNode meta, KubeObject owner, String apiVersion, String kind) {
        meta.putArray("ownerReferences").addObject().put("apiVersion", apiVersion).put("kind", kind)
                .put("name", owner.name()).put("uid", owner.uid()).put("controller", true).put("blockOwnerDeletion", true);
    }

    private List<KubeObject> owned(ResourceKind kind, KubeObject owner) {
        List<KubeObject> out = new ArrayList<>();
        for (KubeObject o : store.list(kind, owner.namespace())) {
            for (JsonNode ref : o.node().path("metadata").path("ownerReferences")) {
                if (ref.path("uid").asText().equals(owner.uid())) {
                    out.add(o);
                }
            }
        }
        return out;
    }

    public static boolean ready(KubeObject pod) {
        for (JsonNode c : pod.status().path("conditions")) {
            if (c.path("type").asText().equals("Ready")) {
                return c.path("status").asText().equals("True");
            }
        }
        return false;
    }

    /** kubectl rollout status's test: the latest generation observed, every replica updated, ready, and no old ones. */
    public static boolean rolledOut(KubeObject d) {
        int desired = d.spec().path("replicas").asInt(1);
        JsonNode s = d.status();
        return s.path("observedGeneration").asLong(-1) >= d.generation() && s.path("updatedReplicas").asInt(0) >= desired
                && s.path("replicas").asInt(0) == desired && s.path("readyReplicas").asInt(0) >= desired;
    }

    /** A stable short hash of the pod template, spelled in Kubernetes' name alphabet. */
    static String templateHash(JsonNode template) {
        long h = 0xcbf29ce484222325L;
        try {
            for (byte b : JSON.writeValueAsString(template).getBytes(StandardCharsets.UTF_8)) {
                h ^= b & 0xff;
                h *= 0x100000001b3L;
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder out = new StringBuilder();
        long v = h & Long.MAX_VALUE;
        for (int i = 0; i < 9; i++) {
            out.append(ALPHABET.charAt((int) (v % ALPHABET.length())));
            v /= ALPHABET.length();
        }
        return out.toString();
    }

    static String randomSuffix(int n) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < n; i++) {
            out.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return out.toString();
    }
}
