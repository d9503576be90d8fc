package io.sourcemesh.cluster.core;

import io.sourcemesh.cluster.network.AddressPool;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/** The API server's ClusterIP allocation, the same in every runtime; only the pool differs. */
final class ClusterIps {
    private static final Logger LOG = Logger.getLogger(ClusterIps.class.getName());

    private ClusterIps() {}

    /**
     * Every service without a ClusterIP gets the pool's next free address (the pool first learns
     * which the store's services hold); true when one was written, {@code retry} when a write lost a race.
     */
    static boolean assign(ObjectStore store, AddressPool pool, Runnable retry) {
        List<KubeObject> services = store.list(ResourceKind.SERVICE, null);
        pool.retainOnly(services.stream().map(s -> s.spec().path("clusterIP").asText("")).toList());
        boolean changed = false;
        for (KubeObject svc : services) {
            if (!svc.spec().path("clusterIP").asText("").isEmpty()) {
                continue;
            }
            Optional<String> ip = pool.allocate();
            if (ip.isEmpty()) {
                LOG.warning("no service addresses left for " + svc.namespace() + "/" + svc.name());
                return changed;
            }
            ObjectNode spec = (ObjectNode) svc.spec().deepCopy();
            spec.put("clusterIP", ip.get());
            spec.putArray("clusterIPs").add(ip.get());
            spec.put("type", spec.path("type").asText("ClusterIP"));
            try {
                store.update(svc.withSpec(spec));
                changed = true;
            } catch (StoreException e) {
                retry.run();
            }
        }
        return changed;
    }
}
