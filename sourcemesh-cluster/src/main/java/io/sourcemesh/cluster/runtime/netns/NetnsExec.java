package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.exec.Processes;
import io.sourcemesh.cluster.daemon.ClusterApi.ExecResult;
import io.sourcemesh.cluster.netns.Shell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code exec} into a netns pod: the command runs inside the pod's namespace (its address, its
 * sockets, its iptables capture) with the pod's {@link PodEtc} files over /etc, so any program
 * resolves the service names ({@code getent hosts httpbin}, {@code curl http://httpbin:8000}),
 * also under {@code sh -c}. It starts in a scratch directory removed afterwards.
 */
final class NetnsExec {
    private NetnsExec() {
    }

    /** Runs {@code command} in the pod with {@code stdin} (null or empty: /dev/null) as its standard input. */
    static ExecResult run(String netns, String pod, PodEtc etc, Path workDir, List<String> command, byte[] stdin) {
        if (command.isEmpty()) {
            return new ExecResult(1, "", "error: you must specify at least one command for the container\n");
        }
        try {
            Files.createDirectories(workDir);
            Path scratch = Files.createTempDirectory(workDir, "exec");
            try {
                // The wrapper's sh would say "exec: X: not found" in its own words; say it as kubectl does.
                if (!onPath(command.get(0), System.getenv("PATH"), scratch)) {
                    return new ExecResult(127, "", "error: exec: \"" + command.get(0)
                            + "\": executable file not found in $PATH\ncommand terminated with exit code 127\n");
                }
                ProcessBuilder pb = new ProcessBuilder(Shell.in(netns, etc.wrap(command).toArray(String[]::new))).directory(scratch.toFile());
                PodEtc.dropHostProxy(pb.environment());
                pb.environment().put("HOSTNAME", PodEtc.hostname(pod));
                pb.redirectInput(Processes.stdinOf(stdin));
                Process p = pb.start();
                Processes.feed(p, stdin);
                CompletableFuture<String> out = Processes.drain(p.getInputStream());
                CompletableFuture<String> err = Processes.drain(p.getErrorStream());
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
                return new ExecResult(p.exitValue(), out.join(), err.join());
            } finally {
                Processes.deleteDirectory(scratch);
            }
        } catch (IOException e) {
            return new ExecResult(1, "", "error: " + e.getMessage() + "\n");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ExecResult(130, "", "interrupted\n");
        }
    }

    /**
     * Whether execvp would find {@code program}: a path (relative to {@code cwd}) to an executable
     * file, or a name in a directory of {@code path} (an empty entry is {@code cwd}). The pod sees
     * the machine's files, so the answer here is the answer inside.
     */
    static boolean onPath(String program, String path, Path cwd) {
        try {
            if (program.contains("/")) {
                return executable(cwd.resolve(program));
            }
            if (program.isEmpty()) {
                return false;
            }
            for (String dir : (path == null ? "/bin:/usr/bin" : path).split(":", -1)) {
                if (executable((dir.isEmpty() ? cwd : cwd.resolve(dir)).resolve(program))) {
                    return true;
                }
            }
            return false;
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private static boolean executable(Path file) {
        return Files.isRegularFile(file) && Files.isExecutable(file);
    }
}
