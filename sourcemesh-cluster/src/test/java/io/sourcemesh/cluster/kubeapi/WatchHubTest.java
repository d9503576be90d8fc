package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The API server's watch cache on its own: what a compaction forgets. */
class WatchHubTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCompactionCoversWritesTheCacheHasNotHeardOfYet() throws Exception {
        ObjectStore store = ObjectStore.inMemory();
        try (WatchHub hub = WatchHub.start(store, 1_000)) {
            long before = Long.parseLong(configMap(store, "a").resourceVersion());
            while (hub.latest() < before) {
                Thread.sleep(5);
            }
            // Holding the hub's lock keeps the store's watch from delivering the next write (it reaches the hub
            // a moment after its commit, on another thread) — as a busy machine does by chance.
            synchronized (hub) {
                configMap(store, "b");
                assertEquals(before, hub.latest(), "the write not heard of yet");
                hub.compact();
            }
            ApiException e = assertThrows(ApiException.class, () -> hub.subscribe(before, o -> true, List.of()));
            assertEquals(410, e.code(), "a watch from before the last write is expired");
            assertEquals(1, hub.expired());
        }
    }

    private static KubeObject configMap(ObjectStore store, String name) {
        return store.create(KubeObject.of(JSON.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap")
                .set("metadata", JSON.createObjectNode().put("name", name).put("namespace", "default"))));
    }
}
