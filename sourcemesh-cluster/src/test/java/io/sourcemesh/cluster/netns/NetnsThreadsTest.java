package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NetnsSupport.class)
class NetnsThreadsTest {
    @Test
    void aSocketMadeOnANamespaceThreadLivesInThatNamespaceAndServesFromAnyThread() throws Exception {
        try (Topology t = Topology.create(TopologySpec.prefix(NetnsSupport.PREFIX).node("node1", "app"))) {
            String pod = t.pod("app").netns();
            try (ServerSocket server = NetnsThreads.call(pod, () -> {
                ServerSocket s = new ServerSocket();
                s.bind(new InetSocketAddress("0.0.0.0", 0));
                return s;
            })) {
                int port = server.getLocalPort();
                String listening = Shell.run(Shell.in(pod, "ss", "-Htln", "sport", "=", ":" + port)).orThrow().out();
                assertTrue(listening.contains(":" + port), "listening inside the pod: " + listening);
                assertEquals("", Shell.run(java.util.List.of("ss", "-Htln", "sport", "=", ":" + port)).orThrow().out().strip(),
                        "nothing of it in the host's namespace");
                // A client inside the pod reaches it; the accept happens on this (host) thread.
                server.setSoTimeout(10_000);
                Process curl = new ProcessBuilder(Shell.in(pod, "bash", "-c", "echo hi > /dev/tcp/" + t.pod("app").ip() + "/" + port))
                        .redirectErrorStream(true).start();
                try (Socket accepted = server.accept()) {
                    assertEquals(t.pod("app").ip(), accepted.getInetAddress().getHostAddress());
                }
                curl.waitFor();
            }
            // A probe from a factory thread leaves from the namespace's own address.
            ExecutorService inNode = Executors.newSingleThreadExecutor(NetnsThreads.factory(t.node("node1").netns(), "probe"));
            try {
                String local = inNode.submit(() -> {
                    try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
                        s.connect(new InetSocketAddress(t.pod("app").ip(), 9));
                        return s.getLocalAddress().getHostAddress();
                    }
                }).get();
                assertEquals(t.node("node1").gateway(), local);
            } finally {
                inNode.shutdownNow();
            }
        }
    }

    @Test
    void anUnknownNamespaceIsNamedInTheError() {
        NetnsException e = assertThrows(NetnsException.class, () -> NetnsThreads.call("smt-no-such-namespace", () -> 1));
        assertTrue(e.getMessage().contains("smt-no-such-namespace"), e.getMessage());
    }
}
