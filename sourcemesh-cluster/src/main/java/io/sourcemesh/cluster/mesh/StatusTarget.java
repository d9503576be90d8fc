package io.sourcemesh.cluster.mesh;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.util.List;

/**
 * Where the control plane reads the objects it reports on and writes their status: the store (the
 * API server's own side), or a Kubernetes API's status subresource (kubeapi.MeshInformers), as
 * istiod writes status to a real cluster.
 */
public interface StatusTarget {
    /** Every object of {@code kind}, as the control plane sees it now. */
    List<KubeObject> list(ResourceKind kind);

    /** Writes {@code object}'s status, guarded by its resourceVersion; false when it changed or went meanwhile (the next pass writes it). */
    boolean writeStatus(KubeObject object);

    /** The store itself. */
    static StatusTarget of(ObjectStore store) {
        return new StatusTarget() {
            @Override
            public List<KubeObject> list(ResourceKind kind) {
                return store.list(kind, null);
            }

            @Override
            public boolean writeStatus(KubeObject object) {
                try {
                    store.updateStatus(object);
                    return true;
                } catch (StoreException e) {
                    return false;
                }
            }
        };
    }
}
