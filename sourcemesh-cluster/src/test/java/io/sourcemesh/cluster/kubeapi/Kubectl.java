package io.sourcemesh.cluster.kubeapi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The machine's real kubectl, run against a kubeconfig; tests that need it are skipped when none is installed. */
public final class Kubectl {
    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private final Path kubeconfig;

    public Kubectl(Path kubeconfig) {
        this.kubeconfig = kubeconfig;
    }

    /** The kubectl on PATH, or null. */
    static Path binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "kubectl");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    public static boolean installed() {
        return binary() != null;
    }

    public Result run(String... args) throws IOException, InterruptedException {
        return runWithInput(null, args);
    }

    Result runWithInput(String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", kubeconfig.getParent().toString()); // its discovery cache stays in the test's directory
        Path out = Files.createTempFile(kubeconfig.getParent(), "kubectl", ".out");
        Path err = Files.createTempFile(kubeconfig.getParent(), "kubectl", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish in 120 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Starts kubectl without waiting (get -w, logs -f): the caller destroys it. */
    Process start(Path stdout, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", kubeconfig.getParent().toString());
        pb.redirectOutput(stdout.toFile()).redirectErrorStream(true);
        return pb.start();
    }

    /** Starts kubectl with its standard streams as pipes (stderr on stdout): the caller writes, reads and waits. */
    Process startPiped(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary().toString());
        cmd.addAll(List.of(args));
        return environment(new ProcessBuilder(cmd)).redirectErrorStream(true).start();
    }

    /**
     * Starts kubectl on a terminal of its own (util-linux script opens a pty), as a user at a
     * terminal runs it: {@code exec -it} then really asks for a TTY. What it prints comes on the
     * process's stdout as the terminal shows it; what is written to its stdin is typed.
     */
    Process startInTerminal(String... args) throws IOException {
        StringBuilder line = new StringBuilder("exec '" + binary() + "'");
        for (String a : args) {
            line.append(" '").append(a.replace("'", "'\\''")).append('\'');
        }
        ProcessBuilder pb = environment(new ProcessBuilder("script", "--quiet", "--flush", "--return", "--command", line.toString(), "/dev/null"));
        pb.environment().put("SHELL", "/bin/sh");
        pb.environment().put("TERM", "xterm");
        return pb.redirectErrorStream(true).start();
    }

    private ProcessBuilder environment(ProcessBuilder pb) {
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", kubeconfig.getParent().toString());
        return pb;
    }
}
