package io.sourcemesh.cluster.kubeproxy;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.embedded.Interception;
import io.sourcemesh.l4.UpstreamConnector;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** kube-proxy's NodePort behaviour with real sockets: who the backend sees, and who may serve. */
class KubeProxyTest {
    static final InetAddress CLIENT = AddressPlan.ip(AddressPlan.EXTERNAL_CLIENT);
    final Transport transport = Transport.create(1);
    final List<ClusterNode> nodes = List.of(new ClusterNode("n1", AddressPlan.node(0)), new ClusterNode("n2", AddressPlan.node(1)));
    final List<ServerSocket> backends = new ArrayList<>();
    final List<Endpoint> ready = new ArrayList<>();
    KubeProxy kubeProxy;
    int targetPort;
    int nodePort;

    @BeforeEach
    void up() throws IOException {
        kubeProxy = KubeProxy.create(transport, new UpstreamConnector(transport, Interception.NONE, Optional.empty()), nodes,
                () -> List.copyOf(ready), ClientIpAffinity.create());
        backends.add(whoAmI(new InetSocketAddress("127.17.0.2", 0)));
        targetPort = backends.get(0).getLocalPort();
        backends.add(whoAmI(new InetSocketAddress("127.17.1.2", targetPort)));
        nodePort = ThreadLocalRandom.current().nextInt(30000, 32768);
    }

    @AfterEach
    void down() throws IOException {
        kubeProxy.close();
        for (ServerSocket s : backends) {
            s.close();
        }
        transport.close();
    }

    /** A backend that answers each connection with the address it sees it from. */
    private static ServerSocket whoAmI(InetSocketAddress bind) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(bind);
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write((bind.getHostString() + " saw " + s.getInetAddress().getHostAddress() + "\n")
                            .getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        });
        return server;
    }

    private KubeObject service(String policy) {
        return ManifestReader.read("test", """
                apiVersion: v1
                kind: Service
                metadata: {name: gw, namespace: default, uid: u1}
                spec:
                  type: NodePort
                  externalTrafficPolicy: %s
                  selector: {app: gw}
                  ports: [{name: http, port: 80, targetPort: %d, nodePort: %d}]
                """.formatted(policy, targetPort, nodePort)).get(0);
    }

    private void endpointOn(int node) {
        KubeObject pod = ManifestReader.read("test", """
                apiVersion: v1
                kind: Pod
                metadata: {name: gw-%d, namespace: default, labels: {app: gw}}
                spec: {containers: [{name: c, image: x}]}
                """.formatted(node)).get(0);
        ready.add(new Endpoint(pod, AddressPlan.ip("127.17." + node + ".2"), nodes.get(node).name()));
    }

    /** Connects from the external client to a node's nodePort; what the backend answered, or "" if dropped. */
    private String from(int node) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(CLIENT, 0));
            s.connect(new InetSocketAddress(nodes.get(node).ip(), nodePort), 2000);
            s.setSoTimeout(2000);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
    }

    @Test
    void clusterPolicyMasqueradesToTheNodeAndReachesEndpointsOnAnyNode() throws IOException {
        endpointOn(0);
        kubeProxy.sync(List.of(service("Cluster")));
        assertEquals("127.17.0.2 saw 127.10.0.1", from(0));
        assertEquals("127.17.0.2 saw 127.10.0.2", from(1), "node 2 forwards to node 1's pod, from its own address");
    }

    @Test
    void localPolicyKeepsTheClientAndDropsWithoutALocalEndpoint() throws IOException {
        endpointOn(0);
        kubeProxy.sync(List.of(service("Local")));
        assertEquals("127.17.0.2 saw " + CLIENT.getHostAddress(), from(0));
        assertEquals("", from(1), "no local endpoint on node 2: dropped");
    }

    @Test
    void aPatchedPolicyTakesEffectWithoutRestart() throws IOException {
        endpointOn(0);
        endpointOn(1);
        kubeProxy.sync(List.of(service("Cluster")));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            seen.add(from(1));
        }
        assertEquals(Set.of("127.17.0.2 saw 127.10.0.2", "127.17.1.2 saw 127.10.0.2"), seen, "both endpoints, masqueraded");
        kubeProxy.sync(List.of(service("Local")));
        for (int i = 0; i < 5; i++) {
            assertEquals("127.17.1.2 saw " + CLIENT.getHostAddress(), from(1));
        }
    }
}
