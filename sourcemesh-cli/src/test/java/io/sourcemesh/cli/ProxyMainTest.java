package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProxyMainTest {

    @Test
    void readsTheFormsPicocliReadsTheSameWay() {
        for (String[] args : new String[][] {
                {"proxy", "-c", "b.yaml", "--concurrency", "2"}, {"proxy", "-cb.yaml", "--concurrency=2"},
                {"proxy", "-c=b.yaml", "--concurrency", "2", "--mode", "serve"}, {"proxy", "--config-path", "b.yaml", "--concurrency=2"},
                {"proxy", "--concurrency", "2", "--config-path=b.yaml"}}) {
            ProxyCommand c = ProxyMain.parse(args);
            assertEquals(Path.of("b.yaml"), c.config, String.join(" ", args));
            assertEquals(2, c.concurrency);
            assertEquals("serve", c.mode);
        }
        ProxyCommand c = ProxyMain.parse("proxy", "-c", "b.yaml", "--mode", "validate");
        assertNull(c.concurrency);
        assertEquals("validate", c.mode);
        assertEquals(600, c.drainTimeSeconds, "Envoy's default --drain-time-s, as picocli's default");
        assertEquals(45, ProxyMain.parse("proxy", "-c", "b.yaml", "--drain-time-s", "45").drainTimeSeconds);
        assertEquals(5, ProxyMain.parse("proxy", "-c", "b.yaml", "--drain-time-s=5").drainTimeSeconds);
    }

    @Test
    void picocliReadsTheDrainTimeAsTheHandParserDoes() {
        ProxyCommand c = new ProxyCommand();
        new picocli.CommandLine(c).parseArgs("-c", "b.yaml");
        assertEquals(ProxyMain.parse("proxy", "-c", "b.yaml").drainTimeSeconds, c.drainTimeSeconds);
    }

    @Test
    void leavesEverythingElseToPicocli() {
        for (String[] args : new String[][] {
                {}, {"get", "pods"}, {"proxy"}, {"proxy", "--help"}, {"proxy", "-h"}, {"proxy", "-V"}, {"proxy", "--concurrency", "2"},
                {"proxy", "-c", "a.yaml", "-c", "b.yaml"}, {"proxy", "-c"}, {"proxy", "-c", "--mode", "x"}, {"proxy", "-c", "b.yaml", "--nope", "1"},
                {"proxy", "-c", "b.yaml", "--concurrency", "two"}, {"proxy", "-c", "b.yaml", "--mode", "a", "--mode", "b"},
                {"proxy", "-c", "b.yaml", "--drain-time-s", "-1"}, {"proxy", "-c", "b.yaml", "--drain-time-s", "1", "--drain-time-s", "2"},
                {"-n", "x", "proxy", "-c", "b.yaml"}, {"proxy", "-c", "b.yaml", "extra"}}) {
            assertNull(ProxyMain.parse(args), String.join(" ", args));
        }
    }

    @Test
    void validatesLikeTheVerb() throws Exception {
        Path bootstrap = java.nio.file.Files.createTempFile("proxy-main", ".yaml");
        try {
            java.nio.file.Files.writeString(bootstrap, "node: {id: a}\n");
            assertEquals(0, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--mode", "validate"));
            java.nio.file.Files.writeString(bootstrap, "node: {idd: a}\n");
            assertEquals(1, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--mode", "validate"));
        } finally {
            java.nio.file.Files.delete(bootstrap);
        }
    }

    /** The event loops, made beside the bootstrap's reading, are closed again when the config is refused. */
    @Test
    void aRefusedConfigLeavesNoEventLoops() throws Exception {
        java.util.Set<Thread> before = workers();
        Path bootstrap = java.nio.file.Files.createTempFile("proxy-main", ".yaml");
        try {
            java.nio.file.Files.writeString(bootstrap, "node: {idd: a}\n");
            assertEquals(1, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--concurrency", "2"));
            try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                // a config that loads, refused when its listener binds (Proxy.start): the port is taken
                java.nio.file.Files.writeString(bootstrap, """
                        static_resources:
                          listeners:
                          - name: l
                            address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                            filter_chains: [{filters: [{name: envoy.filters.network.tcp_proxy, typed_config: {
                              "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy,
                              stat_prefix: t, cluster: c}}]}]
                          clusters:
                          - name: c
                            load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {
                              socket_address: {address: 127.0.0.1, port_value: 9}}}}]}]}
                        """.formatted(taken.getLocalPort()));
                assertEquals(1, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--concurrency", "2"));
            }
        } finally {
            java.nio.file.Files.delete(bootstrap);
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        java.util.Set<Thread> left = workers();
        left.removeAll(before);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            left = workers();
            left.removeAll(before);
        }
        assertEquals(java.util.Set.of(), left, "event-loop threads of the refused starts");
    }

    private static java.util.Set<Thread> workers() {
        java.util.Set<Thread> out = new java.util.HashSet<>(Thread.getAllStackTraces().keySet());
        out.removeIf(t -> !t.isAlive() || !t.getName().startsWith("sourcemesh-worker"));
        return out;
    }
}
