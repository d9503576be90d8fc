package io.sourcemesh.cluster.exec;

import io.sourcemesh.cluster.daemon.ClusterApi.ExecResult;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code exec} into an embedded pod. A program of this machine runs as the pod would run it:
 * curl gets the pod's address as its source and the cluster's service names (through a
 * {@code .curlrc} in {@code CURL_HOME}, so it holds for curl inside {@code sh -c} too); netstat
 * and ss show the pod's own sockets. Traffic to a service VIP from an injected pod is captured by
 * the runtime and leaves through the pod's sidecar, as REDIRECT would send it.
 */
public final class PodExec {
    /** host:port → the address curl should connect to, for every service name a pod can resolve. */
    public record NameTable(Map<String, InetAddress> hostPorts) {}

    private PodExec() {}

        /** Runs {@code command} as the pod with {@code stdin} (null or empty: /dev/null) as its standard input. */
    public static ExecResult run(InetAddress podIp, NameTable names, Path workDir, List<String> command, byte[] stdin) {
        if (command.isEmpty()) {
            return new ExecResult(1, "", "error: you must specify at least one command for the container\n");
        }
        String program = Path.of(command.get(0)).getFileName().toString();
        List<String> args = command.subList(1, command.size());
        if (program.equals("netstat") || program.equals("ss")) {
            List<SocketTable.Socket> mine = SocketTable.read().stream().filter(SocketTable.ofPod(podIp)).toList();
            String flags = String.join("", args.stream().filter(a -> a.startsWith("-")).toList());
            boolean listening = flags.contains("l");
            boolean all = flags.contains("a");
            String out = program.equals("netstat")
                    ? SocketTable.netstat(mine, listening, all, flags.contains("p"))
                    : SocketTable.ss(mine, listening, all);
            return new ExecResult(0, out, "");
        }
        try {
            Path curlHome = Files.createTempDirectory(workDir, "exec");
            try {
                StringBuilder rc = new StringBuilder("interface = \"" + podIp.getHostAddress() + "\"\n");
                names.hostPorts().forEach((hostPort, ip) -> rc.append("resolve = \"").append(hostPort).append(':')
                        .append(ip.getHostAddress()).append("\"\n"));
                rc.append("noproxy = \"*\"\n");
                Files.writeString(curlHome.resolve(".curlrc"), rc);
                ProcessBuilder pb = new ProcessBuilder(command).directory(curlHome.toFile());
                pb.environment().put("CURL_HOME", curlHome.toString());
                pb.environment().put("HOSTNAME", "pod");
                pb.redirectInput(Processes.stdinOf(stdin));
                Process p;
                try {
                    p = pb.start();
                } catch (IOException e) {
                    return new ExecResult(127, "", "error: exec: \"" + command.get(0)
                            + "\": executable file not found in $PATH\ncommand terminated with exit code 127\n");
                }
                Processes.feed(p, stdin);
                CompletableFuture<String> out = Processes.drain(p.getInputStream());
                CompletableFuture<String> err = Processes.drain(p.getErrorStream());
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                return new ExecResult(p.exitValue(), out.join(), err.join());
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
