package io.sourcemesh.cluster.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;

/** The kubelet's writes that are the same in every runtime: its Node, and pod statuses. */
final class PodStatuses {
    private PodStatuses() {}

    /**
     * A kubelet registering its node: the Node object (created once, the user's labels kept after) and
     * its status — InternalIP, Ready, the runtime's name.
     */
    static void registerNode(ObjectStore store, Runtime.Node n, String runtime) {
        if (store.get(ResourceKind.NODE, null, n.name()).isEmpty()) {
            ObjectNode node = JsonNodeFactory.instance.objectNode();
            node.put("apiVersion", "v1").put("kind", "Node");
            ObjectNode meta = node.putObject("metadata");
            meta.put("name", n.name());
            meta.putObject("labels").put("kubernetes.io/hostname", n.name()).put("kubernetes.io/os", "linux")
                    .put("node-role.kubernetes.io/worker", "");
            ObjectNode spec = node.putObject("spec");
            if (n.podCidr() != null) {
                spec.put("podCIDR", n.podCidr());
            }
            store.create(KubeObject.of(node));
        }
        KubeObject stored = store.get(ResourceKind.NODE, null, n.name()).orElseThrow();
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        ArrayNode addresses = status.putArray("addresses");
        addresses.addObject().put("type", "InternalIP").put("address", n.internalIp());
        addresses.addObject().put("type", "Hostname").put("address", n.name());
        status.putArray("conditions").addObject().put("type", "Ready").put("status", "True").put("reason", "KubeletReady");
        status.putObject("nodeInfo").put("kubeletVersion", "v1.30.0-sourcemesh").put("containerRuntimeVersion", "sourcemesh://" + runtime)
                .put("osImage", "SourceMesh " + runtime + " runtime").put("kernelVersion", System.getProperty("os.version"));
        store.updateStatus(stored.withStatus(status));
    }

    /**
     * After a restart no container runs: every pod the store remembers is Pending until its kubelet
     * has started it again, as after a node reboot.
     */
    static void resetAll(ObjectStore store) {
        for (KubeObject p : store.list(ResourceKind.POD, null)) {
            ObjectNode s = JsonNodeFactory.instance.objectNode();
            s.put("phase", "Pending");
            s.putArray("conditions").addObject().put("type", "Ready").put("status", "False").put("reason", "NodeRestarted");
            store.updateStatus(p.withStatus(s));
        }
    }

    /** The status of a pod its kubelet could not start: Pending, every container waiting for {@code reason}. */
    static ObjectNode failed(KubeObject p, String reason, String message) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("phase", "Pending");
        s.putArray("conditions").addObject().put("type", "Ready").put("status", "False").put("reason", "ContainersNotReady");
        ArrayNode statuses = s.putArray("containerStatuses");
        for (JsonNode c : p.spec().path("containers")) {
            ObjectNode cs = statuses.addObject();
            cs.put("name", c.path("name").asText()).put("image", c.path("image").asText()).put("ready", false).put("restartCount", 0);
            cs.putObject("state").putObject("waiting").put("reason", reason).put("message", String.valueOf(message));
        }
        return s;
    }

    /** {@code status} with the stored one's startTime, and its transition times where a condition did not change. */
    static ObjectNode merged(KubeObject stored, ObjectNode status) {
        ObjectNode merged = status.deepCopy();
        if (stored.status().has("startTime") && merged.has("startTime")) {
            merged.set("startTime", stored.status().get("startTime"));
        }
        JsonNode old = stored.status().path("conditions");
        for (JsonNode c : merged.path("conditions")) {
            for (JsonNode o : old) {
                if (o.path("type").equals(c.path("type")) && o.path("status").equals(c.path("status")) && o.has("lastTransitionTime")) {
                    ((ObjectNode) c).set("lastTransitionTime", o.get("lastTransitionTime"));
                }
            }
        }
        return merged;
    }
}
