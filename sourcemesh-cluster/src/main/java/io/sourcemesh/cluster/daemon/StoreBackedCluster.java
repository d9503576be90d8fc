package io.sourcemesh.cluster.daemon;

import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.mesh.EnvoyFilterReports;
import io.sourcemesh.cluster.store.ApplyResult;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.envoyfilter.PatchFailure;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The API-server half of a cluster, the same in every runtime: the verbs that read and write the
 * store, then let the runtime reconcile, and the EnvoyFilter reports of its last push. A runtime
 * adds the kubelet half (exec, logs, proxy config).
 */
public abstract class StoreBackedCluster implements ClusterApi {
    protected final ObjectStore store;
    /** Refused patches of the last push, by EnvoyFilter ("namespace/name"). */
    private volatile Map<String, List<PatchFailure>> patchFailures = Map.of();

    protected StoreBackedCluster(ObjectStore store) {
        this.store = store;
    }

    public ObjectStore store() {
        return store;
    }

    /** Asks for a reconcile soon (the store changed). */
    protected abstract void requestReconcile();

    /** Reconciles now and waits until the proxies answered the push, so a verb returns with its effect in place. */
    protected abstract void reconcileNow();

    /** Records a push's refused patches and shows them on the EnvoyFilters. */
    protected final void reportPatchFailures(Map<String, List<PatchFailure>> failures) {
        patchFailures = failures;
        if (!EnvoyFilterReports.writeStatus(store, failures)) {
            requestReconcile();
        }
    }

    @Override
    public ApplyResponse apply(List<KubeObject> objects) {
        List<ApplyResult> results = store.apply(objects);
        reconcileNow();
        return new ApplyResponse(results, EnvoyFilterReports.applyWarnings(objects, patchFailures));
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

    /** kubectl rollout restart: a new annotation on the pod template rolls the pods. */
    @Override
    public KubeObject rolloutRestart(String namespace, String deployment) {
        String patch = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\""
                + Instant.now() + "\"}}}}}";
        return patch(ResourceKind.DEPLOYMENT, namespace, deployment, PatchType.STRATEGIC, patch);
    }
}
