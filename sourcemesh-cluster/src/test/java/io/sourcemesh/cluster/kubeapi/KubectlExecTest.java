package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.exec.Pty;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code kubectl exec} with the machine's real kubectl, once per runtime (the netns run as root: the
 * command runs inside the pod's network namespace): {@code -i} streams stdin to a running command
 * (each line echoed back before the next is written), and {@code -it} from a real terminal runs the
 * command on a TTY — the seed's curl verbatim, an interactive shell, the exit code.
 */
class KubectlExecTest {
    @RegisterExtension
    @Order(1)
    final ClusterExtension clusters = new ClusterExtension();
    /** Registered after the cluster's, so it closes first: the API server reads the cluster's store. */
    @RegisterExtension
    @Order(2)
    final ApiServerExtension api = new ApiServerExtension();
    Kubectl kubectl;

    private void up(ClusterRuntime on) throws Exception {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        Cluster cluster = clusters.start(on, 2);
        kubectl = api.serve(cluster, cluster.store(), clusters.home()).kubectl();
        for (String f : new String[] {"sleep.yaml", "httpbin.yaml"}) {
            Kubectl.Result r = kubectl.run("-n", "default", "apply", "-f", Path.of("src/test/resources/seed/" + f).toAbsolutePath().toString());
            assertEquals(0, r.exit(), r.toString());
        }
        for (String d : new String[] {"deployment/sleep", "deployment/httpbin"}) {
            Kubectl.Result r = kubectl.run("-n", "default", "rollout", "status", d, "--timeout=240s");
            assertEquals(0, r.exit(), r.toString());
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(90)));
    }

    /** A process's output as it comes, read on its own thread. */
    static final class Output {
        private final StringBuffer text = new StringBuffer();

        Output(InputStream in) {
            Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[4096];
                try (in) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        text.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException closed) {
                    // the process ended
                }
            });
        }

        void await(String expected) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!text.toString().contains(expected)) {
                assertTrue(System.nanoTime() < deadline, "no \"" + expected + "\" in 30 s; got: " + text);
                Thread.sleep(20);
            }
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    private static int exit(Process p) throws InterruptedException {
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("kubectl did not end in 60 s");
        }
        return p.exitValue();
    }

    private static void type(OutputStream in, String text) throws IOException {
        in.write(text.getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    @ParameterizedTest
    @EnumSource(ClusterRuntime.class)
    void streamedAndOnATerminal(ClusterRuntime on) throws Exception {
        up(on);
        long http11 = api.server().connectionsAccepted() - api.server().http2Connections();
        stdinIsStreamed(kubectl);
        // kubectl's other requests speak HTTP/2; its exec's WebSocket asks for HTTP/1.1 alone and gets it
        assertTrue(api.server().http2Connections() > 0, "kubectl's apply and rollout over HTTP/2");
        assertEquals(http11 + 1, api.server().connectionsAccepted() - api.server().http2Connections(), "the exec's connection, HTTP/1.1");
        shellLineByLine(kubectl);
        assumeTrue(Pty.available(), "no script/stty on this machine");
        seedsExecIt(kubectl);
        shellOnATerminal(kubectl);
    }

    /** What a test does with a running {@code kubectl exec}: its output as it comes, its input. */
    private interface Session {
        void run(Process p, Output out, OutputStream in) throws Exception;
    }

    /**
     * Runs {@code session} against {@code kubectl exec -i} (with {@code terminal}, {@code -it} from a real
     * terminal) of {@code command} in deploy/sleep's sleep container; the process is ended afterwards.
     */
    private static void exec(Kubectl kubectl, boolean terminal, Session session, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("-n", "default", "exec", terminal ? "-it" : "-i", "deploy/sleep", "-c", "sleep", "--"));
        args.addAll(List.of(command));
        String[] a = args.toArray(String[]::new);
        Process p = terminal ? kubectl.startInTerminal(a) : kubectl.startPiped(a);
        try {
            session.run(p, new Output(p.getInputStream()), p.getOutputStream());
        } finally {
            p.destroyForcibly();
        }
    }

    /** exec -i cat: each line comes back before the next is written; closing stdin ends cat. */
    static void stdinIsStreamed(Kubectl kubectl) throws Exception {
        exec(kubectl, false, (p, out, in) -> {
            type(in, "line one\n");
            out.await("line one\n"); // echoed while stdin is still open: not buffered until its end
            type(in, "line two\n");
            out.await("line one\nline two\n");
            in.close(); // v5's close message: cat reads end of file and ends
            assertEquals(0, exit(p), out.toString());
            Thread.sleep(200); // anything kubectl printed after the lines would show now
            assertEquals("line one\nline two\n", out.toString());
        }, "cat");
    }

    /** exec -i sh: a command per line, answered before the next; exit 7 is kubectl's exit code. */
    static void shellLineByLine(Kubectl kubectl) throws Exception {
        exec(kubectl, false, (p, out, in) -> {
            type(in, "echo $((6 * 7))\n");
            out.await("42\n");
            type(in, "exit 7\n");
            assertEquals(7, exit(p), out.toString());
            out.await("42\ncommand terminated with exit code 7\n");
        }, "sh");
    }

    /** The seed's line verbatim from a terminal: curl on a TTY (CRLF), 127.0.0.6 as the origin. */
    static void seedsExecIt(Kubectl kubectl) throws Exception {
        exec(kubectl, true, (p, out, in) -> {
            assertEquals(0, exit(p), out.toString());
            out.await("}\r\n");
            // The pod's terminal ends lines with CRLF, as kubelet's TTY does; no "Unable to use a TTY".
            assertEquals("{\r\n  \"origin\": \"127.0.0.6\"\r\n}\r\n", out.toString());
        }, "curl", "http://httpbin:8000/ip");
    }

    /** exec -it sh from a terminal: stdin and stderr are a TTY, lines typed are run, exit 5 comes back. */
    static void shellOnATerminal(Kubectl kubectl) throws Exception {
        exec(kubectl, true, (p, out, in) -> {
            type(in, "[ -t 0 ] && [ -t 2 ] && echo on-a-tty-$((6 * 7))\r");
            out.await("on-a-tty-42\r\n");
            type(in, "exit 5\r");
            assertEquals(5, exit(p), out.toString());
        }, "sh");
    }
}
