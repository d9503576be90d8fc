package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo --kubectl}: the document's kubectl lines run with the machine's real kubectl against
 * the demo's cluster (a daemon process), and the document's results hold — 127.0.0.6 by default,
 * the sleep pod's address with TPROXY and with the XFF EnvoyFilter, then north-south.
 */
class DemoKubectlTest {
    @TempDir
    Path home;

    record Run(int code, String out, String err) {}

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 2];
        full[0] = "--home";
        full[1] = home.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.execute(Clock.systemUTC(), new java.io.ByteArrayInputStream(new byte[0]), new PrintWriter(out, true),
                new PrintWriter(err, true), full);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeEach
    void ownAddresses() {
        System.setProperty("sourcemesh.addressBlock", String.valueOf(1 + (ProcessHandle.current().pid() + 13) % 29));
    }

    @AfterEach
    void down() {
        run("down");
        System.clearProperty("sourcemesh.addressBlock");
    }

    @Test
    void theDocumentsKubectlLinesRunWithTheRealKubectl() {
        assumeTrue(KubectlRunner.find().isPresent(), "no kubectl on PATH: demo --kubectl is skipped");
        Run demo = run("demo", "--kubectl", "--nodes", "2");
        String out = demo.out();
        assertEquals(0, demo.code(), out + demo.err());
        assertTrue(out.contains("# The kubectl lines run with "), out);
        assertTrue(out.contains("export KUBECONFIG=" + home.resolve("kubeconfig")), out);
        // The document's lines, shown and run as kubectl; none through the look-alike.
        for (String line : new String[] {
            "$ kubectl -n default apply -f " + home.resolve("demo/sleep.yaml"),
            "$ kubectl -n default get pods -o wide",
            "$ kubectl -n default exec -it deploy/sleep -c sleep -- curl -sS http://httpbin:8000/ip",
            "$ kubectl -n default exec -it deploy/httpbin -c httpbin -- netstat -ntp | grep 8000",
            "$ kubectl patch deployment -n default httpbin -p '{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
                    + "{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}'",
            "$ kubectl -n istio-system get service istio-ingressgateway -o 'jsonpath={.status.loadBalancer.ingress[0].ip}'",
            "$ kubectl create secret tls myexample-credential --cert " + home.resolve("demo/tls.crt") + " --key "
                    + home.resolve("demo/tls.key") + " -n istio-system"}) {
            assertTrue(out.contains(line + "\n"), "shown: " + line + "\n" + out);
        }
        assertFalse(out.contains("$ sourcemesh -n default apply") || out.contains("$ sourcemesh -n default exec -it deploy/sleep"), out);
        assertTrue(out.contains("deployment.apps/httpbin patched"), "kubectl's own words: " + out);
        assertFalse(out.contains(ExecCommand.NO_TTY), out);
        // The document's observable results, judged by the demo's table.
        assertTrue(out.lines().anyMatch(l -> l.matches("default \\(REDIRECT\\) +127\\.0\\.0\\.6 +127\\.0\\.0\\.6 .*")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("TPROXY patch +(127\\.17\\.[0-9.]+) +\\1 .*")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("XFF EnvoyFilter +(127\\.17\\.[0-9.]+) +\\1 .*")), out);
        assertTrue(out.contains("Every step matched the document."), out);
        assertFalse(out.contains("MISMATCH"), out);
    }

    @Test
    void withoutKubectlOnPathItSaysSo(@TempDir Path bin) throws Exception {
        assertTrue(KubectlRunner.find(bin.toString()).isEmpty());
        Path fake = Files.writeString(bin.resolve("kubectl"), "#!/bin/sh\n");
        assertTrue(KubectlRunner.find(bin.toString()).isEmpty(), "not executable: not a kubectl");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(fake, KubectlRunner.find("/nonexistent:" + bin).orElseThrow());
    }
}
