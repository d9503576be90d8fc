package io.sourcemesh.cluster.runtime.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.resource.ProxyProtocolAnnotations.Version;
import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.NetnsThreads;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.netns.TopologySpec;
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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The lb namespace's userspace forwarder on real namespaces: curl in the internet client's namespace
 * (198.18.0.5) → a load balancer address in the lb namespace → a raw socket on a node, which reads
 * the PROXY protocol header (v1, then v2) before curl's request, from the lb's own lan address.
 */
@ExtendWith(NetnsSupport.class)
class ProxyProtocolForwardersTest {
    static final String VIP = "198.18.0.100";

    @Test
    void headerThenRequestFromTheLbNamespaceToANode() throws Exception {
        try (Topology t = Topology.create(TopologySpec.prefix(NetnsSupport.PREFIX).node("node1"));
                ProxyProtocolForwarders forwarders = ProxyProtocolForwarders.in(t.lb())) {
            Shell.run(List.of("ip", "-n", t.lb(), "addr", "replace", VIP + "/32", "dev", "eth1")).orThrow();
            Topology.Node node = t.node("node1");
            int nodePort = 30080;
            Version[] version = {Version.V1};
            InetSocketAddress frontend = new InetSocketAddress(InetAddress.getByName(VIP), 80);
            forwarders.sync(Set.of(frontend), f -> Optional.of(new ProxyProtocolForwarders.Target(List.of(node.ip()), nodePort, version[0])));
            assertEquals(Set.of(frontend), forwarders.frontends());
            try (ServerSocket server = NetnsThreads.call(node.netns(), () -> {
                ServerSocket s = new ServerSocket();
                s.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), nodePort));
                return s;
            })) {
                int clientPort = ThreadLocalRandom.current().nextInt(40000, 50000);
                Received v1 = exchange(t, server, clientPort);
                assertEquals("PROXY TCP4 198.18.0.5 198.18.0.100 " + clientPort + " 80\r\nGET /ip HTTP/1.1\r\n",
                        new String(v1.bytes(), 0, v1.bytes().length, StandardCharsets.US_ASCII)
                                .substring(0, ("PROXY TCP4 198.18.0.5 198.18.0.100 " + clientPort + " 80\r\nGET /ip HTTP/1.1\r\n").length()));
                assertEquals(Topology.LB_LAN_IP, v1.peer(), "the forwarder connects from the lb's own address");

                version[0] = Version.V2;
                Received v2 = exchange(t, server, clientPort + 1);
                String hex = HexFormat.of().formatHex(v2.bytes());
                String expected = "0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "c6120005" + "c6120064"
                        + String.format("%04x", clientPort + 1) + "0050"
                        + HexFormat.of().formatHex("GET /ip".getBytes(StandardCharsets.US_ASCII));
                assertTrue(hex.startsWith(expected), hex);
            }
            forwarders.sync(Set.of(), f -> Optional.empty());
            assertEquals(Set.of(), forwarders.frontends());
        }
    }

    record Received(byte[] bytes, String peer) {}

    /** curl from the client's namespace; the node's socket records what arrives until the request's end. */
    private static Received exchange(Topology t, ServerSocket server, int clientPort) throws Exception {
        CompletableFuture<Received> got = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (Socket s = server.accept()) {
                s.setSoTimeout(5000);
                byte[] bytes = untilBlankLine(s.getInputStream());
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        .getBytes(StandardCharsets.US_ASCII));
                got.complete(new Received(bytes, s.getInetAddress().getHostAddress()));
            } catch (IOException e) {
                got.completeExceptionally(e);
            }
        });
        Shell.Result curl = Shell.run(Shell.in(t.external(), "curl", "-sS", "--max-time", "5", "--local-port",
                Integer.toString(clientPort), "http://" + VIP + ":80/ip"));
        assertEquals("ok", curl.orThrow().out());
        return got.get(5, TimeUnit.SECONDS);
    }

    private static byte[] untilBlankLine(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            out.write(b);
            byte[] sofar = out.toByteArray();
            int n = sofar.length;
            // The v2 signature itself starts with CRLF CRLF: the end is the blank line after the request line.
            if (n >= 4 && sofar[n - 4] == '\r' && sofar[n - 3] == '\n' && sofar[n - 2] == '\r' && sofar[n - 1] == '\n'
                    && new String(sofar, StandardCharsets.ISO_8859_1).contains("GET /ip")) {
                break;
            }
        }
        return out.toByteArray();
    }
}
