package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The version of a proxy's resources is a digest of their content, computed at every push for every proxy: of the wire
 * form, not of protobuf's JSON (which walks each message by reflection and builds its text).
 */
class ProxyResourcesDigestTest {
    private final Translator translator = Translator.create();

    @Test
    void theDigestOfASidecarsResourcesAllocatesAFractionOfItsJson() {
        MeshModel model = MeshModel.of(Fixtures.seed());
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        long json = 0;
        for (var m : r.listeners()) {
            json += EnvoyTypes.json(m).length();
        }
        for (var m : r.clusters()) {
            json += EnvoyTypes.json(m).length();
        }
        ProxyResources.digest(r.listeners(), r.clusters(), r.routes()); // classes loaded and initialised before counting
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        String version = ProxyResources.digest(r.listeners(), r.clusters(), r.routes());
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(r.version(), version);
        System.out.println("digest allocated " + allocated + " B; the resources' JSON is " + json + " chars");
        assertTrue(allocated < json, "bytes allocated by one digest (" + allocated + ") against the JSON's length (" + json + " chars)");
    }

    @Test
    void listsThatHoldTheSameMessagesInOtherPlacesDigestApart() {
        MeshModel model = MeshModel.of(Fixtures.seed());
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        var empty = io.envoyproxy.envoy.config.listener.v3.Listener.getDefaultInstance();
        var emptyCluster = io.envoyproxy.envoy.config.cluster.v3.Cluster.getDefaultInstance();
        assertNotEquals(ProxyResources.digest(List.of(empty), List.of(), List.of()), ProxyResources.digest(List.of(), List.of(emptyCluster), List.of()));
        assertNotEquals(r.version(), ProxyResources.digest(r.listeners(), List.of(), r.routes()));
        assertEquals(r.version(), ProxyResources.digest(List.copyOf(r.listeners()), List.copyOf(r.clusters()), List.copyOf(r.routes())));
    }
}
