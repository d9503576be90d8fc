package io.sourcemesh.cluster.daemon;

import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.support.SupportCheck;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.List;
import java.util.Optional;

/**
 * {@link ClusterApi}'s object verbs on an {@link ObjectStore}: a cluster-scoped kind's namespace is
 * dropped, a selector is kubectl's {@code -l}. A write returns once stored: a cluster reconciles on the
 * store's watch, and a caller that wants the effect in place calls {@link ClusterApi#settle} after it.
 */
public final class StoreVerbs {
    private final ObjectStore store;

    private StoreVerbs(ObjectStore store) {
        this.store = store;
    }

    public static StoreVerbs of(ObjectStore store) {
        return new StoreVerbs(store);
    }

    /** Applies the batch; the warnings are the API server's for fields SourceMesh does not implement. */
    public ClusterApi.ApplyResponse apply(List<KubeObject> objects) {
        return new ClusterApi.ApplyResponse(store.apply(objects), SupportCheck.applyWarnings(objects));
    }

    public KubeObject create(KubeObject object) {
        return store.create(object);
    }

    public KubeObject update(KubeObject object) {
        return store.update(object);
    }

    public KubeObject patch(ResourceKind kind, String namespace, String name, PatchType type, String patch) {
        return store.patch(kind, scoped(kind, namespace), name, type, patch);
    }

    public KubeObject delete(ResourceKind kind, String namespace, String name) {
        return store.delete(kind, scoped(kind, namespace), name);
    }

    public Optional<KubeObject> get(ResourceKind kind, String namespace, String name) {
        return store.get(kind, scoped(kind, namespace), name);
    }

    public List<KubeObject> list(ResourceKind kind, String namespace, String selector) {
        LabelSelector s = selector == null || selector.isBlank() ? LabelSelector.everything() : LabelSelector.parse(selector);
        return store.list(kind, scoped(kind, namespace), s);
    }

    private static String scoped(ResourceKind kind, String namespace) {
        return kind.namespaced() ? namespace : null;
    }
}
