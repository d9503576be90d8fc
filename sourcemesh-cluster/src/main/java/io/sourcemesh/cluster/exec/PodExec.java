package io.sourcemesh.cluster.exec;

import io.sourcemesh.cluster.exec.ExecResult;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

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

    /** Runs {@code command} as the pod with {@code stdin} (null or empty: /dev/null) as its standard input, to its end. */
    public static ExecResult run(InetAddress podIp, NameTable names, Path workDir, List<String> command, byte[] stdin) {
        boolean input = stdin != null && stdin.length > 0;
        ExecProcess p = start(podIp, names, workDir, command, new ExecProcess.Mode(input, false));
        return Processes.finish(p, stdin, 120);
    }

    /**
     * Starts {@code command} as the pod, its input and output streamed ({@code kubectl exec -i}),
     * on a terminal when {@code mode} asks for one.
     */
    public static ExecProcess start(InetAddress podIp, NameTable names, Path workDir, List<String> command, ExecProcess.Mode mode) {
        if (command.isEmpty()) {
            return ExecProcess.completed(1, "", "error: you must specify at least one command for the container\n", mode.tty());
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
            return ExecProcess.completed(0, out, "", mode.tty());
        }
        Path curlHome = null;
        try {
            curlHome = Files.createTempDirectory(workDir, "exec");
            StringBuilder rc = new StringBuilder("interface = \"" + podIp.getHostAddress() + "\"\n");
            names.hostPorts().forEach((hostPort, ip) -> rc.append("resolve = \"").append(hostPort).append(':')
                    .append(ip.getHostAddress()).append("\"\n"));
            rc.append("noproxy = \"*\"\n");
            Files.writeString(curlHome.resolve(".curlrc"), rc);
            if (!Processes.onPath(command.get(0), System.getenv("PATH"), curlHome)) {
                Processes.deleteDirectory(curlHome);
                return notFound(command.get(0), mode.tty());
            }
            Pty pty = mode.tty() ? Pty.create() : null;
            if (pty != null && !Pty.available()) {
                Processes.deleteDirectory(curlHome);
                return ExecProcess.completed(1, "", "error: exec -t needs util-linux script and stty on the cluster's machine\n", true);
            }
            ProcessBuilder pb = new ProcessBuilder(pty != null ? Pty.wrap(command) : command).directory(curlHome.toFile());
            pb.environment().put("CURL_HOME", curlHome.toString());
            pb.environment().put("HOSTNAME", "pod");
            if (pty != null) {
                Pty.environment(pb.environment());
            }
            if (!mode.stdin()) {
                pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            }
            return ExecProcess.of(pb.start(), mode, pty, curlHome);
        } catch (IOException e) {
            if (curlHome != null) {
                try {
                    Processes.deleteDirectory(curlHome);
                } catch (IOException ignored) {
                    // left in the cluster home's exec directory
                }
            }
            return ExecProcess.completed(1, "", "error: " + e.getMessage() + "\n", mode.tty());
        }
    }

    /** As kubelet answers for a program the container does not have. */
    public static ExecProcess notFound(String program, boolean tty) {
        return ExecProcess.completed(127, "", "error: exec: \"" + program
                + "\": executable file not found in $PATH\ncommand terminated with exit code 127\n", tty);
    }
}
