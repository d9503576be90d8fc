package io.sourcemesh.cluster.netns.runtime;

import io.sourcemesh.cluster.exec.Processes;
import io.sourcemesh.cluster.daemon.ClusterApi.ExecResult;
import io.sourcemesh.cluster.netns.Shell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code exec} into a netns pod: the command runs inside the pod's namespace (its address, its
 * sockets, its iptables capture). Service names reach curl through a {@code .curlrc} in
 * {@code CURL_HOME} (there is no cluster DNS), so {@code curl http://httpbin:8000} works, also under {@code sh -c}.
 */
final class NetnsExec {
    private NetnsExec() {
    }

    static ExecResult run(String netns, String pod, Map<String, String> names, Path workDir, List<String> command) {
        if (command.isEmpty()) {
            return new ExecResult(1, "", "error: you must specify at least one command for the container\n");
        }
        try {
            Files.createDirectories(workDir);
            Path curlHome = Files.createTempDirectory(workDir, "exec");
            try {
                StringBuilder rc = new StringBuilder();
                names.forEach((hostPort, ip) -> rc.append("resolve = \"").append(hostPort).append(':').append(ip).append("\"\n"));
                rc.append("noproxy = \"*\"\n");
                Files.writeString(curlHome.resolve(".curlrc"), rc);
                ProcessBuilder pb = new ProcessBuilder(Shell.in(netns, command.toArray(String[]::new))).directory(curlHome.toFile());
                pb.environment().put("CURL_HOME", curlHome.toString());
                pb.environment().put("HOSTNAME", pod);
                pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                Process p = pb.start();
                CompletableFuture<String> out = Processes.drain(p.getInputStream());
                CompletableFuture<String> err = Processes.drain(p.getErrorStream());
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
                String stderr = err.join();
                // ip netns exec reports a missing program itself; say it as kubectl does.
                if (p.exitValue() != 0 && out.join().isEmpty() && stderr.startsWith("exec of \"" + command.get(0) + "\" failed")) {
                    return new ExecResult(127, "", "error: exec: \"" + command.get(0)
                            + "\": executable file not found in $PATH\ncommand terminated with exit code 127\n");
                }
                return new ExecResult(p.exitValue(), out.join(), stderr);
            } finally {
                Processes.deleteDirectory(curlHome);
            }
        } catch (IOException e) {
            return new ExecResult(1, "", "error: " + e.getMessage() + "\n");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ExecResult(130, "", "interrupted\n");
        }
    }
}
