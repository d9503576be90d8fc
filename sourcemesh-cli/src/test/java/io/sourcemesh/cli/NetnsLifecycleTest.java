package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.Preflight;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo --runtime netns} for real (root): the daemon assembles the cluster on network
 * namespaces, the east-west walk matches the document, and {@code down} leaves no namespace behind.
 * Skipped without root and the kernel tools, failed instead when CI=true.
 */
class NetnsLifecycleTest {
    @TempDir
    Path home;

    record Run(int code, String out, String err) {}

    @BeforeEach
    void requireNetns() {
        Preflight p = Preflight.check();
        if (!p.ok()) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true and " + p.message());
            }
            Assumptions.abort(p.message());
        }
    }

    @AfterEach
    void down() {
        run("down");
        Topology.sweep(NetnsRuntime.prefixFor(new Home(home)));
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 2];
        full[0] = "--home";
        full[1] = home.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.execute(Clock.systemUTC(), java.io.InputStream.nullInputStream(), new PrintWriter(out, true),
                new PrintWriter(err, true), full);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void theDemoWalksTheWholeDocumentOnNamespacesAndDownRemovesThem() {
        String prefix = NetnsRuntime.prefixFor(new Home(home));
        Run demo = run("demo", "--runtime", "netns");
        assertEquals(0, demo.code(), demo.out() + demo.err());
        assertTrue(demo.out().contains("Every step matched the document."), demo.out());
        // The closing table: east-west and north-south rows, each as the document says.
        List<String> table = demo.out().lines().dropWhile(l -> !l.startsWith("STEP ")).toList();
        for (String row : List.of("default (REDIRECT)", "TPROXY patch", "XFF EnvoyFilter", "Cluster, HTTP", "Local, HTTP ", "Local, HTTPS",
                "gateway ALLOW ip", "gateway DENY ip")) {
            assertTrue(table.stream().anyMatch(l -> l.startsWith(row)), row + " in\n" + String.join("\n", table));
        }
        assertTrue(table.stream().filter(l -> l.startsWith("Local, ")).allMatch(l -> l.contains(" 198.18.0.5 ")), String.join("\n", table));
        assertFalse(demo.out().contains("MISMATCH"), demo.out());
        assertTrue(table.stream().anyMatch(l -> l.startsWith("gateway DENY ip") && l.endsWith(
                "rbac_access_denied_matched_policy[ns[istio-system]-policy[ingress-deny-client]-rule[0]]")), String.join("\n", table));
        Run status = run("status");
        assertTrue(status.out().contains("runtime:   netns"), status.out());
        assertTrue(status.out().contains("mesh read: informers on https://127.0.0.1:"), status.out());
        assertTrue(Topology.list().stream().anyMatch(n -> n.startsWith(prefix + "p-httpbin-")), Topology.list().toString());

        assertEquals(0, run("down").code());
        assertFalse(Files.exists(home.resolve("daemon.json")));
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(prefix)).toList(), "down removes every namespace");
    }

    /**
     * A daemon killed with SIGKILL leaves its namespaces, processes and runtime directory; the next
     * {@code up} removes them all and brings the cluster back from the home, and {@code down} then
     * leaves nothing.
     */
    @Test
    void upAfterACrashRemovesWhatTheCrashedRunLeft() throws Exception {
        String prefix = NetnsRuntime.prefixFor(new Home(home));
        assertEquals(0, run("up", "--runtime", "netns").code());
        Path sleep = home.resolve("sleep.yaml");
        try (var in = NetnsLifecycleTest.class.getResourceAsStream("seed/sleep.yaml")) {
            Files.write(sleep, in.readAllBytes());
        }
        assertEquals(0, run("apply", "-f", sleep.toString()).code());
        Run rollout = run("rollout", "status", "deploy/sleep", "--timeout", "90s");
        assertEquals(0, rollout.code(), rollout.out() + rollout.err());
        Path runtimeDir = Path.of(Files.readString(home.resolve("netns-runtime-dir")).strip());
        assertTrue(Files.isDirectory(runtimeDir), runtimeDir.toString());
        List<String> before = Topology.list().stream().filter(n -> n.startsWith(prefix)).toList();
        String sleepNs = before.stream().filter(n -> n.startsWith(prefix + "p-sleep-")).findFirst().orElseThrow();
        List<Long> crashedPids = Topology.pids(sleepNs);
        assertFalse(crashedPids.isEmpty(), "the pod's app and sidecar run");

        ProcessHandle daemon = ProcessHandle.of(new Home(home).daemon().orElseThrow().pid()).orElseThrow();
        new ProcessBuilder("kill", "-KILL", String.valueOf(daemon.pid())).start().waitFor();
        daemon.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(Topology.list().containsAll(before), "a crash leaves the namespaces behind");

        Run up = run("up", "--runtime", "netns");
        assertEquals(0, up.code(), up.out() + up.err());
        assertFalse(Files.exists(runtimeDir), "the crashed run's runtime directory is removed");
        for (long pid : crashedPids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " of the crashed run");
        }
        rollout = run("rollout", "status", "deploy/sleep", "--timeout", "90s");
        assertEquals(0, rollout.code(), rollout.out() + rollout.err());
        Run exec = run("exec", "deploy/sleep", "-c", "sleep", "--", "getent", "hosts", "sleep");
        assertEquals(0, exec.code(), exec.out() + exec.err());

        Path newRuntimeDir = Path.of(Files.readString(home.resolve("netns-runtime-dir")).strip());
        assertEquals(0, run("down").code());
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(prefix)).toList(), "down removes every namespace");
        assertFalse(Files.exists(newRuntimeDir), "down removes the runtime directory");
        assertFalse(Files.exists(home.resolve("etc")), "down removes the pods' /etc files");
    }
}
