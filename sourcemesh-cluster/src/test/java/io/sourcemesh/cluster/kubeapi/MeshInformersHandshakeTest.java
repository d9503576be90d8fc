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
 * The informers' start against our API server: a watch holds its HTTP/1.1 connection, so each kind
 * opens one, but only the first pays a full TLS handshake (the server's certificate, the client's,
 * their signatures and checks); the others resume its session.
 */
class MeshInformersHandshakeTest {
    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    /** The kinds the daemon's control plane informs on (core.MeshPush's): the mesh kinds and ConfigMaps. */
    private static final List<ResourceKind> KINDS = Stream.concat(MeshPusher.MESH_KINDS.stream(), Stream.of(ResourceKind.CONFIG_MAP)).toList();

    @Test
    void onlyTheFirstConnectionOfTheInformersPaysAFullHandshake() {
        api.start();
        try (MeshInformers informers = MeshInformers.start(api.kubeconfig(), KINDS)) {
            long connections = api.server().connectionsAccepted();
            assertTrue(connections >= KINDS.size(), "a connection per kind's watch, " + connections);
            assertEquals(1, api.server().clientCertificateHandshakes(), "full handshakes (the client's certificate sent) of " + connections + " connections");
        }
    }
}
