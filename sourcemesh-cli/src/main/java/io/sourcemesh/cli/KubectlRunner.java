package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.Kubeconfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The machine's real kubectl, run against a cluster through the kubeconfig in its home ({@code demo --kubectl}). */
final class KubectlRunner {
    private static final long TIMEOUT_SECONDS = 180;

    /** What one kubectl run left: its exit code and output. */
    record Result(int exit, String stdout, String stderr) {}

    private KubectlRunner() {}

    /** The kubectl on PATH, if any. */
    static Optional<Path> find() {
        return find(System.getenv().getOrDefault("PATH", ""));
    }

    /** The kubectl in a directory of {@code path} (an empty entry is the working directory), if any. */
    static Optional<Path> find(String path) {
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "kubectl");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Runs {@code kubectl args} with KUBECONFIG set to the cluster's, no standard input, to its end. */
    static Result run(Path kubectl, Home home, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(kubectl.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("KUBECONFIG", Kubeconfig.in(home.path()).toString());
        try {
            Process p = pb.start();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                return new Result(124, out.join(), err.join() + "kubectl did not finish in " + TIMEOUT_SECONDS + " s\n");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw CliException.error("cannot run " + kubectl + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.error("interrupted while kubectl ran");
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }, r -> Thread.ofVirtual().start(r));
    }
}
