package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.cluster.daemon.ClusterApi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecCommandTest {
    @TempDir
    Path home;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("sleep.yaml", "httpbin.yaml");
        cluster.seedPods();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void theDocumentsCurlFromSleep() {
        FakeCluster.Run r = cluster.run("-n", "default", "exec", "-it", "deploy/sleep", "-c", "sleep", "--", "curl", "http://httpbin:8000/ip");
        assertEquals(new FakeCluster.Run(0, "{\n  \"origin\": \"127.0.0.6\"\n}\n", ExecCommand.NO_TTY + "\n"), r,
                "a test's stdin is no terminal: kubectl -it warns and runs without a TTY");
        assertEquals(List.of(List.of("default", "sleep-8f764df66-q7dr2", "sleep", "curl", "http://httpbin:8000/ip")), cluster.execs);
    }

    @Test
    void stdinReachesTheCommandOnlyWithDashI() {
        FakeCluster.Run piped = cluster.runWithStdin("hello\n", "exec", "-i", "deploy/sleep", "-c", "sleep", "--", "cat");
        assertEquals(new FakeCluster.Run(0, "hello\n", ""), piped);
        FakeCluster.Run without = cluster.runWithStdin("hello\n", "exec", "deploy/sleep", "-c", "sleep", "--", "cat");
        assertEquals(new FakeCluster.Run(0, "", ""), without, "without -i the command's stdin is empty");
        cluster.runWithStdin("hello\n", "exec", "--stdin", "deploy/sleep", "-c", "sleep", "--", "cat");
        assertEquals(List.of("hello\n", "", "hello\n"),
                cluster.execStdins.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList());
    }

    @Test
    void stdinIsCarriedAsBytes() {
        byte[] binary = {0, 1, 'a', (byte) 0xff, (byte) 0xfe, (byte) 0xc3, '(', 0, '\n', (byte) 0x80};
        cluster.runWithStdin(binary, "exec", "-i", "deploy/sleep", "-c", "sleep", "--", "od", "-c");
        assertEquals(1, cluster.execStdins.size());
        assertArrayEquals(binary, cluster.execStdins.getFirst(), "NUL and invalid UTF-8 arrive unchanged");
    }

    @Test
    void stdinKeepsExitCodesAndStderr() {
        FakeCluster.Run r = cluster.runWithStdin("ls\n", "exec", "-i", "deploy/httpbin", "-c", "httpbin", "--", "netstat", "-ntp");
        assertEquals(new FakeCluster.Run(127, "", "sh: netstat: not found\ncommand terminated with exit code 127\n"), r);
    }

    @Test
    void ttyWithoutATerminalWarnsAsKubectlDoes() {
        FakeCluster.Run it = cluster.runWithStdin("hi\n", "exec", "-it", "deploy/sleep", "-c", "sleep", "--", "cat");
        assertEquals(new FakeCluster.Run(0, "hi\n", ExecCommand.NO_TTY + "\n"), it);
        FakeCluster.Run t = cluster.runWithStdin("hi\n", "exec", "-t", "deploy/sleep", "-c", "sleep", "--", "cat");
        assertEquals(new FakeCluster.Run(0, "", ""), t, "kubectl: -t without -i has no stdin to be a terminal, and says nothing");
    }

    @Test
    void stdinOverTheCapIsRefusedBeforeTheCommandRuns() {
        byte[] big = new byte[ClusterApi.MAX_EXEC_STDIN + 1];
        FakeCluster.Run r = cluster.runWithStdin(big, "exec", "-i", "deploy/sleep", "-c", "sleep", "--", "cat");
        assertEquals(new FakeCluster.Run(1, "", "error: stdin is larger than 64 MiB: exec -i reads it whole before the command runs; "
                + "copy large files another way\n"), r);
        assertEquals(List.of(), cluster.execs);
    }

    @Test
    void theCommandsExitCodeIsOurs() {
        FakeCluster.Run r = cluster.run("-n", "default", "exec", "-it", "deploy/httpbin", "-c", "httpbin", "--", "netstat", "-ntp");
        assertEquals(new FakeCluster.Run(127, "", ExecCommand.NO_TTY + "\nsh: netstat: not found\ncommand terminated with exit code 127\n"), r);
    }

    @Test
    void podsByNameAndKindAndTheDefaultContainer() {
        cluster.run("exec", "httpbin-c85bdb469-4ll2m", "-c", "istio-proxy", "--", "curl", "http://httpbin:8000/ip");
        cluster.run("exec", "pod/httpbin-c85bdb469-4ll2m", "-c", "httpbin", "--", "curl", "http://httpbin:8000/ip");
        FakeCluster.Run r = cluster.run("exec", "deployment/sleep", "--", "curl", "http://httpbin:8000/ip");
        assertEquals("Defaulted container \"sleep\" out of: sleep, istio-proxy\n", r.err());
        assertEquals(List.of(
                List.of("default", "httpbin-c85bdb469-4ll2m", "istio-proxy", "curl", "http://httpbin:8000/ip"),
                List.of("default", "httpbin-c85bdb469-4ll2m", "httpbin", "curl", "http://httpbin:8000/ip"),
                List.of("default", "sleep-8f764df66-q7dr2", "sleep", "curl", "http://httpbin:8000/ip")), cluster.execs);
    }

    @Test
    void errors() {
        assertEquals(new FakeCluster.Run(1, "", "error: container nope is not valid for pod sleep-8f764df66-q7dr2\n"),
                cluster.run("exec", "deploy/sleep", "-c", "nope", "--", "true"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): pods \"sleep\" not found\n"),
                cluster.run("exec", "sleep", "--", "true"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): deployments.apps \"nope\" not found\n"),
                cluster.run("exec", "deploy/nope", "--", "true"));
        assertEquals(new FakeCluster.Run(1, "", "error: you must specify at least one command for the container\n"),
                cluster.run("exec", "deploy/sleep"));
        assertEquals(List.of(), cluster.execs);
    }

    @Test
    void logsOfAContainerWithTail() {
        FakeCluster.Run r = cluster.run("logs", "deploy/httpbin", "-c", "istio-proxy", "--tail", "1");
        assertEquals(new FakeCluster.Run(0, "httpbin-c85bdb469-4ll2m/istio-proxy "
                + "{\"downstream_remote_address\":\"172.17.0.13:39058\",\"upstream_local_address\":\"172.17.0.13:46129\"}\n", ""), r);
        assertEquals(2, cluster.run("-n", "default", "logs", "sleep-8f764df66-q7dr2", "-c", "sleep").out().lines().count());
        assertEquals(new FakeCluster.Run(1, "", "error: container nope is not valid for pod httpbin-c85bdb469-4ll2m\n"),
                cluster.run("logs", "deploy/httpbin", "-c", "nope"));
    }
}
