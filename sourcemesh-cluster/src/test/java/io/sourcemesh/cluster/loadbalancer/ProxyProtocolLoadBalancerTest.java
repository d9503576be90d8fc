package io.sourcemesh.cluster.loadbalancer;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.api.resource.ProxyProtocolAnnotations.Version;
import io.sourcemesh.cluster.kubeproxy.ClusterNode;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.embedded.Interception;
import io.sourcemesh.l4.UpstreamConnector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cloud load balancer's PROXY protocol header, byte for byte, as a raw socket behind it reads
 * it (haproxy's doc/proxy-protocol.txt, sections 2.1 and 2.2): the client's address and port, then
 * the load balancer's own, before the client's first byte.
 */
class ProxyProtocolLoadBalancerTest {
    /** Addresses of this JVM's own (from its PID), so concurrent runs do not collide. */
    static final int BLOCK = (int) (ProcessHandle.current().pid() % 200) + 20;
    static final InetAddress CLIENT = AddressPlan.ip(AddressPlan.EXTERNAL_CLIENT);
    static final InetAddress LB = AddressPlan.ip("127.101." + BLOCK + ".1");
    static final InetAddress NODE = AddressPlan.ip("127.102." + BLOCK + ".1");
    final Transport transport = Transport.create(1);
    final UpstreamConnector connector = new UpstreamConnector(transport, Interception.NONE, Optional.empty());

    @AfterEach
    void down() {
        transport.close();
    }

    @Test
    void versionOneIsTheTextLine() throws Exception {
        Received r = through(Version.V1);
        String expected = "PROXY TCP4 127.120.0.10 " + LB.getHostAddress() + " " + r.clientPort() + " " + r.lbPort() + "\r\nhello";
        assertEquals(expected, new String(r.bytes(), StandardCharsets.US_ASCII));
        assertEquals(CLIENT, r.peer(), "the node still sees the client's own address on the socket");
    }

    @Test
    void versionTwoIsTheBinaryHeader() throws Exception {
        Received r = through(Version.V2);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(HexFormat.of().parseHex("0d0a0d0a000d0a515549540a")); // the v2 signature
        expected.write(0x21); // version 2, PROXY
        expected.write(0x11); // TCP over IPv4
        expected.writeBytes(new byte[] {0, 12}); // 4 + 4 + 2 + 2
        expected.writeBytes(CLIENT.getAddress());
        expected.writeBytes(LB.getAddress());
        expected.writeBytes(new byte[] {(byte) (r.clientPort() >> 8), (byte) r.clientPort(), (byte) (r.lbPort() >> 8), (byte) r.lbPort()});
        expected.writeBytes("hello".getBytes(StandardCharsets.US_ASCII));
        assertEquals(HexFormat.of().formatHex(expected.toByteArray()), HexFormat.of().formatHex(r.bytes()));
    }

    @Test
    void withoutTheAnnotationNothingIsPrepended() throws Exception {
        assertEquals("hello", new String(through(null).bytes(), StandardCharsets.US_ASCII));
    }

    @Test
    void ipv6HeadersUseTcp6AndTheLongForm() {
        InetSocketAddress src = new InetSocketAddress(AddressPlan.ip("2001:db8::1"), 56324);
        InetSocketAddress dst = new InetSocketAddress(AddressPlan.ip("::1"), 443);
        assertEquals("PROXY TCP6 2001:db8::1 ::1 56324 443\r\n", new String(ProxyProtocolHeader.v1(src, dst), StandardCharsets.US_ASCII));
        byte[] v2 = ProxyProtocolHeader.v2(src, dst);
        assertEquals(16 + 36, v2.length);
        assertEquals(0x21, v2[13]);
        assertEquals(36, v2[15]);
        // One family per header: an IPv4 source with an IPv6 destination is written as IPv4-mapped IPv6.
        String mixed = new String(ProxyProtocolHeader.v1(new InetSocketAddress(CLIENT, 1), dst), StandardCharsets.US_ASCII);
        assertEquals("PROXY TCP6 ::ffff:7f78:a ::1 1 443\r\n", mixed);
    }

    record Received(byte[] bytes, InetAddress peer, int clientPort, int lbPort) {}

    /** One connection from the client through a load balancer to a raw socket on the node port. */
    private Received through(Version version) throws Exception {
        try (ServerSocket node = new ServerSocket()) {
            node.bind(new InetSocketAddress(NODE, 0));
            int lbPort = freePort();
            CompletableFuture<Received> got = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                // The load balancer's TCP health checks connect and close without a byte: skip those.
                while (!got.isDone()) {
                    try (Socket s = node.accept()) {
                        s.setSoTimeout(3000);
                        byte[] bytes = readAll(s.getInputStream());
                        if (bytes.length > 0) {
                            got.complete(new Received(bytes, s.getInetAddress(), 0, lbPort));
                        }
                    } catch (IOException e) {
                        got.completeExceptionally(e);
                    }
                }
            });
            CloudLoadBalancer.Backends backends = new CloudLoadBalancer.Backends(List.of(new ClusterNode("n1", NODE)),
                    Map.of(lbPort, node.getLocalPort()), new HealthCheck.Tcp(node.getLocalPort()), Optional.ofNullable(version));
            try (CloudLoadBalancer lb = CloudLoadBalancer.start(transport, connector, LB, backends);
                    Socket client = new Socket()) {
                assertEquals(1, lb.healthyNodes().size());
                client.bind(new InetSocketAddress(CLIENT, 0));
                client.connect(new InetSocketAddress(LB, lbPort), 2000);
                client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                client.shutdownOutput();
                Received r = got.get(5, TimeUnit.SECONDS);
                return new Received(r.bytes(), r.peer(), client.getLocalPort(), lbPort);
            }
        }
    }

    /** Reads to end of stream (the client half-closes after its bytes). */
    private static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(LB, 0));
            return s.getLocalPort();
        }
    }
}
