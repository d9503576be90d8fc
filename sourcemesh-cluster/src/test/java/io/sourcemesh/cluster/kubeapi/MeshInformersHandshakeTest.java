package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.mesh.MeshPusher;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The informers' start against our API server: the JDK client fabric8 builds offers HTTP/2, so every
 * kind's list and watch is a stream of one connection, and one TLS handshake (the server's certificate,
 * the client's, their signatures and checks) serves them all.
 */
class MeshInformersHandshakeTest {
    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    /** The kinds the daemon's control plane informs on (core.MeshPush's): the mesh kinds and ConfigMaps. */
    private static final List<ResourceKind> KINDS = Stream.concat(MeshPusher.MESH_KINDS.stream(), Stream.of(ResourceKind.CONFIG_MAP)).toList();

    @Test
    void theInformersListAndWatchEveryKindOverOneConnection() throws InterruptedException {
        api.start();
        try (MeshInformers informers = MeshInformers.start(api.kubeconfig(), KINDS)) {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            while (api.server().watchesOpen() < KINDS.size() && System.nanoTime() < deadline) {
                Thread.sleep(10); // a kind is synced once listed: its watch may still be on its way
            }
            assertEquals(KINDS.size(), api.server().watchesOpen(), "a watch per kind");
            assertEquals(1, api.server().connectionsAccepted(), "connections for " + KINDS.size() + " kinds' lists and watches");
            assertEquals(1, api.server().http2Connections());
            assertEquals(2L * KINDS.size(), api.server().http2Streams(), "a list and a watch per kind");
            assertEquals(1, api.server().clientCertificateHandshakes(), "full handshakes (the client's certificate sent)");
        }
    }
}
