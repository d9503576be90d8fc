package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code up}, {@code status}, {@code down} and {@code demo} for real: the daemon is a separate
 * process serving the cluster API; state survives a restart; the demo's table matches the document.
 */
class LocalClusterLifecycleTest {
    @TempDir
    Path home;

    record Run(int code, String out, String err) {}

    private Run run(String... args) {
        return runWithStdin(new byte[0], args);
    }

    private Run runWithStdin(byte[] stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 2];
        full[0] = "--home";
        full[1] = home.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.execute(Clock.systemUTC(), new java.io.ByteArrayInputStream(stdin), new PrintWriter(out, true),
                new PrintWriter(err, true), full);
        return new Run(code, out.toString(), err.toString());
    }

    @org.junit.jupiter.api.BeforeEach
    void ownAddresses() {
        // The daemon inherits it: this test's cluster does not collide with one the developer runs.
        System.setProperty("sourcemesh.addressBlock", String.valueOf(1 + (ProcessHandle.current().pid() + 7) % 29));
    }

    /** The server URL in the kubeconfig {@code up} wrote. */
    private String kubeApiServer() throws java.io.IOException {
        var m = java.util.regex.Pattern.compile("server: \"?(https://[^\"\\s]+)")
                .matcher(Files.readString(io.sourcemesh.cluster.kubeapi.Kubeconfig.in(home)));
        assertTrue(m.find(), "a server in the kubeconfig");
        return m.group(1);
    }

    @AfterEach
    void down() {
        run("down");
        System.clearProperty("sourcemesh.addressBlock");
    }

    @Test
    void upStatusDownKeepsStateAndTheDemoMatchesTheDocument() throws Exception {
        Run status = run("status");
        assertEquals(1, status.code());
        assertTrue(status.out().contains("not running"), status.out());

        Run up = run("up");
        assertEquals(0, up.code(), up.err());
        assertTrue(up.out().startsWith("SourceMesh cluster is up: 2 nodes"), up.out());
        assertTrue(run("up").out().startsWith("SourceMesh is already running"), "a second up says so");
        // daemon.log says where the start went: each phase once, in order (the credentials made while the cluster started)
        String ready = Files.readAllLines(home.resolve("daemon.log")).stream().filter(l -> l.startsWith("[info] ready ")).findFirst()
                .orElseThrow();
        var phases = java.util.regex.Pattern.compile("\\(main (\\d+), the cluster (\\d+), its API (\\d+), the credentials (\\d+), "
                + "the Kubernetes API (\\d+), informers synced (\\d+), settled (\\d+) ms\\)$").matcher(ready);
        assertTrue(phases.find(), ready);
        for (int i = 2; i <= 7; i++) {
            assertTrue(Long.parseLong(phases.group(i - 1)) <= Long.parseLong(phases.group(i)), ready);
        }
        // After "ready", not before it: the daemon's warm-up of what the first apply would pay cold.
        long warmedBy = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        java.util.List<String> log = Files.readAllLines(home.resolve("daemon.log"));
        while (log.stream().noneMatch(l -> l.startsWith("[info] warmed up ")) && System.nanoTime() < warmedBy) {
            Thread.sleep(100);
            log = Files.readAllLines(home.resolve("daemon.log"));
        }
        int readyAt = log.indexOf(ready);
        int warmedAt = -1;
        for (int i = 0; i < log.size() && warmedAt < 0; i++) {
            warmedAt = log.get(i).startsWith("[info] warmed up ") ? i : -1;
        }
        assertTrue(warmedAt > readyAt, "the warm-up ran, after ready: " + log);
        status = run("status");
        assertEquals(0, status.code());
        assertTrue(status.out().contains("runtime:   embedded"), status.out());
        // The daemon's control plane reads the cluster through informers on its own Kubernetes API (the kubeconfig's).
        assertTrue(status.out().contains("mesh read: informers on " + kubeApiServer() + "/"), status.out());

        Run demo = run("demo");
        assertEquals(0, demo.code(), demo.out() + demo.err());
        assertTrue(demo.out().contains("Every step matched the document."), demo.out());
        assertTrue(demo.out().lines().anyMatch(l -> l.startsWith("default (REDIRECT)   127.0.0.6         127.0.0.6")), demo.out());
        // The closing authorization section: 200 on the allow list, 403 on the deny list, and why.
        assertTrue(demo.out().lines().anyMatch(l -> l.matches("gateway ALLOW ip +HTTP 200 +HTTP 200 +response_code_details: via_upstream")),
                demo.out());
        assertTrue(demo.out().lines().anyMatch(l -> l.matches("gateway DENY ip +HTTP 403 +HTTP 403 +response_code_details: "
                + "rbac_access_denied_matched_policy\\[ns\\[istio-system]-policy\\[ingress-deny-client]-rule\\[0]]")), demo.out());
        assertTrue(demo.out().contains("RBAC: access denied"), "the 403's body, shown");
        assertTrue(demo.out().lines().anyMatch(l -> l.matches("1/1 proxies up to date: istio-ingressgateway-\\S+\\.istio-system")),
                "each policy's status: the gateway ACKed it\n" + demo.out());
        // The demo ends with each situation's trace and the daemon's dashboard, which traces live too.
        assertTrue(demo.out().contains("is LOST at hop 3 (istio-proxy of httpbin-"), demo.out());
        assertTrue(demo.out().contains("is LOST at hop 3 (node kube-proxy"), demo.out());
        assertFalse(demo.out().contains("MISMATCH") || demo.out().contains("trace failed"), demo.out());
        String dashboard = demo.out().lines().filter(l -> l.startsWith("Dashboard: http://127.0.0.1:")).findFirst().orElseThrow().split(" ")[1];
        String page = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                dashboard + "?from=deploy%2Fsleep&url=http%3A%2F%2Fhttpbin%3A8000%2Fip")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(page.contains("lost at hop 3") && page.contains("<td>istio-ingressgateway</td>"), page);

        Run pods = run("get", "pods");
        assertEquals(2, pods.out().lines().filter(l -> l.contains("2/2") && l.contains("Running")).count(), pods.out());

        Run down = run("down");
        assertEquals(0, down.code());
        assertFalse(Files.exists(home.resolve("daemon.json")));
        assertEquals(1, run("status").code());

        assertEquals(0, run("up").code());
        Run again = run("get", "gateways", "-n", "default");
        assertTrue(again.out().contains("httpbin-gw-https"), "applied resources persist across down/up: " + again.out());
        Run origin = run("-n", "default", "exec", "deploy/sleep", "-c", "sleep", "--", "curl", "-sS", "http://httpbin:8000/ip");
        assertEquals(0, origin.code(), origin.err());
        assertTrue(origin.out().contains("\"origin\": \"127.0.0.6\""), "the mesh is back as the demo left it: " + origin.out());

        // echo hello | sourcemesh exec -i deploy/sleep -c sleep -- cat; and sh < script; and no -i, no stdin.
        byte[] hello = "hello\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(new Run(0, "hello\n", ""), runWithStdin(hello, "exec", "-i", "deploy/sleep", "-c", "sleep", "--", "cat"));
        assertEquals(new Run(0, "", ""), runWithStdin(hello, "exec", "deploy/sleep", "-c", "sleep", "--", "cat"));
        assertEquals(new Run(2, "from a script\n", "command terminated with exit code 2\n"),
                runWithStdin("echo from a script\nexit 2\n".getBytes(StandardCharsets.UTF_8),
                        "exec", "-i", "deploy/sleep", "-c", "sleep", "--", "sh"));
        byte[] binary = {0, (byte) 0xff, (byte) 0xc3, '(', 0, '\n'};
        assertEquals(new Run(0, " 00 ff c3 28 00 0a\n", ""), runWithStdin(binary, "exec", "-i", "deploy/sleep", "-c", "sleep", "--",
                "sh", "-c", "cat | od -An -v -tx1"));
    }
}
