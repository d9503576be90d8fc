package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.support.SupportCheck;
import io.sourcemesh.cluster.controller.Workloads;
import io.sourcemesh.cluster.ingress.GatewayStatus;
import io.sourcemesh.cluster.mesh.EnvoyFilterReports;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.cluster.store.ApplyResult;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The API-server half of a cluster, the same in every runtime: the verbs that read and write the
 * store, then let the runtime reconcile, and the EnvoyFilter reports of its last push. A runtime
 * adds the kubelet half (exec, logs, proxy config).
 */
public abstract class StoreBackedCluster implements ClusterApi {
    protected final ObjectStore store;
    /** The last push: what it refused, which proxies each EnvoyFilter and Gateway went to; its pusher has their answers. */
    private volatile MeshPusher.Outcome lastOutcome;
    private volatile MeshPusher pusher;

    protected StoreBackedCluster(ObjectStore store) {
        this.store = store;
    }

    public ObjectStore store() {
        return store;
    }

    /**
     * A kubelet registering its node: the Node object (created once, the user's labels kept after) and
     * its status — InternalIP, Ready, the runtime's name. {@code podCidr} is null when the runtime
     * hands out pod addresses itself.
     */
    protected final void registerNode(String name, String internalIp, String podCidr, String runtime) {
        if (store.get(ResourceKind.NODE, null, name).isEmpty()) {
            ObjectNode node = JsonNodeFactory.instance.objectNode();
            node.put("apiVersion", "v1").put("kind", "Node");
            ObjectNode meta = node.putObject("metadata");
            meta.put("name", name);
            meta.putObject("labels").put("kubernetes.io/hostname", name).put("kubernetes.io/os", "linux")
                    .put("node-role.kubernetes.io/worker", "");
            ObjectNode spec = node.putObject("spec");
            if (podCidr != null) {
                spec.put("podCIDR", podCidr);
            }
            store.create(KubeObject.of(node));
        }
        KubeObject n = store.get(ResourceKind.NODE, null, name).orElseThrow();
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        ArrayNode addresses = status.putArray("addresses");
        addresses.addObject().put("type", "InternalIP").put("address", internalIp);
        addresses.addObject().put("type", "Hostname").put("address", name);
        status.putArray("conditions").addObject().put("type", "Ready").put("status", "True").put("reason", "KubeletReady");
        status.putObject("nodeInfo").put("kubeletVersion", "v1.30.0-sourcemesh").put("containerRuntimeVersion", "sourcemesh://" + runtime)
                .put("osImage", "SourceMesh " + runtime + " runtime").put("kernelVersion", System.getProperty("os.version"));
        store.updateStatus(n.withStatus(status));
    }

    /**
     * After a restart no container runs: every pod the store remembers is Pending until its kubelet
     * has started it again, as after a node reboot.
     */
    protected final void resetPodStatus() {
        for (KubeObject p : store.list(ResourceKind.POD, null)) {
            ObjectNode s = JsonNodeFactory.instance.objectNode();
            s.put("phase", "Pending");
            s.putArray("conditions").addObject().put("type", "Ready").put("status", "False").put("reason", "NodeRestarted");
            store.updateStatus(p.withStatus(s));
        }
    }

    /** The status of a pod its kubelet could not start: Pending, every container waiting for {@code reason}. */
    protected static ObjectNode failedStatus(KubeObject p, String reason, String message) {
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

    /** Every pod the store has is ready and every Deployment rolled out, as `kubectl rollout status` judges it. */
    protected final boolean workloadsSettled() {
        return store.list(ResourceKind.POD, null).stream().allMatch(Workloads::ready)
                && store.list(ResourceKind.DEPLOYMENT, null).stream().allMatch(Workloads::rolledOut);
    }

    /** Asks for a reconcile soon (the store changed). */
    protected abstract void requestReconcile();

    /** Reconciles now and waits until the proxies answered the push, so a verb returns with its effect in place. */
    protected abstract void reconcileNow();

    /**
     * Records a push and shows what became of it on the EnvoyFilters and Gateways: refused patches,
     * servers left out, and each selected proxy's ACK or NACK (rewritten as the answers come in).
     */
    protected final void reportPush(MeshPusher pusher, MeshPusher.Outcome outcome) {
        this.pusher = pusher;
        this.lastOutcome = outcome;
        if (!writePushStatus()) {
            requestReconcile();
        }
    }

    /** Writes the last push's EnvoyFilter and Gateway status with the answers known now; false when a write lost a race. */
    private boolean writePushStatus() {
        MeshPusher p = pusher;
        MeshPusher.Outcome o = lastOutcome;
        if (p == null || o == null) {
            return true;
        }
        GatewayStatus.write(store, o, p);
        return EnvoyFilterReports.writeStatus(store, EnvoyFilterReports.Push.of(o, p));
    }

    /**
     * kubectl apply: the API server's warnings for fields SourceMesh does not implement, then, once
     * the proxies answered the push, the EnvoyFilters they refused.
     */
    @Override
    public ApplyResponse apply(List<KubeObject> objects) {
        List<ApplyResult> results = store.apply(objects);
        List<String> warnings = new ArrayList<>(SupportCheck.applyWarnings(objects));
        warnings.addAll(settle(objects));
        return new ApplyResponse(results, warnings);
    }

    /** Reconciles now, waits for the proxies' answers and returns the EnvoyFilters among {@code written} they refused. */
    @Override
    public List<String> settle(List<KubeObject> written) {
        reconcileNow();
        writePushStatus(); // with the answers that came in while reconcileNow waited
        MeshPusher p = pusher;
        MeshPusher.Outcome o = lastOutcome;
        return p == null || o == null ? List.of() : EnvoyFilterReports.applyWarnings(written, EnvoyFilterReports.Push.of(o, p));
    }

    /** istioctl proxy-status: every proxy of the last push and where it stands per xDS type. */
    @Override
    public List<ProxyStatus> proxyStatus() {
        MeshPusher p = pusher;
        return p == null ? List.of() : ProxyStatusTable.of(p);
    }

    @Override
    public KubeObject create(KubeObject object) {
        KubeObject created = store.create(object);
        requestReconcile();
        return created;
    }

    @Override
    public KubeObject delete(ResourceKind kind, String namespace, String name) {
        KubeObject gone = store.delete(kind, kind.namespaced() ? namespace : null, name);
        requestReconcile();
        return gone;
    }

    @Override
    public Optional<KubeObject> get(ResourceKind kind, String namespace, String name) {
        return store.get(kind, kind.namespaced() ? namespace : null, name);
    }

    @Override
    public List<KubeObject> list(ResourceKind kind, String namespace, String selector) {
        LabelSelector s = selector == null || selector.isBlank() ? LabelSelector.everything() : LabelSelector.parse(selector);
        return store.list(kind, kind.namespaced() ? namespace : null, s);
    }

    @Override
    public KubeObject patch(ResourceKind kind, String namespace, String name, PatchType type, String patch) {
        KubeObject patched = store.patch(kind, kind.namespaced() ? namespace : null, name, type, patch);
        reconcileNow();
        return patched;
    }

    @Override
    public KubeObject update(KubeObject object) {
        KubeObject updated = store.update(object);
        reconcileNow();
        return updated;
    }
}
