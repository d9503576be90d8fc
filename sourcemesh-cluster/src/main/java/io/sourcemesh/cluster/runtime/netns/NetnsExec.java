package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.exec.PodExec;
import io.sourcemesh.cluster.exec.Processes;
import io.sourcemesh.cluster.exec.Pty;
import io.sourcemesh.cluster.netns.Shell;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code exec} into a netns pod: the command runs inside the pod's namespace (its address, its
 * sockets, its iptables capture) with the pod's {@link PodEtc} files over /etc, so any program
 * resolves the service names ({@code getent hosts httpbin}, {@code curl http://httpbin:8000}),
 * also under {@code sh -c}. It starts in a scratch directory removed afterwards.
 */
final class NetnsExec {
    private NetnsExec() {
    }

    /** Runs {@code command} in the pod with {@code stdin} (null or empty: /dev/null) as its standard input, to its end. */
    static ExecResult run(String netns, String pod, PodEtc etc, Path workDir, List<String> command, byte[] stdin) {
        boolean input = stdin != null && stdin.length > 0;
        return Processes.finish(start(netns, pod, etc, workDir, command, new ExecProcess.Mode(input, false)), stdin, 120);
    }

    /** Starts {@code command} in the pod, its input and output streamed, on a terminal when {@code mode} asks for one. */
    static ExecProcess start(String netns, String pod, PodEtc etc, Path workDir, List<String> command, ExecProcess.Mode mode) {
        if (command.isEmpty()) {
            return ExecProcess.completed(1, "", "error: you must specify at least one command for the container\n", mode.tty());
        }
        Path scratch = null;
        try {
            Files.createDirectories(workDir);
            scratch = Files.createTempDirectory(workDir, "exec");
            // The wrapper's sh would say "exec: X: not found" in its own words; say it as kubectl does.
            if (!Processes.onPath(command.get(0), System.getenv("PATH"), scratch)) {
                Processes.deleteDirectory(scratch);
                return PodExec.notFound(command.get(0), mode.tty());
            }
            if (mode.tty() && !Pty.available()) {
                Processes.deleteDirectory(scratch);
                return ExecProcess.completed(1, "", "error: exec -t needs util-linux script and stty on the cluster's machine\n", true);
            }
            List<String> inPod = etc.wrap(mode.tty() ? Pty.wrap(command) : command);
            ProcessBuilder pb = new ProcessBuilder(Shell.in(netns, inPod.toArray(String[]::new))).directory(scratch.toFile());
            PodEtc.dropHostProxy(pb.environment());
            pb.environment().put("HOSTNAME", PodEtc.hostname(pod));
            if (mode.tty()) {
                Pty.environment(pb.environment());
            }
            if (!mode.stdin()) {
                pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            }
            return ExecProcess.of(pb.start(), mode, mode.tty() ? Pty.create() : null, scratch);
        } catch (IOException e) {
            if (scratch != null) {
                try {
                    Processes.deleteDirectory(scratch);
                } catch (IOException ignored) {
                    // left in the cluster home's exec directory
                }
            }
            return ExecProcess.completed(1, "", "error: " + e.getMessage() + "\n", mode.tty());
        }
    }
}
