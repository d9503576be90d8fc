package io.sourcemesh.cluster.loadbalancer;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.cluster.kubeproxy.ClusterNode;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.network.Conntrack;
import io.sourcemesh.cluster.network.EmbeddedInterception;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The cloud load balancer with real sockets: pass-through of the client's address, only healthy nodes. */
class CloudLoadBalancerTest {
    static final InetAddress CLIENT = AddressPlan.ip(AddressPlan.EXTERNAL_CLIENT);
    static final InetAddress LB = AddressPlan.ip("127.100.0.250");
    final Transport transport = Transport.create(1);
    final UpstreamConnector connector = new UpstreamConnector(transport, Interception.NONE, Optional.empty());
    final List<ClusterNode> nodes = List.of(new ClusterNode("n1", AddressPlan.node(0)), new ClusterNode("n2", AddressPlan.node(1)));
    final List<ServerSocket> servers = new ArrayList<>();
    final int nodePort = ThreadLocalRandom.current().nextInt(30000, 32768);
    final int lbPort = ThreadLocalRandom.current().nextInt(20000, 29999);

    @AfterEach
    void down() throws IOException {
        for (ServerSocket s : servers) {
            s.close();
        }
        transport.close();
    }

    /** A node port that answers with the address it sees the connection from. */
    private void serve(InetAddress node, int port, String reply) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(node, port));
        servers.add(server);
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    String text = reply != null ? reply : node.getHostAddress() + " saw " + s.getInetAddress().getHostAddress();
                    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        });
    }

    private String call() throws IOException {
        return call(CLIENT);
    }

    private String call(InetAddress from) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress(LB, lbPort), 2000);
            s.setSoTimeout(2000);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void sendsOnlyToHealthyNodesFromTheClientsAddress() throws IOException {
        serve(nodes.get(0).ip(), nodePort, null);
        try (CloudLoadBalancer lb = CloudLoadBalancer.start(transport, connector, LB,
                new CloudLoadBalancer.Backends(nodes, Map.of(lbPort, nodePort), new HealthCheck.Tcp(nodePort)))) {
            assertEquals(Set.of(nodes.get(0).ip()), lb.healthyNodes());
            for (int i = 0; i < 5; i++) {
                assertEquals("127.10.0.1 saw " + CLIENT.getHostAddress(), call());
            }
            serve(nodes.get(1).ip(), nodePort, null);
            lb.check();
            assertEquals(Set.of(nodes.get(0).ip(), nodes.get(1).ip()), lb.healthyNodes());
        }
    }

    /**
     * loadBalancerSourceRanges: a client inside them reaches a node from its own address; one outside is closed by the
     * load balancer before any node sees a connection; new ranges take effect on update.
     */
    @Test
    void onlyClientsInsideTheSourceRangesReachANode() throws IOException {
        InetAddress other = AddressPlan.ip("127.201.0.77");
        // The sources the node saw (the health probes come from the load balancer's own address).
        Set<InetAddress> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        ServerSocket node = new ServerSocket();
        node.bind(new InetSocketAddress(nodes.get(0).ip(), nodePort));
        servers.add(node);
        Thread.ofVirtual().start(() -> {
            while (!node.isClosed()) {
                try (Socket s = node.accept()) {
                    seen.add(s.getInetAddress());
                    s.getOutputStream().write(("saw " + s.getInetAddress().getHostAddress()).getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        });
        List<io.sourcemesh.api.resource.Cidr> onlyClient = List.of(io.sourcemesh.api.resource.Cidr.parse(
                CLIENT.getHostAddress() + "/32"), io.sourcemesh.api.resource.Cidr.parse("fd00::/8"));
        try (CloudLoadBalancer lb = CloudLoadBalancer.start(transport, connector, LB, new CloudLoadBalancer.Backends(
                nodes.subList(0, 1), Map.of(lbPort, nodePort), new HealthCheck.Tcp(nodePort), Optional.empty(), onlyClient))) {
            assertEquals("saw " + CLIENT.getHostAddress(), call(CLIENT));
            assertEquals("", call(other), "a client outside the ranges is closed without a reply");
            assertFalse(seen.contains(other), "and no node saw its connection: " + seen);

            lb.update(new CloudLoadBalancer.Backends(nodes.subList(0, 1), Map.of(lbPort, nodePort),
                    new HealthCheck.Tcp(nodePort), Optional.empty(), List.of(io.sourcemesh.api.resource.Cidr.parse("127.201.0.0/16"))));
            assertEquals("saw " + other.getHostAddress(), call(other));
            assertEquals("", call(CLIENT), "the new ranges leave the first client out");
        }
    }

    /**
     * A node leaves only after {@link CloudLoadBalancer#UNHEALTHY_THRESHOLD} failed probes in a row (a probe that
     * timed out once on a busy machine took the only node of a Local service out, and a request in that second
     * found no backend) and is back after one success; a change of backends is probed and taken at once.
     */
    @Test
    void aNodeLeavesAfterThreeFailedProbesInARowAndIsBackAfterOneSuccess() throws IOException {
        serve(nodes.get(0).ip(), nodePort, null);
        int hc = nodePort == 32767 ? 30000 : nodePort + 1;
        java.util.concurrent.atomic.AtomicBoolean up = new java.util.concurrent.atomic.AtomicBoolean(true);
        ServerSocket probes = new ServerSocket();
        probes.bind(new InetSocketAddress(nodes.get(0).ip(), hc));
        servers.add(probes);
        Thread.ofVirtual().start(() -> {
            while (!probes.isClosed()) {
                try (Socket s = probes.accept()) {
                    s.getOutputStream().write((up.get() ? "HTTP/1.1 200 OK" : "HTTP/1.1 503 Service Unavailable")
                            .concat("\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        });
        CloudLoadBalancer.Backends backends = new CloudLoadBalancer.Backends(nodes, Map.of(lbPort, nodePort),
                new HealthCheck.Http(hc, "/healthz"));
        try (CloudLoadBalancer lb = CloudLoadBalancer.start(transport, connector, LB, backends)) {
            assertEquals(Set.of(nodes.get(0).ip()), lb.healthyNodes(), "a node never seen healthy is out at once");
            up.set(false);
            for (int failed = 1; failed < CloudLoadBalancer.UNHEALTHY_THRESHOLD; failed++) {
                lb.check();
                assertEquals(Set.of(nodes.get(0).ip()), lb.healthyNodes(), failed + " failed probe(s): still in");
                assertEquals("127.10.0.1 saw " + CLIENT.getHostAddress(), call(), "and served");
            }
            lb.check();
            assertEquals(Set.of(), lb.healthyNodes(), "the third failure in a row takes it out");
            up.set(true);
            lb.check();
            assertEquals(Set.of(nodes.get(0).ip()), lb.healthyNodes(), "one success brings it back");

            up.set(false);
            lb.check();
            assertEquals(Set.of(nodes.get(0).ip()), lb.healthyNodes());
            lb.update(backends);
            assertEquals(Set.of(), lb.healthyNodes(), "a change is probed and taken as it comes");
        }
    }

    /**
     * The embedded relay opens a socket of its own, so it puts the client's socket on record for the node (what a
     * passthrough load balancer's DNAT leaves as the peer); one the receiver never takes goes when the relay closes.
     */
    @Test
    void theClientsSocketIsOnRecordForTheNodeUntilTheRelayCloses() throws Exception {
        Conntrack conntrack = new Conntrack();
        UpstreamConnector relaying = new UpstreamConnector(transport, new EmbeddedInterception(conntrack, ip -> false, null),
                Optional.empty());
        ServerSocket node = new ServerSocket();
        node.bind(new InetSocketAddress(nodes.get(0).ip(), nodePort));
        servers.add(node);
        Thread.ofVirtual().start(() -> {
            int relayed = 0;
            while (!node.isClosed()) {
                try (Socket s = node.accept()) {
                    InetSocketAddress remote = (InetSocketAddress) s.getRemoteSocketAddress();
                    if (!remote.getAddress().equals(CLIENT)) {
                        continue; // the health check's
                    }
                    // The first relayed connection takes its peer, as a gateway does; the next leaves it (an app without a proxy).
                    String peer = relayed++ == 0 ? conntrack.takePeer(remote, (InetSocketAddress) s.getLocalSocketAddress())
                            .map(a -> a.getAddress().getHostAddress() + ":" + a.getPort()).orElse("none") : "left";
                    s.getOutputStream().write(peer.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        });
        try (CloudLoadBalancer lb = CloudLoadBalancer.start(transport, relaying, LB,
                new CloudLoadBalancer.Backends(nodes.subList(0, 1), Map.of(lbPort, nodePort), new HealthCheck.Tcp(nodePort)))) {
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(CLIENT, 0));
                s.connect(new InetSocketAddress(LB, lbPort), 2000);
                s.setSoTimeout(2000);
                assertEquals(CLIENT.getHostAddress() + ":" + s.getLocalPort(),
                        new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
            assertEquals("left", call());
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (conntrack.size() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, conntrack.size(), "the peer no one took went with its connection");
        }
    }

    @Test
    void httpProbeWantsA200() throws IOException {
        int hc = nodePort == 32767 ? 30000 : nodePort + 1;
        serve(nodes.get(0).ip(), hc, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        serve(nodes.get(1).ip(), hc, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        HealthCheck check = new HealthCheck.Http(hc, "/healthz");
        assertTrue(check.probe(LB, nodes.get(0).ip()));
        assertFalse(check.probe(LB, nodes.get(1).ip()));
        assertFalse(new HealthCheck.Http(hc == 32767 ? 30000 : hc + 1, "/healthz").probe(LB, nodes.get(0).ip()), "nothing listening");
    }
}
