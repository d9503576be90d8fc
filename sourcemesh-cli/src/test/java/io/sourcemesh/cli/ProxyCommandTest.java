package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import io.sourcemesh.l4.transport.ProcessDefaultsGuard;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sourcemesh proxy} sets its process up first (l4.transport.ProxyProcessDefaults), as the netns runtime's
 * sidecar does. Validating a bootstrap runs that much and starts nothing; the test restores the leak detector's level
 * and the properties it found.
 */
class ProxyCommandTest {
    private static final String FORMAT = "java.util.logging.SimpleFormatter.format";

    @TempDir
    Path tmp;

    @RegisterExtension
    final ProcessDefaultsGuard guard = new ProcessDefaultsGuard();

    @Test
    void turnsNettysLeakDetectorOffAndMakesALogRecordOneLine() throws Exception {
        Path bootstrap = Files.writeString(tmp.resolve("bootstrap.yaml"), "node: {id: proxy-command-test}\n");
        ResourceLeakDetector.setLevel(Level.SIMPLE); // Netty's default
        assertEquals(0, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--mode", "validate"));
        assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel());
        assertEquals("[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n", System.getProperty(FORMAT));
    }

    /** {@code POST /quitquitquit} ends the process with status 0, as Envoy's (pilot-agent sends it when a pod ends). */
    @Test
    void quitquitquitEndsTheProcess() throws Exception {
        Path bootstrap = Files.writeString(tmp.resolve("bootstrap.yaml"), """
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                static_resources:
                  listeners:
                  - name: tcp
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: tcp
                          cluster: none
                  clusters:
                  - name: none
                    connect_timeout: 1s
                """);
        Path log = tmp.resolve("proxy.log");
        Process proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ProxyMain.class.getName(),
                "proxy", "-c", bootstrap.toString(), "--concurrency", "1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            java.util.regex.Pattern admin = java.util.regex.Pattern.compile("admin on 127\\.0\\.0\\.1:(\\d+)");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            java.util.regex.Matcher m = admin.matcher("");
            while (!m.find()) {
                org.junit.jupiter.api.Assertions.assertTrue(proxy.isAlive() && System.nanoTime() < deadline, () -> read(log));
                Thread.sleep(50);
                m = admin.matcher(read(log));
            }
            Process curl = new ProcessBuilder("curl", "-sS", "--noproxy", "*", "--max-time", "10", "-X", "POST",
                    "http://127.0.0.1:" + m.group(1) + "/quitquitquit").redirectErrorStream(true).start();
            assertEquals("OK\n", new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            org.junit.jupiter.api.Assertions.assertTrue(proxy.waitFor(20, java.util.concurrent.TimeUnit.SECONDS),
                    () -> "the proxy still runs: " + read(log));
            assertEquals(0, proxy.exitValue(), () -> read(log));
        } finally {
            proxy.destroyForcibly().waitFor();
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
