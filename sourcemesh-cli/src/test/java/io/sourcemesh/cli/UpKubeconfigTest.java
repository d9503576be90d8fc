package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code up} writes a kubeconfig and the daemon (a separate process) serves the Kubernetes API it names. */
class UpKubeconfigTest {
    @TempDir
    Path home;

    private String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 2];
        full[0] = "--home";
        full[1] = home.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.execute(Clock.systemUTC(), new java.io.ByteArrayInputStream(new byte[0]), new PrintWriter(out, true),
                new PrintWriter(err, true), full);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @BeforeEach
    void ownAddresses() {
        System.setProperty("sourcemesh.addressBlock", String.valueOf(1 + (ProcessHandle.current().pid() + 11) % 29));
    }

    @AfterEach
    void down() {
        run("down");
        System.clearProperty("sourcemesh.addressBlock");
    }

    @Test
    void upWritesAKubeconfigThatKubectlAndCurlUse() throws Exception {
        String[] up = run("up", "--nodes", "1");
        assertEquals("0", up[0], up[2]);
        // The daemon is no child of the JVM that ran up: a child keeps a thread waiting in native code, which a JVM's exit waits for.
        long daemon = new io.sourcemesh.cluster.daemon.Home(home).daemon().orElseThrow().pid();
        assertTrue(ProcessHandle.current().children().noneMatch(c -> c.pid() == daemon), "the daemon " + daemon + " is a child of up's JVM");
        assertTrue(ProcessHandle.of(daemon).map(ProcessHandle::isAlive).orElse(false));
        Path kubeconfig = home.resolve("kubeconfig");
        assertTrue(up[1].contains("export KUBECONFIG=" + kubeconfig), up[1]);
        String kc = Files.readString(kubeconfig);
        String server = kc.lines().filter(l -> l.contains("server:")).findFirst().orElseThrow()
                .replaceAll(".*server: \"?([^\"]+)\"?", "$1");
        // curl with the kubeconfig's CA and admin certificate (as files in pki/), and without: 200, then 401.
        Process ok = new ProcessBuilder("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", home.resolve("pki/ca.crt").toString(),
                "--cert", home.resolve("pki/admin.crt").toString(), "--key", home.resolve("pki/admin.key").toString(), server + "/api/v1/nodes")
                .redirectErrorStream(true).start();
        assertTrue(ok.waitFor(30, TimeUnit.SECONDS));
        assertEquals("200", new String(ok.getInputStream().readAllBytes()));
        Process anonymous = new ProcessBuilder("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                home.resolve("pki/ca.crt").toString(), server + "/api/v1/nodes").redirectErrorStream(true).start();
        assertTrue(anonymous.waitFor(30, TimeUnit.SECONDS));
        assertEquals("401", new String(anonymous.getInputStream().readAllBytes()));

        Path kubectl = Path.of("/usr/bin/kubectl");
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "kubectl"))) {
                kubectl = Path.of(dir, "kubectl");
                break;
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(kubectl), "no kubectl on PATH: its part is skipped");
        ProcessBuilder pb = new ProcessBuilder(kubectl.toString(), "get", "nodes").redirectErrorStream(true);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", home.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.startsWith("NAME") && out.contains(" Ready "), out);
    }
}
