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
 * {@link ClusterApi}'s object verbs answered from an {@link ObjectStore}, for the cluster and for a
 * test's store-only one alike: a cluster-scoped kind's namespace is dropped, a selector is kubectl's
 * {@code -l}. A write returns once stored: a cluster reconciles on the store's watch, and a caller
 * that wants the effect in place calls {@link ClusterApi#settle} after it.
 */
public interface StoreVerbs extends ClusterApi {

    ObjectStore store();

    /** Applies the batch; the warnings are the API server's for fields SourceMesh does not implement. */
    @Override
    default ApplyResponse apply(List<KubeObject> objects) {
        return new ApplyResponse(store().apply(objects), SupportCheck.applyWarnings(objects));
    }

    @Override
    default KubeObject create(KubeObject object) {
        return store().create(object);
    }

    @Override
    default KubeObject update(KubeObject object) {
        return store().update(object);
    }

    @Override
    default KubeObject patch(ResourceKind kind, String namespace, String name, PatchType type, String patch) {
        return store().patch(kind, kind.namespaced() ? namespace : null, name, type, patch);
    }

    @Override
    default KubeObject delete(ResourceKind kind, String namespace, String name) {
        return store().delete(kind, kind.namespaced() ? namespace : null, name);
    }

    @Override
    default Optional<KubeObject> get(ResourceKind kind, String namespace, String name) {
        return store().get(kind, kind.namespaced() ? namespace : null, name);
    }

    @Override
    default List<KubeObject> list(ResourceKind kind, String namespace, String selector) {
        LabelSelector s = selector == null || selector.isBlank() ? LabelSelector.everything() : LabelSelector.parse(selector);
        return store().list(kind, kind.namespaced() ? namespace : null, s);
    }
}
